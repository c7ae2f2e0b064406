"""AppTest of the training page: stored runs (curves, reading, past runs, queue place, endings)
and one real tiny run on ``shapes`` driven by the Start / Pause / Continue / Stop buttons."""

from __future__ import annotations

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from cnn_core.poll_intervals import LIVE_SECONDS, PAUSED_SECONDS
from page_helpers import record_polls
from run_fixtures import CURVE, figure, make_finished_run

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PAGE = "pages/training.py"


def open_page(active: str | None = None, **session) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["dataset_id"] = "shapes"
    if active:
        at.session_state["active_run_id"] = active
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def texts(at) -> str:
    return " ".join(e.value for kind in ("info", "warning", "error", "success", "caption", "markdown")
                    for e in at.main.get(kind))


def test_empty_state_offers_start_and_the_model_builder():
    at = open_page()
    assert "No model has been trained yet" in at.info[0].value
    start = at.button(key="train_start")
    assert start.help and not start.disabled
    assert "model_builder" in [link.proto.page for link in at.get("page_link")]
    assert not at.get("plotly_chart")


def test_stored_run_shows_whole_curves_and_their_reading(workspace):
    from cnn_core.curve_reading import read_curves
    from cnn_core.runs import RunStore

    run_id = make_finished_run(workspace, name="three epochs")
    at = open_page()
    assert at.subheader[0].value == "three epochs"
    chart = figure(at.get("plotly_chart")[0])
    traces = chart["data"]
    assert [t["name"] for t in traces] == ["training", "validation", "training", "validation"]
    assert all(len(t["x"]) == len(CURVE) == 3 for t in traces)
    assert traces[3]["y"] == [100 * row[3] for row in CURVE]
    reading = read_curves(RunStore(workspace).epochs(run_id), status="finished", epochs_planned=3)
    assert reading.headline in texts(at)
    assert "Finished" in at.success[0].value
    metrics = {m.label: m.value for m in at.main.metric}
    assert metrics["Epochs done"] == "3 of 3" and metrics["Validation accuracy"] == "79.0%"
    assert all(m.help for m in at.main.metric)
    assert at.button(key="train_start").label == "Train a new model"
    assert not any(b.key in ("train_pause", "train_stop") for b in at.button)


def test_past_runs_can_be_reopened(workspace):
    first = make_finished_run(workspace, name="first run")
    make_finished_run(workspace, name="second run")
    at = open_page()
    assert at.subheader[0].value == "second run"  # the newest
    table = at.dataframe[0].value
    assert list(table["run"]) == ["second run", "first run"]
    assert {"status", "data set", "preset", "best validation accuracy", "test accuracy", "training time"} <= set(table)
    at.selectbox(key="train_open").set_value(first).run()
    assert at.subheader[0].value == "first run"
    assert at.session_state["active_run_id"] == first
    # Its label never changes with the run's status (the browser would keep showing the old one)
    labels = at.selectbox(key="train_open").options
    from cnn_core.runs import RunStore

    RunStore(workspace).set_status(first, "stopped")
    at.run()
    assert at.selectbox(key="train_open").options == labels and at.selectbox(key="train_open").value == first


def test_queued_run_shows_its_place_and_endings_show_their_message(workspace):
    from cnn_core.runs import RunStore

    store = RunStore(workspace)
    busy = make_finished_run(workspace, name="busy", status="running", predictions=False)
    waiting = store.create_run({"dataset": {"id": "shapes"}, "model": {"epochs": 2}}, name="waiting")
    at = open_page(active=waiting)
    assert "Waiting in line, 1 run before this one" in at.info[0].value
    assert at.button(key="train_stop").help
    store.set_status(busy, "diverged", "The loss became NaN in epoch 2. Try a 10x lower learning rate.")
    at = open_page(active=busy)
    assert "loss became NaN" in at.error[0].value
    store.set_status(waiting, "interrupted", "Training was cut off after 0 epoch(s).")
    at = open_page(active=waiting)
    assert "cut off" in at.warning[0].value
    assert at.button(key="train_resume").help


def wait_for(store, run_id, statuses, timeout=90.0):
    deadline = time.monotonic() + timeout
    while store.get(run_id).status not in statuses:
        assert time.monotonic() < deadline, f"run stayed {store.get(run_id).status}"
        time.sleep(0.2)
    return store.get(run_id)


