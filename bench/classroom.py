"""A class on one server: 30 sessions at once, 10 of them training. Does the app hold?

Starts ``streamlit run app.py`` on a free loopback port with a temporary workspace, then opens
``--sessions`` (default 30) sessions of two kinds:

* ``--browsers`` (default 3) real headless Chromium sessions through Playwright (Debian's
  ``chromium``, or the binary named by ``CNN_LAB_CHROMIUM``; ``--per-browser`` contexts share
  one browser process), clicking sidebar links;
* the rest (default 27) light sessions speaking Streamlit's own protocol over its websocket
  (``bench/streamlit_socket.py``: ``BackMsg``/``ForwardMsg`` protobufs, pages opened by their
  ``page_script_hash``, fragments rerun on their ``run_every``, buttons pressed by widget id).
  30 Chromiums on the server's 2 cores would measure mostly themselves; a websocket session
  costs the server what a browser costs it, and the client next to nothing.

Every session browses the pages in a random order (open a page, a pause of 1-4 s "reading" -- a
stress pace; ``--reading 10 30`` is closer to a class reading each page -- the next page) for ``--minutes`` (default 5). ``--trainers`` of them (default 10, drawn from both
kinds) first queue a small training through a settings link (LeNet on the bundled MNIST sample,
``--epochs`` 1) and the Start button, then browse like the others. Everything stays on
127.0.0.1; the run is bounded (browsing time, plus at most ``--drain`` minutes for the queued
trainings to end), and the server and browsers are stopped at the end.

Printed:

* **render time** p50 / p95, for the browser sessions, the websocket sessions and all together:
  in a browser from a click on a sidebar link until the page's title is drawn and Streamlit
  reports the script finished; over the websocket from the rerun request until
  ``script_finished``; with trainings running;
* **failed renders** (by kind): a page that did not render within 60 s, or showed an exception;
* **runs lost**: a Start click that left no run in the store, or a run that failed or was
  interrupted (a run still waiting when the drain time ends is reported as waiting, not lost);
* **peak server RSS** (the Streamlit process and its children, sampled every 0.5 s), also after
  the first session and once every session had connected: the memory N sessions take;
* **longest queue wait**: from a run's creation to its start (to now for a run still waiting).

Run (from the repository root)::

    python bench/classroom.py [--minutes 5] [--sessions 30] [--trainers 10] [--browsers 3]

The last line is the headline, e.g. ``p95 render 2.4 s, 0 failed, 0 lost``. Target on a 2-core
machine: p95 under 3 s with trainings running, 0 failed, 0 lost. The load average is printed
before and after: the machine is shared, and every figure grows with its load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
import re

from bench_support import chromium_path, free_port, load  # noqa: E402 - bench/ is on the path
from streamlit_socket import Render, StreamlitSocket  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--renderer-process-limit=4"]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
CONNECTED = "[data-testid='stApp'][data-test-connection-state='CONNECTED']"
#: Seconds a session stays on a page before the next click (``--reading``).
READING_SECONDS = (1.0, 4.0)
RENDER_TIMEOUT_MS = 60_000
KINDS = ("browser", "websocket")
SEAT = re.compile(r"cnn_lab_seat=([0-9a-f]{16,64})")
VIEWPORT = {"width": 1280, "height": 800}
#: (sidebar link, url path, page title)
PAGES = [
    ("Home", "", "CNN Lab"), ("Data sets", "data", "Data sets"), ("Augmentation", "augmentation", "Augmentation"),
    ("Model builder", "model_builder", "Model builder"), ("Training", "training", "Training"),
    ("Evaluation", "evaluation", "Evaluation"), ("Mistakes", "mistakes", "Mistakes"), ("Try it", "try_it", "Try it"),
    ("Compare", "compare", "Compare runs"),
]


class Server:
    """``streamlit run app.py`` on loopback with its own workspace, and its memory, sampled."""

    def __init__(self, workspace: Path):
        self.workspace = workspace
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workspace.parent / "streamlit.log"
        env = dict(os.environ, CNN_LAB_WORKSPACE=str(workspace), PYTHONUNBUFFERED="1",
                   KERAS_HOME=str(workspace.parent / "keras-home"), CNN_LAB_PRELOAD_TENSORFLOW="1")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=REPO, env=env, stdout=open(self.log_path, "w"), stderr=subprocess.STDOUT)
        self.peak_rss = 0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def rss(self) -> int:
        import psutil

        try:
            parent = psutil.Process(self.process.pid)
            return sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)])
        except psutil.Error:
            return 0

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            self.peak_rss = max(self.peak_rss, self.rss())

    def wait_healthy(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"streamlit exited early:\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        sys.exit(f"streamlit did not answer in {timeout} s")

    def stop(self) -> None:
        self._stop.set()
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Results:
    def __init__(self):
        self.renders: dict[str, list[float]] = {kind: [] for kind in KINDS}
        self.pages: dict[str, list[float]] = {}      # page label -> render seconds, both kinds
        self.ended: list[tuple[float, float]] = []   # (wall clock at the end, seconds) of each render
        self.failures: dict[str, list[str]] = {kind: [] for kind in KINDS}
        self.clicks: dict[str, int] = {}    # session seat -> Start clicks that were answered
        self.start_errors: list[str] = []
        self.fragment_failures = 0          # websocket sessions' fragment reruns that failed

    def add(self, kind: str, label: str, seconds: float) -> None:
        self.renders[kind].append(seconds)
        self.pages.setdefault(label, []).append(seconds)
        self.ended.append((time.time(), seconds))

    def all_renders(self) -> list[float]:
        return [seconds for kind in KINDS for seconds in self.renders[kind]]

    def all_failures(self) -> list[str]:
        return [failure for kind in KINDS for failure in self.failures[kind]]


async def rendered(page, title: str) -> None:
    await page.get_by_test_id("stMain").get_by_role("heading", name=title, exact=True).wait_for(
        timeout=RENDER_TIMEOUT_MS)
    await page.wait_for_selector(CONNECTED, timeout=RENDER_TIMEOUT_MS)
    await page.wait_for_selector(IDLE, timeout=RENDER_TIMEOUT_MS)


async def visit(page, results: Results, name: str, label: str, title: str) -> None:
    """Click a sidebar link and time the render; a timeout or an exception is a failed render."""
    started = time.perf_counter()
    try:
        await page.get_by_test_id("stSidebarNav").get_by_role("link", name=label, exact=True).click(
            timeout=RENDER_TIMEOUT_MS)
        await rendered(page, title)
        seconds = time.perf_counter() - started
        if await page.get_by_test_id("stException").count():
            text = (await page.get_by_test_id("stException").first.inner_text())[:200]
            results.failures["browser"].append(f"{name} {label}: exception {text!r}")
            return
        results.add("browser", label, seconds)
    except Exception as error:  # noqa: BLE001 - a render that does not come is what we count
        results.failures["browser"].append(f"{name} {label}: {type(error).__name__} {str(error).splitlines()[0][:160]}")


async def seat_of(context) -> str | None:
    for cookie in await context.cookies():
        if cookie["name"] == "cnn_lab_seat":
            return cookie["value"]
    return None


async def queue_training(page, context, url: str, results: Results, name: str, epochs: int) -> None:
    """Open a settings link (LeNet, MNIST sample, ``epochs``), then press Start on Training."""
    try:
        await page.goto(f"{url}/model_builder?dataset=mnist_sample&preset=lenet&epochs={epochs}")
        await rendered(page, "Model builder")
        await visit(page, results, name, "Training", "Training")
        start = page.get_by_test_id("stMain").get_by_role("button", name="Start training")
        await start.click(timeout=RENDER_TIMEOUT_MS)
        stop = page.get_by_test_id("stMain").get_by_role("button", name="Stop")
        await stop.wait_for(timeout=RENDER_TIMEOUT_MS)    # the run is queued or training
        seat = await seat_of(context)
        results.clicks[seat] = results.clicks.get(seat, 0) + 1
    except Exception as error:  # noqa: BLE001
        results.start_errors.append(f"{name}: {type(error).__name__} {str(error).splitlines()[0][:160]}")


async def session(browser, url: str, results: Results, name: str, trains: bool, epochs: int,
                  until: float, rng: random.Random, connected: list) -> None:
    context = await browser.new_context(viewport=VIEWPORT)
    try:
        page = await context.new_page()
        page.set_default_timeout(RENDER_TIMEOUT_MS)
        started = time.perf_counter()
        try:
            await page.goto(url)
            await rendered(page, "CNN Lab")
            results.add("browser", "first load", time.perf_counter() - started)
        except Exception as error:  # noqa: BLE001
            results.failures["browser"].append(f"{name} first load: {type(error).__name__}")
        connected.append(name)
        if trains:
            await queue_training(page, context, url, results, name, epochs)
        while time.monotonic() < until:
            label, _path, title = rng.choice(PAGES)
            await visit(page, results, name, label, title)
            await asyncio.sleep(rng.uniform(*READING_SECONDS))
    finally:
        await context.close()


def seat_in(render: Render) -> str | None:
    """The session's seat (its id in the run store), from the cookie script the app draws."""
    for body in render.html:
        found = SEAT.search(body)
        if found:
            return found.group(1)
    return None


