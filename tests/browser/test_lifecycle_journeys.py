"""A run's life cycle in the real app, on a server of its own (fresh: TensorFlow not loaded yet).

1. The first click on "Train a first model" shows at once that training is starting (before any
   curve point), and the first point follows on its own.
2. Resume follows its run: stop a run after its first epoch, train the one-click model, open the
   stopped run and resume it: when it ends, the page and the sidebar show the resumed run.
   On a 1280x720 screen the live curves are in view without scrolling; the "All runs" table
   shows the epochs the live panel shows.
3. Pause and Continue: the page says the run is paused (and its live view and the sidebar's card
   then poll every 10 s instead of 2 s); Continue brings the Pause button and new curve points
   back.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app_driver import Clock, choose_dataset, main, screenshot, wait_for_app, widget
from test_journeys import (EPOCH_TIMEOUT, FIRST_EPOCH_TIMEOUT, build_and_train, curve_epochs, open_app,
                           sidebar, wait_for_curve_points, wait_for_status_text)

pytestmark = pytest.mark.browser

PROJECTOR = {"width": 1280, "height": 720}


def starting_message(page):
    """What the app shows while a run starts: the TensorFlow spinner or a "Starting…" status."""
    return page.get_by_text(re.compile(r"^Starting")).first


def open_run(page, name: str) -> None:
    """Pick a run in the "Open a run" selectbox (its list may need a second click to open, as
    for multiselects in app_driver.multiselect_add)."""
    picker = widget(main(page), "stSelectbox", "Open a run")
    option = page.get_by_role("option", name=re.compile(re.escape(name)))
    wait_for_app(page)
    for attempt in range(4):
        picker.click()
        try:
            option.first.wait_for(state="visible", timeout=5_000)
            option.first.click(timeout=5_000)
            return
        except Exception:  # noqa: BLE001 - the list did not open, or the page redrew under it (a run
            # that just ended redraws the page once): try again (the last try raises below)
            page.keyboard.press("Escape")
            wait_for_app(page)
    picker.click()
    option.first.click()


def test_first_click_on_a_fresh_server_shows_starting_at_once(page, app_server, run_store):
    clock = Clock()
    open_app(page, app_server)
    clock("home")
    main(page).get_by_role("button", name="Train a first model").click()
    expect(starting_message(page)).to_be_visible()
    clock("'Starting…' shown")
    assert main(page).get_by_test_id("stPlotlyChart").count() == 0, \
        "the message should come before any curve point"
    screenshot(page, "first-click-starting")
    wait_for_curve_points(page, 1, FIRST_EPOCH_TIMEOUT)
    clock("first point")
    wait_for_status_text(page, r"^Finished:", timeout=3 * EPOCH_TIMEOUT)
    clock("finished")


def test_resume_follows_the_resumed_run(page, app_server, run_store):
    clock = Clock()
    page.set_viewport_size(PROJECTOR)
    open_app(page, app_server)
    choose_dataset(page, "Shapes")
    first = build_and_train(page, run_store, epochs=20)
    wait_for_curve_points(page, 1, FIRST_EPOCH_TIMEOUT)
    chart = main(page).get_by_test_id("stPlotlyChart").first
    box = chart.bounding_box()
    assert box is not None and box["y"] + box["height"] / 2 < PROJECTOR["height"], \
        f"the live curves should be in view on a 1280x720 screen: {box}"
    screenshot(page, "training-live-1280x720")
    main(page).get_by_role("button", name="Stop", exact=True).click()
    wait_for_status_text(page, r"^Stopped after \d+ epochs? \(of 20\)", timeout=60_000)
    stopped = run_store.get(first.id)
    assert stopped.status == "stopped" and stopped.can_resume
    clock(f"first run stopped after {stopped.epochs_done} epoch(s)")

    # The one-click model on the home page becomes the followed run.
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Home", exact=True).click()
    expect(main(page).get_by_role("heading", name="CNN Lab", exact=True)).to_be_visible()
    wait_for_app(page)
    main(page).get_by_role("button", name="Train a first model").click()
    expect(main(page).get_by_role("heading", name="my first model", exact=True)).to_be_visible(
        timeout=FIRST_EPOCH_TIMEOUT)
    wait_for_status_text(page, r"^Finished:", timeout=FIRST_EPOCH_TIMEOUT)
    other = next(r for r in run_store.list_runs() if r.name == "my first model")
    clock("one-click model finished")

    # Open the stopped run and resume it.
    open_run(page, first.name)
    expect(main(page).get_by_role("heading", name=first.name, exact=True)).to_be_visible()
    wait_for_app(page)
    main(page).get_by_role("button", name="Resume training", exact=True).click()
    expect(main(page).get_by_role("button", name="Stop", exact=True)).to_be_visible(timeout=60_000)
    clock("resumed")
    wait_for_status_text(page, r"^Finished:", timeout=20 * EPOCH_TIMEOUT)
    clock("resumed run finished")
    expect(main(page).get_by_role("heading", name=first.name, exact=True)).to_be_visible()
    expect(main(page).get_by_role("heading", name=other.name, exact=True)).to_have_count(0)
    expect(sidebar(page)).to_contain_text(first.name)
    expect(sidebar(page)).to_contain_text("finished")
    final = run_store.get(first.id)
    assert final.status == "finished" and final.epochs_done == 20
    # Plotly redraws the chart after the status text is on screen: wait for it, then check it
    wait_for_curve_points(page, 20, EPOCH_TIMEOUT)
    assert curve_epochs(page) == list(range(1, 21))
    screenshot(page, "resume-follows-its-run")


def test_pause_then_continue_keeps_the_live_view_going(page, app_server, run_store):
    clock = Clock()
    open_app(page, app_server)
    choose_dataset(page, "Shapes")
    run = build_and_train(page, run_store, epochs=30)
    wait_for_curve_points(page, 1, FIRST_EPOCH_TIMEOUT)
    main(page).get_by_role("button", name="Pause", exact=True).click()
    wait_for_status_text(page, r"^Paused\. Press Continue", timeout=15_000)
    expect(main(page).get_by_role("button", name="Continue", exact=True)).to_be_visible()
    expect(sidebar(page)).to_contain_text("paused")
    assert run_store.get(run.id).status == "paused"
    held = run_store.get(run.id).epochs_done
    clock(f"paused after {held} epoch(s)")
    screenshot(page, "paused")

    main(page).get_by_role("button", name="Continue", exact=True).click()
    expect(main(page).get_by_role("button", name="Pause", exact=True)).to_be_visible(timeout=15_000)
    expect(sidebar(page)).not_to_contain_text("paused")
    wait_for_curve_points(page, held + 2, 2 * EPOCH_TIMEOUT)   # training and drawing go on
    clock("two more points after Continue")
    main(page).get_by_role("button", name="Stop", exact=True).click()
    wait_for_status_text(page, r"^Stopped after \d+ epochs? \(of 30\)", timeout=60_000)
