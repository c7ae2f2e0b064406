"""Compare: every run in one table; overlaid curves, the settings that differ, what one change did;
ensembles; MLP vs CNN; sweeps; sharing runs (export, import) and tidying them (rename, delete).
All read from the run store; only queueing MLP vs CNN and stopping a sweep use the training queue.
"""

from __future__ import annotations

import streamlit as st

from cnn_core import comparison
from cnn_core.dataset_names import dataset_name
from cnn_core.model.presets import preset_name
from cnn_core.evaluation import evaluate_ensemble
from cnn_core.i18n import N_, _
from cnn_core.run_config import split_damaged
from cnn_core.run_status import RESULT_STATUSES
from components import compare_charts, run_transfer, state
from components.feedback import engine_errors
from components.language import column_labels
from components.mlp_vs_cnn import mlp_vs_cnn_view
from components.navigation import run_inside_app
from components.run_charts import confusion_figure
from components.run_picker import STATUS_WORDS, comparable_runs, duration, percent, run_labels, visible_runs
from components.run_results import run_evaluation
from components.sweep_form import sweep_overview

SELECTED_KEY = "compare_runs"
NUMBER, PERCENT = st.column_config.NumberColumn, "%.1f%%"
TABLE_COLUMNS = {
    "test accuracy": NUMBER(format=PERCENT, help=_("Share of the test pictures (never seen in training) it got "
                                                   "right.")),
    "best validation accuracy": NUMBER(format=PERCENT, help=_("Its best score on the validation pictures.")),
    "training time (s)": NUMBER(format="%.0f", help=_("Seconds spent training.")),
    "learning rate": NUMBER(format="%g", help=_("How big each nudge of the weights was.")),
    "augmentation": st.column_config.CheckboxColumn(help=_("Trained on randomly changed copies of the pictures.")),
    "created": st.column_config.DatetimeColumn(format="D MMM HH:mm", help=_("When the run was queued.")),
}


def multiselect_filter(column, label: str, options, key: str, help: str, fmt=str):
    st.session_state[key] = [v for v in st.session_state.get(key, []) if v in options]
    return column.multiselect(label, sorted(options), key=key, format_func=fmt, help=help)


def filtered_table(table):
    c1, c2, c3 = st.columns(3)
    datasets = multiselect_filter(c1, _("Data set"), set(table["dataset"].dropna()), "compare_f_dataset",
                                  _("Show only runs trained on these data sets. Pick none to see all."), dataset_name)
    statuses = multiselect_filter(c2, _("Status"), set(table["status"]), "compare_f_status",
                                  _("Show only finished, stopped, training... runs. Pick none to see all."),
                                  lambda s: _(STATUS_WORDS.get(s, s)))
    presets = multiselect_filter(c3, _("Preset"), set(table["preset"].fillna("custom")), "compare_f_preset",
                                 _("The ready-made model a run started from (custom: built or changed by hand)."),
                                 lambda p: preset_name(None if p == "custom" else p))
    return compare_charts.filter_runs(table, datasets, statuses, presets)


def pick_runs(ids: list[str], by_id: dict) -> list[str]:
    if SELECTED_KEY not in st.session_state:  # two runs the Ensemble tab can combine, if there are any
        st.session_state[SELECTED_KEY] = comparable_runs([by_id[i] for i in ids])
    kept = [i for i in st.session_state[SELECTED_KEY] if i in by_id]
    st.session_state[SELECTED_KEY] = kept
    return st.multiselect(_("Runs to compare"), kept + [i for i in ids if i not in kept], key=SELECTED_KEY,
                          format_func=run_labels(by_id.values()).__getitem__,
                          help=_("Pick two or more runs to lay their curves over each other and combine them."))


def what_changed_card(store, a, b) -> None:
    old, new = sorted((a, b), key=lambda r: (r.created_at, r.id))
    change = comparison.what_changed(store, old.id, new.id)
    with st.container(border=True):
        st.markdown(_("**What changed** from “{old}” (older) to “{new}”", old=old.name, new=new.name))
        lines = [f"- {c.describe().replace(' -> ', ' → ')}" for c in change.changes]
        st.markdown("\n".join(lines) if lines else _("Same settings: any difference comes from chance alone."))
        m1, m2 = st.columns(2)
        acc, secs = change.test_accuracy_delta, change.train_seconds_delta
        m1.metric(_("Test accuracy"), percent(change.test_accuracy_b),
                  delta=None if acc is None else (_("{points:+.1f} points", points=acc * 100)
                                                  + (_(" · no real difference") if change.noise_note else "")),
                  delta_color="off" if change.noise_note else "normal",
                  help=_("The newer run's score on the test pictures, and how much it moved."))
        m2.metric(_("Training time"), duration(change.train_seconds_b), delta_color="inverse",
                  delta=None if secs is None or abs(secs) < 0.5 else f"{secs:+.0f} s",
                  help=_("The newer run's training time; shorter (green) is cheaper."))
        if change.noise_note:
            st.caption(_("Test accuracy: {note}; the test set is too small to tell these runs apart.", note=change.noise_note))


