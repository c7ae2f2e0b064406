"""One run trained in a process of its own, so the pages never wait for it.

The Streamlit server runs every visitor's page in threads of one Python process, under one
interpreter lock. A training in that process (the job queue's worker thread) holds the lock for
every batch's Python work, and with 30 sessions on 2 cores the pages then waited seconds for it
(``bench/classroom.py``: p50 render 0.3 s without trainings, 4.9 s with them). The nice value of
the training threads (:mod:`cnn_core.training_priority`) shares out the cores, not the lock.

So the job queue (:mod:`cnn_core.job_queue`) starts each run as ``python -m
cnn_core.training_process WORKSPACE RUN_ID`` when the teacher's ``training_process`` is 1 (the
default; :mod:`cnn_core.classroom`). The child trains the queued run with
:func:`cnn_core.training.run_training` at the teacher's ``training_nice`` (the whole process),
records everything in the run store, and obeys pause, resume and stop written to the store, as a
run trained from the command line does. Its output goes to ``process.log`` in the run's folder.
A child that ends without ending its run (killed, out of memory) leaves the run failed with a
plain message.

This module imports nothing heavy; the child imports TensorFlow (about 4 s).

Example:
    >>> train_command("/tmp/ws", "run1", 10)[1:6]
    ['-m', 'cnn_core.training_process', '/tmp/ws', 'run1', '10']
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cnn_core.run_status import ACTIVE_STATUSES, RunStatus
from cnn_core.stored_messages import stored_message

#: The child's output, in the run's folder.
LOG_NAME = "process.log"
#: Project root, so the child finds ``cnn_core`` whatever the server's working directory.
ROOT = Path(__file__).resolve().parents[1]


def train_command(workspace, run_id: str, nice: int = 0) -> list[str]:
    """The command line of the child that trains ``run_id`` in ``workspace`` at nice ``nice``."""
    return [sys.executable, "-m", "cnn_core.training_process", str(workspace), str(run_id),
            str(int(nice)), str(os.getpid())]


def start_child(store, run_id: str, nice: int = 0) -> subprocess.Popen:
    """Start the child that trains the queued run ``run_id`` of ``store`` at nice ``nice``."""
    folder = store.run_dir(run_id)
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
    with open(folder / LOG_NAME, "ab") as log:   # (no preexec_fn: unsafe in a threaded server)
        return subprocess.Popen(train_command(store.workspace, run_id, nice), cwd=ROOT, env=env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)


def _follow_parent(nice: int, parent: int) -> None:
    """In the child: run at nice ``nice`` (every thread made later inherits it), and end with
    SIGTERM when the server process ``parent`` ends (Linux), so no orphan trains on."""
    if nice > 0 and hasattr(os, "setpriority"):
        try:
            if os.getpriority(os.PRIO_PROCESS, 0) < nice:
                os.setpriority(os.PRIO_PROCESS, 0, nice)
        except OSError:
            pass
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))   # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if parent and os.getppid() != parent:   # the server ended before this line
        sys.exit(143)


def settle(store, run_id: str, exit_code: int) -> None:
    """After the child ended: a run it left queued or active ended without it -> failed."""
    record = store.get(run_id)
    if record.status in ACTIVE_STATUSES:
        store.set_status(run_id, RunStatus.FAILED, stored_message(
            "The training process ended unexpectedly (exit code {code}); see {log} in the run's "
            "folder.", code=exit_code, log=LOG_NAME))


def main(argv: list[str] | None = None) -> int:
    """The child: train one queued run (``WORKSPACE RUN_ID [NICE PARENT_PID]``) and exit."""
    args = list(sys.argv[1:] if argv is None else argv)
    workspace, run_id = args[:2]
    nice, parent = (int(v) for v in (args[2:4] + ["0", "0"])[:2])
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import signal

    # Stopped from outside (the server ended): SystemExit inside the fit marks the run
    # interrupted, so it can be resumed from its last checkpoint.
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit(143))
    _follow_parent(nice, parent)
    from cnn_core.runs import RunStore
    from cnn_core.training import run_training

    record = run_training(run_id, RunStore(workspace))
    print(f"run {run_id}: {record.status}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
