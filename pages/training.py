"""Training: start, pause, resume and stop runs; live curves; a plain reading of them; past runs.

Everything under the title is one fragment that re-reads the run store every 2 s while the run is
alive (:mod:`cnn_core.poll_intervals`), so the live panel and the "All runs" table are drawn from
the same reading and always agree. It never touches Keras: the worker thread writes to the store,
this page only reads it, so the curves are whole again after a page switch or a browser reload.
A poll reuses the curve figure and the table while what they show is unchanged.

When the run ends, the fragment draws the new state itself (no ``st.rerun`` from the polling
fragment's timer: a rerun of the app fired from a timer while the page was being redrawn once left
the browser with "Bad delta path index" and an empty page). It asks the sidebar's polling for one
full redraw (:func:`components.state.ask_page_redraw`), which also stops the polling; if the live
view ever stops drawing, the sidebar's stall check reruns the page (item 12 of issue 10). An ended
run's view does not poll: it runs again only for a click in it, and reruns the page itself when
that click resumed the run. A paused run's view polls every 10 s; a click on Pause or Continue
reruns the page at once, so the view and the sidebar's card poll at the new rate; a pause or a
continue seen by the timer (from another tab or the command line) asks for the redraw instead.
"""

from __future__ import annotations

import streamlit as st

from cnn_core.curve_reading import read_run
from cnn_core.i18n import _
from cnn_core.poll_intervals import live_view_seconds
from cnn_core.run_status import ERROR_STATUSES, RESULT_STATUSES
from components import state
from components.feedback import engine_errors
from components.language import column_labels
from components.navigation import run_inside_app
from components.run_charts import shared_curves_figure
from components.run_controls import control_buttons, status_panel
from components.run_picker import RUNS_TABLE_COLUMNS, runs_table, started_by, visible_runs, when
from components.run_settings import next_run_summary, run_summary, settings_expander
from components.session_identity import share_run_toggle

READING_STYLES = {"error": st.error, "warning": st.warning, "info": st.info, "success": st.success}
READING_ICONS = {"error": ":material/error:", "warning": ":material/lightbulb:", "info": ":material/insights:",
                 "success": ":material/thumb_up:"}


def start_button(label: str | None = None) -> None:
    """Queue the setup on screen (the model builder's settings, the augmentation used for training,
    the sidebar's data set), said in one line under the button."""
    from components.launch import current_augment_spec
    from components.spec_form import stored_spec

    spec = stored_spec()
    if st.button(label or _("Start training"), key="train_start", type="primary", icon=":material/play_arrow:",
                 help=_("Trains the model designed in the Model builder ({epochs} epochs) on the data set chosen "
                        "in the sidebar, with the augmentation chosen for training.", epochs=spec["epochs"])):
        from components.launch import launch_run

        with engine_errors(_("Could not start training: ")):
            launch_run()
            st.rerun()
    with engine_errors():
        st.caption(next_run_summary(state.dataset_id(), spec, st.session_state.get(state.PRESET_KEY),
                                    current_augment_spec().to_dict()))


def training_view(run_id: str) -> None:
    """The followed run (status, curves, controls, reading, settings) and all runs; polls every
    2 s while the run trains, every 10 s while it is paused
    (:func:`cnn_core.poll_intervals.live_view_seconds`).

    While the run is live the curves come first (right under the progress bar), so they are on
    screen without scrolling on a 1280x720 projector.
    """
    store = state.run_store()
    seconds = live_view_seconds(store.get(run_id))
    alive = seconds is not None

    @st.fragment(run_every=seconds)
    def draw() -> None:
        if state.active_run_id() != run_id:   # another run was opened here (a click, not the timer)
            st.rerun(scope="app")
        runs = visible_runs(store.list_runs())  # one reading for the live panel and the table: this
                                                # session's runs first, then those shared with it
        by_id = {run.id: run for run in runs}
        run = by_id.get(run_id) or store.get(run_id)
        now, clicked = live_view_seconds(run), state.run_control_clicked()
        if run.is_active and now != seconds and (clicked or not alive):
            st.rerun(scope="app")             # resumed, paused or continued by a click here: the
                                              # page run makes the view and the card poll at the
                                              # rate that fits (not alive: no timer runs this view)
        if now != seconds:                    # it ended, or paused / continued elsewhere: drawn
            state.ask_page_redraw()           # below as it is now, the new rate with the redraw
        state.live_view_beat(run_id)
        with engine_errors():
            run_panel(store, run)
        if not run.is_active:
            st.divider()
            start_button(_("Train a new model"))
        past_runs(runs, by_id)

    draw()


def run_panel(store, run) -> None:
    """Status, curves (first while live), controls, metrics, the reading and every setting."""
    alive = run.is_active
    st.subheader(run.name or run.id)
    if not alive:
        st.caption(run_summary(run))
        control_buttons(run)
        share_run_toggle(run, store)
    epochs = store.epochs(run.id)
    status_panel(run)
    reading = None
    if epochs:
        reading = read_run(store, run, epochs)
        st.plotly_chart(shared_curves_figure(epochs, reading.best_epoch if len(epochs) > 1 else None),
                        key="train_curves", config={"displayModeBar": False})
    else:
        st.caption(_("The loss and accuracy curves appear here after the first epoch."))
    if alive:
        control_buttons(run)
        st.caption(run_summary(run))
    metrics(run, epochs[-1] if epochs else {})
    settings_expander(run)
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


def past_runs(runs, by_id: dict) -> None:
    """The picker and table of all runs (drawn inside :func:`training_view`'s fragment)."""
    if not runs:
        return
    st.subheader(_("All runs"))
    st.caption(_("Every model trained in this workspace, newest first. Open one to see its curves again."))
    active = state.active_run_id()
    if st.session_state.get("train_open") != active and active in by_id:
        st.session_state["train_open"] = active
    labels = {run.id: " · ".join(part for part in (run.name or run.id, started_by(run), when(run.created_at)) if part)
              for run in runs}  # made here: format_func may be called outside the script run
    # Labels that never change (name and start): the browser keeps showing a selectbox's old label
    # while its value stays the same, so a status in it ("stopping") went stale under the panel.
    st.selectbox(_("Open a run"), list(by_id), key="train_open", on_change=_open_chosen,
                 format_func=labels.__getitem__,
                 help=_("Shows that run's curves and results above (its status and scores are in the table "
                        "below). Training runs go on in the background."))
    st.session_state["train_table_ids"] = list(by_id)
    st.dataframe(table := runs_table(runs), hide_index=True, key="train_runs_table",
                 column_config=column_labels(table[0] if table else (), RUNS_TABLE_COLUMNS),
                 on_select=_open_selected_row, selection_mode="single-row", width="stretch")


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
    training_view(run_id)