def test_start_pause_continue_and_stop_a_real_run(workspace, monkeypatch):
    from cnn_core.model import PRESETS
    from cnn_core.runs import RunStore

    spec = PRESETS["fast"].replace(epochs=40, conv_blocks=1, filters=8, dense_units=16, batch_size=64)
    at = open_page(model_spec=spec.to_dict())
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    run_id = at.session_state["active_run_id"]
    store = RunStore(workspace)
    assert store.get(run_id).epochs_planned == 40
    wait_for(store, run_id, ("running",))
    while store.get(run_id).progress.get("phase") != "training":
        time.sleep(0.2)
    at.run()
    polls = record_polls(monkeypatch)
    at.button(key="train_pause").click().run()
    assert store.get(run_id).status == "paused"
    assert "Paused" in at.info[0].value
    assert polls and set(polls) == {PAUSED_SECONDS}     # the card and the live view rest while paused
    polls.clear()
    at.button(key="train_continue").click().run()
    assert store.get(run_id).status == "running"
    assert polls and set(polls) == {LIVE_SECONDS}
    at.button(key="train_stop").click().run()
    started = time.monotonic()
    record = wait_for(store, run_id, ("stopped",), timeout=30)
    assert time.monotonic() - started < 10
    at.run()
    done = record.epochs_done
    assert f"Stopped after {done} epoch" in at.info[0].value
    assert at.button(key="train_resume") and at.button(key="train_start")
    at.button(key="train_resume").click().run()  # continues the same run from its checkpoint
    assert store.get(run_id).status in ("queued", "running"), [e.value for e in at.error]
    assert at.session_state["active_run_id"] == run_id
    at.button(key="train_stop").click().run()
    record = wait_for(store, run_id, ("stopped",), timeout=60)
    assert record.epochs_done >= done


def test_sidebar_polling_marks_a_run_whose_process_died_as_interrupted(workspace):
    """A command-line training killed with kill -9 while the app is open."""
    import subprocess
    import sys

    from cnn_core.runs import RunStore

    first = AppTest.from_file(APP, default_timeout=120)
    first.run()                                        # the app has opened its store already
    store = RunStore(workspace)
    run_id = make_finished_run(workspace, name="cli run", status="running", predictions=False)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    store.set_owner(run_id, f"{gone.pid}:12345.00")
    at = AppTest.from_file(APP, default_timeout=120)   # the sidebar's next poll (home page)
    at.session_state["active_run_id"] = run_id
    at.run()
    assert not at.exception, at.exception
    assert store.get(run_id).status == "interrupted"
    assert "interrupted" in " ".join(m.value for m in at.sidebar.markdown)


def test_a_new_session_follows_the_run_that_trained_last_not_the_newest_created(workspace):
    """A run resumed after a newer one finished ends last: a reload must show it, not the other."""
    import time as clock

    from cnn_core.runs import RunStore

    store = RunStore(workspace)
    resumed = make_finished_run(workspace, name="resumed run", status="stopped")
    newer = make_finished_run(workspace, name="one-click run")
    clock.sleep(0.05)
    store.set_status(resumed, "queued", "Waiting to resume")
    store.set_status(resumed, "running")
    at = open_page()                                    # a new session while it trains
    assert at.subheader[0].value == "resumed run"
    store.set_status(resumed, "finished", "Trained 3 epochs.")
    at.run()                                            # the same session when it has ended
    assert at.subheader[0].value == "resumed run"
    assert open_page().subheader[0].value == "resumed run"   # and a reload after it ended
    assert store.get(newer).created_at > store.get(resumed).created_at


def test_live_view_counts_as_stalled_only_for_a_live_run_past_the_limit(workspace):
    """What the sidebar's polling uses to rerun a Training page whose polling fragment died."""
    import time as clock

    import streamlit as st

    from components import state

    live = make_finished_run(workspace, name="live", status="running", predictions=False)
    ended = make_finished_run(workspace, name="ended")
    state.forget_live_view()
    assert not state.live_view_stalled(10)
    state.live_view_beat(live)
    assert not state.live_view_stalled(10)                  # it just drew
    st.session_state[state.LIVE_VIEW_HEARTBEAT_KEY] = (live, clock.monotonic() - 60)
    assert state.live_view_stalled(10)
    st.session_state[state.LIVE_VIEW_HEARTBEAT_KEY] = (ended, clock.monotonic() - 60)
    assert not state.live_view_stalled(10)                  # nothing to poll for any more
    state.forget_live_view()


