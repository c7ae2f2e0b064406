"""How fast does the app feel? Page render times, cold start and demo pace, in real Chromium.

Starts ``streamlit run app.py`` with a temporary workspace and measures with Playwright and a
headless Chromium (Debian's ``chromium``, or the binary named by ``CNN_LAB_CHROMIUM``):

* **home cold**: from starting the server process to the home page rendered in the browser (the
  browser is started before the server, so its own start-up is not counted);
* **first epoch point**: from clicking "Train a first model" on the home page to the first point
  on the training chart, on the fresh server (the click comes as soon as home is drawn, while
  the app's background warm-up is still importing TensorFlow, as a quick teacher's would), and
  once more on the warm server;
* **warm pages**: for every page, from navigation to a finished render: the page's main content
  is in the DOM and ``stApp`` reports ``data-test-script-state="notRunning"``. Measured both for
  a click on the sidebar link (same session) and for a full browser load of the page's URL (new
  session); the median of ``--repeats`` rounds. Measured after the first model has finished, so
  the evaluation and mistakes pages have a run to show.

Run (from the repository root)::

    python bench/ui.py [--repeats 5]

The last line is the headline, e.g. ``first curve point on a fresh server: 7.2 s after the click
(target < 8 s; load average ...)``; the line before it ``warm page max 0.84 s, home cold 2.9 s``. Targets: every page under 1.5 s warm, home under 3 s cold, first epoch point within 8 s
of the click on a fresh server.
The machine's load average is printed before and after: on a busy 2-core machine every figure
grows with the load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit
from bench_support import chromium_path, free_port, load  # noqa: E402 - bench/ is on the path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
CONNECTED = "[data-testid='stApp'][data-test-connection-state='CONNECTED']"
TIMEOUT_MS = 180_000
TARGETS = {"warm": 1.5, "cold": 3.0, "epoch": 8.0}

# (nav label, url path, page title, selector of the page's main content)
PAGES = [
    ("Home", "", "CNN Lab", "[data-testid=stMain] [data-testid=stButton]"),
    ("Data sets", "data", "Data sets", "[data-testid=stMain] [data-testid=stImage] img"),
    ("Augmentation", "augmentation", "Augmentation", "[data-testid=stMain] [data-testid=stImage] img"),
    ("Model builder", "model_builder", "Model builder", "[data-testid=stMain] [data-testid=stPlotlyChart]"),
    ("Training", "training", "Training", "[data-testid=stMain] [data-testid=stPlotlyChart]"),
    ("Evaluation", "evaluation", "Evaluation", "[data-testid=stMain] [data-testid=stPlotlyChart]"),
    ("Mistakes", "mistakes", "Mistakes", "[data-testid=stMain] [data-testid=stImage] img"),
]
PAGE_ERRORS: list[str] = []  # JavaScript errors of the page, shown when a measurement fails
CHART_POINTS = """n => {
    const gd = document.querySelector('[data-testid=stMain] [data-testid=stPlotlyChart] .js-plotly-plot');
    return !!(gd && gd.data && gd.data.length && gd.data[0].x && gd.data[0].x.length >= n);
}"""





def start_server(workspace: Path, log_path: Path) -> tuple[subprocess.Popen, str, float]:
    """Start ``streamlit run app.py``; returns the process, its URL and when it was started."""
    port = free_port()
    env = dict(os.environ, CNN_LAB_WORKSPACE=str(workspace), PYTHONUNBUFFERED="1",
               KERAS_HOME=str(workspace / "keras-home"))
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=REPO, env=env, stdout=open(log_path, "w"), stderr=subprocess.STDOUT,
    )
    return process, f"http://127.0.0.1:{port}", started


def wait_healthy(process: subprocess.Popen, url: str, log_path: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"streamlit exited early:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"streamlit did not answer in {timeout} s:\n{log_path.read_text()}")


def wait_rendered(page, title: str, content: str) -> None:
    """The page's title and main content are drawn and the script has finished running."""
    page.get_by_test_id("stMain").get_by_role("heading", name=title, exact=True).wait_for(timeout=TIMEOUT_MS)
    page.wait_for_selector(content, timeout=TIMEOUT_MS)
    page.wait_for_selector(CONNECTED, timeout=TIMEOUT_MS)
    page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)


def time_click(page, label: str, path: str, title: str, content: str) -> float:
    link = page.get_by_test_id("stSidebarNav").get_by_role("link", name=label, exact=True)
    started = time.perf_counter()
    link.click()
    page.wait_for_url(lambda address: urlsplit(address).path.strip("/") == path, timeout=TIMEOUT_MS)
    wait_rendered(page, title, content)
    return time.perf_counter() - started


def time_load(page, url: str, path: str, title: str, content: str) -> float:
    started = time.perf_counter()
    page.goto(f"{url}/{path}")
    wait_rendered(page, title, content)
    return time.perf_counter() - started


