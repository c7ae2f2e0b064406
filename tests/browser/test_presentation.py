"""Presentation mode on a projector-sized screen (1280x720): the guided demo end to end.

Open ``/?present=1``, pick Shapes, then only ever press "Next step": Data (pictures a quarter of
the page wide) -> Model (only the demo's settings up front) -> Train (the one-click model starts by
itself; the bar asks to wait until it has finished) -> Evaluation (its confusion matrix) ->
Mistakes -> Try it. At every step the bar reads out that step, the button
is on screen without scrolling, the address keeps ``present=1`` and the projector type is on, and
no button, link or figure label is cut short, at 1280x720 nor on a 1024x768 projector (where the
Home page's step cards sit two a row).
Screenshots: ``test-artifacts/screenshots/present-*.png``.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from app_driver import (XGA, Clock, choose_dataset, cut_labels, expander, main, screenshot, wait_for_app,
                        wait_for_images, wait_for_path, widget, window_size)
from components.guided_demo import STEPS

pytestmark = pytest.mark.browser

PROJECTOR = {"width": 1280, "height": 720}
# Budgets for a heavily loaded 2-core machine, not what a user waits: the one-click model (LeNet,
# 3 epochs of Shapes) trains in seconds on an idle machine, plus the first TensorFlow import.
TRAINING_TIMEOUT = 360_000  # ms
HEADINGS = {"data": "Data sets", "model_builder": "Model builder", "training": "Training",
            "evaluation": "Evaluation", "mistakes": "Mistakes", "try_it": "Try it"}


def shot(page, name: str) -> None:
    screenshot(page, f"present-{name}")   # the helper stretches the window for a full-page shot
    page.set_viewport_size(PROJECTOR)


def bar(page):
    return page.locator(".st-key-guided_demo")


def next_button(page):
    return bar(page).get_by_role("button")


def assert_presenting(page) -> None:
    assert parse_qs(urlsplit(page.url).query).get("present") == ["1"], page.url
    # the projector CSS: Streamlit sizes type and controls in rem, so the root font says it all
    page.wait_for_function("getComputedStyle(document.documentElement).fontSize === '20px'", timeout=30_000)


def assert_labels_whole(page, where: str) -> None:
    """No label cut short at the projector's size nor at 1024x768 (then back to the projector)."""
    for size in (PROJECTOR, XGA):
        with window_size(page, size, back=PROJECTOR):
            cut = cut_labels(page)
            assert not cut, f"{where} at {size['width']}x{size['height']}: labels cut short: {cut}"


def press_next(page, index: int) -> None:
    """Press the bar's button and wait until step ``index`` (from 0) is on screen."""
    step = STEPS[index]
    expect(next_button(page)).to_be_in_viewport()
    next_button(page).click()
    wait_for_path(page, step.url_path, timeout=120_000)
    heading = main(page).get_by_role("heading", name=HEADINGS[step.url_path], exact=True)
    expect(heading).to_be_visible(timeout=120_000)
    expect(bar(page)).to_contain_text(f"Step {index + 1} of {len(STEPS)}: {step.title}")
    for sentence in step.script:
        expect(bar(page)).to_contain_text(sentence)
    wait_for_app(page)
    assert_presenting(page)
    expect(next_button(page)).to_be_in_viewport()
    assert_labels_whole(page, step.url_path)


def test_the_guided_demo_walks_from_the_data_to_try_it(page, app_server, run_store):
    clock = Clock()
    page.set_viewport_size(PROJECTOR)
    page.goto(f"{app_server.url}/?present=1")
    expect(main(page).get_by_role("heading", name="CNN Lab", exact=True)).to_be_visible()
    wait_for_app(page)
    expect(bar(page)).to_contain_text("Guided demo")
    switch = page.get_by_test_id("stSidebar").get_by_role("switch", name="Presentation mode")
    expect(switch).to_be_checked()
    assert_presenting(page)
    choose_dataset(page, "Shapes")
    assert_labels_whole(page, "home")
    with window_size(page, XGA, back=PROJECTOR):   # the four step cards, two a row: each wide enough for its title
        cards = page.evaluate("() => [...document.querySelectorAll('.st-key-home_step_cards [data-testid=stColumn]')]"
                              ".map(c => c.getBoundingClientRect()).map(r => [Math.round(r.top), Math.round(r.width)])")
        assert len(cards) == 4 and len({top for top, _ in cards}) == 2, cards
    shot(page, "home")
    clock("home, presentation mode on")

    press_next(page, 0)   # Data: the picture grid wraps at four a row, so each picture is big
    wait_for_images(page, minimum=3 * 8)
    widths = page.evaluate("() => [...document.querySelectorAll('[data-testid=stMain] [data-testid=stImage] img')]"
                           ".map(i => i.getBoundingClientRect().width)")
    assert min(widths) >= 180, f"pictures should be a quarter of the page wide (8 a row is ~90 px): {widths}"
    shot(page, "data")
    clock("data")

    press_next(page, 1)   # Model: the handful of demo settings up front, the rest folded away
    body = main(page)
    for label in ("Convolution blocks", "Filters in the first block", "Dropout in dense layers", "Learning rate",
                  "Epochs"):
        expect(widget(body, "stSlider", label)).to_be_visible()
    more = expander(body, "More settings")
    expect(more).to_be_visible()
    expect(more.get_by_text("Batch size", exact=True)).to_be_hidden()
    expect(expander(body, "Optimisation")).to_have_count(0)
    shot(page, "model")
    clock("model builder")

    before = {run.id for run in run_store.list_runs()}
    press_next(page, 2)   # Train: no model yet, so the one-click model starts
    new = [run for run in run_store.list_runs() if run.id not in before]
    assert len(new) == 1, f"the Train step should start exactly one run, got {len(new)}"
    run = new[0]
    assert run.config["dataset"]["id"] == "shapes" and run.epochs_planned == 3 and run.name == "my first model"
    expect(bar(page)).to_contain_text("Still training")   # the presenter waits for "Finished"
    expect(main(page).get_by_text(re.compile(r"^Finished:")).first).to_be_visible(timeout=TRAINING_TIMEOUT)
    expect(bar(page).get_by_text("Still training", exact=False)).to_have_count(0)  # the hint went with the run
    assert run_store.get(run.id).status == "finished"
    shot(page, "train")
    clock("trained")

    press_next(page, 3)   # Evaluation: the confusion matrix of the run just trained
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')]"
                           ".some(gd => gd.data && gd.data.some(t => t.type === 'heatmap'))",
                           polling=500, timeout=120_000)
    assert len(run_store.list_runs()) == len(before) + 1, "a second run was started"
    shot(page, "evaluation")
    clock("evaluation")

    press_next(page, 4)   # Mistakes
    shot(page, "mistakes")
    clock("mistakes")

    press_next(page, 5)   # Try it: the end of the demo
    expect(next_button(page)).to_have_text(re.compile("Start again"))
    shot(page, "try-it")
    clock("try it")
    assert len(run_store.list_runs()) == len(before) + 1, "the demo starts one model, not one per step"
