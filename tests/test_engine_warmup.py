"""TensorFlow loads in the background once the first page is drawn, so the first click is fast."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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
    assert result["loaded"] and result["tensorflow"]


def test_warm_up_can_be_switched_off(workspace):
    result = run_app_once(workspace, "0")
    assert result["titles"] == ["CNN Lab"] and not result["started"] and not result["tensorflow"]
