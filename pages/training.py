"""Training: start, pause, resume and stop runs; live curves; a plain reading of them; past runs.

The live part is a fragment that re-reads the run store every second while the run is alive. It
never touches Keras: the worker thread writes to the store, this page only reads it, so the
curves are whole again after a page switch or a browser reload.
"""

from __future__ import annotations

import streamlit as st

from cnn_core.curve_reading import read_run
from cnn_core.dataset_names import dataset_name
from cnn_core.i18n import _, ngettext
from cnn_core.model.presets import preset_name
from cnn_core.run_status import ERROR_STATUSES, RESULT_STATUSES
from components import state
from components.feedback import engine_errors
from components.language import column_labels
from components.navigation import run_inside_app
from components.run_charts import curves_figure
from components.run_controls import control_buttons, status_panel
from components.run_picker import RUNS_TABLE_COLUMNS, dataset_of, run_label, runs_table

READING_STYLES = {"error": st.error, "warning": st.warning, "info": st.info, "success": st.success}
READING_ICONS = {"error": ":material/error:", "warning": ":material/lightbulb:", "info": ":material/insights:",
                 "success": ":material/thumb_up:"}


def start_button(label: str = _("Start training")) -> None:
    """Queue the model builder's current settings on the sidebar's data set."""
    spec = st.session_state.get(state.MODEL_SPEC_KEY) or {}
    what = (ngettext("{count} epoch", "{count} epochs", spec["epochs"]) if spec.get("epochs")
            else _("the default settings"))
    if st.button(label, key="train_start", type="primary", icon=":material/play_arrow:",
                 help=_("Trains the model designed in the Model builder ({what}) on the data set chosen "
                        "in the sidebar.", what=what)):
        from components.launch import launch_run

        with engine_errors(_("Could not start training: ")):
            launch_run()
            st.rerun()


def live_view(run_id: str) -> None:
    """Status, curves, controls and their reading; polls every second while the run is alive.

    While the run is live the curves come first (right under the progress bar), so they are on
    screen without scrolling on a 1280x720 projector.
    """
    store = state.run_store()
    alive = store.get(run_id).is_active

    @st.fragment(run_every=1.0 if alive else None)
    def draw() -> None:
        run = store.get(run_id)
        if run.is_active != alive:  # it just started or ended: redraw the whole page once
            st.rerun()
        state.live_view_beat(run_id)
        model = run.config.get("model") or {}
        st.subheader(run.name or run.id)
        about = ngettext("Data set **{dataset}** · preset **{preset}** · {count} epoch of batches of {batch} "
                         "pictures · learning rate {rate}",
                         "Data set **{dataset}** · preset **{preset}** · {count} epochs of batches of {batch} "
                         "pictures · learning rate {rate}", run.epochs_planned,
                         dataset=dataset_name(dataset_of(run)), preset=preset_name(run.config.get("preset")),
                         batch=model.get("batch_size", "?"), rate=model.get("learning_rate", "?"))
        if not alive:
            st.caption(about)
            control_buttons(run)
        epochs = store.epochs(run_id)
        status_panel(run)
        reading = None
        if epochs:
            reading = read_run(store, run, epochs)
            st.plotly_chart(curves_figure(epochs, reading.best_epoch if len(epochs) > 1 else None),
                            config={"displayModeBar": False})
        else:
            st.caption(_("The loss and accuracy curves appear here after the first epoch."))
        if alive:
            control_buttons(run)
            st.caption(about)
        metrics(run, epochs[-1] if epochs else {})
        if reading is None:
            return
        st.caption(_("Solid lines: the training pictures; dashed lines: the validation pictures the model never "
                   "learns from. Good training: both losses go down and both accuracies go up, close together. "
                   "The dotted line marks the best epoch."))
        if run.status not in ERROR_STATUSES:
            READING_STYLES[reading.level](f"**{reading.headline}** {' '.join(reading.details)}",
                                          icon=READING_ICONS[reading.level])
        if run.status in RESULT_STATUSES and run.test_accuracy is not None:
            st.page_link("pages/evaluation.py", label=_("See what it gets right and wrong"), icon=":material/grid_on:")

    draw()


def metrics(run, last: dict) -> None:
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(_("Epochs done"), _("{done} of {planned}", done=run.epochs_done, planned=run.epochs_planned),
              help=_("An epoch is one pass over all the training pictures."))
    m2.metric(_("Training accuracy"), _pct(last.get("accuracy")),
              help=_("Share of the training pictures the model got right in the last epoch."))
    m3.metric(_("Validation accuracy"), _pct(last.get("val_accuracy")),
              help=_("Share of held-back pictures (never trained on) it got right: the honest score."))
    m4.metric(_("Test accuracy") if run.test_accuracy is not None else _("Best validation accuracy"),
              _pct(run.test_accuracy if run.test_accuracy is not None else run.best_val_accuracy),
              help=_("Test: pictures kept aside until training ended. Best validation: the top score in any epoch."))


def _pct(value) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def past_runs(shown_run_id: str, alive: bool) -> None:
    """The picker and table of all runs; refreshed with the live view while a run trains."""

    @st.fragment(run_every=2.0 if alive else None)
    def draw() -> None:
        if state.active_run_id() != shown_run_id:   # a run was opened here: redraw the page
            st.rerun(scope="app")
        store = state.run_store()
        runs = store.list_runs()
        if not runs:
            return
        st.subheader(_("All runs"))
        st.caption(_("Every model trained in this workspace, newest first. Open one to see its curves again."))
        by_id = {run.id: run for run in runs}
        active = state.active_run_id()
        if st.session_state.get("train_open") != active and active in by_id:
            st.session_state["train_open"] = active
        st.selectbox(_("Open a run"), list(by_id), key="train_open", format_func=lambda i: run_label(by_id[i]),
                     on_change=_open_chosen,
                     help=_("Shows that run's curves and results above. Training runs go on in the background."))
        st.session_state["train_table_ids"] = list(by_id)
        st.dataframe(table := runs_table(runs), hide_index=True, key="train_runs_table",
                     column_config=column_labels(table[0] if table else (), RUNS_TABLE_COLUMNS),
                     on_select=_open_selected_row, selection_mode="single-row", width="stretch")

    draw()


def _open_chosen() -> None:
    state.set_active_run(st.session_state["train_open"])


def _open_selected_row() -> None:
    rows = st.session_state["train_runs_table"].selection.rows
    ids = st.session_state.get("train_table_ids") or []
    if rows and rows[0] < len(ids):
        state.set_active_run(ids[rows[0]])


run_inside_app()
st.title(_("Training"))
st.caption(_("The model looks at the training pictures again and again, adjusting itself to make fewer "
           "mistakes. Here you follow it, epoch by epoch."))

run_id = state.active_run_id()
if run_id is None:
    st.info(_("No model has been trained yet. Start one with the model builder's settings, or design your "
            "own model first."), icon=":material/school:")
    start_button()
    st.page_link("pages/model_builder.py", label=_("Design a model in the Model builder"), icon=":material/account_tree:")
    st.stop()

with engine_errors():
    live_view(run_id)

run_alive = state.run_store().get(run_id).is_active
if not run_alive:
    st.divider()
    start_button(_("Train a new model"))
    st.caption(_("Uses the settings from the Model builder and the data set in the sidebar."))
past_runs(run_id, run_alive)
