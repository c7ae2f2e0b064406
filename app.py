"""CNN Lab: `streamlit run app.py`. Navigation over the pages and the sidebar they share."""

from __future__ import annotations

from pathlib import Path

import numpy  # noqa: F401 - imported by this thread before the TensorFlow warm-up thread starts
import streamlit as st

from cnn_core import engine_warmup, training_priority
from cnn_core.i18n import _
from components import narrow_screens, presentation, spec_query, state
from components.language import apply_language
from components.rerun_cleanup import keep_keras_session
from components.sidebar import render_sidebar

apply_language()  # before anything is drawn: every word below is in the session's language
# The tab icon is a file served by this server: a ":material/...:" icon would be fetched from Google's
# font server by the browser, so offline (a classroom) the tab would have none.
st.set_page_config(page_title=_("CNN Lab"), page_icon=Path(__file__).parent / "assets" / "favicon.png", layout="wide")
keep_keras_session()  # Streamlit would clear it after every rerun, under the training thread's feet
training_priority.install()  # TensorFlow's thread pools start niced, whoever imports it first

STARTING_TENSORFLOW = _("Starting TensorFlow… (only once; the first run takes ~10 s)")

PAGES = {
    "": [st.Page("pages/home.py", title=_("Home"), icon=":material/home:", default=True)],
    _("Steps"): [
        st.Page("pages/data.py", title=_("Data sets"), icon=":material/photo_library:"),
        st.Page("pages/augmentation.py", title=_("Augmentation"), icon=":material/auto_awesome:"),
        st.Page("pages/model_builder.py", title=_("Model builder"), icon=":material/account_tree:"),
        st.Page("pages/training.py", title=_("Training"), icon=":material/monitoring:"),
        st.Page("pages/evaluation.py", title=_("Evaluation"), icon=":material/grid_on:"),
        st.Page("pages/mistakes.py", title=_("Mistakes"), icon=":material/report:"),
        st.Page("pages/try_it.py", title=_("Try it"), icon=":material/draw:"),
        st.Page("pages/compare.py", title=_("Compare"), icon=":material/compare_arrows:"),
    ],
}

if engine_warmup.loading():  # never import pages (and TensorFlow) while the warm-up imports it
    with st.spinner(STARTING_TENSORFLOW):
        engine_warmup.wait()

page = st.navigation(PAGES)
state.forget_live_view()  # the Training page's live view beats again if this page draws one
spec_query.sync_with_url(page.url_path)  # the link's setup, read once per session, before the sidebar shows it
spec_query.write_url()   # the URL is the setup on screen: here too, as a page that calls st.stop() ends the run
render_sidebar()
narrow_screens.inject()  # a 1024 px projector: labels wrap instead of ending in "…", rows give way
presentation.render(page)  # ?present=1, its sidebar switch, projector CSS, the guided demo bar
page.run()
spec_query.write_url()   # what the page changed (e.g. "Use for training")
engine_warmup.start()  # after the first page is drawn: TensorFlow loads while the user reads it
