"""What a finished run left behind, read from the run store: its evaluation and its test images.

Nothing here trains or predicts: the evaluation comes from the stored test-set probabilities,
the images from the (in-process cached) data set the run was trained on.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnn_core.dataset_names import dataset_name
from cnn_core.errors import RunStateError
from cnn_core.evaluation import Evaluation, evaluate_run
from cnn_core.i18n import _
from cnn_core.run_config import split_damaged
from cnn_core.run_record import RunRecord
from cnn_core.runs import RunStore
from components import state


def finished_runs(store: RunStore) -> list[RunRecord]:
    """Runs that saved test-set predictions (finished or stopped with a model) this session may
    see: its own first, newest first. Runs with damaged settings are left out (the Compare page
    lists them, with Delete)."""
    from components.session_identity import visible_runs

    usable, _damaged = split_damaged(visible_runs(store.list_runs()))
    return [run for run in usable if not run.is_active and store.has_predictions(run.id)]


@st.cache_data(show_spinner=False, max_entries=16)
def _evaluation(workspace: str, run_id: str, stamp: float) -> Evaluation:
    return evaluate_run(RunStore(workspace), run_id)   # class names: cnn_core.class_names


def run_evaluation(run_id: str) -> Evaluation:
    """The run's scores, confusion matrix and report (cached until its predictions change)."""
    store = state.run_store()
    path = store.run_dir(run_id) / "predictions.npz"
    if not path.exists():
        raise RunStateError("This run has no test-set predictions yet: wait until it finishes.")
    return _evaluation(str(store.workspace), run_id, path.stat().st_mtime)


def dataset_options(run: RunRecord) -> tuple[str, dict]:
    """``(data set id, load_dataset keyword arguments)`` from the run's stored config."""
    options = dict(run.config.get("dataset") or {})
    dataset_id = options.pop("id", None)
    kwargs = {k: v for k, v in options.items()
              if k in ("image_size", "color_mode", "test_fraction", "seed") and v is not None}
    if "image_size" in kwargs:
        kwargs["image_size"] = tuple(int(v) for v in kwargs["image_size"])
    return dataset_id, kwargs


def run_test_images(run: RunRecord, n_expected: int) -> np.ndarray | None:
    """The run's test images (uint8 ``(N, H, W, C)``), or None with a warning when unavailable.

    The data set is loaded the way the run loaded it; if its test set no longer has as many
    images as the run's predictions (the data set changed), the images are not shown.
    """
    from cnn_core.datasets import load_dataset

    dataset_id, kwargs = dataset_options(run)
    if not dataset_id:
        st.warning(_("This run does not say which data set it used, so its pictures cannot be shown."))
        return None
    with st.spinner(_("Loading the test pictures…")):
        dataset = load_dataset(dataset_id, workspace=state.run_store().workspace, **kwargs)
    if len(dataset.x_test) != n_expected:
        st.warning(_("The data set '{dataset}' has changed since this run was trained ({now} test pictures now, "
                     "{then} then), so its pictures cannot be matched to the predictions. The numbers above are "
                     "still right.", dataset=dataset_name(dataset_id), now=len(dataset.x_test), then=n_expected))
        return None
    return dataset.x_test


def filter_mistakes(table, *, true_names=(), predicted_names=(), confidence=(0, 100), order="confident",
                    seed: int = 0):
    """Mistakes (``cnn_core.evaluation.mistakes`` table) kept by the filters, in the chosen order.

    Empty name lists keep every class; ``confidence`` is a (low, high) range in percent, inclusive;
    ``order`` is ``"confident"`` (most confident first) or ``"random"`` (shuffled by ``seed``).
    """
    keep = np.ones(len(table), dtype=bool)
    if true_names:
        keep &= table["true_name"].isin(list(true_names)).to_numpy()
    if predicted_names:
        keep &= table["predicted_name"].isin(list(predicted_names)).to_numpy()
    percent = table["confidence"].to_numpy() * 100
    low, high = confidence
    keep &= (percent >= low - 1e-9) & (percent <= high + 1e-9)
    kept = table[keep]
    if order == "random":
        return kept.sample(frac=1.0, random_state=int(seed)).reset_index(drop=True)
    return kept.sort_values(["confidence", "index"], ascending=[False, True], kind="stable").reset_index(drop=True)
