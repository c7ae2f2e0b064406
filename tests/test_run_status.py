"""The run life cycle: statuses as stored strings, allowed transitions, the typed progress record."""

from __future__ import annotations

import json

import pytest

from cnn_core.run_status import (
    ACTIVE_STATUSES,
    FINAL_STATUSES,
    RESUMABLE_STATUSES,
    Phase,
    RunProgress,
    RunStatus,
    statuses_before,
)
from cnn_core.run_status import RUN_STATUSES
from cnn_core.runs import RunStore


def test_statuses_are_the_strings_stored_before():
    assert RUN_STATUSES == ("queued", "running", "paused", "stopping", "stopped", "finished",
                            "diverged", "failed", "interrupted")
    assert RunStatus.RUNNING == "running" and f"{RunStatus.RUNNING}" == "running"
    assert json.dumps({"s": RunStatus.DIVERGED}) == '{"s": "diverged"}'
    assert set(ACTIVE_STATUSES).isdisjoint(FINAL_STATUSES)
    assert set(ACTIVE_STATUSES) | set(FINAL_STATUSES) == set(RunStatus)
    assert set(RESUMABLE_STATUSES) <= set(FINAL_STATUSES)


def test_transitions_follow_the_life_cycle():
    assert RunStatus.QUEUED.can_become(RunStatus.RUNNING)
    assert RunStatus.RUNNING.can_become("paused") and RunStatus.PAUSED.can_become("running")
    assert RunStatus.STOPPED.can_become(RunStatus.QUEUED)          # resume
    assert RunStatus.INTERRUPTED.can_become(RunStatus.QUEUED)
    for ended in (RunStatus.FINISHED, RunStatus.DIVERGED, RunStatus.FAILED):
        assert not any(ended.can_become(s) for s in RunStatus)
    assert not RunStatus.QUEUED.can_become(RunStatus.FINISHED)
    assert set(statuses_before(RunStatus.PAUSED)) == {RunStatus.RUNNING}
    assert set(statuses_before(RunStatus.INTERRUPTED)) == set(ACTIVE_STATUSES)


def test_store_reads_statuses_back_typed_and_refuses_unknown_ones(workspace):
    store = RunStore()
    run_id = store.create_run({"model": {"epochs": 2}})
    assert store.get(run_id).status is RunStatus.QUEUED
    assert store.set_status(run_id, "running")
    assert store.status(run_id) is RunStatus.RUNNING and store.get(run_id).is_active
    assert not store.set_status(run_id, RunStatus.PAUSED, expected=(RunStatus.QUEUED,))
    with pytest.raises(ValueError, match="unknown status"):
        store.set_status(run_id, "exploded")
    assert store.list_runs(status=RunStatus.RUNNING)[0].id == run_id


def test_progress_record_round_trips_and_keeps_unknown_keys(workspace):
    store = RunStore()
    run_id = store.create_run({"model": {"epochs": 2}})
    store.set_progress(run_id, phase=Phase.TRAINING, epoch=2, epochs=5, batch=3, batches=10,
                       seconds_left=12.5, callback_seconds=0.25)
    progress = store.get(run_id).live_progress
    assert progress.phase is Phase.TRAINING and (progress.epoch, progress.batch) == (2, 3)
    assert progress.seconds_left == 12.5 and progress.time_left_known
    assert progress.extra == {"callback_seconds": 0.25}
    assert RunProgress.from_dict(progress.to_dict()) == progress
    assert RunProgress.from_dict({"phase": "warp speed", "epoch": "x"}).phase is None
    assert not RunProgress.from_dict({}).time_left_known