def test_a_run_starting_or_ending_asks_for_one_page_redraw_that_a_page_run_clears():
    """The live view flags a run's start or end (drawn by itself) instead of calling st.rerun from
    its timer; the sidebar's polling turns the flag into one page run, which clears it."""
    from components import state

    state.forget_live_view()
    assert not state.page_redraw_asked()
    state.ask_page_redraw()
    assert state.page_redraw_asked() and state.page_redraw_asked()   # asking does not clear it
    state.forget_live_view()                                          # app.py, at every page run
    assert not state.page_redraw_asked()


def test_a_click_waiting_to_be_run_keeps_the_polling_from_rerunning_this_page(monkeypatch):
    """A page change clicked in the navigation waits as a rerun request; a rerun asked by the
    sidebar's timer would be folded into it with this page's address (the click lost, seen in
    CI). Read from Streamlit's own request object, so a Streamlit upgrade that changes it fails here."""
    from streamlit.runtime.scriptrunner_utils import script_run_context
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData, ScriptRequests

    from components import state

    requests = ScriptRequests()

    class Context:
        script_requests = requests

    monkeypatch.setattr(script_run_context, "get_script_run_ctx", lambda *a, **k: Context())
    assert not state.another_run_requested()
    requests.request_rerun(RerunData(page_script_hash="try-it-page"))
    assert state.another_run_requested()
    requests.on_scriptrunner_yield()           # the runner takes the request and starts that run
    assert not state.another_run_requested()


def test_a_run_shows_every_setting_it_trained_with_in_the_widgets_words(workspace):
    from cnn_core.runs import RunStore

    store = RunStore(workspace)
    config = {"dataset": {"id": "shapes"}, "preset": None,
              "model": {"epochs": 2, "batch_size": 32, "learning_rate": 0.003, "dense_layers": 1},
              "augment": {"flip": "horizontal", "rotation": 0.1}, "preprocess": {"validation_fraction": 0.2}}
    run_id = store.create_run(config, name="augmented")
    store.set_status(run_id, "finished")
    at = open_page(active=run_id, augment_spec=None)
    assert "augmentation: mirror left ↔ right, turn up to ±36°" in texts(at)
    shown = " ".join(e.label for e in at.main.expander)
    assert "Every setting this run trained with" in shown
    everything = " ".join(m.value for m in at.main.expander[0].markdown)
    for line in ("Data set: Shapes", "Dense layers: 1", "Learning rate: 0.003", "Mirror: left ↔ right",
                 "Turn: up to ±36°", "Validation share: 20%", "Batch size: 32", "Shift: off"):
        assert f"- {line}" in everything, line
    # the next run is what the screen holds now (no augmentation in this session), not this run's
    assert "Next run: data set **Shapes**" in texts(at) and "augmentation: no augmentation" in texts(at)



def test_a_run_under_a_time_limit_says_it_is_timing_then_how_many_epochs_fit(workspace):
    from cnn_core.runs import RunStore

    store = RunStore(workspace)
    run_id = make_finished_run(workspace, name="timed", status="running", predictions=False)
    store.set_progress(run_id, replace=True, phase="timing")
    at = open_page(active=run_id)
    bars = " ".join(str(bar.proto.text) for bar in at.get("progress"))
    assert "timing a few batches" in bars
    store.set_planned_epochs(run_id, 14, time_limit_fit={"minutes": 10, "asked_epochs": 28,
                                                          "epochs": 14, "epoch_seconds": 41.2})
    store.set_progress(run_id, replace=True, phase="training", epoch=3, epochs=14, batch=5,
                       batches=196)
    at = open_page(active=run_id)
    assert "14 of the 28 epochs fit (about 41 s an epoch" in texts(at)
    assert "of 14" in " ".join(str(bar.proto.text) for bar in at.get("progress"))
    # room for part of one more: the caption says how much of it
    store.set_planned_epochs(run_id, 15, time_limit_fit={
        "minutes": 10, "asked_epochs": 28, "epochs": 15, "epoch_seconds": 41.2,
        "last_epoch_steps": 120, "steps_per_epoch": 196})
    store.set_progress(run_id, replace=True, phase="training", epoch=15, epochs=15, batch=60,
                       batches=120)
    at = open_page(active=run_id)
    assert "14 of the 28 epochs fit, and 120 of the 196 batches of one more" in texts(at)
    bars = " ".join(str(bar.proto.text) for bar in at.get("progress"))
    assert "Epoch 15 of 15 · batch 60 of 120" in bars            # the cut epoch's own batches
