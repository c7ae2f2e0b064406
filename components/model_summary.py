"""Sizing a model for the current data set: layer rows, parameters, FLOPs and epoch time, cached.

The layer table and totals come from the pure shape walk; only the epoch-time estimate times a
small Keras model (once per process).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import streamlit as st

from cnn_core.i18n import _, ngettext
from cnn_core.workspace import workspace_path


@dataclass(frozen=True)
class DatasetFacts:
    """What sizing a model needs to know about a data set."""

    id: str
    name: str
    input_shape: tuple[int, int, int]
    n_classes: int
    n_train: int | None

    @property
    def shape_text(self) -> str:
        h, w, c = self.input_shape
        return ngettext("{width}×{height} pixels with {count} channel", "{width}×{height} pixels with {count} "
                                                                        "channels",
                        c, width=w, height=h)


def dataset_facts(dataset_id: str) -> DatasetFacts:
    """Shape, classes and training-set size; loads the data set (cached by the engine) when offline."""
    from cnn_core.datasets import dataset_info, load_dataset

    info = dataset_info(dataset_id, workspace_path())
    if not info.offline and info.image_shape and info.n_classes:
        # not downloaded yet: size the model from the catalogue, do not download on this page
        return DatasetFacts(info.id, info.name, tuple(info.image_shape), int(info.n_classes), None)
    dataset = load_dataset(dataset_id, workspace=workspace_path())
    return DatasetFacts(dataset.id, dataset.name, tuple(int(d) for d in dataset.image_shape),
                        int(dataset.n_classes), int(len(dataset.y_train)))


@st.cache_data(max_entries=64, show_spinner=False)
def _summary(spec_json: str, input_shape: tuple, n_classes: int) -> dict:
    from cnn_core.model import ModelSpec, plan_summary  # the pure shape walk: no TensorFlow

    spec = ModelSpec.from_dict(json.loads(spec_json))
    summary = plan_summary(spec, tuple(input_shape), int(n_classes))
    return {
        "rows": [
            {"name": r.name, "type": r.type, "output_shape": str(r.output_shape), "params": int(r.params)}
            for r in summary.rows
        ],
        "total_params": int(summary.total_params),
        "trainable_params": int(summary.trainable_params),
        "flops_per_image": int(summary.flops_per_image),
    }


def summarize_spec(spec: dict, input_shape: tuple, n_classes: int) -> dict:
    """Layer rows (dicts: name, type, output_shape, params) and totals, cached by spec."""
    return _summary(json.dumps(spec, sort_keys=True), tuple(int(d) for d in input_shape), int(n_classes))


@st.cache_data(max_entries=128, show_spinner=False)  # the spinner below speaks the session's language
def _epoch_seconds(spec_json: str, input_shape: tuple, n_classes: int, n_train: int) -> float:
    from cnn_core.model import ModelSpec, estimate_epoch_seconds

    spec = ModelSpec.from_dict(json.loads(spec_json))
    return float(estimate_epoch_seconds(spec, tuple(input_shape), int(n_classes), int(n_train)))


def epoch_seconds(spec: dict, facts: DatasetFacts) -> float | None:
    if not facts.n_train:
        return None
    with st.spinner(_("Timing this computer...")):  # shown only if it takes a while (a cache miss)
        return _epoch_seconds(json.dumps(spec, sort_keys=True), facts.input_shape, facts.n_classes, facts.n_train)


def human_count(n: int | float | None) -> str:
    """12_345_678 -> "12.3 M"; plain words for people who do not read scientific notation."""
    if n is None:
        return "—"
    n = float(n)
    for limit, suffix in ((1e12, " T"), (1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(n) >= limit:
            return f"{n / limit:.3g}{suffix}"
    return f"{n:.0f}"


def human_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 1:
        return "< 1 s"
    if seconds < 90:
        return f"~{seconds:.0f} s"
    if seconds < 5400:
        return f"~{seconds / 60:.0f} min"
    return f"~{seconds / 3600:.1f} h"


def _shape_words(shape_text: str) -> str:
    """``"(24, 24, 6)"`` -> ``"24×24×6"`` (height × width × channels): short enough not to wrap."""
    parts = [p.strip() for p in str(shape_text).strip("()").split(",") if p.strip() and p.strip() != "None"]
    return "×".join(parts) if parts else str(shape_text)


def layer_table_rows(rows: list[dict]) -> list[dict]:
    """The layer table as shown: type, output shape, parameters (with thousands separators) and
    what the layer does, in the column names people read."""
    from components.model_diagram import explain_layer

    return [{_("layer"): r["type"], _("output shape"): _shape_words(r["output_shape"]),
             _("parameters"): f"{int(r['params']):,}",
             _("what it does"): explain_layer(r["type"], i == len(rows) - 1)}
            for i, r in enumerate(rows)]


def show_layers_table(rows: list[dict]) -> None:
    """The layer table, fitted to its column: a static table whose long texts wrap, so nothing is
    cut at 1280x720 (a data grid keeps one line per cell and hides the end of "what it does")."""
    import pandas as pd

    table = pd.DataFrame(layer_table_rows(rows))
    st.table(table.set_index(table.columns[0]))
