"""Make sure a page always runs inside the app's navigation, whatever URL opened it.

CNN Lab keeps its pages in a folder named ``pages/`` and declares them with ``st.navigation`` in
``app.py``. Until some run has called ``st.navigation``, Streamlit 1.x treats a ``pages/`` folder
the old way ("MPA v1"): a fresh server asked for ``/training`` runs ``pages/training.py`` on its
own, so the first visitor through a bookmark gets Streamlit's automatic page list (with an "app"
entry) and no CNN Lab sidebar, and stays in that mode until someone opens the home page.
:func:`run_inside_app`, called first by every page, switches the old mode off and reruns, so
``app.py`` draws the navigation and the sidebar and then this same page.
"""

from __future__ import annotations

import streamlit as st


_SEEN_KEY = "_cnn_lab_session_started"


def run_inside_app() -> None:
    """Rerun through ``app.py`` if Streamlit ran this page on its own (old pages-folder mode).

    Only on a session's first run: that is when a bookmark lands here, and no widget has been
    used yet, so the rerun loses nothing (a rerun drops the click that started the run). After
    that the old mode is off for the whole server.
    """
    from streamlit.runtime.pages_manager import PagesManager

    first_run = _SEEN_KEY not in st.session_state
    st.session_state[_SEEN_KEY] = True
    if first_run and getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()
