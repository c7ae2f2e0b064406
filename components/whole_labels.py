"""Labels shown whole on narrow screens: a label too long for its box wraps, never ends in "…".

Streamlit cuts button labels, page links and the labels and values of ``st.metric`` to one line
and ends them with "…" when their box is too narrow. On a 1024x768 projector (or a laptop with
the sidebar open) that turned "Next step" into "Next …", the Data page's "28×28 px" into
"28×2…" and the Home page's "1. Look at the data" into "1. Look". ``app.py`` injects
:data:`WHOLE_LABELS_CSS` on every run, in and out of presentation mode: those labels wrap onto
another line instead (a single word too long for its box breaks as a last resort). Korean
lines break between words, not inside one ("처음부 / 터 다시" was "처음부터 / 다시"): ``keep-all``,
which changes nothing for English.
"""

from __future__ import annotations

import streamlit as st

#: The key of the Home page's row of step cards.
STEP_CARDS_KEY = "home_step_cards"
#: Below this window width the Home page's four step cards sit two a row (a 1024x768 projector
#: with the sidebar open leaves each of four ~140 px, a word a line).
TWO_CARDS_BELOW_PX = 1100

#: Streamlit marks the one-line labels it cuts with ``stMarkdownEllipsis``; page links cut theirs
#: in the link's inner spans.
WHOLE_LABELS_CSS = """
[data-testid="stApp"], [data-testid="stApp"] :is(p, li, h1, h2, h3, h4, h5, h6, label, td, th) {
  word-break: keep-all; overflow-wrap: break-word;
}
.stMarkdownEllipsis, .stMarkdownEllipsis p,
[data-testid="stPageLink-NavLink"] span, [data-testid="stPageLink-NavLink"] p {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  overflow-wrap: break-word;
}
[data-testid="stButton"] button, [data-testid="stDownloadButton"] button,
[data-testid="stPageLink-NavLink"] { height: auto; }
[data-testid="stButton"] p, [data-testid="stDownloadButton"] p, [data-testid="stPageLink-NavLink"] p {
  line-height: 1.3;
}
@media (max-width: %(narrow)dpx) {
  .st-key-%(cards)s [data-testid="stHorizontalBlock"] { flex-wrap: wrap; }
  .st-key-%(cards)s [data-testid="stColumn"] { flex: 1 1 calc(50%% - 1rem); min-width: calc(50%% - 1rem); }
}
""" % {"narrow": TWO_CARDS_BELOW_PX - 1, "cards": STEP_CARDS_KEY}


def inject() -> None:
    """Add the stylesheet to this run's page."""
    st.html(f"<style>{WHOLE_LABELS_CSS}</style>")


__all__ = ["STEP_CARDS_KEY", "TWO_CARDS_BELOW_PX", "WHOLE_LABELS_CSS", "inject"]
