"""Plotly charts that describe a data set: images per class and pixel values per channel.

The ``*_figure`` functions only build figures (testable without Streamlit); the pages draw
them with ``st.plotly_chart``.
"""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go

from cnn_core.i18n import N_, _
from cnn_core.image_stats import PixelHistogram
from components.chart_look import finish

# Each reaches 3:1 on white, so bars and lines survive a projector (tests/test_contrast.py).
SPLIT_COLORS = {"train": "#3b6fd8", "test": "#c85f26"}
#: Split names in words (marked here, translated where shown).
SPLIT_NAMES = {"train": N_("train"), "test": N_("test")}
CHANNEL_COLORS = {"gray": "#555555", "red": "#d62728", "green": "#2a8a2a", "blue": "#1f77b4"}


def _compact(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=30, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1),
    )
    return finish(fig)


def class_counts_figure(counts: Mapping[str, Mapping[str, int]], height: int = 320) -> go.Figure:
    """Grouped bars: images per class for each split.

    Args:
        counts: split name -> {class name: image count}, e.g. ``{"train": {...}, "test": {...}}``.
    """
    fig = go.Figure()
    for split, per_class in counts.items():
        fig.add_bar(
            name=_(SPLIT_NAMES.get(split, split)),
            x=[str(name) for name in per_class],
            y=list(per_class.values()),
            marker_color=SPLIT_COLORS.get(split),
            hovertemplate=_("%{x}: %{y} images<extra>") + _(SPLIT_NAMES.get(split, split)) + "</extra>",
        )
    fig.update_layout(barmode="group", xaxis_title=_("class"), yaxis_title=_("images"))
    fig.update_xaxes(type="category")
    return _compact(fig, height)


def pixel_histogram_figure(hist: PixelHistogram, height: int = 320) -> go.Figure:
    """One line-shaped bar outline per colour channel: how often each brightness occurs."""
    fig = go.Figure()
    total = [max(int(c.sum()), 1) for c in hist.counts]
    for name, counts, n in zip(hist.channels, hist.counts, total):
        fig.add_scatter(
            name=name,
            x=hist.bin_centers,
            y=counts / n,
            mode="lines",
            line=dict(color=CHANNEL_COLORS.get(name), shape="hvh", width=2),
            fill="tozeroy" if len(hist.channels) == 1 else None,
            hovertemplate=_("value ≈ %{x:.0f}: %{y:.1%} of pixels<extra>") + name + "</extra>",
        )
    fig.update_layout(xaxis_title=_("pixel value (0 = black, 255 = brightest)"), yaxis_title=_("share of pixels"))
    fig.update_xaxes(range=[0, 256])
    fig.update_yaxes(tickformat=".1~%", rangemode="tozero")
    return _compact(fig, height)
