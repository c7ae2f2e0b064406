"""Buttons that steer a run (pause, resume, stop, resume an interrupted run) and its live status.

Buttons act in ``on_click`` callbacks, so the redraw that follows already shows the new status.
Errors from the engine (e.g. pausing a run that just finished) are kept in session state and
shown once, in plain language, next to the buttons.
"""

from __future__ import annotations

import sys

import streamlit as st

from cnn_core.errors import CnnLabError
from cnn_core.runs import RunRecord
from components import state
from components.run_picker import duration

ERROR_KEY = "train_control_error"


def _act(action: str, run_id: str) -> None:
    try:
        queue = state.job_queue()
        if action == "resume_interrupted":
            queue.wait(run_id, timeout=10)  # a just-stopped run leaves the queue a moment after its status
            queue.resume_interrupted(run_id)
            state.set_active_run(run_id)
        else:
            getattr(queue, action)(run_id)
    except CnnLabError as error:
        st.session_state[ERROR_KEY] = str(error)
    except Exception as error:  # noqa: BLE001 - the page must keep working
        st.session_state[ERROR_KEY] = f"Something went wrong that CNN Lab did not expect: {error}"


def control_buttons(run: RunRecord) -> None:
    """Pause / Continue / Stop for a live run, Resume for a stopped or interrupted one."""
    buttons = []
    if run.status == "running":
        buttons.append(("Pause", "pause", "train_pause", ":material/pause:",
                        "Holds training after the current batch; nothing is lost. Continue whenever you like."))
    if run.status == "paused":
        buttons.append(("Continue", "resume_paused", "train_continue", ":material/play_arrow:",
                        "Goes on training exactly where it paused."))
    if run.status in ("queued", "running", "paused"):
        buttons.append(("Stop", "stop", "train_stop", ":material/stop:",
                        "Ends training early. The epochs already done are kept and the model is tested "
                        "so you can still look at its results."))
    if run.can_resume:
        buttons.append(("Resume training", "resume_interrupted", "train_resume", ":material/replay:",
                        f"Trains the remaining {run.epochs_planned - run.epochs_done} epoch(s), starting "
                        "from the last saved epoch."))
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
    busy = store.list_runs(status=("running", "paused", "stopping"))
    if "cnn_core.training" in sys.modules:  # the queue knows best; never import TensorFlow just for this
        position = state.job_queue().position(run.id)
        if position > 0:
            return position - 1 + len(busy)
    waiting = sorted(store.list_runs(status=("queued",)), key=lambda r: (r.created_at, r.id))
    ahead = [r for r in waiting if (r.created_at, r.id) < (run.created_at, run.id)]
    return len(ahead) + len(busy)


