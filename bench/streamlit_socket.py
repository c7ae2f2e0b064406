"""A light, browser-like Streamlit session: Streamlit's own protocol over its websocket.

A load test with 30 real Chromium sessions on the same 2 cores as the server measures mostly the
browsers. :class:`StreamlitSocket` does what Streamlit's frontend does, at a fraction of the cost:
it opens ``ws://HOST:PORT/_stcore/stream`` (subprotocol ``streamlit``), sends ``BackMsg``
protobufs (``rerun_script`` with a ``ClientState``: the page by its ``page_script_hash``, or on
the first run by its URL path as ``page_name``, the query string, the widget states, the
browser's context) and reads the ``ForwardMsg`` stream (``new_session``, ``navigation``,
``delta``, ``auto_rerun``, ``script_finished`` ...). Like the frontend it answers ``auto_rerun``
(a fragment's ``run_every``) with fragment reruns while the page is open, and clicks a button by
sending its widget id with ``trigger_value`` in the next rerun's widget states.

A render (:class:`Render`) lasts from the rerun request until ``script_finished`` for the whole
script (runs cut short for a rerun, e.g. ``st.rerun()``, are followed to the end); it failed when
it timed out, ended with an error, or drew an exception element.

Example (a server on port 8501)::

    async with StreamlitSocket("http://127.0.0.1:8501") as session:
        render = await session.open_page("")                   # the home page
        render = await session.open_page_named("data")         # a sidebar link, by url path
        start = render.button("Start training")                # a widget id from the deltas
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

FINISHED = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_SUCCESSFULLY")
COMPILE_ERROR = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_WITH_COMPILE_ERROR")
EARLY_FOR_RERUN = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_EARLY_FOR_RERUN")
FRAGMENT_FINISHED = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_FRAGMENT_RUN_SUCCESSFULLY")


@dataclass
class Render:
    """What one script run drew and how long it took."""

    seconds: float = 0.0
    finished: bool = False
    error: str = ""
    headings: list[str] = field(default_factory=list)
    buttons: dict[str, str] = field(default_factory=dict)      # label -> widget id
    exceptions: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)

    @property
    def failed(self) -> str:
        """Why the render counts as failed ("" when it did not)."""
        if self.error:
            return self.error
        if self.exceptions:
            return f"exception {self.exceptions[0][:160]!r}"
        return "" if self.finished else "no script_finished"

    def button(self, label: str) -> str | None:
        return self.buttons.get(label)

    def add(self, delta) -> None:
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        if kind == "heading":
            self.headings.append(element.heading.body)
        elif kind == "button":
            self.buttons[element.button.label] = element.button.id
        elif kind == "exception":
            self.exceptions.append(f"{element.exception.type}: {element.exception.message}")
        elif kind == "html":
            self.html.append(element.html.body)


class StreamlitSocket:
    """One browser-like session of a Streamlit server (see the module text).

    Args:
        url: the app's address, e.g. ``http://127.0.0.1:8501``.
        locale: sent as the browser's language (``st.context.locale``).
        timeout: seconds a render may take before it counts as failed.
    """

    def __init__(self, url: str, locale: str = "en-US", timeout: float = 60.0):
        self.url = url.rstrip("/")
        self.ws_url = self.url.replace("http://", "ws://", 1) + "/_stcore/stream"
        self.locale = locale
        self.timeout = timeout
        self.pages: dict[str, str] = {}          # url path -> page_script_hash
        self.page_hash = ""
        self.query = ""
        self.session_id = ""
        self.fragments: dict[str, float] = {}    # fragment id -> run_every seconds, this page
        self._socket = None
        self._reader: asyncio.Task | None = None
        self._render: Render | None = None
        self._ended: asyncio.Future | None = None
        self._ends_on: tuple[int, ...] = ()
        self._closed = asyncio.Event()

    async def __aenter__(self) -> "StreamlitSocket":
        self._socket = await websockets.connect(self.ws_url, subprotocols=["streamlit"],
                                                max_size=None, open_timeout=self.timeout)
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - closing anyway
                pass

    # ------------------------------------------------------------------ the stream
    async def _read(self) -> None:
        try:
            async for data in self._socket:
                message = ForwardMsg()
                message.ParseFromString(data)
                self._handle(message)
        except websockets.ConnectionClosed:
            pass
        finally:
            self._closed.set()
            if self._ended is not None and not self._ended.done():
                self._ended.set_result("connection closed")

    def _handle(self, message: ForwardMsg) -> None:
        kind = message.WhichOneof("type")
        if kind == "new_session":
            self.session_id = message.new_session.initialize.session_id or self.session_id
        elif kind == "navigation":
            self.pages = {page.url_pathname: page.page_script_hash
                          for page in message.navigation.app_pages}
            self.page_hash = message.navigation.page_script_hash or self.page_hash
        elif kind == "page_info_changed":
            self.query = message.page_info_changed.query_string
        elif kind == "auto_rerun":
            self.fragments[message.auto_rerun.fragment_id] = max(0.1, message.auto_rerun.interval)
        elif kind == "delta" and self._render is not None:
            self._render.add(message.delta)
        elif kind == "script_finished":
            if self._ended is not None and not self._ended.done():
                if message.script_finished == COMPILE_ERROR:
                    self._ended.set_result("compile error")
                elif message.script_finished in self._ends_on:
                    self._ended.set_result("")

    # ------------------------------------------------------------------ runs
    def _rerun(self, page_hash: str = "", page_name: str = "", query: str | None = None,
               triggers: tuple[str, ...] = (), fragment_id: str = "") -> bytes:
        message = BackMsg()
        state = message.rerun_script
        state.query_string = self.query if query is None else query
        state.page_script_hash = page_hash
        state.page_name = page_name
        state.fragment_id = fragment_id
        state.is_auto_rerun = bool(fragment_id)
        for widget_id in triggers:
            widget = state.widget_states.widgets.add()
            widget.id = widget_id
            widget.trigger_value = True
        info = state.context_info
        info.locale = self.locale
        info.timezone = "UTC"
        info.timezone_offset = 0
        info.url = f"{self.url}/{page_name}" + (f"?{state.query_string}" if state.query_string else "")
        return message.SerializeToString()

    async def _run(self, payload: bytes, ends_on: tuple[int, ...], timeout: float) -> Render:
        render = Render()
        self._render, self._ends_on = render, ends_on
        self._ended = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        try:
            await self._socket.send(payload)
            render.error = await asyncio.wait_for(self._ended, timeout)
            render.finished = not render.error
        except asyncio.TimeoutError:   # (its late script_finished may end the next run early;
            # that run comes after a failure already counted)
            render.error = f"no script_finished within {timeout:.0f} s"
        except websockets.ConnectionClosed:
            render.error = "connection closed"
        render.seconds = time.perf_counter() - started
        self._render = None
        return render

    async def open_page(self, page_name: str = "", query: str = "", timeout: float | None = None) -> Render:
        """Open a page by its URL path, as a browser does on its first load (``""``: home)."""
        self.fragments.clear()
        return await self._run(self._rerun(page_name=page_name, query=query), (FINISHED,),
                               timeout or self.timeout)

    async def open_page_named(self, url_path: str, timeout: float | None = None) -> Render:
        """Open a page as a click on its sidebar link does (by its ``page_script_hash``)."""
        page_hash = self.pages.get(url_path)
        if page_hash is None:
            render = Render(error=f"no page {url_path!r} in the navigation")
            return render
        self.fragments.clear()
        self.page_hash = page_hash
        return await self._run(self._rerun(page_hash=page_hash), (FINISHED,), timeout or self.timeout)

    async def click(self, widget_id: str, timeout: float | None = None) -> Render:
        """Press a button (its widget id, from :meth:`Render.button`) on the current page."""
        return await self._run(self._rerun(page_hash=self.page_hash, triggers=(widget_id,)),
                               (FINISHED,), timeout or self.timeout)

    async def read(self, seconds: float, seen: Render | None = None) -> int:
        """Stay on the page for ``seconds``, rerunning its fragments when their ``run_every``
        comes round, as the frontend does. Elements they draw are added to ``seen``.
        Returns how many fragment runs did not finish in time or failed."""
        until = time.monotonic() + seconds
        due = {fragment: time.monotonic() + every for fragment, every in self.fragments.items()}
        failed = 0
        while not self._closed.is_set():
            now = time.monotonic()
            if now >= until:
                return failed
            for fragment, every in list(self.fragments.items()):
                due.setdefault(fragment, now + every)
            ready = [fragment for fragment, when in due.items() if when <= now and fragment in self.fragments]
            if not ready:
                next_due = min([until, *due.values()])
                await asyncio.sleep(max(0.01, min(next_due, until) - now))
                continue
            for fragment in ready:
                run = await self._run(self._rerun(page_hash=self.page_hash, fragment_id=fragment),
                                      (FINISHED, FRAGMENT_FINISHED), self.timeout)
                failed += bool(run.failed)
                if seen is not None:
                    seen.headings += run.headings
                    seen.buttons.update(run.buttons)
                    seen.exceptions += run.exceptions
                    seen.html += run.html
                due[fragment] = time.monotonic() + self.fragments.get(fragment, 1.0)
        return failed


__all__ = ["Render", "StreamlitSocket"]
