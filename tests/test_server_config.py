"""The server settings in .streamlit/config.toml, as Streamlit itself reads them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def server_option(name: str) -> str:
    """``name``'s value as a server started in the project folder sees it."""
    done = subprocess.run([sys.executable, "-c", "import sys; from streamlit import config; "
                           "print(config.get_option(sys.argv[1]))", name],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_no_full_garbage_collection_after_each_page_run_and_no_file_polling():
    """With TensorFlow in the server, Streamlit's collect after every script run took ~70% of a
    page run (issue 13: 30 people on one server); file polling would compete with training."""
    assert server_option("runner.postScriptGC") == "False"
    assert server_option("server.fileWatcherType") == "none"
