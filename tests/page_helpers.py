"""Helpers for the AppTest page tests: open a page of the app, find where a run ended up.

AppTest note (Streamlit 1.67): because the app keeps its pages in a folder named ``pages/``,
Streamlit's legacy "pages directory" mode is on until a run calls ``st.navigation``; AppTest resets
that flag before every run, so every run after the first executes only the page script, not
``app.py`` (no sidebar in the tree). The same happens on a real server for a first visit straight
to a page URL. Pages therefore read the chosen data set from session state, never from the
sidebar widget, and these tests check the sidebar on the first run only.
"""

from __future__ import annotations

import functools
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


@functools.lru_cache(maxsize=1)
def _component_registry():
    """Streamlit scans every installed package for components once per AppTest (~1.3 s here);
    the result never changes within a test session, so the page tests share one scan."""
    from streamlit.components.v2.component_manager import BidiComponentManager

    manager = BidiComponentManager()
    manager.discover_and_register_components(start_file_watching=False)
    return manager


def new_app(timeout: float = 120) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=timeout)
    if hasattr(at, "_bidi_component_manager"):  # private; skipped if a Streamlit release drops it
        at._bidi_component_manager = _component_registry()  # noqa: SLF001
    return at


def open_page(page: str | None, dataset_id: str = "shapes", timeout: float = 120, *, lang: str | None = None,
              query: dict[str, str] | None = None, session: dict | None = None) -> AppTest:
    """Run the app once (home, with the sidebar) on ``dataset_id``, then switch to ``page``.

    ``lang`` opens it as a ``?lang=`` link would (e.g. ``"ko"``); ``query`` adds other URL
    parameters (``{"present": "1"}``), ``session`` session-state entries set before the first run.
    """
    at = new_app(timeout)
    for name, value in {**(query or {}), **({"lang": lang} if lang else {})}.items():
        at.query_params[name] = value
    for key, value in (session or {}).items():
        at.session_state[key] = value
    at.session_state["dataset_id"] = dataset_id
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def current_page(at: AppTest) -> str:
    """File name of the page the last run ended on (after any ``st.switch_page``)."""
    info = at._registered_pages.get(at._finished_page_script_hash) or {}  # noqa: SLF001
    return Path(str(info.get("script_path", ""))).name


def stop_run(workspace: Path, run_id: str) -> None:
    """Stop a run a test queued, and wait until the worker let go of it."""
    from cnn_core.job_queue import get_job_queue

    queue = get_job_queue(workspace)
    queue.stop(run_id)
    queue.wait(run_id, timeout=60)


def record_polls(monkeypatch) -> list[float]:
    """A list that collects the ``run_every`` of every polling fragment the page runs define
    after this call, in order (from Streamlit's ``auto_rerun`` messages)."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext

    sent: list[float] = []
    real = ScriptRunContext.enqueue

    def enqueue(self, msg):
        if msg.HasField("auto_rerun"):
            sent.append(round(msg.auto_rerun.interval, 3))
        return real(self, msg)

    monkeypatch.setattr(ScriptRunContext, "enqueue", enqueue)
    return sent
