"""Buttons that steer a run (pause, resume, stop, resume an interrupted run) and its live status.

Buttons act in ``on_click`` callbacks, so the redraw that follows already shows the new status.
Errors from the engine (e.g. pausing a run that just finished) are kept in session state and
shown once, in plain language, next to the buttons.
"""

from __future__ import annotations

import sys

import streamlit as st

from cnn_core.errors import CnnLabError
from cnn_core.i18n import N_, _, ngettext
from cnn_core.run_status import ERROR_STATUSES, STEERABLE_STATUSES, Phase, RunStatus
from cnn_core.run_record import RunRecord
from cnn_core.time_limit import fit_words
from components import state
from components.run_picker import STATUS_WORDS, duration
from components.session_identity import started_by, starter

ERROR_KEY = "train_control_error"
#: Shown at once when a run is queued and nothing trains before it.
STARTING_TEXT = N_("Starting training… the first curve point comes after the first epoch (~10 s for a first model).")


def _act(action: str, run_id: str) -> None:
    state.note_run_control_click()
    try:
        queue = state.job_queue()
        me = starter()   # the queue itself refuses to steer another session's run
        if action == "resume_interrupted":
            queue.wait(run_id, timeout=10)  # a just-stopped run leaves the queue a moment after its status
            queue.resume_interrupted(run_id, starter=me)
            state.set_active_run(run_id)
        else:
            getattr(queue, action)(run_id, starter=me)
    except CnnLabError as error:
        st.session_state[ERROR_KEY] = str(error)
    except Exception as error:  # noqa: BLE001 - the page must keep working
        st.session_state[ERROR_KEY] = _("Something went wrong that CNN Lab did not expect: {error}", error=error)


def control_buttons(run: RunRecord) -> None:
    """Pause / Continue / Stop for a live run, Resume for a stopped or interrupted one (only for
    runs this session may steer: its own and those no browser session started)."""
    buttons = []
    if started_by(run):   # another session's shared run: look, do not touch
        return
    if run.status == RunStatus.RUNNING:
        buttons.append((_("Pause"), "pause", "train_pause", ":material/pause:",
                        _("Holds training after the current batch; nothing is lost. Continue whenever you like.")))
    if run.status == RunStatus.PAUSED:
        buttons.append((_("Continue"), "resume_paused", "train_continue", ":material/play_arrow:",
                        _("Goes on training exactly where it paused.")))
    if run.status in STEERABLE_STATUSES:
        buttons.append((_("Stop"), "stop", "train_stop", ":material/stop:",
                        _("Ends training early. The epochs already done are kept and the model is tested "
                        "so you can still look at its results.")))
    if run.can_resume:
        buttons.append((_("Resume training"), "resume_interrupted", "train_resume", ":material/replay:",
                        ngettext("Trains the remaining {count} epoch, starting from the last saved epoch.",
                                 "Trains the remaining {count} epochs, starting from the last saved epoch.",
                                 run.epochs_planned - run.epochs_done)))
    if buttons:
        for column, (label, action, key, icon, help_text) in zip(st.columns(len(buttons) + 2), buttons):
            column.button(label, key=key, icon=icon, help=help_text, on_click=_act, args=(action, run.id),
                          width="stretch", type="primary" if action == "resume_interrupted" else "secondary")
    error = st.session_state.pop(ERROR_KEY, None)
    if error:
        st.error(error, icon=":material/error:")


def queue_place(run: RunRecord) -> int:
    """How many runs train or wait before ``run`` (0 = it is next)."""
    store = state.run_store()
    busy = store.list_runs(status=(RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.STOPPING))
    if "cnn_core.training" in sys.modules:  # the queue knows best; never import TensorFlow just for this
        position = state.job_queue().position(run.id)
        if position > 0:
            return position - 1 + len(busy)
    waiting = sorted(store.list_runs(status=RunStatus.QUEUED), key=lambda r: (r.created_at, r.id))
    ahead = [r for r in waiting if (r.created_at, r.id) < (run.created_at, run.id)]
    return len(ahead) + len(busy)


def time_left_text(run: RunRecord) -> str:
    """The engine's time-left estimate in words: "about 1 min 05 s left", or "estimating…"."""
    left = run.live_progress.seconds_left
    return _("estimating time left…") if left is None else _("about {time} left in training", time=duration(left))


