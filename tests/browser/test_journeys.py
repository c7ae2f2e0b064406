"""A teacher's journeys through the real app: `streamlit run app.py` driven by headless Chromium.

1. Look at the data, pick a preset, train 2 epochs, watch the curve grow, read the evaluation
   heatmap and the mistakes.
2. A longer run survives page switches and a browser reload, with every epoch on its curve.
3. Stop a run: it stops within seconds and the page says so.

The smallest set-up that trains for real: LeNet on the generated "Shapes" set (4,000 training
pictures of 32x32); the run that must outlive a reload uses the default MNIST sample, whose
epochs are a little longer. Screenshots of every page land in ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from cnn_core.builtin_datasets import SHAPES_PER_CLASS
from cnn_core.model.presets import preset_name

from app_driver import (XGA, Clock, choose, choose_dataset, cut_labels, expander, metric, open_page, plotly_traces,
                        screenshot, main, set_slider, wait_for_app, wait_for_images, wait_for_path, widget,
                        window_size)

# Each journey trains a real model inside the app on 2 CPU cores, next to Chromium. No retries:
# a journey that fails once is a bug to look at (the last one was Streamlit clearing the Keras
# session after every rerun, see components/rerun_cleanup.py).
pytestmark = pytest.mark.browser

DATASET = "Shapes"
CLASSES = ["circle", "square", "triangle", "cross", "star"]
PRESET = "lenet"
# Budgets. On an idle 2-core machine LeNet trains an epoch of Shapes in well under 1 s and of the
# MNIST sample in about 1 s, and the first point shows 4-10 s after the click (TensorFlow is
# imported then). The budgets are what a heavily loaded machine may need, not what a user waits.
FIRST_EPOCH_TIMEOUT = 180_000  # ms; includes the server importing TensorFlow on the first run
EPOCH_TIMEOUT = 60_000         # ms per further epoch
STOP_WITHIN = 15.0             # s from clicking Stop to the page saying "Stopped" (engine: one batch;
                               # the rest is the page's once-a-second poll and a rerun)


# -- steps shared by the journeys ---------------------------------------------------------------

def sidebar(page):
    return page.get_by_test_id("stSidebar")


def open_app(page, app_server) -> None:
    page.goto(app_server.url)
    expect(main(page).get_by_role("heading", name="CNN Lab", exact=True)).to_be_visible()
    wait_for_app(page)


def build_and_train(page, run_store, epochs: int, *, pick_preset: bool = False, shot: str | None = None,
                    dataset_id: str = "shapes"):
    """Model builder: (optionally pick presets), set the epochs, press "Train this model".

    Returns the run it queued (newest run in the store), once the training page is open.
    """
    open_page(page, "Model builder", "model_builder")
    body = main(page)
    conv_blocks = widget(body, "stSlider", "Convolution blocks")
    if pick_preset:
        presets = widget(body, "stSelectbox", "Start from a preset")
        choose(page, presets, preset_name("mlp"))  # no convolutions: the layer sliders must follow the preset
        expect(conv_blocks.get_by_test_id("stSliderThumbValue")).to_have_text("0")
        choose(page, presets, preset_name(PRESET))
        expect(conv_blocks.get_by_test_id("stSliderThumbValue")).to_have_text("2")
        expect(body.get_by_text("LeNet-5", exact=False)).to_be_visible()
        wait_for_app(page)
    expander(body, "Optimisation").locator("summary").click()
    set_slider(page, widget(body, "stSlider", "Epochs"), epochs)
    wait_for_app(page)
    expect(body.get_by_text(re.compile(r"^Sized for "))).to_be_visible()
    if shot:
        screenshot(page, shot)
    before = {run.id for run in run_store.list_runs()}
    body.get_by_role("button", name="Train this model").click()
    wait_for_path(page, "training")
    expect(body.get_by_role("heading", name="Training", exact=True)).to_be_visible()
    new = [run for run in run_store.list_runs() if run.id not in before]
    assert len(new) == 1, f"one click on 'Train this model' should queue one run, got {len(new)}"
    run = new[0]
    assert run.epochs_planned == epochs
    assert run.config["dataset"]["id"] == dataset_id
    assert run.config["model"]["conv_blocks"] == 2 and run.config["model"]["kernel_size"] == 5  # LeNet
    return run


def training_chart(page):
    return main(page).get_by_test_id("stPlotlyChart").first


def wait_for_curve_points(page, count: int, timeout: float) -> None:
    """Wait (polling in the page) until the training chart's first trace has ``count`` points."""
    try:
        page.wait_for_function(
            """n => {
                const gd = document.querySelector('[data-testid=stMain] [data-testid=stPlotlyChart] .js-plotly-plot');
                return !!(gd && gd.data && gd.data.length && gd.data[0].x && gd.data[0].x.length >= n);
            }""",
            arg=count, timeout=timeout, polling=500,
        )
        return
    except PlaywrightTimeoutError:
        pass
    progress = main(page).get_by_test_id("stProgress").all_inner_texts()
    pytest.fail(f"the training curve did not reach {count} point(s) within {timeout / 1000:.0f} s: it has "
                f"{len(curve_epochs(page))}; progress shown: {progress}", pytrace=False)


