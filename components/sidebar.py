"""The sidebar every page shares: the chosen data set, the active run and the device."""

from __future__ import annotations

import streamlit as st

from cnn_core.datasets import list_datasets
from cnn_core.device import describe_device
from cnn_core.runs import workspace_path
from components import state

STATUS_ICONS = {
    "queued": ":material/schedule:", "running": ":material/play_circle:",
    "paused": ":material/pause_circle:", "stopping": ":material/stop_circle:",
    "stopped": ":material/stop_circle:", "finished": ":material/check_circle:",
    "diverged": ":material/warning:", "failed": ":material/error:",
    "interrupted": ":material/history:",
}


def dataset_picker() -> None:
    infos = list_datasets(workspace_path())
    ids = [info.id for info in infos]
    labels = {info.id: info.name + ("" if info.offline else " (download)") for info in infos}
    current = state.dataset_id()
    if current not in ids:
        ids.append(current)
        labels[current] = current
    if st.session_state.get("sidebar_dataset") != current:  # a page chose a data set (upload, home)
        st.session_state["sidebar_dataset"] = current
    st.selectbox(
        "Data set", ids, key="sidebar_dataset",
        format_func=lambda i: labels.get(i, i),
        on_change=lambda: st.session_state.update({state.DATASET_KEY: st.session_state["sidebar_dataset"]}),
        help="The images every page works on. Sets marked (download) are fetched from the internet once.",
    )


@st.fragment(run_every=2)
def active_run_card() -> None:
    run_id = state.active_run_id()
    if run_id is None:
        st.caption("No training run yet.")
        return
    run = state.run_store().get(run_id)
    icon = STATUS_ICONS.get(run.status, "")
    st.markdown(f"**Run** `{run.name or run.id}`  \n{icon} {run.status}")
    planned = max(run.epochs_planned or 1, 1)
    done = run.epochs_done or 0
    progress = run.progress or {}
    batches = progress.get("batches") or 0
    within = (progress.get("batch", 0) / batches) if batches and run.status in state.LIVE_STATUSES else 0
    fraction = min(1.0, (done + within) / planned)
    st.progress(fraction, text=f"epoch {done} of {planned}")


def render_sidebar() -> None:
    with st.sidebar:
        dataset_picker()
        st.divider()
        active_run_card()
        st.caption(f"Training runs on: {describe_device()}")
