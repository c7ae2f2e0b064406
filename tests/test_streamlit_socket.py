"""The load test's light client speaks Streamlit's protocol as the browser does.

``bench/classroom.py`` counts renders through :class:`StreamlitSocket`; if the client misread the
protocol (a click that is not delivered, an exception not seen, a page run by the wrong hash),
the benchmark's figures would be wrong. A tiny app under a real ``streamlit run`` checks it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_support import free_port  # noqa: E402
from streamlit_socket import StreamlitSocket  # noqa: E402

APP = textwrap.dedent('''
    import time
    import streamlit as st

    def hello():
        st.title("Hello")
        if st.button("Count"):
            st.session_state["clicks"] = st.session_state.get("clicks", 0) + 1
        st.header(f"clicked {st.session_state.get('clicks', 0)}")

        @st.fragment(run_every=0.5)
        def ticker():
            st.session_state["ticks"] = st.session_state.get("ticks", 0) + 1
            st.subheader(f"tick {st.session_state['ticks']}")
        ticker()

    def broken():
        st.title("Broken")
        raise ValueError("this page is broken")

    def slow():
        st.title("Slow")
        time.sleep(4)

    st.navigation([st.Page(hello, title="Hello", url_path="hello", default=True),
                   st.Page(broken, title="Broken", url_path="broken"),
                   st.Page(slow, title="Slow", url_path="slow")]).run()
''')


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny_app")
    (folder / "app.py").write_text(APP, encoding="utf-8")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=folder, env=dict(os.environ, PYTHONUNBUFFERED="1"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("the tiny app's streamlit did not start")
            time.sleep(0.3)
    yield url
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 120))


def test_a_page_renders_and_a_click_reaches_its_button(server):
    async def visit():
        async with StreamlitSocket(server, timeout=60) as session:
            first = await session.open_page("")
            clicked = await session.click(first.button("Count"))
            again = await session.click(clicked.button("Count"))
            return session, first, clicked, again

    session, first, clicked, again = run(visit())
    assert first.failed == "" and first.finished and first.seconds > 0
    assert first.headings[:2] == ["Hello", "clicked 0"]
    assert set(session.pages) == {"", "broken", "slow"}     # from the navigation ("": the default)
    assert "clicked 1" in clicked.headings and "clicked 2" in again.headings


def test_a_page_opened_by_its_link_runs_that_page_and_an_exception_fails_it(server):
    async def visit():
        async with StreamlitSocket(server, timeout=60) as session:
            await session.open_page("")
            return await session.open_page_named("broken"), await session.open_page_named("")

    broken, hello = run(visit())
    assert broken.headings == ["Broken"]
    assert "this page is broken" in broken.failed
    assert hello.failed == "" and hello.headings[0] == "Hello"


def test_fragments_rerun_on_their_own_while_the_page_is_read(server):
    async def visit():
        async with StreamlitSocket(server, timeout=60) as session:
            first = await session.open_page("hello")
            failed = await session.read(2.0, seen=first)
            return session, first, failed

    session, seen, failed = run(visit())
    assert failed == 0 and len(session.fragments) == 1
    ticks = [int(h.split()[1]) for h in seen.headings if h.startswith("tick")]
    assert max(ticks) >= 3     # the first run's tick, then reruns every 0.5 s for 2 s


def test_a_render_that_takes_too_long_counts_as_failed(server):
    async def visit():
        async with StreamlitSocket(server, timeout=60) as session:
            await session.open_page("")
            return await session.open_page_named("slow", timeout=1.0)

    slow = run(visit())
    assert "no script_finished" in slow.failed and 0.9 < slow.seconds < 3