def status_panel(run: RunRecord) -> None:
    """What the run is doing now: place in the queue, a progress bar with time left, or how it ended."""
    progress = run.live_progress
    phase = progress.phase
    done, planned = run.epochs_done, run.epochs_planned
    if run.status == RunStatus.QUEUED:
        ahead = queue_place(run)
        place = state.job_queue().place(run.id) if "cnn_core.training" in sys.modules else None
        where = place.text() if place is not None and place.place > 0 else ngettext(
            "waiting in line, {count} run before this one", "waiting in line, {count} runs before this one", ahead)
        st.info(_("{where}. It starts by itself when its turn comes.", where=where[:1].upper() + where[1:])
                if ahead else _(STARTING_TEXT), icon=":material/schedule:")
    elif run.is_active:
        if run.status == RunStatus.PAUSED:
            st.info(_("Paused. Press Continue to go on, or Stop to end training here."), icon=":material/pause_circle:")
        elif run.status == RunStatus.STOPPING:
            st.warning(ngettext("Stopping after the current batch ({count} epoch done so far)…",
                                "Stopping after the current batch ({count} epochs done so far)…", done),
                       icon=":material/stop_circle:")
        if phase == Phase.LOADING_DATA:
            st.progress(min(1.0, float(progress.fraction or 0.0)), text=_("Starting: loading the pictures…"))
        elif phase in (Phase.BUILDING_MODEL, Phase.LOADING_CHECKPOINT):
            st.progress(0.0, text=_("Starting: building the model…") if phase == Phase.BUILDING_MODEL
                        else _("Starting: loading the last saved epoch…"))
        elif phase == Phase.TIMING:
            st.progress(0.0, text=_("Starting: timing a few batches to fit the epochs to the time limit…"))
        elif phase in (Phase.EVALUATING, Phase.SAVING):
            st.progress(1.0, text=_("Testing the trained model on the test pictures…")
                        if phase == Phase.EVALUATING else _("Saving the model…"))
        else:
            batches, batch = progress.batches, progress.batch
            epoch = progress.epoch or done + 1
            text = _("Epoch {epoch} of {planned}", epoch=epoch, planned=planned or progress.epochs or "?")
            if batches:
                text += _(" · batch {batch} of {batches}", batch=batch, batches=batches)
            if batch == 0 and not done and run.status == RunStatus.RUNNING:
                text = (_("Starting: ") + text + _(" · the first batch takes longest while TensorFlow "
                        "prepares the model"))
            if run.status == RunStatus.RUNNING and (batch or done):
                text += " · " + time_left_text(run)
            st.progress(min(1.0, batch / batches) if batches else 0.0, text=text)
        st.caption(_("The bar fills once per epoch (one pass over all training pictures). Training goes on "
                   "if you open other pages or close this tab."))
        if run.config.get("time_limit_fit"):
            st.caption(fit_words(run.config["time_limit_fit"]))
    elif run.status == RunStatus.FINISHED:
        # runs of older versions stored their usual words in English: said again in the session's language
        plain = not run.message or run.message in (f"Trained {done} epoch.", f"Trained {done} epochs.")
        message = ngettext("Trained {count} epoch.", "Trained {count} epochs.", done) if plain else run.shown_message
        st.success(_("Finished: {message} Training took {time}.", message=message, time=duration(run.train_seconds)),
                   icon=":material/check_circle:")
    elif run.status == RunStatus.STOPPED:
        st.info(ngettext("Stopped after {count} epoch (of {planned}). ", "Stopped after {count} epochs (of "
                                                                         "{planned}). ",
                         done, planned=planned)
                + (_("You can resume it to train the rest.") if run.can_resume else ""), icon=":material/stop_circle:")
    elif run.status in ERROR_STATUSES:
        st.error(run.shown_message if run.message else _("Training {status}.", status=_(STATUS_WORDS.get(run.status, run.status))),
                 icon=":material/error:")
    elif run.status == RunStatus.INTERRUPTED:
        st.warning(run.shown_message if run.message else _("Training was cut off."), icon=":material/history:")
