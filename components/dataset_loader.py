"""Loading the chosen data set with a progress bar the first time it is downloaded."""

from __future__ import annotations

import streamlit as st

from cnn_core.datasets import load_dataset
from cnn_core.i18n import _
from cnn_core.workspace import workspace_path


def load_with_progress(dataset_id: str):
    """``load_dataset`` for the page: a first download shows ``st.progress``, gone when done.

    Raises what ``load_dataset`` raises (e.g. ``DatasetUnavailableError`` offline); call it inside
    ``components.feedback.engine_errors`` so the page shows the plain message and goes on.
    """
    slot = st.empty()
    bar = None

    def progress(fraction: float, message: str) -> None:
        nonlocal bar
        fraction = min(max(float(fraction), 0.0), 1.0)
        if bar is None:
            if fraction >= 1.0:  # already in memory: no bar flashing by
                return
            bar = slot.progress(fraction, text=message or _("Loading..."))
        else:
            bar.progress(fraction, text=message or _("Loading..."))

    try:
        return load_dataset(dataset_id, progress=progress, workspace=workspace_path())
    finally:
        slot.empty()
