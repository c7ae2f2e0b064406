"""A run's folder and the files in it, next to its row in the run index.

Layout of one run (``<workspace>/runs/<run_id>/``)::

    config.json        the specs the run was started with
    dataset.json       class names, image shape, split sizes, fitted scaling (once data loaded)
    checkpoint.keras   model + optimizer state after the last full epoch
    model.keras        the final model (raw 0..255 pixels in)
    predictions.npz    test-set probabilities (float32), true labels, class names
    logs/              TensorBoard event files
    error.log          traceback of an unexpected failure, if any
    process.log        output of the process that trained it (cnn_core.training_process), if any

Every file is written to a temporary name first and moved into place with ``os.replace``
(:mod:`cnn_core.workspace`). :class:`RunFiles` is a part of :class:`cnn_core.runs.RunStore`
(which inherits it); it needs the store's ``runs_root`` and ``get``.

This module does not import TensorFlow (numpy only when predictions are read or written).

Example:
    >>> store = RunStore("/tmp/ws")                          # doctest: +SKIP
    >>> store.model_path(run_id).name                        # doctest: +SKIP
    'model.keras'
"""

from __future__ import annotations

import json
from pathlib import Path

from cnn_core.errors import RunStateError
from cnn_core.workspace import atomic_write_bytes


class RunFiles:
    """The files of each run, in ``runs_root / <run_id>``."""

    runs_root: Path

    def run_dir(self, run_id: str) -> Path:
        return self.runs_root / run_id


    def save_predictions(self, run_id: str, probs, y_true, class_names: list[str] | None = None) -> Path:
        """Store test-set probabilities (N, classes) as float32 and true labels (N,) as int64
        (and the class names, when given, as ``class_names``)."""
        import io

        import numpy as np

        probs = np.asarray(probs, dtype=np.float32)
        y_true = np.asarray(y_true).astype(np.int64).reshape(-1)
        if probs.ndim != 2 or probs.shape[0] != y_true.shape[0]:
            raise ValueError(f"probabilities {probs.shape} do not match labels {y_true.shape}")
        buf = io.BytesIO()
        arrays = {"probs": probs, "y_true": y_true}
        if class_names is not None:
            arrays["class_names"] = np.asarray([str(c) for c in class_names], dtype=np.str_)
        np.savez_compressed(buf, **arrays)
        path = self.run_dir(run_id) / "predictions.npz"
        atomic_write_bytes(path, buf.getvalue())
        return path

    def has_predictions(self, run_id: str) -> bool:
        return (self.run_dir(run_id) / "predictions.npz").exists()

    def load_predictions(self, run_id: str):
        """``(probs float32 (N, classes), y_true int64 (N,))`` of the run's test set."""
        import numpy as np

        record = self.get(run_id)
        path = self.run_dir(run_id) / "predictions.npz"
        if not path.exists():
            raise RunStateError(
                "Run '{name}' has no test-set predictions yet (status: {status}). Predictions are saved "
                "when training ends; wait for it or pick a finished run.",
                name=record.name, status=record.status
            )
        with np.load(path) as data:
            return data["probs"].astype(np.float32), data["y_true"].astype(np.int64)

    def class_names(self, run_id: str) -> list[str] | None:
        """The class names of the run's data set (known once training has loaded it)."""
        info = self.dataset_info(run_id)
        if info and info.get("class_names"):
            return list(info["class_names"])
        path = self.run_dir(run_id) / "predictions.npz"
        if path.exists():
            import numpy as np

            with np.load(path) as data:
                if "class_names" in data.files:
                    return [str(c) for c in data["class_names"]]
        return None

    def dataset_info(self, run_id: str) -> dict | None:
        """``dataset.json`` written when training loaded the data: class names, image shape,
        split sizes, fitted scaling. None before that."""
        path = self.run_dir(run_id) / "dataset.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def model_path(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "model.keras"

    def checkpoint_path(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "checkpoint.keras"

    def logs_dir(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "logs"


__all__ = ["RunFiles"]
