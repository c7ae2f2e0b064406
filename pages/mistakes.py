"""Mistakes: the test pictures a finished model got wrong, filtered and ordered, one up close.

Read from the run's stored test-set predictions and the cached data set; nothing is predicted again,
except the heatmaps of "Why did it say that?", which run the saved model on the one picture chosen.
"""

from __future__ import annotations

import streamlit as st

from cnn_core.evaluation import mistakes
from cnn_core.i18n import _, ngettext
from cnn_core.i18n_class_names import class_label
from cnn_core.image_stats import for_display
from components import state
from components.explain_view import explain_picture
from components.feedback import engine_errors
from components.image_grid import image_grid
from components.navigation import run_inside_app
from components.run_charts import probability_figure
from components.run_picker import default_finished_run, pick_run
from components.run_results import filter_mistakes, finished_runs, run_evaluation, run_test_images

PAGE_SIZES = (12, 24, 48, 96)
ORDERS = {"confident": _("Most confident first"), "random": _("Random")}


def caption(row) -> str:
    return f"{class_label(row.true_name)} → {class_label(row.predicted_name)} ({row.confidence * 100:.0f}%)"


def reshuffle() -> None:
    st.session_state["mis_seed"] = st.session_state.get("mis_seed", 0) + 1


run_inside_app()
st.title(_("Mistakes"))
st.caption(_("The test pictures the model labelled wrongly. Looking at them often shows why: blurry pictures, "
           "look-alike classes, or even wrong labels in the data."))

runs = finished_runs(state.run_store())
if not runs:
    st.info(_("No model has finished training yet, so there are no mistakes to look at. Train one first."),
            icon=":material/school:")
    st.page_link("pages/model_builder.py", label=_("Build and train a model"), icon=":material/account_tree:")
    st.stop()

run = pick_run(runs, key="mis_run", default_id=default_finished_run(runs, state.active_run_id()),
               memory="results_run",
               help=_("Only runs that finished (or were stopped) and tested their model are listed."))
ev = images = None
with engine_errors(_("The results of this run cannot be read: ")):
    ev = run_evaluation(run.id)
    images = run_test_images(run, len(ev.y_true))
if ev is None:
    st.stop()
table = mistakes(ev)
if table.empty:
    st.success(_("No mistakes: the model labelled all {count:,} test pictures correctly.", count=len(ev.y_true)),
               icon=":material/celebration:")
    st.stop()

names = ev.class_names
with st.container(border=True):
    c1, c2, c3 = st.columns([1, 1, 1.2])
    true_names = c1.multiselect(_("True class"), names, key="mis_true", placeholder=_("all classes"), format_func=class_label,
                                help=_("Show only pictures that really are one of these classes. Empty: all."))
    predicted_names = c2.multiselect(_("Predicted as"), names, key="mis_pred", placeholder=_("all classes"),
                                     format_func=class_label,
                                     help=_("Show only pictures the model took for one of these classes. Empty: all."))
    confidence = c3.slider(_("Model's confidence (%)"), 0, 100, (0, 100), key="mis_conf",
                           help=_("How sure the model was of its wrong answer. High confidence mistakes are the "
                                "most surprising ones."))
    c4, c5, c6 = st.columns([1.2, 0.8, 1.2])
    order = c4.radio(_("Order"), list(ORDERS), format_func=ORDERS.get, key="mis_order", horizontal=True,
                     help=_("Most confident first puts the model's surest wrong answers on top."))
    c5.button(_("Shuffle"), key="mis_shuffle", icon=":material/shuffle:", on_click=reshuffle,
              disabled=order != "random", help=_("Shows the mistakes in a new random order."))
    count = c6.select_slider(_("Pictures to show"), PAGE_SIZES, value=24, key="mis_count",
                             help=_("How many mistakes to show at once."))

shown = filter_mistakes(table, true_names=true_names, predicted_names=predicted_names, confidence=confidence,
                        order=order, seed=st.session_state.get("mis_seed", 0))
page = shown.head(count)
st.caption(ngettext("{count} of {total} mistake matches the filters", "{count} of {total} mistakes match the filters",
                    len(table), count=len(shown), total=len(table))
           + (_("; showing {count}.", count=len(page)) if len(shown) > len(page) else ".")
           + _(" Each caption reads: true class → what the model said (how sure it was)."))
if page.empty:
    st.info(_("No mistakes match these filters. Widen the confidence range or clear a class filter."),
            icon=":material/filter_alt_off:")
    st.stop()
if images is not None:
    image_grid(images[page["index"].to_numpy()], [caption(row) for row in page.itertuples()], columns=8,
               min_side=72)

st.subheader(_("Look closer"))
rows = {int(row.index): row for row in page.itertuples()}
picked = st.selectbox(_("Picture"), list(rows), key="mis_pick",
                      format_func=lambda i: _("test picture {number}: {caption}", number=i, caption=caption(rows[i])),
                      help=_("Pick one of the pictures above to see it large with every class's probability."))
row = rows[picked]
left, right = st.columns([1, 1.6], gap="large")
if images is not None:
    left.image(for_display(images[picked], 256), caption=caption(row), width="stretch")
with right:
    st.plotly_chart(probability_figure(ev.probs[picked], names, true_index=int(row.true)), key="mis_probs",
                    config={"displayModeBar": False})
    st.caption(_("How likely the model found each class. It chose **{predicted}** ({confidence:.0f}%); the right "
                 "answer, **{true}**, got {probability:.0f}%.", predicted=class_label(row.predicted_name),
                 confidence=row.confidence * 100, true=class_label(row.true_name),
                 probability=row.true_probability * 100))
if images is not None:
    explain_picture(run, images[picked], int(row.true), int(row.predicted), names)
