"""Session state and process-wide resources, in one place so every page reads them the same way.

Specs live in session state as plain dicts under fixed keys (widgets keep their own keys), so
they survive page switches: Streamlit drops the state of widgets that a page does not draw.
The run store and the job queue are process-wide (``st.cache_resource``): training goes on
across reruns, page switches and browser reloads.
"""

from __future__ import annotations

import sys
import time

import streamlit as st

from cnn_core.datasets import DEFAULT_DATASET_ID
from cnn_core.runs import RunStore
from cnn_core.workspace import workspace_path

DATASET_KEY = "dataset_id"
MODEL_SPEC_KEY = "model_spec"
PRESET_KEY = "preset"
AUGMENT_SPEC_KEY = "augment_spec"
ACTIVE_RUN_KEY = "active_run_id"
#: Presentation mode on or off (components/presentation.py draws the switch; the guided demo reads it).
PRESENT_KEY = "presentation_mode"

#: Set by the Training page's live view each time it draws (see :func:`live_view_stalled`).
LIVE_VIEW_HEARTBEAT_KEY = "live_view_heartbeat"
#: Set by the Training page's live view when its run started or ended (see :func:`ask_page_redraw`).
PAGE_REDRAW_KEY = "page_redraw_asked"
RUN_CONTROL_CLICK_KEY = "run_control_clicked"


@st.cache_resource(show_spinner=False)
def _store_for(workspace: str) -> RunStore:
    store = RunStore(workspace)
    store.mark_interrupted()
    return store


def run_store() -> RunStore:
    """The run store of the workspace (``CNN_LAB_WORKSPACE`` or ``./workspace``)."""
    return _store_for(str(workspace_path()))


@st.cache_resource(show_spinner=False)
def _queue_for(workspace: str):
    from cnn_core import engine_warmup

    engine_warmup.wait()   # the background warm-up may be importing TensorFlow right now
    from cnn_core.classroom import use_command_line
    from cnn_core.job_queue import get_job_queue  # imports TensorFlow: only pages that train pay

    use_command_line(sys.argv[1:])   # the teacher's flags: streamlit run app.py -- --max-... N
    return get_job_queue(workspace)


def job_queue():
    """The process-wide training queue (imports TensorFlow on first use)."""
    return _queue_for(str(workspace_path()))


def dataset_id() -> str:
    """The data set chosen in the sidebar."""
    return st.session_state.setdefault(DATASET_KEY, DEFAULT_DATASET_ID)


def presenting() -> bool:
    """Whether this browser session is in presentation mode (False outside a Streamlit run)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if get_script_run_ctx(suppress_warning=True) is None:  # no session (a chart built in a unit test)
        return False
    return bool(st.session_state.get(PRESENT_KEY, False))


def set_active_run(run_id: str | None) -> None:
    st.session_state[ACTIVE_RUN_KEY] = run_id


def active_run_id() -> str | None:
    """The run this browser session follows: the one it started, opened or resumed, else a
    live run, else the run that trained last (its own runs if it has any, else the runs it may
    see).

    After a browser reload the session is new; falling back to a live run (kept as the followed
    run, so it is still shown when it ends) means the user finds the run that went on training
    while the page was gone. Without a live run, the last to train is the one that started or
    ended last (a resumed run ends after newer runs), not the newest created.
    """
    chosen = st.session_state.get(ACTIVE_RUN_KEY)
    store = run_store()
    if chosen:
        try:
            store.get(chosen)
            return chosen
        except Exception:  # deleted meanwhile
            st.session_state[ACTIVE_RUN_KEY] = None
    from components.session_identity import is_own, visible_runs

    runs = visible_runs(store.list_runs())   # never another's private run
    runs = [r for r in runs if is_own(r)] or runs   # one's own runs before the class's
    live = [r for r in runs if r.is_active]
    if live:
        st.session_state[ACTIVE_RUN_KEY] = live[0].id
        return live[0].id
    if not runs:
        return None
    return max(runs, key=lambda r: (r.finished_at or r.started_at or r.created_at, r.created_at)).id


def live_view_beat(run_id: str) -> None:
    """The Training page's live view drew ``run_id`` just now (see :func:`live_view_stalled`)."""
    st.session_state[LIVE_VIEW_HEARTBEAT_KEY] = (run_id, time.monotonic())


def forget_live_view() -> None:
    """A new page run starts: the live view has not drawn on it yet (app.py, before the page);
    a redraw asked for is being done, and the intervals fit the run as it is now."""
    st.session_state.pop(LIVE_VIEW_HEARTBEAT_KEY, None)
    st.session_state.pop(PAGE_REDRAW_KEY, None)
    st.session_state.pop(RUN_CONTROL_CLICK_KEY, None)


def ask_page_redraw() -> None:
    """The Training page's live view saw its run start, end, pause or continue and drew that
    itself; one full page run (done by the sidebar's polling, :func:`page_redraw_asked`) stops
    its polling or sets its new rate.
    A flag, not ``st.rerun`` from the live view's timer: that raced with the page's redraw."""
    st.session_state[PAGE_REDRAW_KEY] = True


def note_run_control_click() -> None:
    """A Pause / Continue / Stop / Resume button was pressed (its callback, before the rerun)."""
    st.session_state[RUN_CONTROL_CLICK_KEY] = True


def run_control_clicked() -> bool:
    """Whether this script run follows a click on a run's control button (asked once: the answer
    is forgotten). The live view reruns the page at once after a click, not after its timer."""
    return bool(st.session_state.pop(RUN_CONTROL_CLICK_KEY, False))


def another_run_requested() -> bool:
    """Whether the browser already asked for another script run that has not started yet (e.g.
    a click on another page in the navigation).

    A rerun asked for now would be folded into that request with *this* page's address and the
    click would be lost (Streamlit keeps the newer request's page), so timers that rerun the
    app (the sidebar's polling) wait for their next tick instead. Reads Streamlit's script
    request state; if a Streamlit version hides it, this answers False (the old behaviour).
    """
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    requests = getattr(get_script_run_ctx(), "script_requests", None)
    waiting = getattr(getattr(requests, "_state", None), "name", None)
    return waiting == "RERUN"


def page_redraw_asked() -> bool:
    """Whether a full page run was asked for (see :func:`ask_page_redraw`)."""
    return bool(st.session_state.get(PAGE_REDRAW_KEY))


def live_view_stalled(after_seconds: float) -> bool:
    """Whether the Training page's live view of a live run stopped drawing ``after_seconds`` ago.

    Its polling fragment can die (a lost message, an exception in it): the page then looks
    frozen. The sidebar's own polling uses this to rerun the whole page.
    """
    beat = st.session_state.get(LIVE_VIEW_HEARTBEAT_KEY)
    if not beat:
        return False
    run_id, at = beat
    if time.monotonic() - at < after_seconds:
        return False
    try:
        return run_store().get(run_id).is_active
    except Exception:  # noqa: BLE001 - deleted meanwhile
        return False
