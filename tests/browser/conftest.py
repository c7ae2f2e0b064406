"""Fixtures for browser tests: the real app under `streamlit run` and a headless Chromium.

One server per test module, on a free port, with its own empty workspace; Chromium is Debian's
(or the binary named by CNN_LAB_CHROMIUM), launched by Playwright through ``executable_path``.
Screenshots land in ``test-artifacts/screenshots/``.
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

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1400, "height": 1000}
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
        env = dict(os.environ, CNN_LAB_WORKSPACE=str(workspace), PYTHONUNBUFFERED="1")
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


# -- helpers ------------------------------------------------------------------------------------

def wait_for_app(page, timeout: float = 60_000) -> None:
    """Wait until the app is connected and Streamlit has finished running the script.

    Right after a click the script may not have started yet; callers that need the effect of an
    action should wait for the effect itself (``expect(...)``), then call this.
    """
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=timeout)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout)
    page.wait_for_timeout(200)


def open_page(page, label: str, url_path: str, heading: str | None = None, timeout: float = 60_000) -> None:
    """Click a sidebar navigation link (same browser session, unlike ``page.goto``) and wait until
    that page's title (``heading``, default ``label``) is drawn and the script has finished."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=label, exact=True).click()
    page.wait_for_url(f"**/{url_path}", timeout=timeout)
    page.get_by_test_id("stMain").get_by_role("heading", name=heading or label, exact=True).wait_for(timeout=timeout)
    wait_for_app(page, timeout)


def choose(page, selectbox, option: str) -> None:
    """Pick ``option`` in a Streamlit selectbox (its ``stSelectbox`` element) and wait until it shows."""
    from playwright.sync_api import expect

    selectbox.click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(selectbox.locator("input")).to_have_value(option)


def choose_dataset(page, name: str) -> None:
    """Pick a data set in the sidebar picker (by its display name, e.g. "Shapes")."""
    choose(page, page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="Data set"), name)
    wait_for_app(page)


def set_slider(page, slider, value: int) -> None:
    """Move an integer ``st.slider`` (its ``stSlider`` element) to ``value`` with the keyboard."""
    from playwright.sync_api import expect

    thumb = slider.get_by_role("slider")
    thumb.focus()
    thumb.press("Home")
    low = int(thumb.get_attribute("min") or 0)
    for _ in range(value - low):
        thumb.press("ArrowRight")
    expect(slider.get_by_test_id("stSliderThumbValue")).to_have_text(str(value))


def plotly_traces(chart) -> list[dict] | None:
    """``type``, ``x`` and ``y`` of every trace drawn in a ``stPlotlyChart`` element (read from
    Plotly's own graph div), or None while the chart is not drawn yet."""
    return chart.evaluate(
        """el => {
            const gd = el.querySelector('.js-plotly-plot');
            if (!gd || !gd.data) return null;
            return gd.data.map(t => ({type: t.type || 'scatter',
                                      x: t.x ? Array.from(t.x) : [], y: t.y ? Array.from(t.y) : []}));
        }"""
    )


def screenshot(page, name: str) -> Path:
    """A PNG of the whole page (Streamlit scrolls inside its own container, so the viewport is
    stretched to the content's height for the shot, then put back)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    height = page.evaluate(
        "() => Math.max(window.innerHeight, ...[...document.querySelectorAll("
        "'[data-testid=stMain], [data-testid=stAppViewContainer], [data-testid=stSidebarContent]')]"
        ".map(e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": VIEWPORT["width"], "height": min(int(height), 10_000)})
    try:
        page.wait_for_timeout(400)  # let Plotly re-lay out at the new size
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(VIEWPORT)
    return path
