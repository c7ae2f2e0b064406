"""Training yields the CPU to the pages: its threads run at a higher nice value.

With the teacher's ``training_process`` 0, trainings run inside the Streamlit server (the job
queue's worker threads), next to the threads that run every visitor's page (by default each run
trains in a process of its own, :mod:`cnn_core.training_process`, niced as a whole). Without help, TensorFlow's thread pools take every core and each
page waits behind the training (measured with 30 sessions on 2 cores: p95 render 40 s). On
Linux the nice value belongs to a thread, and a new thread inherits its creator's. So:

- the job queue's worker threads raise their own nice value when they start
  (:func:`lower_this_thread`): their Python work (data preparation, callbacks) and every thread
  they create (tf.data) yield to the pages;
- TensorFlow creates its thread pools (``tf_Compute``, the inter-op pool, ``tf_graph_runner``)
  with its eager context, in the thread of the first operation. :func:`start_tensorflow_pools`
  makes that happen in a short-lived helper thread at the training nice value, so every pool
  thread inherits it. The app's background warm-up calls it right after importing TensorFlow
  (:mod:`cnn_core.engine_warmup`); :func:`install` (called by ``app.py``) also calls it right after
  TensorFlow's first import wherever that happens, e.g. a page that builds a model before the
  warm-up ran or with ``CNN_LAB_PRELOAD_TENSORFLOW=0``. A page's own TensorFlow work (a
  prediction on Try it) then uses the same, niced pools; its script thread keeps its priority.

The value is the teacher's setting ``training_nice`` (:mod:`cnn_core.classroom`: environment
variable ``CNN_LAB_TRAINING_NICE``, flag ``--training-nice N``; default 10, 0 = leave the
priority alone). A thread's nice value is only ever raised (lowering it needs privileges); on
systems without per-thread priorities (anything but Linux) nothing is changed. The command line
(``python -m cnn_core train``) trains at normal priority: only the job queue and the app nice.

This module imports nothing heavy; TensorFlow is used only when it is imported already.

Example:
    >>> import threading
    >>> worker = threading.Thread(target=lower_this_thread, args=(10,))
    >>> worker.start(); worker.join()    # that thread ran at nice 10 (on Linux)
"""

from __future__ import annotations

import os
import sys
import threading

from cnn_core.errors import SpecError
from cnn_core.first_import import watch_first_import

#: How long the first TensorFlow import waits for the helper thread that creates the pools.
POOLS_TIMEOUT_S = 60.0

_pools_lock = threading.Lock()
_pools_started = False


def supported() -> bool:
    """Whether this system has per-thread nice values (Linux)."""
    return sys.platform.startswith("linux") and hasattr(os, "setpriority") and hasattr(
        threading, "get_native_id")


def training_nice() -> int:
    """The teacher's ``training_nice`` (0 when the setting is off or cannot be read: a bad value
    is reported where the settings are read for the queue, not here)."""
    from cnn_core.classroom import teacher_settings

    try:
        return teacher_settings().training_nice
    except SpecError:
        return 0


def pools_nice() -> int:
    """The nice value for this process's TensorFlow pools: the training's when runs train in
    this process (the teacher's ``training_process`` 0), else 0: with runs in processes of their
    own, the server's TensorFlow work is the pages' (a model summary, a prediction on Try it)."""
    from cnn_core.classroom import teacher_settings

    try:
        in_process = not teacher_settings().training_process
    except SpecError:
        in_process = False
    return training_nice() if in_process else 0


def thread_nice(native_id: int | None = None) -> int:
    """The nice value of a thread of this process (default: the calling thread)."""
    tid = threading.get_native_id() if native_id is None else native_id
    return os.getpriority(os.PRIO_PROCESS, tid)


def lower_this_thread(nice: int | None = None) -> int | None:
    """Raise the calling thread's nice value to ``nice`` (default: :func:`training_nice`).

    Never lowers it: a thread already at that value or above keeps its own.

    Returns:
        The thread's nice value afterwards, or None when nothing was done (setting 0, or a
        system without per-thread priorities).
    """
    wanted = training_nice() if nice is None else int(nice)
    if wanted <= 0 or not supported():
        return None
    tid = threading.get_native_id()
    try:
        if os.getpriority(os.PRIO_PROCESS, tid) < wanted:
            os.setpriority(os.PRIO_PROCESS, tid, min(wanted, 19))
        return os.getpriority(os.PRIO_PROCESS, tid)
    except OSError:   # e.g. a sandbox that forbids it: train at normal priority
        return None


def _eager_context_started() -> bool:
    context = sys.modules.get("tensorflow.python.eager.context")
    if context is None:
        return False
    current = context.context_safe()
    return bool(current is not None and getattr(current, "_initialized", False))


def _create_pools(nice: int) -> None:
    lower_this_thread(nice)
    # Modules from sys.modules, no import statement: this may run while TensorFlow's own import
    # (in the thread that waits for this one) still holds its import lock.
    sys.modules["tensorflow.python.eager.context"].ensure_initialized()
    tf = sys.modules["tensorflow"]
    (tf.constant(1.0) + 1.0).numpy()   # one tiny op: the graph runner pool starts too


def start_tensorflow_pools(nice: int | None = None) -> bool:
    """Make TensorFlow create its thread pools now, from a helper thread at ``nice`` (default:
    :func:`pools_nice`), so that every pool thread inherits that nice value.

    Call once TensorFlow is imported. Does nothing when the setting is 0, on systems without
    per-thread priorities, or when TensorFlow's eager context exists already (its pools were
    made by whoever ran the first operation; they cannot be found again to renice).

    Returns:
        True when this call created the pools.
    """
    global _pools_started
    wanted = pools_nice() if nice is None else int(nice)
    if wanted <= 0 or not supported() or "tensorflow" not in sys.modules:
        return False
    with _pools_lock:
        if _pools_started or _eager_context_started():
            return False
        failed: list[BaseException] = []

        def create() -> None:
            try:
                _create_pools(wanted)
            except BaseException as error:  # noqa: BLE001 - the training reports TF's errors itself
                failed.append(error)

        helper = threading.Thread(target=create, name="cnn-lab-tensorflow-pools", daemon=True)
        helper.start()
        helper.join(POOLS_TIMEOUT_S)
        _pools_started = not helper.is_alive() and not failed
        return _pools_started


def _then_start_pools(run) -> None:
    run()
    start_tensorflow_pools()


def install() -> bool:
    """Create TensorFlow's pools at the training nice value right after its first import,
    whichever thread imports it (idempotent). True when TensorFlow's import is now watched or
    its pools were created by this call; False when off, unsupported or too late (or when runs
    train in processes of their own: :func:`pools_nice`)."""
    if pools_nice() <= 0 or not supported():
        return False
    if "tensorflow" in sys.modules:
        return start_tensorflow_pools()
    return watch_first_import("tensorflow", _then_start_pools) or start_tensorflow_pools()


__all__ = ["install", "lower_this_thread", "pools_nice", "start_tensorflow_pools", "supported", "thread_nice",
           "training_nice"]
