"""Training yields the CPU to the pages: TensorFlow's pools and the queue's workers run niced.

TensorFlow makes its thread pools once per process, so the pool checks run in a fresh Python
process each; the nice value of every thread is read from ``/proc/self/task/*/stat`` (field 19).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cnn_core import classroom, training_priority
from cnn_core.classroom import teacher_settings

ROOT = Path(__file__).resolve().parent.parent
linux_only = pytest.mark.skipif(not training_priority.supported(), reason="per-thread nice is Linux's")

THREADS = """
import json, os, threading
def threads():
    found = []
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                stat = f.read()
            with open(f"/proc/self/task/{tid}/comm") as f:
                name = f.read().strip()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()   # field 3 onwards
        found.append({"tid": int(tid), "name": name, "nice": int(fields[16])})   # field 19
    return found
def report(**extra):
    print("RESULT" + json.dumps(dict(extra, threads=threads(), main=threading.get_native_id())))
"""

AFTER_WARM_UP = THREADS + """
from cnn_core import engine_warmup
assert engine_warmup.start()
assert engine_warmup.wait(300)
import tensorflow as tf              # then a page runs an op (with the setting 0, this makes the pools)
(tf.ones((8, 8)) @ tf.ones((8, 8))).numpy()
report(error=repr(engine_warmup._error))
"""

PAGE_FIRST = THREADS + """
from cnn_core import training_priority
training_priority.install()          # as app.py does, before any page runs
import tensorflow as tf              # a page imports TensorFlow first and runs an op itself
(tf.ones((8, 8)) @ tf.ones((8, 8))).numpy()
report()
"""


def run_fresh(script: str, nice: str, tmp_path: Path, process: str = "0") -> dict:
    """``script`` in a new Python; ``process``: the teacher's ``training_process`` (the tests
    above train in the server process, ``0``, where its TensorFlow pools are the training's)."""
    env = dict(os.environ, CNN_LAB_TRAINING_NICE=nice, CNN_LAB_WORKSPACE=str(tmp_path / "workspace"),
               CNN_LAB_PRELOAD_TENSORFLOW="1", CNN_LAB_TRAINING_PROCESS=process)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(l for l in done.stdout.splitlines() if l.startswith("RESULT"))
    return json.loads(line.removeprefix("RESULT"))


def pool_threads(result: dict) -> list[dict]:
    """TensorFlow's named pool threads (the eager context's compute pool, its graph runner)."""
    return [t for t in result["threads"] if t["name"].startswith("tf_")]


def main_nice(result: dict) -> int:
    return next(t["nice"] for t in result["threads"] if t["tid"] == result["main"])


@linux_only
def test_after_the_warm_up_tensorflow_pools_run_at_the_training_nice_value(tmp_path):
    result = run_fresh(AFTER_WARM_UP, "7", tmp_path)
    assert result["error"] == "None"
    pools = pool_threads(result)
    assert any(t["name"] == "tf_Compute" for t in pools), result["threads"]
    assert all(t["nice"] >= 7 for t in pools), pools
    assert main_nice(result) < 7          # the thread that serves pages keeps its priority


@linux_only
def test_with_the_setting_at_zero_no_thread_is_reniced(tmp_path):
    result = run_fresh(AFTER_WARM_UP, "0", tmp_path)
    assert pool_threads(result)
    assert {t["nice"] for t in result["threads"]} == {main_nice(result)}


@linux_only
def test_with_runs_in_processes_of_their_own_the_servers_pools_keep_the_pages_priority(tmp_path):
    """The runs' processes are niced as a whole (tests/test_training_process.py); the server's
    TensorFlow work then belongs to the pages (a model summary, a prediction on Try it)."""
    result = run_fresh(AFTER_WARM_UP, "7", tmp_path, process="1")
    pools = pool_threads(result)
    assert any(t["name"] == "tf_Compute" for t in pools), result["threads"]
    assert {t["nice"] for t in pools} == {main_nice(result)}


