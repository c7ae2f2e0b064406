"""How often the polling views re-read the run store (issue 13: thirty people on one server)."""

from __future__ import annotations

import pytest

from cnn_core.poll_intervals import (IDLE_CARD_SECONDS, LIVE_SECONDS, PAUSED_SECONDS, group_seconds,
                                     live_view_seconds, run_card_seconds)
from cnn_core.run_status import RunStatus
from cnn_core.runs import RunStore


@pytest.fixture
def run(workspace):
    store = RunStore(workspace)
    run_id = store.create_run({"dataset": {"id": "shapes"}, "model": {"epochs": 2}}, name="r")
    return store, run_id


@pytest.mark.parametrize("status", [RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.STOPPING])
def test_a_live_run_is_polled_every_two_seconds_by_the_card_and_the_live_view(run, status):
    store, run_id = run
    if status != RunStatus.QUEUED:
        store.set_status(run_id, RunStatus.RUNNING)
    store.set_status(run_id, status)
    assert run_card_seconds(store.get(run_id)) == LIVE_SECONDS == 2.0
    assert live_view_seconds(store.get(run_id)) == LIVE_SECONDS


def test_a_paused_run_is_polled_rarely_and_at_the_live_rate_again_once_resumed(run):
    store, run_id = run
    store.set_status(run_id, RunStatus.RUNNING)
    store.set_status(run_id, RunStatus.PAUSED)
    assert run_card_seconds(store.get(run_id)) == live_view_seconds(store.get(run_id)) == PAUSED_SECONDS
    assert PAUSED_SECONDS >= 5 * LIVE_SECONDS   # thirty paused runs: at most three polls a second
    assert PAUSED_SECONDS < IDLE_CARD_SECONDS   # a resume in another tab still shows soon
    store.set_status(run_id, RunStatus.RUNNING)
    assert run_card_seconds(store.get(run_id)) == live_view_seconds(store.get(run_id)) == LIVE_SECONDS


@pytest.mark.parametrize("status", [RunStatus.FINISHED, RunStatus.STOPPED, RunStatus.FAILED, RunStatus.INTERRUPTED,
                                    RunStatus.DIVERGED])
def test_an_ended_run_is_not_polled_by_the_live_view_and_rarely_by_the_card(run, status):
    store, run_id = run
    store.set_status(run_id, RunStatus.RUNNING)
    store.set_status(run_id, status)
    assert live_view_seconds(store.get(run_id)) is None
    assert run_card_seconds(store.get(run_id)) == IDLE_CARD_SECONDS
    assert IDLE_CARD_SECONDS >= 15 * LIVE_SECONDS   # thirty idle cards: at most one poll a second


def test_with_no_run_only_the_card_polls_and_rarely():
    assert run_card_seconds(None) == IDLE_CARD_SECONDS
    assert live_view_seconds(None) is None


def test_a_group_of_runs_polls_at_the_live_rate_if_one_trains_or_waits_rarely_if_all_live_are_paused(workspace):
    store = RunStore(workspace)
    ids = [store.create_run({"dataset": {"id": "shapes"}, "model": {"epochs": 2}}, name=f"r{k}") for k in range(3)]
    runs = lambda: [store.get(i) for i in ids]   # noqa: E731
    assert group_seconds(runs()) == LIVE_SECONDS                  # all queued
    for run_id in ids:
        store.set_status(run_id, RunStatus.RUNNING)
    store.set_status(ids[0], RunStatus.FINISHED)
    store.set_status(ids[1], RunStatus.PAUSED)
    assert group_seconds(runs()) == LIVE_SECONDS                  # one still trains
    store.set_status(ids[2], RunStatus.PAUSED)
    assert group_seconds(runs()) == PAUSED_SECONDS                # the live ones are all paused
    store.set_status(ids[1], RunStatus.STOPPED)
    store.set_status(ids[2], RunStatus.STOPPED)
    assert group_seconds(runs()) is None                          # none live
    assert group_seconds(iter(runs())) is None                    # any iterable will do