def parallel_chart(table, by_id: dict) -> None:
    scored = table[table["test_accuracy"].notna()]
    configs = [by_id[i].config for i in scored["run_id"]]
    settings = comparison.differing_settings(configs)
    if len(scored) < 2 or not settings:
        st.caption(_("The settings chart needs two or more tested runs with different settings in the table."))
        return
    st.plotly_chart(compare_charts.parallel_figure(configs, settings, scored["test_accuracy"].tolist()),
                    key="compare_parallel", config={"displayModeBar": False})
    st.caption(_("Each line is one run of the table, passing through its settings (only those that differ) to its "
               "test accuracy on the right; brighter lines scored higher. Drag along an axis to pick out runs."))


def ensemble_view(store, members) -> None:
    with engine_errors(_("These runs cannot be combined: ")):
        singles = {m.name: run_evaluation(m.id) for m in members}  # cached; their class names are checked
        ev = evaluate_ensemble(store, [m.id for m in members], class_names=next(iter(singles.values())).class_names)
        scores = {name: single.accuracy for name, single in singles.items()}
        best = max(scores.values())
        st.metric(_("Ensemble test accuracy"), f"{ev.accuracy * 100:.1f}%",
                  delta=_("{points:+.1f} points vs the best member", points=(ev.accuracy - best) * 100),
                  help=_("Averages the members' answers for every test picture."))
        st.dataframe([{"member": n, "test accuracy": 100 * a} for n, a in scores.items()], hide_index=True,
                     key="compare_members", column_config=column_labels([N_("member"), "test accuracy"], TABLE_COLUMNS))
        st.plotly_chart(confusion_figure(ev.confusion, ev.class_names), key="compare_ensemble_confusion",
                        config={"displayModeBar": False})
        st.caption(_("The ensemble's mix-ups: rows are what a picture really is, columns what the ensemble said."))


run_inside_app()
st.title(_("Compare runs"))
st.caption(_("Put runs side by side to see which settings helped, and by how much."))
run_transfer.show_note()
store = state.run_store()
runs, damaged = split_damaged(visible_runs(store.list_runs()))   # one bad run must not hide the others
run_transfer.damaged_runs(store, damaged)
if not runs:
    st.info(_("No runs yet, so there is nothing to compare. Train a model first, or import a run someone "
            "shared with you."), icon=":material/school:")
    st.page_link("pages/model_builder.py", label=_("Design and train a model"), icon=":material/account_tree:")
    run_transfer.import_form(store)
    st.stop()

by_id = {run.id: run for run in runs}
tab_runs, tab_ensemble, tab_mlp, tab_sweeps, tab_share = st.tabs(
    [_("Runs"), _("Ensemble"), _("MLP vs CNN"), _("Sweeps"), _("Share and tidy up")])
with tab_runs:
    table = filtered_table(comparison.runs_table(store, [run.id for run in runs]))
    if table.empty:
        st.info(_("No run matches these filters."), icon=":material/filter_alt_off:")
    st.dataframe(shown := compare_charts.display_table(table), key="compare_table",
                 column_config=column_labels(shown.columns, TABLE_COLUMNS),
                 hide_index=True, width="stretch")
    st.caption(_("Every run of this workspace, newest first. Click a column header to sort."))
    chosen = pick_runs(list(table["run_id"]), by_id)
    if chosen:
        curves = [(by_id[i].name, store.epochs(i)) for i in chosen]
        st.plotly_chart(compare_charts.overlay_curves_figure(curves), key="compare_curves",
                        config={"displayModeBar": False})
        st.caption(_("One colour per run. Solid lines: training pictures; dashed: validation pictures the model "
                   "never learns from. Higher accuracy and lower loss are better."))
    else:
        st.info(_("Pick runs above to see their curves side by side."), icon=":material/touch_app:")
    if len(chosen) == 2:
        what_changed_card(store, by_id[chosen[0]], by_id[chosen[1]])
    st.subheader(_("Which settings matter"))
    parallel_chart(table, by_id)
with tab_ensemble:
    st.caption(_("An ensemble averages the answers of several models; together they often beat each one alone."))
    members = [by_id[i] for i in chosen if by_id[i].status in RESULT_STATUSES and store.has_predictions(i)]
    if len(members) < 2:
        st.info(_("Pick two or more finished runs on the same data set in the Runs tab."), icon=":material/group_work:")
    else:
        ensemble_view(store, members)
with tab_mlp:
    mlp_vs_cnn_view(store)
with tab_sweeps:
    st.caption(_("A sweep trains several versions of one model that differ in one or two settings."))
    sweep_overview(store)
with tab_share:
    run_transfer.transfer_section(store, runs, chosen[0] if chosen else None)