def curve_epochs(page) -> list[int]:
    traces = plotly_traces(training_chart(page)) or []
    return [int(x) for x in traces[0]["x"]] if traces else []


def wait_for_status_text(page, pattern: str, timeout: float = 120_000) -> None:
    expect(main(page).get_by_text(re.compile(pattern)).first).to_be_visible(timeout=timeout)


# -- the journeys -------------------------------------------------------------------------------

def test_first_model_from_data_to_mistakes(page, app_server, run_store):
    clock = Clock()
    open_app(page, app_server)
    screenshot(page, "home")
    clock("home")

    # Data sets: the picture grid of the data set chosen in the sidebar.
    choose_dataset(page, DATASET)
    open_page(page, "Data sets", "data")
    widths = wait_for_images(page, minimum=3 * 8)  # the grid's default: 3 rows of 8
    assert min(widths) >= 32, f"pictures should be shown at least at their own size: {widths}"
    captions = main(page).get_by_test_id("stImage").all_inner_texts()
    assert {c.strip() for c in captions} <= set(CLASSES), f"captions should be class names: {captions[:8]}"
    expect(metric(main(page), "Classes")).to_contain_text("5")
    screenshot(page, "data")
    clock("data sets")

    # Model builder: presets drive the widgets; 2 epochs; train.
    run = build_and_train(page, run_store, epochs=2, pick_preset=True, shot="model_builder")
    clock("model builder, training queued")

    # Training: the curve gains its first, then its second point, without reloading.
    wait_for_curve_points(page, 1, FIRST_EPOCH_TIMEOUT)
    clock("first point")
    wait_for_curve_points(page, 2, EPOCH_TIMEOUT)
    clock("second point")
    traces = plotly_traces(training_chart(page))
    assert [int(x) for x in traces[0]["x"]] == [1, 2]
    assert len(traces) == 4 and all(len(t["y"]) == 2 for t in traces), \
        "loss, validation loss, accuracy and validation accuracy should each have 2 points"
    wait_for_status_text(page, r"^Finished:")
    expect(metric(main(page), "Epochs done")).to_contain_text("2 of 2")
    expect(sidebar(page)).to_contain_text("finished")
    assert run_store.get(run.id).status == "finished"
    screenshot(page, "training")
    clock("finished")

    # Evaluation: the confusion matrix is a Plotly heatmap over the 5 classes of the test set.
    open_page(page, "Evaluation", "evaluation")
    run = run_store.get(run.id)
    run_picker = widget(main(page), "stSelectbox", "Training run")
    expect(run_picker.locator("input")).to_have_value(re.compile(re.escape(run.name)))
    charts = main(page).get_by_test_id("stPlotlyChart")
    expect(charts.first).to_be_visible()
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')]"
                           ".some(gd => gd.data && gd.data.some(t => t.type === 'heatmap'))", polling=500)
    heatmaps = [t for chart in charts.all() for t in (plotly_traces(chart) or []) if t["type"] == "heatmap"]
    assert len(heatmaps) == 1
    heatmap = heatmaps[0]
    assert heatmap["x"] == CLASSES and heatmap["y"] == CLASSES
    test_pictures = int(metric(main(page), "Test pictures")
                        .get_by_test_id("stMetricValue").inner_text().replace(",", ""))
    assert sum(map(sum, heatmap["z"])) == test_pictures == round(0.2 * SHAPES_PER_CLASS * len(CLASSES))
    mistakes_metric = int(metric(main(page), "Mistakes")
                          .get_by_test_id("stMetricValue").inner_text().replace(",", ""))
    assert mistakes_metric == test_pictures - sum(heatmap["z"][i][i] for i in range(len(CLASSES)))
    counts = page.evaluate("() => [...document.querySelectorAll('[data-testid=stMain] .heatmaplayer text')]"
                           ".map(t => [t.textContent, parseFloat(getComputedStyle(t).fontSize)])")
    assert [int(text) for text, _ in counts] == [v for row in heatmap["z"] for v in row], counts
    assert min(size for _, size in counts) >= 12, f"the counts are drawn too small to read: {counts}"
    with window_size(page, XGA):   # a 1024x768 projector: the matrix takes the whole width, its cell below it
        widths = page.evaluate("""() => {
            const main = document.querySelector('[data-testid=stMainBlockContainer]'), style = getComputedStyle(main);
            const chart = document.querySelector('.st-key-eval_matrix_row [data-testid=stPlotlyChart]');
            return [chart.getBoundingClientRect().width,
                    main.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)];
        }""")
        assert widths[0] >= 0.95 * widths[1], f"the matrix should fill the page at 1024 px: {widths}"
        assert not cut_labels(page), cut_labels(page)
    screenshot(page, "evaluation")
    clock("evaluation")

    # Mistakes: the wrongly labelled test pictures, captioned "true → predicted (confidence)".
    open_page(page, "Mistakes", "mistakes")
    if mistakes_metric == 0:  # a perfect model after 2 epochs: the page says so
        expect(main(page).get_by_text("No mistakes", exact=False)).to_be_visible()
    else:
        expect(main(page).get_by_text(f"of {mistakes_metric} mistakes match the filters", exact=False)).to_be_visible()
        wait_for_images(page, minimum=min(mistakes_metric, 12))
        shown = main(page).get_by_test_id("stImage")
        first_caption = shown.first.inner_text()
        assert re.search(r"(\w+) → (\w+) \(\d+%\)", first_caption), first_caption
        true_name, predicted_name = re.search(r"(\w+) → (\w+)", first_caption).groups()
        assert true_name in CLASSES and predicted_name in CLASSES and true_name != predicted_name
        # "Why did it say that?": where the model looked, for its answer and for the right one
        expect(main(page).get_by_role("heading", name="Why did it say that?", exact=True)).to_be_visible()
        expect(main(page).get_by_text("Where it saw signs of", exact=False)).to_have_count(2)
        wait_for_images(page, minimum=min(mistakes_metric, 12) + 3)  # grid + the one up close + 2 heatmaps
    screenshot(page, "mistakes")
    clock("mistakes")


