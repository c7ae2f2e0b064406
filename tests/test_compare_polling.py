"""The Compare page's views of several runs (a sweep, the MLP vs CNN pairs) poll like the Training
page's live view: every 2 s while any of their runs waits or trains, every 10 s while the only live
ones are paused (a teacher asks the class to pause), not at all once none is live; a poll that finds
another interval due (a run ended, or was continued in another tab) reruns the page, which picks it.

The intervals are read from what a page run sends the browser (Streamlit's ``auto_rerun`` message,
one per polling fragment; the test's page runs show the Compare page alone, see ``page_helpers``).
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from cnn_core.poll_intervals import LIVE_SECONDS, PAUSED_SECONDS
from page_helpers import open_page, record_polls
from run_fixtures import make_finished_run

PAGE = "pages/compare.py"


@pytest.fixture
def polls(monkeypatch) -> list[float]:
    return record_polls(monkeypatch)


def compare_polls(polls) -> list[float]:
    """The polling intervals of one page run of the Compare page."""
    at = open_page(None)
    polls.clear()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return list(polls)


def make_pair(workspace, mlp_status: str, cnn_status: str) -> list[str]:
    """An MLP vs CNN pair of ``shapes`` runs in the given states."""
    from cnn_core.model import PRESETS
    from cnn_core.runs import RunStore
    from cnn_core.workspace import atomic_write_json

    store = RunStore(workspace)
    ids = []
    for preset, status in (("mlp", mlp_status), ("lenet", cnn_status)):
        run_id = make_finished_run(workspace, name=f"pair {preset}", status=status, predictions=False)
        store.update_config(run_id, comparison="mlp_vs_cnn", comparison_id="pair-1",
                            model=PRESETS[preset].replace(epochs=3).to_dict())
        atomic_write_json(store.run_dir(run_id) / "dataset.json",
                          {"class_names": ["a", "b"], "image_shape": [32, 32, 3]})
        ids.append(run_id)
    return ids


def make_sweep(workspace, statuses: list[str]) -> list[str]:
    """A sweep of ``shapes`` runs over the learning rate, one run per status."""
    from cnn_core.model import PRESETS
    from cnn_core.runs import RunStore
    from cnn_core.sweep_spec import SweepSpec
    from cnn_core.sweeps import SweepRecord, run_config_tag, save_sweep_record

    store = RunStore(workspace)
    rates = [0.001 * (k + 1) for k in range(len(statuses))]
    record = SweepRecord(id="sweep-poll", name="rates", created_at=1.0, dataset_id="shapes",
                         spec=SweepSpec(base=PRESETS["fast"], grid={"learning_rate": rates}),
                         augment={}, run_ids=[], values=[])
    for rate, status in zip(rates, statuses):
        run_id = make_finished_run(workspace, name=f"lr {rate}", status=status, predictions=False)
        store.update_config(run_id, sweep=run_config_tag(record.id, {"learning_rate": rate}))
        record.run_ids.append(run_id)
        record.values.append({"learning_rate": rate})
    save_sweep_record(store, record)
    return record.run_ids


@pytest.mark.parametrize("make", [make_pair, lambda ws, *s: make_sweep(ws, list(s))], ids=["pairs", "sweep"])
def test_the_view_polls_every_2_s_while_a_run_trains_10_s_while_all_are_paused_and_not_once_ended(
        workspace, polls, make):
    from cnn_core.runs import RunStore

    first, second = make(workspace, "stopped", "running")
    assert compare_polls(polls) == [LIVE_SECONDS]
    store = RunStore(workspace)
    store.set_status(second, "paused")                   # the only live run is paused: rarely
    assert compare_polls(polls) == [PAUSED_SECONDS]
    store.set_status(first, "queued")                    # resumed, it waits to train: the live rate again
    assert compare_polls(polls) == [LIVE_SECONDS]
    store.set_status(first, "stopped")
    store.set_status(second, "stopped")                  # none live: no polling at all
    assert compare_polls(polls) == []


def _pairs_script() -> None:
    """Draws the pairs once with the interval the test left in session state, counting page runs."""
    import streamlit as st

    from components.mlp_vs_cnn import _pairs
    from components.state import run_store

    st.session_state["page_runs"] = st.session_state.get("page_runs", 0) + 1
    if st.session_state["page_runs"] == 1:
        _pairs(run_store(), st.session_state["seconds"])


def _sweep_script() -> None:
    """Draws the sweep once with the interval the test left in session state, counting page runs."""
    import streamlit as st

    from cnn_core.sweeps import load_sweep
    from components.state import run_store
    from components.sweep_form import _sweep_live

    st.session_state["page_runs"] = st.session_state.get("page_runs", 0) + 1
    if st.session_state["page_runs"] == 1:
        _sweep_live(run_store(), load_sweep(run_store(), "sweep-poll"), st.session_state["seconds"])


def page_runs(script, seconds) -> int:
    """How many page runs one poll of the view makes when the page run chose ``seconds``."""
    at = AppTest.from_function(script, default_timeout=60)
    at.session_state["seconds"] = seconds
    at.run()
    assert not at.exception, at.exception
    return at.session_state["page_runs"]


@pytest.mark.parametrize(("make", "script"), [(make_pair, _pairs_script),
                                              (lambda ws, *s: make_sweep(ws, list(s)), _sweep_script)],
                         ids=["pairs", "sweep"])
def test_a_poll_reruns_the_page_when_another_interval_is_due(workspace, make, script):
    """E.g. a paused run continued in another tab: without the rerun the view would go on polling
    every 10 s while the run trains."""
    from cnn_core.runs import RunStore

    first, second = make(workspace, "finished", "running")
    store = RunStore(workspace)
    assert page_runs(script, LIVE_SECONDS) == 1           # unchanged: no rerun
    store.set_status(second, "paused")
    assert page_runs(script, LIVE_SECONDS) == 2           # paused elsewhere
    assert page_runs(script, PAUSED_SECONDS) == 1
    store.set_status(second, "running")
    assert page_runs(script, PAUSED_SECONDS) == 2         # continued elsewhere
    store.set_status(second, "finished")
    assert page_runs(script, LIVE_SECONDS) == 2           # it ended: drawn once more, no polling
    assert page_runs(script, None) == 1                   # a view that does not poll never reruns
