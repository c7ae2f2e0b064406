"""AppTest of the sweep form (as the model builder draws it) and of following the sweep it queues.

The queued runs go to the real job queue of the test's workspace; the test stops the sweep right
away with the form's neighbour, the "Stop sweep" button, and waits until the worker let go.
"""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from run_fixtures import end_held_trainings, hold_trainings

pytest.importorskip("tensorflow")


def sweep_script():
    import streamlit as st

    from cnn_core.model import PRESETS
    from components import state
    from components.sweep_form import render_sweep_form, sweep_overview

    st.session_state.setdefault(state.DATASET_KEY, "shapes")
    render_sweep_form(PRESETS["lenet"].replace(epochs=1), state.dataset_id())
    st.divider()
    sweep_overview(state.run_store())


def seconds_range(text: str) -> tuple[float, float]:
    """"about 20–40 s" / "about 40 s – 3 min" / "about 1–4 min" -> (low, high) in seconds."""
    found = re.search(r"about (\d+)(?: (s|min) – |–)(\d+) (s|min)", text)
    assert found, text
    unit = {"s": 1, "min": 60}
    return (int(found.group(1)) * unit[found.group(2) or found.group(4)], int(found.group(3)) * unit[found.group(4)])


def new_form() -> AppTest:
    at = AppTest.from_function(sweep_script, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at, kinds=("info", "warning", "error", "success", "caption", "markdown")) -> str:
    return " ".join(str(e.value) for kind in kinds for e in at.main.get(kind))


def test_a_bad_value_is_named_inline_and_nothing_can_be_queued():
    at = new_form()
    assert "queues **3 runs**" in texts(at, ("markdown",))  # learning_rate 0.0003, 0.001, 0.003
    # before any run finished here: a wide range, never "< 1 s"
    assert re.search(r"queues \*\*3 runs\*\*, about \d+[^.]*–[^.]* in all", texts(at, ("markdown",)))
    controls = [*at.main.radio, *at.main.multiselect, *at.main.text_input, *at.main.button]
    assert all(e.help for e in controls), [e.label for e in controls if not e.help]
    at.text_input(key="sweep_grid_learning_rate").set_value("0.001, fast").run()
    assert "learning_rate" in at.error[0].value and "fast" in at.error[0].value
    assert at.button(key="sweep_queue").disabled
    at.multiselect(key="sweep_settings_grid").set_value([]).run()
    assert "Pick at least one setting" in texts(at, ("info",))


def test_runs_measured_here_narrow_the_estimate_to_this_machines_speed(workspace):
    from cnn_core.model import PRESETS
    from cnn_core.runs import RunStore

    wide = re.search(r"about [^.]* in all", texts(new_form(), ("markdown",))).group(0)
    store = RunStore(workspace)
    for _ in range(2):   # lenet, 1 epoch on shapes, took 40 s here after 5 s of start-up
        run_id = store.create_run({"dataset": {"id": "shapes"}, "preset": "lenet",
                                   "model": PRESETS["lenet"].replace(epochs=1).to_dict()}, name="measured")
        store.set_status(run_id, "running")
        store.add_epoch(run_id, 1, {"loss": 1.0, "accuracy": 0.5, "val_loss": 1.0, "val_accuracy": 0.5})
        store.set_progress(run_id, startup_seconds=5.0)
        store.set_result(run_id, train_seconds=40.0)
        store.set_status(run_id, "finished")
    measured = re.search(r"about [^.]* in all", texts(new_form(), ("markdown",))).group(0)
    assert measured != wide
    # 3 runs of about 45 s each (the learning rate does not change the cost): within the range
    low, high = seconds_range(measured)
    wide_low, wide_high = seconds_range(wide)
    assert low <= 135 <= high and not wide_low <= 135 <= wide_high, (wide, measured)