def test_run_survives_page_switches_and_reload(page, app_server, run_store):
    epochs = 15  # on the default MNIST sample (4,000 training digits, ~1 s an epoch): long enough to
    clock = Clock()  # still run while we look at other pages, short enough for the test budget
    open_app(page, app_server)
    run = build_and_train(page, run_store, epochs=epochs, dataset_id="mnist_sample")
    clock("training queued")
    wait_for_curve_points(page, 1, FIRST_EPOCH_TIMEOUT)
    clock("first point")

    # Away from training: two other pages, then a browser reload (a new Streamlit session).
    open_page(page, "Data sets", "data")
    wait_for_images(page)
    open_page(page, "Evaluation", "evaluation")
    page.reload()
    expect(main(page).get_by_role("heading", name="Evaluation", exact=True)).to_be_visible()
    wait_for_app(page)
    expect(sidebar(page)).to_contain_text(run.name)  # the new session finds the run by itself
    clock("two pages and a reload")

    open_page(page, "Training", "training")
    expect(main(page).get_by_role("heading", name=run.name, exact=True)).to_be_visible()
    on_return = run_store.get(run.id)
    assert on_return.status in ("running", "finished"), on_return.status
    clock(f"back on training: run {on_return.status}, {on_return.epochs_done} of {epochs} epochs")
    wait_for_curve_points(page, 1, 30_000)
    # Every epoch recorded so far is on the curve (the store may move on while we read: retry).
    deadline = time.monotonic() + 30
    while True:
        stored = [int(e["epoch"]) for e in run_store.epochs(run.id)]
        drawn = curve_epochs(page)
        if drawn == stored and drawn == list(range(1, len(drawn) + 1)):
            break
        assert time.monotonic() < deadline, f"curve epochs {drawn} != stored epochs {stored}"
        page.wait_for_timeout(300)
    screenshot(page, "training-after-reload")
    clock("curve matches the store")

    # It goes on to the end, in the same run: all epochs, no gaps, no second run.
    left = epochs - len(curve_epochs(page))
    wait_for_curve_points(page, epochs, max(left, 1) * EPOCH_TIMEOUT)
    wait_for_status_text(page, r"^Finished:")
    assert curve_epochs(page) == list(range(1, epochs + 1))
    final = run_store.get(run.id)
    assert final.status == "finished" and final.epochs_done == epochs
    assert [int(e["epoch"]) for e in run_store.epochs(run.id)] == list(range(1, epochs + 1))
    assert [r.id for r in run_store.list_runs() if r.name == run.name] == [run.id]
    expect(metric(main(page), "Epochs done")).to_contain_text(
        f"{epochs} of {epochs}")
    screenshot(page, "training-finished")
    clock("finished")


