"""The sidebar every page shares: the chosen data set, the active run and the device."""

from __future__ import annotations

import streamlit as st

from cnn_core.datasets import list_datasets
from cnn_core.device import describe_device
from cnn_core.errors import CnnLabError
from cnn_core.i18n import _
from cnn_core.poll_intervals import LIVE_SECONDS, live_view_seconds, run_card_seconds
from cnn_core.process_owner import owner_alive
from cnn_core.run_status import RunStatus
from cnn_core.workspace import workspace_path
from components import state
from components.language import language_switch
from components.run_picker import STATUS_WORDS
from components.session_identity import dataset_uploader, name_field, visible_dataset_ids

STATUS_ICONS = {
    RunStatus.QUEUED: ":material/schedule:", RunStatus.RUNNING: ":material/play_circle:",
    RunStatus.PAUSED: ":material/pause_circle:", RunStatus.STOPPING: ":material/stop_circle:",
    RunStatus.STOPPED: ":material/stop_circle:", RunStatus.FINISHED: ":material/check_circle:",
    RunStatus.DIVERGED: ":material/warning:", RunStatus.FAILED: ":material/error:",
    RunStatus.INTERRUPTED: ":material/history:",
}
#: The Training page reruns itself when its live view has not drawn for this many of its polls.
LIVE_VIEW_STALL_POLLS = 5


def dataset_picker() -> None:
    infos = list_datasets(workspace_path())
    ids = visible_dataset_ids([info.id for info in infos], workspace_path())   # not others' uploads
    labels = {info.id: " ".join(p for p in (info.name + ("" if info.offline else _(" (download)")),
                                            dataset_uploader(info.id, workspace_path())) if p)
              for info in infos}
    current = state.dataset_id()
    if current not in ids:
        ids.append(current)
        labels[current] = current
    if st.session_state.get("sidebar_dataset") != current:  # a page chose a data set (upload, home)
        st.session_state["sidebar_dataset"] = current
    st.selectbox(
        _("Data set"), ids, key="sidebar_dataset",
        format_func=lambda i: labels.get(i, i),
        on_change=lambda: st.session_state.update({state.DATASET_KEY: st.session_state["sidebar_dataset"]}),
        help=_("The images every page works on. Sets marked (download) are fetched from the internet once."),
    )


def followed_run():
    """The run this session follows, as the store has it now (None: no run, or it was deleted).

    A live run whose owner process is gone (e.g. a command-line training killed with kill -9) is
    marked interrupted first, so it is shown, and polled, as the ended run it is.
    """
    run_id = state.active_run_id()
    if run_id is None:
        return None
    store = state.run_store()
    try:
        run = store.get(run_id)
        if run.is_active and not owner_alive(run.owner):
            store.mark_interrupted()
            run = store.get(run_id)
    except CnnLabError:   # deleted meanwhile
        return None
    return run


def _snapshot(run) -> tuple[str, float] | None:
    """What the page run chose the polling intervals from: the run and the card's interval (it
    changes when the run starts, pauses, resumes or ends)."""
    return None if run is None else (run.id, run_card_seconds(run))


def _stall_seconds(run) -> float:
    """How long the live view may go without drawing ``run`` before the page is rerun: a few of
    its own polls (10 s while training, longer while paused, when it polls rarely)."""
    return LIVE_VIEW_STALL_POLLS * (live_view_seconds(run) or LIVE_SECONDS)


def active_run_card() -> None:
    """The followed run's status and progress, polled every 2 s while the run trains, every 10 s
    while it is paused and every 30 s otherwise (:func:`cnn_core.poll_intervals.run_card_seconds`).

    The interval is fixed when the page run defines the fragment, from the run's state then. The
    polling also notices a run whose owner process is gone and marks it interrupted
    (:func:`followed_run`), and reruns the whole page when the Training page's
    live view stopped drawing a live run or saw its run start or end, or when the followed run
    started, paused, resumed or ended since this page run (e.g. resumed from the command line or
    another tab): the new page run defines the card and the live view again with the intervals
    that fit.
    """
    run = followed_run()
    seen = _snapshot(run)

    @st.fragment(run_every=run_card_seconds(run))
    def card() -> None:
        _run_card(seen)

    card()


def _run_card(seen: tuple[str, float] | None) -> None:
    """The card itself; ``seen`` is the followed run and the card's interval at the page run."""
    run = followed_run()
    if ((state.live_view_stalled(_stall_seconds(run)) or state.page_redraw_asked() or _snapshot(run) != seen)
            and not state.another_run_requested()):   # a click elsewhere comes first
        state.forget_live_view()
        st.rerun(scope="app")
    if run is None:
        st.caption(_("No training run yet."))
        return
    icon = STATUS_ICONS.get(run.status, "")
    st.markdown(_("**Run** `{name}`", name=run.name or run.id) + f"  \n{icon} " + _(STATUS_WORDS.get(run.status, run.status)))
    planned = max(run.epochs_planned or 1, 1)
    done = run.epochs_done or 0
    progress = run.live_progress
    within = progress.batch / progress.batches if progress.batches and run.is_active else 0
    fraction = min(1.0, (done + within) / planned)
    st.progress(fraction, text=_("epoch {done} of {planned}", done=done, planned=planned))


def render_sidebar() -> None:
    with st.sidebar:
        name_field()
        dataset_picker()
        language_switch()   # below the picker: above it, it pushed the picker to the bottom edge at 1280x720
        st.divider()
        active_run_card()
        st.caption(_("Training runs on: {device}", device=describe_device()))
