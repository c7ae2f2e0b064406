"""The language switch: English / 한국어, in the sidebar and as ``?lang=ko`` in the address.

:func:`apply_language` runs at the top of every script run (``app.py``, before anything is
drawn). The session's language comes from, first to last: the ``lang`` URL parameter when it
changed (a shared link, an edited address), the switch, the browser's language
(``st.context.locale``), English. It is kept in session state, and written back into the URL
whenever it is not what the browser would pick anyway, so the address is a link in the chosen
language. ``set_language_source`` lets fragments, page-only reruns and helpers that run
without ``app.py`` find the session's language too.
"""

from __future__ import annotations

import streamlit as st

from cnn_core.i18n import DEFAULT_LANGUAGE, LANGUAGES, _, normalise_language, set_language, set_language_source





LANGUAGE_KEY = "language"          # the session's language code
URL_SEEN_KEY = "language_url_seen"  # the ``lang`` URL value read or written last
WIDGET_KEY = "language_switch"
URL_PARAM = "lang"


def _session_language() -> str | None:
    """The session's language, or None outside a script run (a training thread: English)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if get_script_run_ctx(suppress_warning=True) is None:
        return None
    try:
        return st.session_state.get(LANGUAGE_KEY)
    except Exception:  # noqa: BLE001 - a session being torn down
        return None


def browser_language() -> str:
    """The browser's language if we have it, else English."""
    try:
        return normalise_language(st.context.locale) or DEFAULT_LANGUAGE
    except Exception:  # noqa: BLE001 - no browser (AppTest, bare mode)
        return DEFAULT_LANGUAGE


def _url_language() -> str | None:
    return normalise_language(st.query_params.get(URL_PARAM))


def _write_url(language: str) -> None:
    wanted = None if language == browser_language() == DEFAULT_LANGUAGE else language
    if st.query_params.get(URL_PARAM) != wanted:
        if wanted is None:
            del st.query_params[URL_PARAM]
        else:
            st.query_params[URL_PARAM] = wanted
    st.session_state[URL_SEEN_KEY] = wanted


def apply_language() -> str:
    """Decide this run's language, use it, keep session and URL in step; returns the code."""
    set_language_source(_session_language)
    chosen = normalise_language(st.session_state.get(LANGUAGE_KEY))
    from_url = _url_language()
    if from_url and (chosen is None or from_url != st.session_state.get(URL_SEEN_KEY)):
        chosen = from_url  # a link or an edited address beats an earlier choice
    chosen = chosen or browser_language()
    st.session_state[LANGUAGE_KEY] = chosen
    if st.session_state.get(WIDGET_KEY) != chosen:
        st.session_state[WIDGET_KEY] = chosen
    _write_url(chosen)
    return set_language(chosen)


def _switched() -> None:
    chosen = normalise_language(st.session_state.get(WIDGET_KEY)) or DEFAULT_LANGUAGE
    st.session_state[LANGUAGE_KEY] = chosen
    set_language(chosen)
    _write_url(chosen)


def language_switch() -> None:
    """The sidebar's switch (drawn by :func:`components.sidebar.render_sidebar`)."""
    st.radio(
        _("Language"), list(LANGUAGES), format_func=LANGUAGES.get, key=WIDGET_KEY,
        on_change=_switched, horizontal=True,
        help=_("Show CNN Lab in English or in Korean. The address keeps the choice (?lang=ko)."),
    )


def column_labels(columns, config: dict | None = None) -> dict:
    """``column_config`` for ``st.dataframe`` that shows every header (and its help) in the
    session's language; the data keeps its English column names (mark them with ``N_``)."""
    labelled = {}
    for name in columns:
        settings = dict((config or {}).get(name) or {})
        settings["label"] = _(settings.get("label") or name)
        if settings.get("help"):
            settings["help"] = _(settings["help"])
        labelled[name] = settings
    return labelled
