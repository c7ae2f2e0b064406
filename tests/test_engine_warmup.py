"""TensorFlow loads in the background once the first page is drawn, so the first click is fast."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

WARMUP_SCRIPT = """
import json, sys, threading
from streamlit.testing.v1 import AppTest
from cnn_core import engine_warmup
at = AppTest.from_file("app.py", default_timeout=90)
at.session_state["dataset_id"] = "shapes"
at.run()
titles = [t.value for t in at.title]
started = engine_warmup._thread is not None
names = [t.name for t in threading.enumerate()]
finished = engine_warmup.wait(300)
print("RESULT" + json.dumps({"titles": titles, "started": started, "finished": finished,
                             "loaded": engine_warmup.loaded(), "tensorflow": "tensorflow" in sys.modules,
                             "error": repr(engine_warmup._error),
                             "exceptions": [str(e.value) for e in at.exception]}))
"""


def run_app_once(workspace: Path, preload: str) -> dict:
    env = dict(os.environ, CNN_LAB_WORKSPACE=str(workspace), CNN_LAB_PRELOAD_TENSORFLOW=preload)
    done = subprocess.run([sys.executable, "-c", WARMUP_SCRIPT], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(l for l in done.stdout.splitlines() if l.startswith("RESULT"))
    return json.loads(line.removeprefix("RESULT"))


def test_first_page_starts_loading_tensorflow_in_the_background(workspace):
    result = run_app_once(workspace, "1")
    assert result["titles"] == ["CNN Lab"] and result["exceptions"] == []
    assert result["started"] and result["finished"]
    assert result["loaded"] and result["tensorflow"], result["error"]


def test_warm_up_can_be_switched_off(workspace):
    result = run_app_once(workspace, "0")
    assert result["titles"] == ["CNN Lab"] and not result["started"] and not result["tensorflow"]


@pytest.fixture
def fresh_warmup(monkeypatch):
    """engine_warmup as before any warm-up, its import replaced by the test's (restored after)."""
    import threading

    from cnn_core import engine_warmup

    monkeypatch.setattr(engine_warmup, "_done", threading.Event())
    monkeypatch.setattr(engine_warmup, "_error", None)
    monkeypatch.setattr(engine_warmup, "RETRY_SECONDS", 0.0)
    monkeypatch.setattr(engine_warmup.training_priority, "start_tensorflow_pools", lambda: None)
    return engine_warmup


def test_a_failed_background_import_is_tried_once_more(fresh_warmup, monkeypatch, capsys):
    """E.g. a first import that raced with another thread's and found a module half-initialised."""
    calls = []

    def import_module(name):
        calls.append(name)
        if len(calls) == 1:
            raise ImportError("cannot import name 'x' from partially initialized module 'y'")

    monkeypatch.setattr(fresh_warmup.importlib, "import_module", import_module)
    fresh_warmup._import_engine()
    assert calls == [fresh_warmup.ENGINE_MODULE] * 2
    assert fresh_warmup._error is None and fresh_warmup._done.is_set()
    assert "failed (attempt 1 of 2)" in capsys.readouterr().err


def test_a_background_import_that_keeps_failing_leaves_its_error_for_the_caller(fresh_warmup, monkeypatch):
    def import_module(name):
        raise ModuleNotFoundError("No module named 'tensorflow'")

    monkeypatch.setattr(fresh_warmup.importlib, "import_module", import_module)
    fresh_warmup._import_engine()
    assert isinstance(fresh_warmup._error, ModuleNotFoundError) and fresh_warmup._done.is_set()
    assert fresh_warmup.wait(0)   # a waiting page goes on; its own import shows the real error
