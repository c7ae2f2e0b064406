"""Evaluation: how a finished model does on its test pictures.

Test accuracy and loss, the confusion matrix (click a cell, or pick its two classes, to see the
pictures in it), per-class precision / recall / F1 and the most common mix-ups. Everything is
read from the run's stored test-set predictions: nothing is trained or predicted again here.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnn_core.evaluation import top_confused_pairs
from cnn_core.i18n import _, ngettext
from cnn_core.i18n_class_names import class_label
from components import state
from components.feedback import engine_errors
from components.image_grid import image_grid
from components.navigation import run_inside_app
from components.narrow_screens import MATRIX_ROW_KEY
from components.run_charts import clicked_cell, confusion_figure, per_class_figure
from components.run_picker import default_finished_run, pick_run
from components.run_results import finished_runs, run_evaluation, run_test_images

MAX_CELL_IMAGES = 36


def default_cell(ev) -> tuple[str, str]:
    pairs = top_confused_pairs(ev, 1)
    if len(pairs):
        return pairs.iloc[0]["true_name"], pairs.iloc[0]["predicted_name"]
    return ev.class_names[0], ev.class_names[0]


def forget_click() -> None:
    st.session_state.pop("eval_last_click", None)


run_inside_app()
st.title(_("Evaluation"))
st.caption(_("How well a trained model does on the test pictures: pictures kept aside, never seen while training."))

runs = finished_runs(state.run_store())
if not runs:
    st.info(_("No model has finished training yet, so there is nothing to evaluate. Train one first."),
            icon=":material/school:")
    st.page_link("pages/model_builder.py", label=_("Build and train a model"), icon=":material/account_tree:")
    st.page_link("pages/training.py", label=_("See training in progress"), icon=":material/monitoring:")
    st.stop()

run = pick_run(runs, key="eval_run", default_id=default_finished_run(runs, state.active_run_id()),
               memory="results_run",
               help=_("Only runs that finished (or were stopped) and tested their model are listed."))
ev = None
with engine_errors(_("The results of this run cannot be read: ")):
    ev = run_evaluation(run.id)
if ev is None:
    st.stop()
names = ev.class_names
cell_keys_ok = all(st.session_state.get(k) in names for k in ("eval_true", "eval_pred"))
if st.session_state.get("eval_for") != run.id or not cell_keys_ok:  # new run: start at its top mix-up
    st.session_state["eval_for"] = run.id
    st.session_state["eval_true"], st.session_state["eval_pred"] = default_cell(ev)
    forget_click()

n_test, n_wrong = len(ev.y_true), int((ev.y_true != ev.y_pred).sum())
m1, m2, m3, m4 = st.columns(4)
m1.metric(_("Test accuracy"), f"{ev.accuracy * 100:.1f}%", help=_("Share of test pictures the model labelled "
                                                                  "correctly."))
m2.metric(_("Test loss"), f"{ev.loss:.3f}", help=_("How unsure or wrong the model was on average (cross-entropy); "
                                              "lower is better, 0 would be perfect and certain."))
m3.metric(_("Test pictures"), f"{n_test:,}", help=_("Pictures the model never saw while training."))
m4.metric(_("Mistakes"), f"{n_wrong:,}", help=_("Test pictures it labelled wrongly. See them on the Mistakes page."))

st.subheader(_("Confusion matrix"))
st.caption(_("Each row is what a picture really is, each column what the model said. The diagonal holds the "
           "correct answers; everything else is a mix-up. Click a cell to see its pictures on the right."))
normalized = st.toggle(_("Show shares of each row instead of counts"), key="eval_normalize",
                       help=_("Shares make classes with few pictures easier to compare: each row adds up to 100%."))
click = clicked_cell(st.session_state.get("eval_confusion"))
if click is not None and click != st.session_state.get("eval_last_click"):
    st.session_state["eval_last_click"] = click
    st.session_state["eval_true"], st.session_state["eval_pred"] = names[click[0]], names[click[1]]
true_index, pred_index = names.index(st.session_state["eval_true"]), names.index(st.session_state["eval_pred"])
chart_column, cell_column = st.container(key=MATRIX_ROW_KEY).columns([1.25, 1], gap="large")  # stacked when narrow
chart_column.plotly_chart(
    confusion_figure(ev.confusion, names, normalized=normalized, selected=(true_index, pred_index)),
    key="eval_confusion", on_select="rerun", selection_mode="points", config={"displayModeBar": False})

with cell_column:
    st.markdown(_("**Pictures in one cell**"))
    c1, c2 = st.columns(2)
    c1.selectbox(_("True class"), names, key="eval_true", on_change=forget_click, format_func=class_label,
                 help=_("What the pictures really show (a row of the matrix)."))
    c2.selectbox(_("Predicted class"), names, key="eval_pred", on_change=forget_click, format_func=class_label,
                 help=_("What the model said they show (a column of the matrix)."))
    in_cell = np.flatnonzero((ev.y_true == true_index) & (ev.y_pred == pred_index))
    verb = _("correctly recognised as") if true_index == pred_index else _("mistaken for")
    st.caption(ngettext("{count} test picture of **{true}** {verb} **{predicted}**",
                        "{count} test pictures of **{true}** {verb} **{predicted}**", len(in_cell),
                        true=class_label(names[true_index]), verb=verb, predicted=class_label(names[pred_index]))
               + (_("; showing the first {count}.", count=MAX_CELL_IMAGES) if len(in_cell) > MAX_CELL_IMAGES else ".")
               + _(" Under each: how sure the model was."))
    if len(in_cell):
        images = None
        with engine_errors(_("The test pictures cannot be loaded: ")):
            images = run_test_images(run, n_test)
        if images is not None:
            shown = in_cell[:MAX_CELL_IMAGES]
            image_grid(images[shown], [_("{percent:.0f}% sure", percent=ev.confidence[i] * 100) for i in shown], columns=5,
                       min_side=64)

st.subheader(_("Scores per class"))
st.caption(_("Precision: when the model says this class, how often it is right. Recall: of the pictures of this "
           "class, how many it finds. F1 balances the two. Support: test pictures of the class."))
percent = st.column_config.NumberColumn(format="%.1f%%")
st.dataframe(ev.report.assign(**{k: ev.report[k] * 100 for k in ("precision", "recall", "f1")}), hide_index=True,
             key="eval_report", width="stretch", column_config={
                 "precision": percent, "recall": percent, "f1": st.column_config.NumberColumn("F1", format="%.1f%%"),
                 "support": st.column_config.NumberColumn(_("support (pictures)"))})
st.plotly_chart(per_class_figure(ev.report), key="eval_per_class", config={"displayModeBar": False})
st.caption(_("Short bars point at the classes the model finds hard."))

st.subheader(_("Most common mix-ups"))
pairs = top_confused_pairs(ev, 8)
if len(pairs):
    st.caption(_("The pairs of classes the model confuses most often. Share: of all test pictures of the true class."))
    st.dataframe(pairs[["true_name", "predicted_name", "count"]].assign(share=pairs["share"] * 100), hide_index=True,
                 key="eval_pairs", column_config={"true_name": _("true class"), "predicted_name": _("predicted as"),
                                                  "count": "pictures", "share": percent})
else:
    st.success(_("The model made no mistakes on the test pictures."), icon=":material/celebration:")
st.page_link("pages/mistakes.py", label=_("Look at every mistake"), icon=":material/report:")
