"""Mistakes: the test pictures a finished model got wrong, filtered and ordered, one up close.

Read from the run's stored test-set predictions and the cached data set; nothing is predicted again,
except the heatmaps of "Why did it say that?", which run the saved model on the one picture chosen.
"""

from __future__ import annotations

import streamlit as st

from cnn_core.evaluation import mistakes
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
ORDERS = {"confident": "Most confident first", "random": "Random"}


def caption(row) -> str:
    return f"{row.true_name} → {row.predicted_name} ({row.confidence * 100:.0f}%)"


def reshuffle() -> None:
    st.session_state["mis_seed"] = st.session_state.get("mis_seed", 0) + 1


run_inside_app()
st.title("Mistakes")
st.caption("The test pictures the model labelled wrongly. Looking at them often shows why: blurry pictures, "
           "look-alike classes, or even wrong labels in the data.")

runs = finished_runs(state.run_store())
if not runs:
    st.info("No model has finished training yet, so there are no mistakes to look at. Train one first.",
            icon=":material/school:")
    st.page_link("pages/model_builder.py", label="Build and train a model", icon=":material/account_tree:")
    st.stop()

run = pick_run(runs, key="mis_run", default_id=default_finished_run(runs, state.active_run_id()),
               memory="results_run",
               help="Only runs that finished (or were stopped) and tested their model are listed.")
ev = images = None
with engine_errors("The results of this run cannot be read: "):
    ev = run_evaluation(run.id)
    images = run_test_images(run, len(ev.y_true))
if ev is None:
    st.stop()
table = mistakes(ev)
if table.empty:
    st.success(f"No mistakes: the model labelled all {len(ev.y_true):,} test pictures correctly.",
               icon=":material/celebration:")
    st.stop()

names = ev.class_names
with st.container(border=True):
    c1, c2, c3 = st.columns([1, 1, 1.2])
    true_names = c1.multiselect("True class", names, key="mis_true", placeholder="all classes",
                                help="Show only pictures that really are one of these classes. Empty: all.")
    predicted_names = c2.multiselect("Predicted as", names, key="mis_pred", placeholder="all classes",
                                     help="Show only pictures the model took for one of these classes. Empty: all.")
    confidence = c3.slider("Model's confidence (%)", 0, 100, (0, 100), key="mis_conf",
                           help="How sure the model was of its wrong answer. High confidence mistakes are the "
                                "most surprising ones.")
    c4, c5, c6 = st.columns([1.2, 0.8, 1.2])
    order = c4.radio("Order", list(ORDERS), format_func=ORDERS.get, key="mis_order", horizontal=True,
                     help="Most confident first puts the model's surest wrong answers on top.")
    c5.button("Shuffle", key="mis_shuffle", icon=":material/shuffle:", on_click=reshuffle,
              disabled=order != "random", help="Shows the mistakes in a new random order.")
    count = c6.select_slider("Pictures to show", PAGE_SIZES, value=24, key="mis_count",
                             help="How many mistakes to show at once.")

shown = filter_mistakes(table, true_names=true_names, predicted_names=predicted_names, confidence=confidence,
                        order=order, seed=st.session_state.get("mis_seed", 0))
page = shown.head(count)
st.caption(f"{len(shown)} of {len(table)} mistakes match the filters"
           + (f"; showing {len(page)}." if len(shown) > len(page) else ".")
           + " Each caption reads: true class → what the model said (how sure it was).")
if page.empty:
    st.info("No mistakes match these filters. Widen the confidence range or clear a class filter.",
            icon=":material/filter_alt_off:")
    st.stop()
if images is not None:
    image_grid(images[page["index"].to_numpy()], [caption(row) for row in page.itertuples()], columns=8,
               min_side=72)

st.subheader("Look closer")
rows = {int(row.index): row for row in page.itertuples()}
picked = st.selectbox("Picture", list(rows), key="mis_pick",
                      format_func=lambda i: f"test picture {i}: {caption(rows[i])}",
                      help="Pick one of the pictures above to see it large with every class's probability.")
row = rows[picked]
left, right = st.columns([1, 1.6], gap="large")
if images is not None:
    left.image(for_display(images[picked], 256), caption=caption(row), width="stretch")
with right:
    st.plotly_chart(probability_figure(ev.probs[picked], names, true_index=int(row.true)), key="mis_probs",
                    config={"displayModeBar": False})
    st.caption(f"How likely the model found each class. It chose **{row.predicted_name}** "
               f"({row.confidence * 100:.0f}%); the right answer, **{row.true_name}**, got "
               f"{row.true_probability * 100:.0f}%.")
if images is not None:
    explain_picture(run, images[picked], int(row.true), int(row.predicted), names)
