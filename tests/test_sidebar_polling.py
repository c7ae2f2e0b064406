"""The sidebar's run card polls only while the followed run can change by itself (classroom load)."""

from __future__ import annotations

from cnn_core.run_status import RunStatus
from cnn_core.runs import RunStore
from components.sidebar import RUN_CARD_POLL_SECONDS, run_card_poll_seconds


def test_the_card_polls_a_live_run_and_rests_on_a_finished_one(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run({"dataset": {"id": "shapes"}, "model": {"epochs": 1}}, name="r")
    assert store.get(run_id).status == RunStatus.QUEUED
    assert run_card_poll_seconds(store.get(run_id)) == RUN_CARD_POLL_SECONDS
    store.set_status(run_id, RunStatus.RUNNING)
    assert run_card_poll_seconds(store.get(run_id)) == RUN_CARD_POLL_SECONDS
    store.set_status(run_id, RunStatus.FINISHED)
    assert run_card_poll_seconds(store.get(run_id)) is None
    assert run_card_poll_seconds(None) is None