def estimate_seconds_left(epochs_planned: int, epoch_seconds: list[float], batch: int, batches: int,
                          batches_per_second: float | None) -> float | None:
    """Seconds until the last epoch ends, or None while there is nothing to base a guess on.

    The first epoch is slow (TensorFlow prepares the model during its first batches), so its
    duration is only used when it is the only one; within an epoch the recent batch rate is used.
    """
    done = len(epoch_seconds)
    steady = [s for s in epoch_seconds[1:] if s] or [s for s in epoch_seconds if s]
    per_epoch = sorted(steady)[len(steady) // 2] if steady else None
    if batches_per_second and batches_per_second > 0 and batches:
        in_epoch_left = max(0, batches - batch) / batches_per_second
        if per_epoch is None or done < 2:
            per_epoch = batches / batches_per_second
    elif per_epoch is not None and batches:
        in_epoch_left = (1 - min(batch, batches) / batches) * per_epoch
    else:
        return None
    later_epochs = max(0, epochs_planned - done - 1)
    return in_epoch_left + later_epochs * per_epoch


def _batch_rate(run: RunRecord) -> float | None:
    """Batches per second over the last ~10 s this session watched (None until it has seen two points)."""
    progress = run.progress or {}
    if progress.get("phase") != "training" or run.status != "running":
        return None
    epoch, batch, batches = progress.get("epoch") or 0, progress.get("batch") or 0, progress.get("batches") or 0
    at = float(progress.get("updated_at") or 0)
    history = st.session_state.setdefault("train_rate_history", {}).setdefault(run.id, [])
    point = (at, epoch * max(batches, 1) + batch)
    if not history or history[-1][0] != at:
        history.append(point)
    del history[:-12]
    recent = [(t, b) for t, b in history if at - t <= 10 and b > 0]
    if len(recent) < 2 or recent[-1][0] - recent[0][0] < 1.0 or recent[-1][1] <= recent[0][1]:
        return None
    return (recent[-1][1] - recent[0][1]) / (recent[-1][0] - recent[0][0])


def seconds_left(run: RunRecord, epochs: list[dict]) -> float | None:
    progress = run.progress or {}
    return estimate_seconds_left(run.epochs_planned, [e.get("seconds") or 0.0 for e in epochs],
                                 int(progress.get("batch") or 0), int(progress.get("batches") or 0),
                                 _batch_rate(run))


def status_panel(run: RunRecord, epochs: list[dict] | None = None) -> None:
    """What the run is doing now: place in the queue, a progress bar with time left, or how it ended."""
    progress = run.progress or {}
    phase = progress.get("phase", "")
    done, planned = run.epochs_done, run.epochs_planned
    if run.status == "queued":
        ahead = queue_place(run)
        st.info(f"Waiting in line: {ahead} run(s) before this one. It starts by itself when they are done."
                if ahead else "Starting…", icon=":material/schedule:")
    elif run.status in ("running", "paused", "stopping"):
        if run.status == "paused":
            st.info("Paused. Press Continue to go on, or Stop to end training here.", icon=":material/pause_circle:")
        elif run.status == "stopping":
            st.warning(f"Stopping after the current batch ({done} epoch(s) done so far)…", icon=":material/stop_circle:")
        if phase == "loading data":
            st.progress(min(1.0, float(progress.get("fraction") or 0.0)), text="Loading the pictures…")
        elif phase in ("building model", "loading checkpoint"):
            st.progress(0.0, text="Building the model…" if phase == "building model" else "Loading the last saved epoch…")
        elif phase in ("evaluating", "saving"):
            st.progress(1.0, text="Testing the trained model on the test pictures…"
                        if phase == "evaluating" else "Saving the model…")
        else:
            batches = int(progress.get("batches") or 0)
            batch = int(progress.get("batch") or 0)
            epoch = int(progress.get("epoch") or done + 1)
            left = seconds_left(run, epochs or [])
            text = f"Epoch {epoch} of {planned or progress.get('epochs', '?')}"
            if batches:
                text += f" · batch {batch} of {batches}"
            if batch == 0 and not done and run.status == "running":
                text += " · getting ready: the first batch takes longest while TensorFlow prepares the model"
            if run.status == "running" and (batch or done):
                text += f" · about {duration(left)} left in total" if left is not None else " · estimating time left…"
            st.progress(min(1.0, batch / batches) if batches else 0.0, text=text)
        st.caption("The bar fills once per epoch (one pass over all training pictures). Training goes on "
                   "if you open other pages or close this tab.")
    elif run.status == "finished":
        st.success(f"Finished: {run.message or f'trained {done} epochs.'} "
                   f"Training took {duration(run.train_seconds)}.", icon=":material/check_circle:")
    elif run.status == "stopped":
        st.info(f"Stopped after {done} epoch{'s' if done != 1 else ''} (of {planned}). "
                + ("You can resume it to train the rest." if run.can_resume else ""), icon=":material/stop_circle:")
    elif run.status in ("diverged", "failed"):
        st.error(run.message or f"Training {run.status}.", icon=":material/error:")
    elif run.status == "interrupted":
        st.warning(run.message or "Training was cut off.", icon=":material/history:")
