"""Who is at this browser: a session id and the name the user typed, and what they see.

Each browser session gets a random id, kept in session state; a cookie (``cnn_lab_seat``) keeps
it, and the name, across a reload of the page, so a student finds their runs and uploads again.
Two browsers (or two browser profiles) are two people. The engine gets both as a
:class:`~cnn_core.run_record.Starter` with every run it starts or steers, and decides what each
session sees and may do (:mod:`cnn_core.classroom`, :mod:`cnn_core.uploads`); this module only
asks and shows.
"""

from __future__ import annotations

import json
import re
import secrets
from urllib.parse import quote, unquote

import streamlit as st

from cnn_core import classroom
from cnn_core.errors import CnnLabError
from cnn_core.i18n import _
from cnn_core.run_record import RunRecord, Starter

SESSION_ID_KEY = "classroom_session_id"
NAME_KEY = "classroom_name"
NAME_WIDGET_KEY = "your_name"
SHARE_ERROR_KEY = "classroom_share_error"
ID_COOKIE = "cnn_lab_seat"
NAME_COOKIE = "cnn_lab_name"
MAX_NAME_LENGTH = 40
#: Kept by the browser for this long (seconds): a school term.
COOKIE_MAX_AGE = 120 * 24 * 3600
_ID_PATTERN = re.compile(r"^[0-9a-f]{16,64}$")


def _cookie(name: str) -> str | None:
    try:
        value = st.context.cookies.get(name)
    except Exception:  # noqa: BLE001 - no browser (AppTest, a bare script run)
        return None
    return value if isinstance(value, str) else None


def clean_name(text: str | None) -> str:
    """The name as shown: one line, no surrounding blanks, at most 40 characters."""
    return " ".join(str(text or "").split())[:MAX_NAME_LENGTH]


def session_id() -> str:
    """This browser's id: from its cookie when the page was reloaded, else a new random one."""
    sid = st.session_state.get(SESSION_ID_KEY)
    if not sid:
        remembered = _cookie(ID_COOKIE) or ""
        sid = remembered if _ID_PATTERN.match(remembered) else secrets.token_hex(12)
        st.session_state[SESSION_ID_KEY] = sid
    return sid


def display_name() -> str:
    """The name typed in the sidebar ("" until the user types one)."""
    if NAME_KEY not in st.session_state:
        st.session_state[NAME_KEY] = clean_name(unquote(_cookie(NAME_COOKIE) or ""))
    return st.session_state[NAME_KEY]


def starter() -> Starter:
    """This session as the engine knows it (with every run it starts or steers)."""
    return Starter(session_id(), display_name())


def _remember_in_browser() -> None:
    """Write the id and name cookies while they differ from what the browser sent.

    The browser's cookies are read once, when the session starts, so a session that wrote them
    cannot see them; it writes them on every run (a tiny script, the same each time): a single
    write could be lost when its run is cut short by a rerun before the browser got it.
    """
    wanted = (session_id(), display_name())
    if (_cookie(ID_COOKIE), unquote(_cookie(NAME_COOKIE) or "")) == wanted:
        return
    tail = f"; path=/; max-age={COOKIE_MAX_AGE}; SameSite=Strict"
    script = (f"<script>document.cookie = {json.dumps(ID_COOKIE + '=' + wanted[0] + tail)};"
              f"document.cookie = {json.dumps(NAME_COOKIE + '=' + quote(wanted[1]) + tail)};</script>")
    st.html(script, unsafe_allow_javascript=True)


def _name_changed() -> None:
    st.session_state[NAME_KEY] = clean_name(st.session_state.get(NAME_WIDGET_KEY))


def name_field() -> None:
    """The sidebar's "Your name" (optional): shown next to the runs and uploads you share."""
    current = display_name()
    if st.session_state.get(NAME_WIDGET_KEY) != current:
        st.session_state[NAME_WIDGET_KEY] = current
    st.text_input(_("Your name"), key=NAME_WIDGET_KEY, max_chars=MAX_NAME_LENGTH,
                  placeholder=_("optional, e.g. Minji"), on_change=_name_changed,
                  help=_("Shown next to the runs and pictures you share with the class, so others "
                         "know whose they are. Kept in this browser."))
    _remember_in_browser()


# --------------------------------------------------------------------------- runs

def visible_runs(runs: list[RunRecord]) -> list[RunRecord]:
    """The runs this session may see: its own first, then the shared ones and the workspace's."""
    return classroom.visible_runs(runs, starter())


def started_by(run: RunRecord) -> str:
    """``"by Ann"`` when another session started ``run``, else ``""``."""
    return classroom.started_by_text(run, starter())


def is_own(run: RunRecord) -> bool:
    return classroom.is_own(run, starter())


def _share_changed(store, run_id: str, key: str) -> None:
    try:
        run = store.get(run_id)
        classroom.check_may_steer(run, starter(), _("share"))
        store.set_shared(run_id, bool(st.session_state.get(key)))
    except CnnLabError as error:
        st.session_state[SHARE_ERROR_KEY] = str(error)


def share_run_toggle(run: RunRecord, store) -> None:
    """For one's own run: a switch that shows it to the whole class (with one's name); ``store``
    is the run store the run lives in."""
    if not is_own(run):
        who = started_by(run)
        if who:
            st.caption(_("Started {who} and shared with the class.", who=who))
        return
    key = f"share_run_{run.id}"
    st.session_state[key] = run.shared
    st.toggle(_("Share with the class"), key=key, on_change=_share_changed, args=(store, run.id, key),
              help=_("Others on this server see the run in their lists, marked with your name. "
                     "Only you can stop or change it."))
    error = st.session_state.pop(SHARE_ERROR_KEY, None)
    if error:
        st.error(error, icon=":material/error:")


# --------------------------------------------------------------------------- uploads

def visible_dataset_ids(ids: list[str], workspace) -> list[str]:
    """``ids`` without the uploads of other sessions that are not shared."""
    from cnn_core.uploads import dataset_visible

    me = starter()
    return [i for i in ids if dataset_visible(i, me, workspace)]


def dataset_uploader(dataset_id: str, workspace) -> str:
    """``"by Ann"`` for an upload another session shared with the class, else ``""``."""
    from cnn_core.uploads import dataset_uploader as uploader

    return uploader(dataset_id, starter(), workspace)


__all__ = ["clean_name", "dataset_uploader", "display_name", "is_own", "name_field", "session_id", "share_run_toggle",
           "started_by", "starter", "visible_dataset_ids", "visible_runs"]
