"""The sidebar's run card and the Training page's live view poll only while there is something to
follow (issue 13: thirty people on one server), and a poll is cheap.

The intervals are read from what a page run sends the browser: Streamlit's ``auto_rerun``
message, one per polling fragment defined in that run.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from cnn_core.poll_intervals import IDLE_CARD_SECONDS, LIVE_SECONDS, PAUSED_SECONDS
from page_helpers import new_app, open_page, record_polls
from run_fixtures import figure, make_finished_run

TRAINING = "pages/training.py"


@pytest.fixture
def polls(monkeypatch) -> list[float]:
    """The ``run_every`` of every polling fragment the page runs define, in order."""
    return record_polls(monkeypatch)


def home_polls(polls, **session) -> list[float]:
    """The polling fragments of a new session's first page run (home: only the sidebar's card)."""
    polls.clear()
    at = new_app()
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return list(polls)


def test_the_card_polls_every_2_s_while_its_run_trains_10_s_while_paused_and_30_s_otherwise(workspace, polls):
    from cnn_core.runs import RunStore

    assert home_polls(polls) == [IDLE_CARD_SECONDS]                        # no run yet
    live = make_finished_run(workspace, name="live", status="running", predictions=False)
    assert home_polls(polls) == [LIVE_SECONDS]                              # training (this process)
    RunStore(workspace).set_status(live, "paused")
    assert home_polls(polls, active_run_id=live) == [PAUSED_SECONDS]       # paused: rarely
    RunStore(workspace).set_status(live, "finished")
    assert home_polls(polls, active_run_id=live) == [IDLE_CARD_SECONDS]    # ended: rarely


def test_a_dead_process_s_run_is_marked_interrupted_and_the_card_rests(workspace, polls):
    import subprocess
    import sys

    from cnn_core.runs import RunStore

    new_app().run()                                        # the app has opened its store already
    store = RunStore(workspace)
    run_id = make_finished_run(workspace, name="cli run", status="running", predictions=False)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    store.set_owner(run_id, f"{gone.pid}:12345.00")
    assert home_polls(polls, active_run_id=run_id) == [IDLE_CARD_SECONDS]
    assert store.get(run_id).status == "interrupted"


def test_the_live_view_polls_every_2_s_while_its_run_is_live_and_not_at_all_once_it_ended(workspace, polls):
    from cnn_core.runs import RunStore

    live = make_finished_run(workspace, name="live", status="running", predictions=False)
    at = open_page(TRAINING)
    polls.clear()
    at.run()                     # a page run of the Training page alone (see page_helpers)
    assert polls == [LIVE_SECONDS]
    RunStore(workspace).set_status(live, "finished")
    polls.clear()
    at.run()
    assert not at.exception and polls == []
    assert "Finished" in at.success[0].value


def _card_script() -> None:
    """Runs the card's body once with the snapshot the test left in session state."""
    import streamlit as st

    from components.sidebar import _run_card

    st.session_state["page_runs"] = st.session_state.get("page_runs", 0) + 1
    if st.session_state["page_runs"] == 1:
        _run_card(st.session_state["seen"])


def card_page_runs(seen, **session) -> int:
    at = AppTest.from_function(_card_script, default_timeout=60)
    at.session_state["seen"] = seen
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at.session_state["page_runs"]


def test_the_card_reruns_the_page_when_its_run_started_paused_or_ended_since_the_page_run(workspace):
    """E.g. resumed from the command line or paused in another tab: the new page run defines the
    card (and the Training page's live view) again with the interval that fits."""
    from cnn_core.runs import RunStore

    run_id = make_finished_run(workspace, name="r", status="stopped", predictions=False)
    assert card_page_runs((run_id, IDLE_CARD_SECONDS), active_run_id=run_id) == 1   # unchanged: no rerun
    store = RunStore(workspace)
    store.set_status(run_id, "queued")                                    # resumed elsewhere
    assert card_page_runs((run_id, IDLE_CARD_SECONDS), active_run_id=run_id) == 2
    assert card_page_runs((run_id, LIVE_SECONDS), active_run_id=run_id) == 1
    store.set_status(run_id, "running")
    store.set_status(run_id, "paused")                                    # paused elsewhere
    assert card_page_runs((run_id, LIVE_SECONDS), active_run_id=run_id) == 2
    assert card_page_runs((run_id, PAUSED_SECONDS), active_run_id=run_id) == 1
    store.set_status(run_id, "running")                                   # continued elsewhere
    assert card_page_runs((run_id, PAUSED_SECONDS), active_run_id=run_id) == 2
    store.set_status(run_id, "finished")                                  # it ended
    assert card_page_runs((run_id, LIVE_SECONDS), active_run_id=run_id) == 2
    assert card_page_runs(("another run", IDLE_CARD_SECONDS), active_run_id=run_id) == 2   # another run to follow


def test_a_redraw_asked_by_the_live_view_still_reruns_the_page(workspace):
    run_id = make_finished_run(workspace, name="r", predictions=False)
    assert card_page_runs((run_id, IDLE_CARD_SECONDS), active_run_id=run_id, page_redraw_asked=True) == 2


def test_a_poll_reuses_the_curves_and_the_table_until_what_they_show_changes(workspace):
    from cnn_core.runs import RunStore
    from components import run_charts, run_picker

    live = make_finished_run(workspace, name="live", status="running", predictions=False)
    at = open_page(TRAINING)
    at.run()
    curves, tables = run_charts._CURVES.made, run_picker._TABLES.made   # noqa: SLF001
    at.run()                                                            # nothing changed
    assert (run_charts._CURVES.made, run_picker._TABLES.made) == (curves, tables)   # noqa: SLF001
    store = RunStore(workspace)
    store.add_epoch(live, 4, {"loss": 0.5, "accuracy": 0.85, "val_loss": 0.55, "val_accuracy": 0.82})
    at.run()                                                            # a new epoch: both built again
    assert run_charts._CURVES.made == curves + 1 and run_picker._TABLES.made == tables + 1   # noqa: SLF001
    assert [len(trace["x"]) for trace in figure(at.get("plotly_chart")[0])["data"]] == [4, 4, 4, 4]
    assert at.dataframe[0].value["epochs"].tolist() == ["4 of 3"]
    store.set_status(live, "finished")
    at.run()
    assert at.dataframe[0].value["status"].tolist() == ["finished"]