def test_stop_a_run(page, app_server, run_store):
    clock = Clock()
    open_app(page, app_server)
    choose_dataset(page, DATASET)
    run = build_and_train(page, run_store, epochs=100)
    clock("training queued")
    wait_for_curve_points(page, 1, FIRST_EPOCH_TIMEOUT)
    clock("first point")
    assert run_store.get(run.id).status == "running"

    stop = main(page).get_by_role("button", name="Stop", exact=True)
    started = time.monotonic()
    stop.click()
    wait_for_status_text(page, r"^Stopped after \d+ epochs? \(of 100\)", timeout=60_000)
    took = time.monotonic() - started
    clock(f"stopped ({took:.1f} s after the click)")
    stopped = run_store.get(run.id)
    assert stopped.status == "stopped", stopped.status
    assert took <= STOP_WITHIN, f"the page said 'Stopped' {took:.1f} s after the click (limit {STOP_WITHIN} s)"
    assert 1 <= stopped.epochs_done < 100
    expect(sidebar(page)).to_contain_text("stopped")
    expect(main(page).get_by_role("button", name="Stop", exact=True)).to_have_count(0)
    expect(main(page).get_by_text(f"Stopped after {stopped.epochs_done} epoch", exact=False)).to_be_visible()
    wait_for_curve_points(page, stopped.epochs_done, EPOCH_TIMEOUT)   # Plotly redraws after the text
    assert curve_epochs(page) == list(range(1, stopped.epochs_done + 1))
    screenshot(page, "training-stopped")
    clock("done")
