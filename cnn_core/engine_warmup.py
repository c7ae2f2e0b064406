"""Load TensorFlow once, in the background, before the first training click needs it.

Importing TensorFlow and Keras takes ~6 s on a laptop. The app's first page does not need them,
so the app shows it first, then calls :func:`start` (once per process), which imports the
training engine (:mod:`cnn_core.job_queue`, which imports TensorFlow, Keras, NumPy and the
modules its worker uses) in one background thread.

Two threads must never import the same modules for the first time at once (DESIGN.md). So this
is the one place that imports the engine while other threads run, and everything else that is
about to import it calls :func:`wait` first (the app's script before drawing a page, the job
queue's accessor, the training launcher); ``wait`` returns at once when no warm-up runs.

TensorFlow's CUDA / oneDNN start-up lines are kept out of the console by
:mod:`cnn_core.tensorflow_quiet`, installed when :mod:`cnn_core` is imported (before this runs).

Right after the import, the warm-up makes TensorFlow start its thread pools from a helper thread
at the teacher's training nice value (:func:`cnn_core.training_priority.start_tensorflow_pools`),
so every pool thread inherits it and the pages stay quick while runs train. When a page runs
TensorFlow first (before the warm-up, or with the warm-up off), the import hook installed by
``app.py`` (:func:`cnn_core.training_priority.install`) has done the same at that first import.

Set ``CNN_LAB_PRELOAD_TENSORFLOW=0`` to switch the warm-up off (then the first training click
imports TensorFlow, as before). This module imports nothing heavy.

Example:
    >>> started = start()   # returns at once; the import runs in a daemon thread
    >>> wait()              # blocks until it is done (at once if it never started)
    True
    >>> loaded()
    True
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import time

from cnn_core import training_priority

ENGINE_MODULE = "cnn_core.job_queue"
#: A failed import is tried once more: a first import that raced with another thread's (a
#: module found half-initialised) succeeds the second time; a missing package fails again.
IMPORT_ATTEMPTS = 2
RETRY_SECONDS = 0.5
ENV_SWITCH = "CNN_LAB_PRELOAD_TENSORFLOW"

_lock = threading.Lock()
_done = threading.Event()
_thread: threading.Thread | None = None
_error: BaseException | None = None


def enabled() -> bool:
    """Whether the background warm-up is switched on (``CNN_LAB_PRELOAD_TENSORFLOW``, default on)."""
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def start() -> bool:
    """Start importing the engine in a background thread, once per process.

    Returns whether a warm-up was started by this call (False: switched off, already started,
    or the engine is imported already).
    """
    global _thread
    if not enabled() or ENGINE_MODULE in sys.modules:
        return False
    with _lock:
        if _thread is not None:
            return False
        _thread = threading.Thread(target=_import_engine, name="cnn-lab-tensorflow-warmup",
                                   daemon=True)
        _thread.start()
    return True


def _import_engine() -> None:
    global _error
    try:
        for attempt in range(1, IMPORT_ATTEMPTS + 1):
            try:
                importlib.import_module(ENGINE_MODULE)
                break
            except Exception as error:  # noqa: BLE001 - told below; the last one is kept
                print(f"CNN Lab: loading TensorFlow in the background failed (attempt {attempt} of "
                      f"{IMPORT_ATTEMPTS}): {error!r}", file=sys.stderr, flush=True)
                if attempt == IMPORT_ATTEMPTS:
                    raise
                time.sleep(RETRY_SECONDS)
        # TensorFlow's thread pools start now, at the training nice value (no-op if the import
        # hook of training_priority.install did it already, or a page ran TensorFlow first)
        training_priority.start_tensorflow_pools()
    except BaseException as error:  # noqa: BLE001 - the importer that waits sees it again
        _error = error
    finally:
        _done.set()


def loading() -> bool:
    """A warm-up runs now (callers about to import TensorFlow should :func:`wait`)."""
    return _thread is not None and not _done.is_set()


def wait(timeout: float | None = None) -> bool:
    """Block until a running warm-up has finished; True when none runs any more.

    A failed warm-up is not raised here: the caller's own import then fails with the real error.
    """
    if _thread is None:
        return True
    return _done.wait(timeout)


def loaded() -> bool:
    """The engine (and so TensorFlow) is imported in this process."""
    return ENGINE_MODULE in sys.modules


__all__ = ["ENGINE_MODULE", "ENV_SWITCH", "enabled", "loaded", "loading", "start", "wait"]
