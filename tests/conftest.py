"""Shared test fixtures.

KERAS_HOME points at a fresh temporary folder before Keras can be imported, so no test ever reads
or writes the real Keras cache, and the download path is tested with files placed there.
Every test gets its own empty workspace through ``CNN_LAB_WORKSPACE``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

os.environ["KERAS_HOME"] = tempfile.mkdtemp(prefix="cnnlab-keras-home-")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# AppTest runs pages without app.py after the first run, so a background TensorFlow import
# started by app.py could race a page's own import: off here; tested on its own and in the
# browser tests (a real server), which switch it on.
os.environ.setdefault("CNN_LAB_PRELOAD_TENSORFLOW", "0")
# The job queue trains in this process here (a child process costs a TensorFlow import, ~4 s, per
# run); the child-process path is tested in tests/test_training_process.py and by the browser
# tests (a real server, the product's default).
os.environ.setdefault("CNN_LAB_TRAINING_PROCESS", "0")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture
def keras_cache() -> Path:
    """The ``datasets`` folder of the temporary Keras cache, where keras.datasets looks first."""
    path = Path(os.environ["KERAS_HOME"]) / "datasets"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(autouse=True)
def workspace(tmp_path, monkeypatch) -> Path:
    """An empty workspace folder of the test's own, also set as CNN_LAB_WORKSPACE."""
    path = tmp_path / "workspace"
    path.mkdir()
    monkeypatch.setenv("CNN_LAB_WORKSPACE", str(path))
    return path
