"""Fixtures for browser tests: the real app under `streamlit run` and a headless Chromium.

One server per test module, on a free port, with its own empty workspace; Chromium is Debian's
(or the binary named by CNN_LAB_CHROMIUM), launched by Playwright through ``executable_path``.
Screenshots land in ``test-artifacts/screenshots/``. The helpers that drive pages live in
``app_driver.py`` (imported by name: two conftest modules would shadow each other).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from app_driver import ARTIFACTS, VIEWPORT, screenshot, wait_for_app  # noqa: F401 - helpers for the tests

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str:
    path = os.environ.get("CNN_LAB_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail(
            "Browser tests need Chromium: install it (Debian/Ubuntu: `apt-get install chromium`) "
            "or set CNN_LAB_CHROMIUM to a Chromium or Chrome binary.",
            pytrace=False,
        )
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    """`streamlit run app.py` in a subprocess, with its own workspace."""

    def __init__(self, workspace: Path, log_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workspace = workspace
        env = dict(os.environ, CNN_LAB_WORKSPACE=str(workspace), PYTHONUNBUFFERED="1",
                   CNN_LAB_PRELOAD_TENSORFLOW="1", CNN_LAB_TRAINING_PROCESS="1")
        self._log = open(log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py",
             "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        self.log_path = log_path

    def wait_healthy(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"streamlit did not become healthy in {timeout} s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


@pytest.fixture(scope="session", autouse=True)
def fresh_screenshots():
    """Screenshots of this session only: no stale shot (say of an old failure) survives a run."""
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()


@pytest.fixture(scope="module")
def app_server(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("browser-workspace")
    server = AppServer(workspace, workspace.parent / "streamlit.log")
    server.wait_healthy()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)  # a loaded 2-core machine: reruns can take seconds
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request, app_server):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:  # keep what the browser saw, and what the server said
        try:
            screenshot(page, f"FAILED-{request.node.name}")
        except Exception:  # noqa: BLE001 - a broken page must not hide the real failure
            pass
        log = app_server.log_path.read_text(errors="replace").splitlines()[-40:]
        print("--- last lines of the streamlit log ---", *log, sep="\n")
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)  # lets the page fixture know the test failed
    return report


@pytest.fixture
def run_store(app_server):
    """The server workspace's run store, read from the test (the SQLite index is shared)."""
    from cnn_core.runs import RunStore

    store = RunStore(app_server.workspace)
    yield store
    stop_live_runs(store)


def stop_live_runs(store, timeout: float = 120) -> None:
    """Ask every live run of the workspace to stop (through the store, as the CLI does) and wait
    until none is left, so one test's run never queues the next test's run behind it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        live = store.list_runs(status=("queued", "running", "paused", "stopping"))
        if not live:
            return
        for run in live:
            if run.status in ("running", "paused"):
                store.set_status(run.id, "stopping", "Stopped by the browser tests' clean-up.",
                                 expected=("running", "paused"))
        time.sleep(0.5)
    raise RuntimeError(f"runs still live after {timeout} s: {[(r.id, r.status) for r in live]}")
