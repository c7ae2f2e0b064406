"""Runs trained in a process of their own (cnn_core.training_process): the job queue's default.

The pages of every visitor run in one Python process under one interpreter lock; a run trained
in a child process cannot make them wait. These tests use the real child (``python -m
cnn_core.training_process``), so each costs a TensorFlow import in it.
"""

from __future__ import annotations

import os
import time

import pytest

from cnn_core.classroom import teacher_settings
from cnn_core.job_queue import JobQueue
from cnn_core.model import ModelSpec
from cnn_core.process_owner import owner_alive
from cnn_core.runs import RunStore
from cnn_core.training import TrainingRequest
from cnn_core.training_process import LOG_NAME, settle
from run_fixtures import make_finished_run, wait_until

#: Many small batches, so a pause or stop lands in the middle of an epoch.
SLOW = ModelSpec(conv_blocks=1, filters=4, kernel_size=3, pooling="max", dense_layers=0,
                 optimizer="adam", learning_rate=0.01, batch_size=4, epochs=3, seed=1)


def wait_for(condition, timeout: float = 120.0):
    return wait_until(condition, timeout, interval=0.05)


@pytest.fixture
def child_queue(workspace, monkeypatch):
    monkeypatch.setenv("CNN_LAB_TRAINING_PROCESS", "1")
    monkeypatch.setenv("CNN_LAB_TRAINING_NICE", "7")
    return JobQueue(workspace)


def test_the_default_is_a_process_of_its_own_and_the_teacher_can_switch_it_off():
    assert teacher_settings(environ={}, argv=[]).training_process == 1
    assert teacher_settings(environ={"CNN_LAB_TRAINING_PROCESS": "0"}, argv=[]).training_process == 0
    assert teacher_settings(environ={}, argv=["--training-process", "0"]).training_process == 0


def test_a_queued_run_trains_in_a_niced_child_and_obeys_pause_resume_and_stop(child_queue):
    queue, store = child_queue, child_queue.store
    run_id = queue.submit(TrainingRequest("shapes", SLOW))
    record = wait_for(lambda: (r := store.get(run_id)).progress.get("batch", 0) >= 2 and r)
    pid = int(record.owner.split(":")[0])
    assert pid != os.getpid() and owner_alive(record.owner)      # trained by another process...
    assert os.getpriority(os.PRIO_PROCESS, pid) == 7              # ...at the teacher's nice value

    queue.pause(run_id)
    wait_for(lambda: store.get(run_id).progress.get("phase") == "paused")
    time.sleep(1.0)
    held = store.get(run_id).progress.get("batch")
    time.sleep(1.5)
    assert store.get(run_id).progress.get("batch") == held and store.status(run_id) == "paused"
    queue.resume_paused(run_id)
    wait_for(lambda: store.get(run_id).progress.get("batch") != held)
    queue.stop(run_id)
    final = queue.wait(run_id, timeout=120)
    assert final.status == "stopped", (final.status, final.shown_message)
    assert store.model_path(run_id).exists()                      # the stopped run keeps its model
    assert not owner_alive(final.owner)                            # and the child is gone


def test_a_child_that_dies_leaves_its_run_failed_in_plain_words(child_queue):
    queue, store = child_queue, child_queue.store
    run_id = queue.submit(TrainingRequest("shapes", SLOW.replace(epochs=50)))
    record = wait_for(lambda: (r := store.get(run_id)).progress.get("batch", 0) >= 1 and r)
    os.kill(int(record.owner.split(":")[0]), 9)
    final = queue.wait(run_id, timeout=60)
    assert final.status == "failed"
    assert "ended unexpectedly" in final.shown_message and "exit code -9" in final.shown_message
    assert (store.run_dir(run_id) / LOG_NAME).exists()


def test_settle_leaves_a_run_the_child_ended_as_it_is(workspace):
    run_id = make_finished_run(workspace, name="done")
    settle(RunStore(workspace), run_id, 0)
    assert RunStore(workspace).get(run_id).status == "finished"