def test_random_mode_shows_its_draws():
    at = new_form()
    at.radio(key="sweep_mode").set_value("random").run()
    at.number_input(key="sweep_draws").set_value(5).run()
    assert "queues **5 runs**" in texts(at, ("markdown",))
    preview = at.dataframe[0].value
    values = [float(v) for v in preview.iloc[:, 0]]
    assert len(values) == 5 and all(0.0001 <= v <= 0.01 for v in values)


def test_grid_sweep_queues_every_combination_then_stops(workspace):
    from cnn_core.runs import RunStore
    from cnn_core.sweeps import list_sweeps, sweep_status
    from cnn_core.job_queue import get_job_queue

    at = new_form()
    assert "No sweeps yet" in texts(at, ("info",))
    at.multiselect(key="sweep_settings_grid").set_value(["learning_rate", "optimizer"]).run()
    at.text_input(key="sweep_grid_learning_rate").set_value("0.001, 0.01").run()
    at.multiselect(key="sweep_grid_optimizer").set_value(["adam", "sgd"]).run()
    assert "queues **4 runs**" in texts(at, ("markdown",))
    assert len(at.dataframe[0].value) == 4
    at.text_input(key="sweep_name").set_value("lr x optimiser")
    at.button(key="sweep_queue").click().run()
    assert not at.exception, [e.value for e in at.exception]

    store = RunStore(workspace)
    (record,) = list_sweeps(store)
    try:
        assert record.name == "lr x optimiser"
        runs = [store.get(run_id) for run_id in record.run_ids]
        got = [(r.config["model"]["learning_rate"], r.config["model"]["optimizer"]) for r in runs]
        assert got == [(0.001, "adam"), (0.001, "sgd"), (0.01, "adam"), (0.01, "sgd")]
        assert all(r.sweep_id == record.id and r.config["model"]["epochs"] == 1 for r in runs)
        assert at.session_state["active_run_id"] == record.run_ids[0]
        assert "Queued “lr x optimiser”: 4 runs" in texts(at, ("success",))
        assert "Compare page" in texts(at, ("caption",))  # no navigation here: a caption, not a link
        assert at.selectbox(key="sweep_view").value == record.id
        at.button(key="sweep_stop").click().run()
        assert "Stopped" in texts(at, ("success",))
    finally:
        queue = get_job_queue(workspace)
        for run_id in record.run_ids:
            if store.get(run_id).is_active:
                queue.stop(run_id)
            queue.wait(run_id, timeout=90)
    status = sweep_status(store, record.id)
    assert status.is_done and status.counts["stopped"] + status.counts["finished"] == 4
    at.run()
    assert "4 of 4 runs done" in str(at.get("progress")[0].proto.text)
    assert not [b for b in at.main.button if b.key == "sweep_stop"]


def test_a_second_sweep_is_refused_in_plain_words_while_the_first_waits(workspace, monkeypatch):
    """The teacher's per-person limit (one request waiting by default) holds for sweeps: the
    first sweep is one request, the second is refused and queues nothing."""

    from cnn_core.runs import RunStore
    from cnn_core.sweeps import list_sweeps

    release = hold_trainings(monkeypatch)   # each run stays "training" until released
    at = new_form()
    at.multiselect(key="sweep_settings_grid").set_value(["learning_rate"]).run()
    at.text_input(key="sweep_grid_learning_rate").set_value("0.001, 0.01, 0.1").run()
    at.button(key="sweep_queue").click().run()
    store = RunStore(workspace)
    try:
        (first,) = list_sweeps(store)
        assert len(first.run_ids) == 3 and "Queued" in texts(at, ("success",))
        at.button(key="sweep_queue").click().run()
        assert not at.exception, [e.value for e in at.exception]
        refused = texts(at, ("error",))
        assert "The sweep was not queued: You already have a run waiting in line" in refused
        assert len(list_sweeps(store)) == 1 and len(store.list_runs()) == 3
    finally:
        end_held_trainings(workspace, release)