@linux_only
def test_a_page_that_runs_tensorflow_first_still_gets_niced_pools(tmp_path):
    result = run_fresh(PAGE_FIRST, "9", tmp_path)
    pools = pool_threads(result)
    assert any(t["name"] == "tf_Compute" for t in pools), result["threads"]
    assert all(t["nice"] >= 9 for t in pools), pools
    assert main_nice(result) < 9


def nice_in_new_thread(nice=None) -> tuple[int | None, int]:
    seen = {}

    def run():
        seen["returned"] = training_priority.lower_this_thread(nice)
        seen["nice"] = training_priority.thread_nice()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return seen["returned"], seen["nice"]


@linux_only
def test_a_thread_is_only_ever_niced_more_never_less():
    base = training_priority.thread_nice()
    assert nice_in_new_thread(base + 3) == (base + 3, base + 3)
    assert training_priority.thread_nice() == base      # the calling thread was left alone

    def raised_then_lowered():
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), base + 5)
        return nice_in_new_thread(base + 2)              # inherits base + 5, keeps it

    box = {}
    thread = threading.Thread(target=lambda: box.setdefault("r", raised_then_lowered()))
    thread.start()
    thread.join()
    assert box["r"] == (base + 5, base + 5)


def test_without_per_thread_priorities_nothing_changes(monkeypatch):
    monkeypatch.setattr(training_priority, "supported", lambda: False)
    base = training_priority.thread_nice()
    assert nice_in_new_thread(12) == (None, base)
    assert training_priority.install() is False
    assert training_priority.start_tensorflow_pools(12) is False


def test_the_setting_comes_from_environment_and_command_line(monkeypatch):
    monkeypatch.setattr(classroom, "_command_line", {})
    monkeypatch.delenv("CNN_LAB_TRAINING_NICE", raising=False)
    assert teacher_settings().training_nice == 10
    monkeypatch.setenv("CNN_LAB_TRAINING_NICE", "0")
    assert teacher_settings().training_nice == 0 and training_priority.training_nice() == 0
    classroom.use_command_line(["--training-nice", "15"])
    assert training_priority.training_nice() == 15
    monkeypatch.setenv("CNN_LAB_TRAINING_NICE", "25")
    monkeypatch.setattr(classroom, "_command_line", {})
    with pytest.raises(Exception, match="CNN_LAB_TRAINING_NICE must be a whole number from 0 to 19"):
        teacher_settings()
    assert training_priority.training_nice() == 0     # a bad value: train at normal priority


class NiceRecorder:
    """Stands in for run_training: records the worker thread's nice value, finishes at once."""

    def __init__(self):
        self.nices: list[int] = []

    def __call__(self, run_id, store, control):
        from cnn_core.run_status import RunStatus

        self.nices.append(training_priority.thread_nice())
        store.set_status(run_id, RunStatus.FINISHED)


@linux_only
@pytest.mark.parametrize("setting", ["6", "0"])
def test_the_job_queue_worker_runs_at_the_training_nice_value(workspace, monkeypatch, setting):
    from cnn_core import job_queue
    from cnn_core.job_queue import JobQueue
    from cnn_core.model import PRESETS
    from cnn_core.training import TrainingRequest

    monkeypatch.setattr(classroom, "_command_line", {})
    monkeypatch.setenv("CNN_LAB_TRAINING_NICE", setting)
    recorder = NiceRecorder()
    monkeypatch.setattr(job_queue, "run_training", recorder)
    queue = JobQueue(workspace, workers=1)
    run_id = queue.submit(TrainingRequest("shapes", PRESETS["fast"].replace(epochs=1)))
    deadline = time.monotonic() + 30
    while not recorder.nices and time.monotonic() < deadline:
        time.sleep(0.02)
    queue.wait(run_id, timeout=30)
    base = training_priority.thread_nice()
    assert recorder.nices == [max(base, int(setting))]
    assert training_priority.thread_nice() == base     # the submitting (page) thread is untouched