class SocketSession:
    """One websocket session's part in the class: the same steps as :func:`session`."""

    def __init__(self, url: str, results: Results, name: str, rng: random.Random):
        self.url, self.results, self.name, self.rng = url, results, name, rng
        self.seat: str | None = None

    def count(self, label: str, render: Render) -> bool:
        self.seat = seat_in(render) or self.seat
        if render.failed:
            self.results.failures["websocket"].append(f"{self.name} {label}: {render.failed}")
            return False
        self.results.add("websocket", label, render.seconds)
        return True

    def titled(self, label: str, render: Render, title: str) -> bool:
        if not render.failed and title not in render.headings:
            render.error = f"no title {title!r} (headings: {render.headings[:3]})"
        return self.count(label, render)

    async def queue_training(self, socket: StreamlitSocket, epochs: int) -> None:
        """The settings link's page (opened first, as by the link), then Start on Training."""
        page = await socket.open_page_named("training")
        if not self.titled("Training", page, "Training"):
            self.results.start_errors.append(f"{self.name}: the Training page did not render")
            return
        start = page.button("Start training")
        if start is None:
            self.results.start_errors.append(f"{self.name}: no Start training button {list(page.buttons)}")
            return
        clicked = await socket.click(start)
        if clicked.failed:
            self.results.start_errors.append(f"{self.name}: Start: {clicked.failed}")
            return
        seen = clicked   # the run is queued or training once the page offers to stop it
        deadline = time.monotonic() + RENDER_TIMEOUT_MS / 1000
        while "Stop" not in seen.buttons and time.monotonic() < deadline:
            self.results.fragment_failures += await socket.read(1.0, seen)
        if "Stop" not in seen.buttons:
            self.results.start_errors.append(f"{self.name}: no Stop button after Start")
            return
        self.seat = seat_in(seen) or self.seat
        self.results.clicks[self.seat] = self.results.clicks.get(self.seat, 0) + 1

    async def run(self, trains: bool, epochs: int, until: float, connected: list) -> None:
        try:
            async with StreamlitSocket(self.url, timeout=RENDER_TIMEOUT_MS / 1000) as socket:
                if trains:   # a settings link opens the Model builder as the first page
                    query = f"dataset=mnist_sample&preset=lenet&epochs={epochs}"
                    self.titled("Model builder", await socket.open_page("model_builder", query),
                                "Model builder")
                else:
                    self.titled("first load", await socket.open_page(""), "CNN Lab")
                connected.append(self.name)
                if trains:
                    await self.queue_training(socket, epochs)
                while time.monotonic() < until:
                    label, path, title = self.rng.choice(PAGES)
                    self.titled(label, await socket.open_page_named(path), title)
                    self.results.fragment_failures += await socket.read(self.rng.uniform(*READING_SECONDS))
        except Exception as error:  # noqa: BLE001 - a session that breaks is a failed render
            self.results.failures["websocket"].append(f"{self.name}: {type(error).__name__} {error}"[:200])
            if self.name not in connected:
                connected.append(self.name)