def first_epoch_point(page, url: str, timeout: float = 600) -> float:
    """From clicking "Train a first model" on the home page to the first point on the curve."""
    page.goto(url)
    wait_rendered(page, "CNN Lab", PAGES[0][3])
    button = page.get_by_role("button", name="Train a first model")
    started = time.perf_counter()
    button.click()
    page.wait_for_url(lambda address: urlsplit(address).path.strip("/") == "training", timeout=TIMEOUT_MS)
    try:
        page.wait_for_function(CHART_POINTS, arg=1, timeout=timeout * 1000, polling=100)
    except Exception:  # noqa: BLE001 - say what the page showed instead
        shot = REPO / "test-artifacts" / "bench-ui-no-epoch-point.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot))
        progress = page.get_by_test_id("stMain").get_by_test_id("stProgress").all_inner_texts()
        app = page.locator("[data-testid=stApp]")
        state = (app.get_attribute("data-test-connection-state"), app.get_attribute("data-test-script-state")) \
            if app.count() else "no stApp element (blank page)"
        sys.exit(f"no epoch point on the training chart {timeout:.0f} s after the click; progress shown: "
                 f"{progress}; app state: {state}; page errors: {PAGE_ERRORS[:5]}; screenshot {shot}")
    return time.perf_counter() - started


def wait_runs_ended(workspace: Path, timeout: float = 900) -> None:
    """Until no run of the workspace is queued or training (read from the run store)."""
    from cnn_core.run_status import ACTIVE_STATUSES
    from cnn_core.runs import RunStore

    store = RunStore(workspace)
    deadline = time.monotonic() + timeout
    while store.list_runs(status=ACTIVE_STATUSES):
        if time.monotonic() > deadline:
            sys.exit(f"training did not end within {timeout} s")
        time.sleep(0.5)
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="rounds over all pages (median)")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    print(f"load average before: {load()} (1/5/15 min) on {os.cpu_count()} cores")
    workspace = Path(tempfile.mkdtemp(prefix="cnnlab-bench-ui-"))
    log_path = workspace / "streamlit.log"
    process = None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.on("pageerror", lambda error: PAGE_ERRORS.append(str(error)[:300]))
        page.on("console", lambda message: PAGE_ERRORS.append(message.text[:300])
                if message.type == "error" and "disconnected from server" in message.text and len(PAGE_ERRORS) < 5
                else None)
        try:
            # Cold: process start -> home rendered.
            process, url, started = start_server(workspace, log_path)
            wait_healthy(process, url, log_path)
            page.goto(url)
            wait_rendered(page, "CNN Lab", PAGES[0][3])
            cold = time.perf_counter() - started
            print(f"home cold (process start -> rendered): {cold:.2f} s")

            # Demo pace on the fresh server, then once more on the warm one.
            epoch_cold = first_epoch_point(page, url)
            print(f"first epoch point, fresh server: {epoch_cold:.1f} s")
            page.goto("about:blank")  # the rest of the run is not timed: let it train unwatched
            wait_runs_ended(workspace)
            epoch_warm = first_epoch_point(page, url)
            print(f"first epoch point, warm server: {epoch_warm:.1f} s")
            page.goto("about:blank")
            wait_runs_ended(workspace)

            # Warm pages: sidebar clicks in one session, and full loads (new sessions).
            clicks: dict[str, list[float]] = {label: [] for label, *_ in PAGES}
            loads: dict[str, list[float]] = {label: [] for label, *_ in PAGES}
            page.goto(url)
            wait_rendered(page, "CNN Lab", PAGES[0][3])
            for label, path, title, content in PAGES[1:] + PAGES[:1]:  # warm-up round, not counted
                time_click(page, label, path, title, content)
            for _ in range(args.repeats):
                for label, path, title, content in PAGES[1:] + PAGES[:1]:
                    clicks[label].append(time_click(page, label, path, title, content))
                for label, path, title, content in PAGES:
                    loads[label].append(time_load(page, url, path, title, content))
        finally:
            browser.close()
            if process is not None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()

    print()
    print(f"{'page':<15}{'click (median)':>16}{'click (max)':>13}{'load (median)':>15}{'load (max)':>12}")
    for label, *_ in PAGES:
        print(f"{label:<15}{statistics.median(clicks[label]):>14.2f} s{max(clicks[label]):>11.2f} s"
              f"{statistics.median(loads[label]):>13.2f} s{max(loads[label]):>10.2f} s")
    warm_max = max(statistics.median(v) for v in clicks.values())
    load_max = max(statistics.median(v) for v in loads.values())
    print()
    print(f"warm click-navigation max (median per page): {warm_max:.2f} s (target < {TARGETS['warm']} s)")
    print(f"warm full-load max (median per page):        {load_max:.2f} s")
    print(f"home cold:                                    {cold:.2f} s (target < {TARGETS['cold']} s)")
    print(f"first epoch point, fresh / warm server:       {epoch_cold:.1f} / {epoch_warm:.1f} s "
          f"(target < {TARGETS['epoch']} s)")
    print(f"load average after: {load()} (1/5/15 min); {args.repeats} rounds")
    shutil.rmtree(workspace, ignore_errors=True)
    print(f"warm page max {warm_max:.2f} s, home cold {cold:.1f} s")
    print(f"first curve point on a fresh server: {epoch_cold:.1f} s after the click (target < {TARGETS['epoch']} s; "
          f"load average {load()})")


if __name__ == "__main__":
    main()
