"""Keep TensorFlow's start-up noise out of what people read (the CLI's output, the app's console).

Importing TensorFlow on a machine without a GPU prints lines such as "Could not find cuda drivers
on your machine", "failed call to cuInit", "oneDNN custom operations are on" and "All log messages
before absl::InitializeLog() is called are written to STDERR". Some come from TensorFlow's C++
logging (``TF_CPP_MIN_LOG_LEVEL`` hides them), others are printed while its libraries load,
before that setting is read (tensorflow/tensorflow#100442).

:func:`install` (called when :mod:`cnn_core` is imported, so before any of its modules imports
TensorFlow, in the CLI, the app and its background warm-up alike) does two things, and only when
the user has not set ``TF_CPP_MIN_LOG_LEVEL`` themselves (their value is theirs to keep):

- sets ``TF_CPP_MIN_LOG_LEVEL=3``;
- while ``tensorflow`` itself is first imported, catches what is written to the process's
  standard error, then writes it back without the known start-up noise (:data:`NOISE`).
  Anything else, a real error included, still appears.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile

from cnn_core.first_import import watch_first_import

LEVEL_VARIABLE = "TF_CPP_MIN_LOG_LEVEL"
QUIET_LEVEL = "3"   # 2 still lets "failed call to cuInit" (an ERROR line) through
#: Parts of the start-up lines that say nothing to a CNN Lab user.
NOISE = (
    "All log messages before absl::InitializeLog() is called",
    "oneDNN custom operations are on",
    "Could not find cuda drivers",
    "failed call to cuInit",
    "cpu_feature_guard.cc",
    "This TensorFlow binary is optimized to use available CPU instructions",
    "To enable the following instructions",
    "rebuild TensorFlow with the appropriate compiler flags",
    "Unable to register cuDNN factory", "Unable to register cuFFT factory",
    "Unable to register cuBLAS factory",
    "TF-TRT Warning: Could not find TensorRT",
)


def is_noise(line: str) -> bool:
    return any(part in line for part in NOISE)


@contextlib.contextmanager
def filtered_stderr():
    """Catch what the process writes to standard error (file descriptor 2, C libraries included)
    and write it back afterwards, without the :data:`NOISE` lines."""
    try:
        fd = sys.stderr.fileno() if sys.stderr is not None else 2
    except (AttributeError, ValueError, OSError):
        fd = 2
    with tempfile.TemporaryFile() as caught:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        saved = os.dup(fd)
        os.dup2(caught.fileno(), fd)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, fd)
            os.close(saved)
            caught.seek(0)
            kept = [line for line in caught.read().decode("utf-8", "replace").splitlines(keepends=True)
                    if not is_noise(line)]
            if kept:
                os.write(fd, "".join(kept).encode("utf-8", "replace"))


def _quietly(run) -> None:
    with filtered_stderr():
        run()


def install() -> bool:
    """Quieten TensorFlow's start-up unless the user set ``TF_CPP_MIN_LOG_LEVEL``; True if done."""
    if os.environ.get(LEVEL_VARIABLE) is not None:
        return False
    os.environ[LEVEL_VARIABLE] = QUIET_LEVEL
    watch_first_import("tensorflow", _quietly)
    return True


__all__ = ["LEVEL_VARIABLE", "NOISE", "QUIET_LEVEL", "filtered_stderr", "install", "is_noise"]