async def teacher_warm_up(url: str) -> None:
    """The teacher opens the app first (TensorFlow loads once, in the background), then the
    Training page (it waits for that import and starts the job queue): the class arrives at a
    warm server."""
    async with StreamlitSocket(url, timeout=300) as socket:
        for page in ("", "training"):
            render = await (socket.open_page(page) if not page else socket.open_page_named(page))
            if render.failed:
                sys.exit(f"the teacher's warm-up failed on {page or 'home'}: {render.failed}")


async def run_sessions(args, server: Server, results: Results, memory: dict) -> None:
    if min(args.browsers, args.sessions) <= 0:   # websocket sessions only: no Playwright needed
        await run_class(args, server, results, memory, None)
        return
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        await run_class(args, server, results, memory, playwright)


async def run_class(args, server: Server, results: Results, memory: dict, playwright) -> None:
    rng = random.Random(args.seed)
    browsers_wanted = min(args.browsers, args.sessions) if playwright is not None else 0
    browsers = []
    for _ in range(-(-browsers_wanted // args.per_browser)):
        browsers.append(await playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                                         args=CHROMIUM_ARGS))
    connected: list[str] = []
    started = time.perf_counter()
    await teacher_warm_up(server.url)
    memory["warm server, no session"] = server.rss()
    print(f"teacher's warm-up (app, TensorFlow, job queue): {time.perf_counter() - started:.0f} s")
    until = time.monotonic() + 60 * args.minutes
    trainers = set(rng.sample(range(args.sessions), min(args.trainers, args.sessions)))
    # the browser sessions spread over the arrivals, so both kinds meet the same server load
    browser_seats = {k * args.sessions // browsers_wanted for k in range(browsers_wanted)}
    tasks = []
    for i in range(args.sessions):
        name = f"s{i:02d}"
        session_rng = random.Random(rng.random())
        if i in browser_seats:
            browser = browsers[len([j for j in browser_seats if j < i]) // args.per_browser]
            work = session(browser, server.url, results, f"{name}-browser", i in trainers,
                           args.epochs, until, session_rng, connected)
        else:
            work = SocketSession(server.url, results, name, session_rng).run(
                i in trainers, args.epochs, until, connected)
        tasks.append(asyncio.create_task(work))
        if i == 0:
            while not connected:
                await asyncio.sleep(0.2)
            memory["one session"] = server.rss()
        else:
            await asyncio.sleep(0.3)   # people arrive over a few seconds, not in one instant
    while len(connected) < args.sessions and time.monotonic() < until:
        await asyncio.sleep(0.5)
    memory[f"{args.sessions} sessions"] = server.rss()
    await asyncio.gather(*tasks)
    for browser in browsers:
        await browser.close()


def wait_runs_ended(store, minutes: float) -> None:
    deadline = time.monotonic() + 60 * minutes
    while time.monotonic() < deadline:
        if not [r for r in store.list_runs() if r.is_active]:
            return
        time.sleep(2)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(share * (len(ordered) - 1)))))]


