"""A sweep, as a user runs one in the real app: `streamlit run app.py` driven by headless Chromium.

On the generated "Shapes" set, LeNet for 1 epoch: the Model builder's "Sweep: try several values"
form varies the learning rate and the dense dropout over 2 values each (a 2 x 2 grid), says it
queues 4 runs and lists them, queues them; the Compare page's "Sweeps" tab follows them to
"4 of 4 runs done", then shows one table row per run and a 2 x 2 heatmap of their test accuracy.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from cnn_core.model.presets import preset_name
from cnn_core.sweeps import load_sweep

from app_driver import (Clock, choose, choose_dataset, dataframe_columns, dataframe_rows, expander, multiselect_add,
                        multiselect_chips, open_page, plotly_traces, screenshot, set_slider, type_text,
                        main, wait_for_app, wait_for_path, widget)

# Trains 4 real (tiny) models inside the app on 2 CPU cores, next to Chromium (no retries, as the
# other journeys).
pytestmark = pytest.mark.browser

DATASET = "Shapes"
PRESET = "lenet"
# The two swept settings: (name in the engine, label in the form, values typed, values as read).
ROWS = ("learning_rate", "Learning rate", "0.001, 0.003", [0.001, 0.003])
COLS = ("dense_dropout", "Dropout in dense layers", "0, 0.25", [0.0, 0.25])
COMBOS = [(r, c) for r in ROWS[3] for c in COLS[3]]
# Budget for all 4 runs: one epoch of LeNet on Shapes is ~1 s on an idle machine, but the first run
# imports TensorFlow, each run loads its data and builds its model, and the machine may be shared.
SWEEP_TIMEOUT = 420_000  # ms (pytest-timeout stops a test at 600 s)


def settle(read, ok, timeout: float = 30.0):
    """``read()`` once ``ok(value)`` holds, else its last value after ``timeout`` seconds (for the
    caller's assertion to show): the browser may still be drawing what the last rerun sent."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if ok(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


def shown(value: float) -> str:
    return f"{value:g}"  # how the form, the table and the chart write a swept number


def test_grid_sweep_from_form_to_heatmap(page, app_server, run_store):
    clock = Clock()
    page.goto(app_server.url)
    expect(main(page).get_by_role("heading", name="CNN Lab", exact=True)).to_be_visible()
    wait_for_app(page)
    choose_dataset(page, DATASET)

    # Model builder: LeNet, 1 epoch per run.
    open_page(page, "Model builder", "model_builder")
    body = main(page)
    choose(page, widget(body, "stSelectbox", "Start from a preset"), preset_name(PRESET))
    expect(widget(body, "stSlider", "Convolution blocks").get_by_test_id("stSliderThumbValue")).to_have_text("2")
    wait_for_app(page)
    expander(body, "Optimisation").locator("summary").click()
    set_slider(page, widget(body, "stSlider", "Epochs"), 1)
    wait_for_app(page)
    expect(body.get_by_text(re.compile(r"^Sized for "))).to_be_visible()
    clock("model builder: lenet, 1 epoch")

    # The sweep form: every combination of 2 learning rates and 2 dense dropouts.
    sweep = expander(body, "Sweep: try several values")
    sweep.locator("summary").click()
    mode = widget(sweep, "stRadio", "How to pick the values")
    expect(mode.get_by_role("radio", name="Every combination of values I list")).to_be_checked()
    settings = widget(sweep, "stMultiSelect", "Settings to vary (one or two)")
    expect(multiselect_chips(settings)).to_have_text([ROWS[1]])  # the default: learning rate alone
    multiselect_add(page, settings, COLS[1])
    wait_for_app(page)
    for _, label, typed, _ in (ROWS, COLS):
        type_text(page, widget(sweep, "stTextInput", f"Values of “{label}”"), typed)
        wait_for_app(page)
    expect(sweep.get_by_text(re.compile(r"^This sweep queues 4 runs"))).to_be_visible()
    expect(sweep.locator("strong").filter(has_text=re.compile(r"^4 runs$"))).to_have_count(1)
    preview = sweep.get_by_test_id("stDataFrame")
    expect(preview).to_be_visible()
    # the markdown line can arrive before the table of the same rerun: wait for the table too
    wanted = [[shown(r), shown(c)] for r, c in COMBOS]
    assert settle(lambda: dataframe_rows(preview), wanted.__eq__) == wanted, dataframe_rows(preview)
    assert dataframe_columns(preview) == [ROWS[1], COLS[1]], dataframe_columns(preview)
    screenshot(page, "model_builder-sweep")
    clock("sweep form: 4 runs previewed")

    before = {run.id for run in run_store.list_runs()}
    sweep.get_by_role("button", name=re.compile("Queue sweep")).click()
    expect(sweep.get_by_text(re.compile(r"^Queued “.+”: 4 runs\.$"))).to_be_visible()
    wait_for_app(page)
    new = [run for run in run_store.list_runs() if run.id not in before]
    assert len(new) == 4, f"one click on 'Queue sweep' should queue 4 runs, got {len(new)}"
    got = sorted((run.config["model"][ROWS[0]], run.config["model"][COLS[0]]) for run in new)
    assert got == sorted(COMBOS), got
    assert len({run.sweep_id for run in new}) == 1 and new[0].sweep_id
    assert all(run.epochs_planned == 1 and run.config["dataset"]["id"] == "shapes" for run in new)
    assert all(run.config["model"]["conv_blocks"] == 2 and run.config["model"]["kernel_size"] == 5 for run in new)
    sweep_id = new[0].sweep_id
    clock("4 runs queued")

    # Compare page, "Sweeps" tab: follow the sweep to its end.
    sweep.get_by_test_id("stPageLink").filter(has_text="Follow the sweep on the Compare page").click()
    wait_for_path(page, "compare")
    expect(main(page).get_by_role("heading", name="Compare runs", exact=True)).to_be_visible()
    wait_for_app(page)
    main(page).get_by_role("tab", name="Sweeps", exact=True).click()
    panel = main(page).get_by_role("tabpanel", name="Sweeps")
    record = load_sweep(run_store, sweep_id)
    assert sorted(record.run_ids) == sorted(run.id for run in new)
    expect(widget(panel, "stSelectbox", "Sweep").locator("input")).to_have_value(
        re.compile("^" + re.escape(record.name + " · ")))  # the newest sweep, picked by itself
    expect(panel.get_by_text(re.compile(r"^\d of 4 runs done$"))).to_be_visible()
    clock("compare page, sweeps tab")
    try:
        expect(panel.get_by_text("4 of 4 runs done", exact=True)).to_be_visible(timeout=SWEEP_TIMEOUT)
    except (AssertionError, PlaywrightTimeoutError):
        states = [(run.name, run.status, run.epochs_done) for run in run_store.list_runs() if run.id in
                  {r.id for r in new}]
        pytest.fail(f"the sweep did not end within {SWEEP_TIMEOUT / 1000:.0f} s; runs: {states}", pytrace=False)
    wait_for_app(page)
    clock("4 of 4 runs done")

    runs = [run_store.get(run.id) for run in new]
    assert all(run.status == "finished" for run in runs), [(r.status.value, r.shown_message) for r in runs]
    assert all(run.test_accuracy is not None for run in runs), [(r.name, r.test_accuracy) for r in runs]
    accuracy = {(run.config["model"][ROWS[0]], run.config["model"][COLS[0]]): run.test_accuracy * 100
                for run in runs}

    # The results table: one row per run, with its values and its test accuracy.
    results = panel.get_by_test_id("stDataFrame")
    expect(results).to_be_visible()
    page.wait_for_function(  # the table is redrawn once the sweep ends; wait for its final rows
        """el => el.querySelectorAll('table[role=grid] tbody tr').length === 4
                 && ![...el.querySelectorAll('table[role=grid] tbody td')].some(td => /queued|running/.test(td.textContent))""",
        arg=results.element_handle(), polling=500, timeout=60_000)
    columns = dataframe_columns(results)
    rows = [dict(zip(columns, row)) for row in dataframe_rows(results)]
    assert len(rows) == 4, rows
    assert columns[:3] == [ROWS[1], COLS[1], "test accuracy"], columns  # the swept values, then the score
    assert {"run", "status"} <= set(columns), columns
    assert sorted((float(r[ROWS[1]]), float(r[COLS[1]])) for r in rows) == sorted(COMBOS), rows
    assert {r["status"] for r in rows} == {"finished"}, rows
    for r in rows:
        expected = accuracy[(float(r[ROWS[1]]), float(r[COLS[1]]))]
        # glide's accessible table holds the number (e.g. "22.75"), the canvas draws it as "22.8%"
        assert float(r["test accuracy"].rstrip("%")) == pytest.approx(expected, abs=0.051), (r, expected)
    assert sorted(r["run"] for r in rows) == sorted(run.name for run in runs)

    # The chart: a 2 x 2 heatmap, learning rates down, dropouts across, test accuracy in %.
    chart = panel.get_by_test_id("stPlotlyChart")
    expect(chart).to_be_visible()
    traces = settle(lambda: plotly_traces(chart),  # Plotly draws after the table: wait for all 4 scores
                    lambda t: bool(t) and t[0]["z"] is not None
                    and sum(v is not None for row in t[0]["z"] for v in row) == 4)
    assert traces is not None and [t["type"] for t in traces] == ["heatmap"], traces
    heatmap = traces[0]
    assert heatmap["y"] == [shown(v) for v in ROWS[3]], heatmap["y"]
    assert heatmap["x"] == [shown(v) for v in COLS[3]], heatmap["x"]
    assert len(heatmap["z"]) == 2 and all(len(row) == 2 for row in heatmap["z"]), heatmap["z"]
    for i, r in enumerate(ROWS[3]):
        for j, c in enumerate(COLS[3]):
            assert heatmap["z"][i][j] == pytest.approx(accuracy[(r, c)], abs=1e-6), (r, c, heatmap["z"])
    assert panel.get_by_role("button", name=re.compile("Stop sweep")).count() == 0
    screenshot(page, "compare-sweep")
    clock("results table and heatmap checked")
