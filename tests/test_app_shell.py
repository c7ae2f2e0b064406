"""The app shell: navigation, the shared sidebar, and fast pages that never import TensorFlow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")

NO_TENSORFLOW_SCRIPT = """
import json, sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("app.py", default_timeout=90)
at.session_state["dataset_id"] = "shapes"
at.run()
home = {"exceptions": [str(e.value) for e in at.exception], "titles": [t.value for t in at.title]}
at.switch_page("pages/data.py").run()
data = {"exceptions": [str(e.value) for e in at.exception], "titles": [t.value for t in at.title],
        "images": sum(len(i.value) for i in at.main.image), "charts": len(at.get("plotly_chart"))}
heavy = sorted(m for m in ("tensorflow", "keras") if m in sys.modules)
print("RESULT" + json.dumps({"home": home, "data": data, "heavy": heavy}))
"""


def test_home_and_data_pages_appear_without_importing_tensorflow(workspace):
    """In a fresh interpreter (tests elsewhere import TensorFlow), draw home then the data page."""
    env = dict(os.environ, CNN_LAB_WORKSPACE=str(workspace))
    done = subprocess.run(
        [sys.executable, "-c", NO_TENSORFLOW_SCRIPT], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(l for l in done.stdout.splitlines() if l.startswith("RESULT"))
    result = json.loads(line.removeprefix("RESULT"))
    assert result["home"] == {"exceptions": [], "titles": ["CNN Lab"]}
    assert result["data"]["exceptions"] == [] and result["data"]["titles"] == ["Data sets"]
    assert result["data"]["images"] > 0 and result["data"]["charts"] == 2
    assert result["heavy"] == [], f"imported {result['heavy']} while drawing home and data pages"


def test_sidebar_offers_the_data_sets_and_follows_the_chosen_one():
    from cnn_core.datasets import DEFAULT_DATASET_ID, list_datasets

    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    picker = at.sidebar.selectbox(key="sidebar_dataset")
    assert picker.value == DEFAULT_DATASET_ID and picker.help
    labels = " | ".join(picker.options)  # the picker shows names; downloads are marked
    assert all(info.name in labels for info in list_datasets())
    picker.select("shapes").run()
    assert at.session_state["dataset_id"] == "shapes"  # the pages read this key
    assert not at.exception


def test_page_links_point_at_registered_pages():
    at = AppTest.from_file(APP, default_timeout=60).run()
    registered = {Path(info["script_path"]).name for info in at._registered_pages.values()}  # noqa: SLF001
    for name in ("home.py", "data.py", "augmentation.py", "model_builder.py", "training.py",
                 "evaluation.py", "mistakes.py"):
        assert name in registered, name


def test_a_page_opened_first_by_its_own_address_still_gets_the_app_shell(workspace):
    """A bookmark to a page on a fresh server: Streamlit's old pages-folder mode would run the page
    alone (its own page list, no CNN Lab sidebar); the page reruns itself through app.py instead."""
    from page_helpers import new_app

    at = new_app()
    at.session_state["dataset_id"] = "shapes"
    at.switch_page("pages/training.py")  # the first run of the session is the training page
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.main.title] == ["Training"]
    assert [s.label for s in at.sidebar.selectbox] == ["Data set"]  # the shared sidebar, from app.py
    assert at.sidebar.selectbox[0].value == "shapes"
