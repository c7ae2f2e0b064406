"""CNN Lab on a narrow screen: a 1024x768 projector, or a laptop with the sidebar open.

``app.py`` injects :data:`NARROW_SCREENS_CSS` on every run, in and out of presentation mode:

- **Labels shown whole.** Streamlit cuts button labels, page links and the labels and values of
  ``st.metric`` to one line and ends them with "…" when their box is too narrow. At 1024x768 in
  presentation mode that turned "Next step" into "Next …", the Data page's "28×28 px" into
  "28×2…" and the Home page's "1. Look at the data" into "1. Look". Those labels wrap onto
  another line instead (a single word too long for its box breaks as a last resort). Korean
  lines break between words, not inside one ("처음부 / 터 다시" was "처음부터 / 다시"):
  ``keep-all``, which changes nothing for English.
- **Rows that give way** below :data:`NARROW_BELOW_PX`: the Home page's four step cards sit two a
  row (:data:`STEP_CARDS_KEY`; four left each ~140 px, a word a line), and the Evaluation page's
  confusion matrix takes the whole width above the pictures of its cell
  (:data:`MATRIX_ROW_KEY`; beside them it was ~300 px wide, its counts printed over each other).
  A page puts such a row in ``st.container(key=...)``.
"""

from __future__ import annotations

import streamlit as st

#: Window widths below this are narrow (a 1024x768 projector; the sidebar takes ~300 px of it).
NARROW_BELOW_PX = 1100
#: The Home page's row of four step cards: two a row when narrow.
STEP_CARDS_KEY = "home_step_cards"
#: The Evaluation page's confusion matrix beside the pictures of its cell: one above the other.
MATRIX_ROW_KEY = "eval_matrix_row"

#: Streamlit marks the one-line labels it cuts with ``stMarkdownEllipsis``; page links cut theirs
#: in the link's inner spans.
NARROW_SCREENS_CSS = """
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
  .st-key-%(cards)s [data-testid="stHorizontalBlock"], %(matrix_row)s { flex-wrap: wrap; }
  .st-key-%(cards)s [data-testid="stColumn"] { flex: 1 1 calc(50%% - 1rem); min-width: calc(50%% - 1rem); }
  %(matrix_row)s > [data-testid="stColumn"] { flex: 1 1 100%%; min-width: 100%%; }
}
""" % {"narrow": NARROW_BELOW_PX - 1, "cards": STEP_CARDS_KEY,
       # the container's own row of columns, not the rows inside its columns
       "matrix_row": f'.st-key-{MATRIX_ROW_KEY} [data-testid="stHorizontalBlock"]'
                     f':not(.st-key-{MATRIX_ROW_KEY} [data-testid="stColumn"] *)'}


def inject() -> None:
    """Add the stylesheet to this run's page."""
    st.html(f"<style>{NARROW_SCREENS_CSS}</style>")


__all__ = ["MATRIX_ROW_KEY", "NARROW_BELOW_PX", "NARROW_SCREENS_CSS", "STEP_CARDS_KEY", "inject"]
