"""A picture of the layer stack: one box per layer, drawn with Plotly.

Top to bottom, like the data flows. A box's width grows with the number of channels (filters or
units, on a log scale) and its height with the image size the layer outputs, so the typical CNN
funnel shows: images get smaller while the number of feature maps grows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import plotly.graph_objects as go

from cnn_core.i18n import N_, _
from components.chart_look import finish
TYPE_COLORS = (
    ("input", "#b8c4d6"),
    ("rescal", "#d9dee7"),
    ("normaliz", "#d9dee7"),
    ("conv", "#3b6fd8"),
    ("pool", "#f28e2b"),
    ("batchnorm", "#59a14f"),
    ("dropout", "#bab0ac"),
    ("activation", "#edc948"),
    ("flatten", "#b07aa1"),
    ("dense", "#7c4dbb"),
)


LAYER_EXPLANATIONS = (
    ("inputlayer", N_("the picture goes in")),
    ("rescal", N_("scales pixel values to small numbers")),
    ("normalization", N_("scales pixel values to small numbers")),
    ("batchnorm", N_("re-centres the numbers so training stays stable")),
    ("conv", N_("slides small filters over the picture to find patterns")),
    ("maxpool", N_("halves the size, keeping the strongest signal of each patch")),
    ("averagepool", N_("halves the size, averaging each patch")),
    ("globalaverage", N_("one number per filter: how strongly its pattern was found")),
    ("dropout", N_("switches off random neurons while training, against memorising")),
    ("activation", N_("bends the numbers so the network can learn curves, not just lines")),
    ("flatten", N_("lays the feature maps out as one long list of numbers")),
    ("dense", N_("combines everything found so far")),
)


def explain_layer(layer_type: str, is_last: bool = False) -> str:
    """What a layer does, in one plain phrase (``Conv2D`` -> "slides small filters ...")."""
    if is_last and "dense" in layer_type.lower():
        return _("gives one score per class: the model's answer")
    lowered = layer_type.lower().replace("_", "").replace("2d", "")
    return next((_(text) for needle, text in LAYER_EXPLANATIONS if needle in lowered), "")


def layer_color(layer_type: str) -> str:
    lowered = layer_type.lower().replace("_", "")
    for needle, color in TYPE_COLORS:
        if needle in lowered:
            return color
    return "#9aa5b1"


def parse_shape(shape: Any) -> tuple[int, ...]:
    """The sizes in a Keras output shape, batch dimension dropped: ``"(None, 28, 28, 32)"`` -> ``(28, 28, 32)``."""
    if isinstance(shape, (tuple, list)):
        if shape and isinstance(shape[0], (tuple, list)):  # several outputs: draw the first
            shape = shape[0]
        return tuple(int(s) for s in shape if s is not None)
    return tuple(int(n) for n in re.findall(r"\d+", str(shape)))


def _field(row: Any, name: str, default: Any = "") -> Any:
    if isinstance(row, dict):
        return row.get(name, default)
    return getattr(row, name, default)


def _shape_text(dims: Sequence[int]) -> str:
    return "×".join(str(d) for d in dims) if dims else "?"


def diagram_boxes(rows: Iterable[Any], input_shape: Sequence[int] | None = None) -> list[dict]:
    """Geometry and labels of each box (pure, testable): dicts with type, label, x0, x1, y0, y1."""
    rows = list(rows)
    layers = []
    has_input = any("input" in str(_field(row, "type")).lower() for row in rows)
    if input_shape is not None and not has_input:
        layers.append({"type": _("Input"), "dims": tuple(int(d) for d in input_shape), "params": 0, "name": "input"})
    for row in rows:
        layers.append({
            "type": str(_field(row, "type")),
            "dims": parse_shape(_field(row, "output_shape")),
            "params": int(_field(row, "params", 0) or 0),
            "name": str(_field(row, "name")),
        })
    if not layers:
        return []
    channels = [d["dims"][-1] if d["dims"] else 1 for d in layers]
    sides = [max(d["dims"][0], 1) for d in layers if len(d["dims"]) >= 3]
    max_channels, max_side = max(channels), max(sides, default=1)
    boxes, y = [], 0.0
    for i, (layer, ch) in enumerate(zip(layers, channels)):
        dims = layer["dims"]
        width = 0.12 + 0.88 * math.log2(ch + 1) / math.log2(max_channels + 1)
        spatial = len(dims) >= 3
        height = 0.45 + 0.75 * math.sqrt(dims[0] / max_side) if spatial else 0.45
        params = _(" · {count:,} params", count=layer["params"]) if layer["params"] else ""
        boxes.append({
            "type": layer["type"],
            "name": layer["name"],
            "label": f"{layer['type']}  {_shape_text(dims)}",
            "hover": f"<b>{layer['type']}</b> ({layer['name']}): "
                     + _("{what}<br>output {shape}", what=explain_layer(layer["type"], i == len(layers) - 1),
                         shape=_shape_text(dims)) + params,
            "x0": -width / 2, "x1": width / 2, "y0": -(y + height), "y1": -y,
            "color": layer_color(layer["type"]),
        })
        y += height + 0.18
    return boxes


def model_diagram_figure(rows: Iterable[Any], input_shape: Sequence[int] | None = None) -> go.Figure:
    """The layer stack as a Plotly figure (see the module docstring for what the sizes mean)."""
    boxes = diagram_boxes(rows, input_shape)
    fig = go.Figure()
    for box in boxes:
        fig.add_shape(
            type="rect", x0=box["x0"], x1=box["x1"], y0=box["y0"], y1=box["y1"],
            fillcolor=box["color"], line=dict(color="#2b2b2b", width=1), layer="below",
        )
    if boxes:
        centers_y = [(b["y0"] + b["y1"]) / 2 for b in boxes]
        fig.add_scatter(  # invisible markers carry the hover text of each box
            x=[0.0] * len(boxes), y=centers_y, mode="markers", marker=dict(size=28, opacity=0),
            hovertext=[b["hover"] for b in boxes], hoverinfo="text", showlegend=False,
        )
        fig.add_scatter(
            x=[0.56] * len(boxes), y=centers_y, mode="text", text=[b["label"] for b in boxes],
            textposition="middle right", hoverinfo="skip", showlegend=False,
            textfont=dict(size=13, color="#31333F"),
        )
        # arrows between boxes show the direction data flows
        for upper, lower in zip(boxes, boxes[1:]):
            fig.add_annotation(
                x=0, y=lower["y1"], ax=0, ay=upper["y0"], xref="x", yref="y", axref="x", ayref="y",
                showarrow=True, arrowhead=2, arrowsize=0.8, arrowwidth=1, arrowcolor="#666", text="",
            )
    bottom = min((b["y0"] for b in boxes), default=-1.0)
    fig.update_xaxes(visible=False, range=[-0.55, 2.3], fixedrange=True)
    fig.update_yaxes(visible=False, range=[bottom - 0.1, 0.1], fixedrange=True)
    fig.update_layout(
        height=max(220, int(34 * abs(bottom))) if boxes else 220,
        margin=dict(l=5, r=5, t=5, b=5),
        plot_bgcolor="rgba(0,0,0,0)",
        showlegend=False,
    )
    return finish(fig)
