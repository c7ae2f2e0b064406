"""Presentation mode: CNN Lab on a projector, for people who do not program.

A switch in the sidebar, also ``?present=1`` in the address (kept there while it is on, so the
link can be shared). While it is on: larger type and controls, bigger pictures and charts
(:mod:`components.chart_look`), darker text that survives a washed-out projector, only the demo's
handful of model settings up front (:func:`components.spec_form.spec_form`) and the guided demo's
"Next step" bar on top of every page (:mod:`components.guided_demo`).

``app.py`` calls :func:`render` once per run, after the sidebar and before the page.
"""

from __future__ import annotations

import streamlit as st

from cnn_core.i18n import _

from components.state import PRESENT_KEY, presenting  # noqa: E402 - the truth lives with the other session keys
TOGGLE_KEY = "presentation_toggle"      # the sidebar switch
URL_READ_KEY = "presentation_url_read"  # ?present= was read in this session
QUERY_PARAM = "present"
ON_WORDS = frozenset({"1", "true", "yes", "on"})

#: Colours of presentation mode's text, checked against its backgrounds in tests/test_contrast.py.
BACKGROUND = "#ffffff"
SIDEBAR_BACKGROUND = "#f0f2f6"   # Streamlit's light theme secondaryBackgroundColor
TEXT = "#1a1c24"
MUTED_TEXT = "#454857"           # captions (Streamlit draws them at 60% opacity: 3.7:1 on white, too faint)

#: A row of five or more columns with pictures in them (a picture grid): in presentation mode it
#: wraps at four a row, so every picture is a quarter of the page wide.
PICTURE_ROW = '[data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"]:nth-child(5) [data-testid="stImage"])'
#: Injected once per run while presentation mode is on. Streamlit sizes its type and controls in
#: rem, so a larger root font makes every word and widget bigger together.
PROJECTOR_CSS = f"""
html:root {{ font-size: 20px !important; }}
[data-testid="stMainBlockContainer"] {{ max-width: 100%; padding: 2.5rem 2.5rem 4rem 2.5rem; }}
[data-testid="stMain"] p, [data-testid="stMain"] li, [data-testid="stSidebar"] p {{ color: {TEXT}; }}
[data-testid="stCaptionContainer"] {{ opacity: 1; }}
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p {{ color: {MUTED_TEXT} !important; }}
[data-testid="stWidgetLabel"] p {{ font-weight: 600; color: {TEXT}; }}
[data-testid="stButton"] button, [data-testid="stPageLink"] a {{ min-height: 2.6rem; font-size: 1.05rem; }}
[data-testid="stSlider"] [role="slider"] {{ width: 1.3rem; height: 1.3rem; }}
{PICTURE_ROW} {{ flex-wrap: wrap; }}
{PICTURE_ROW} > [data-testid="stColumn"] {{ flex: 0 0 calc(25% - 0.75rem); min-width: calc(25% - 0.75rem); }}
[data-testid="stMetricValue"] {{ font-size: 1.8rem; }}
.st-key-guided_demo p {{ font-size: 1.2rem; line-height: 1.5; }}
"""


def is_on() -> bool:
    """Whether this browser session is in presentation mode (False outside a Streamlit run)."""
    return presenting()


def set_on(on: bool) -> None:
    st.session_state[PRESENT_KEY] = bool(on)


def sync_with_url() -> None:
    """Read ``?present=`` on the session's first run; from then on keep the address in step with
    the switch (Streamlit drops query parameters on a page switch, so this runs on every run)."""
    if URL_READ_KEY not in st.session_state:
        st.session_state[URL_READ_KEY] = True
        asked = st.query_params.get(QUERY_PARAM)
        if asked is not None:
            set_on(str(asked).strip().lower() in ON_WORDS)
    if is_on():
        if st.query_params.get(QUERY_PARAM) != "1":
            st.query_params[QUERY_PARAM] = "1"
    elif QUERY_PARAM in st.query_params:
        del st.query_params[QUERY_PARAM]


def switch() -> None:
    """The sidebar switch."""
    st.session_state[TOGGLE_KEY] = is_on()
    st.toggle(_("Presentation mode"), key=TOGGLE_KEY,
              on_change=lambda: set_on(st.session_state[TOGGLE_KEY]),
              help=_("For a projector: bigger type, pictures and charts, only the main model settings, "
                     "and a guided demo with a Next step button. The address gets ?present=1, so the "
                     "link opens in this mode."))


def inject_css() -> None:
    if is_on():
        st.html(f"<style>{PROJECTOR_CSS}</style>")


def render(page) -> None:
    """Everything presentation mode adds to a run: the URL, the switch, the CSS, the demo bar.

    Args:
        page: the ``st.Page`` that ``st.navigation`` is about to run (its ``url_path`` tells the
            guided demo which step is on screen).
    """
    from components.guided_demo import demo_bar

    sync_with_url()
    with st.sidebar:
        switch()
    inject_css()
    demo_bar(getattr(page, "url_path", ""))


__all__ = ["BACKGROUND", "MUTED_TEXT", "PRESENT_KEY", "PROJECTOR_CSS", "QUERY_PARAM", "SIDEBAR_BACKGROUND", "TEXT",
           "inject_css", "is_on", "render", "set_on", "switch", "sync_with_url"]