def main() -> None:
    global READING_SECONDS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="how long the sessions browse (default 5)")
    parser.add_argument("--sessions", type=int, default=30, help="sessions at once, both kinds (default 30)")
    parser.add_argument("--browsers", type=int, default=3,
                        help="of those, real Chromium sessions; the rest speak the websocket (default 3)")
    parser.add_argument("--trainers", type=int, default=10, help="sessions that queue a training (default 10)")
    parser.add_argument("--epochs", type=int, default=1, choices=(1, 2), help="epochs of each training (1 or 2)")
    parser.add_argument("--per-browser", type=int, default=10, help="browser contexts per Chromium process")
    parser.add_argument("--drain", type=float, default=4.0,
                        help="at most this many minutes for queued trainings to end after browsing")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--reading", type=float, nargs=2, default=READING_SECONDS, metavar=("LOW", "HIGH"),
                        help="seconds a session stays on a page, drawn between LOW and HIGH (default 1 4)")
    args = parser.parse_args()
    READING_SECONDS = tuple(sorted(args.reading))

    from cnn_core.run_status import RunStatus
    from cnn_core.runs import RunStore

    print(f"load average before: {load()} (1/5/15 min, {os.cpu_count()} cores)")
    root = Path(tempfile.mkdtemp(prefix="cnnlab-classroom-"))
    workspace = root / "workspace"
    workspace.mkdir()
    server = Server(workspace)
    results, memory = Results(), {}
    try:
        server.wait_healthy()
        memory["started server"] = server.rss()
        began = time.monotonic()
        asyncio.run(run_sessions(args, server, results, memory))
        browsed = time.monotonic() - began
        store = RunStore(workspace)
        wait_runs_ended(store, args.drain)
        runs = [r for r in store.list_runs() if r.session_id]
        now = time.time()
        waits = [((r.started_at or now) - r.created_at) for r in runs]
        lost = sum(max(0, clicks - sum(1 for r in runs if r.session_id == seat))
                   for seat, clicks in results.clicks.items())
        lost += sum(1 for r in runs if r.status in (RunStatus.FAILED, RunStatus.INTERRUPTED))
        still = sum(1 for r in runs if r.is_active)
        finished = sum(1 for r in runs if r.status == RunStatus.FINISHED)
        training = [(r.started_at, r.finished_at or now) for r in runs if r.started_at]
    finally:
        server.stop()
    browsers = min(args.browsers, args.sessions)
    print(f"browsed {browsed / 60:.1f} min with {args.sessions} sessions ({browsers} Chromium, "
          f"{args.per_browser} per Chromium process; {args.sessions - browsers} websocket), "
          f"{args.trainers} queuing a LeNet run of {args.epochs} epoch(s) on the MNIST sample; "
          f"{READING_SECONDS[0]:g}-{READING_SECONDS[1]:g} s on each page")
    print(f"training threads' nice value: {os.environ.get('CNN_LAB_TRAINING_NICE') or 'default (10)'} "
          f"(CNN_LAB_TRAINING_NICE; 0 = training at the pages' priority)")
    for what, rss in memory.items():
        print(f"server RSS, {what}: {rss / 2**20:.0f} MiB")
    print(f"peak server RSS: {server.peak_rss / 2**20:.0f} MiB")
    for kind, renders in [*results.renders.items(), ("all", results.all_renders())]:
        if renders:
            print(f"renders ({kind}): {len(renders)}, p50 {statistics.median(renders):.2f} s, "
                  f"p95 {percentile(renders, 0.95):.2f} s, max {max(renders):.2f} s")
    print("by page (p50 / p95 s): " + ", ".join(
        f"{label} {statistics.median(v):.1f} / {percentile(v, 0.95):.1f}"
        for label, v in sorted(results.pages.items(), key=lambda item: -statistics.median(item[1]))))
    during = [seconds for at, seconds in results.ended
              if any(start <= at - seconds and at <= end for start, end in training)]
    if during:
        print(f"renders while a run trained (started and ended within its training): {len(during)}, "
              f"p50 {statistics.median(during):.2f} s, p95 {percentile(during, 0.95):.2f} s")
    failures = results.all_failures()
    print(f"failed renders: {len(failures)} ({', '.join(f'{k} {len(v)}' for k, v in results.failures.items())}); "
          f"fragment reruns that failed (websocket): {results.fragment_failures}")
    for failure in failures[:10]:
        print(f"  {failure}")
    print(f"trainings: {sum(results.clicks.values())} queued from the sessions, {len(runs)} in the store, "
          f"{finished} finished, {still} still waiting or training after the drain, {lost} lost")
    for error in results.start_errors[:10]:
        print(f"  could not queue: {error}")
    if waits:
        print(f"longest queue wait: {max(waits):.0f} s")
    print(f"load average after: {load()}")
    renders = results.all_renders()
    p95 = percentile(renders, 0.95) if renders else float("nan")
    print(f"p95 render {p95:.1f} s, {len(failures)} failed, {lost} lost")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
