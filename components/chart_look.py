"""How every chart looks, for a laptop and for a projector: sizes, fonts and readable cell text.

The chart modules (``run_charts``, ``compare_charts``, ``dataset_charts``, ``model_diagram``) build
their figures as before and pass them through :func:`finish` on the way out; in presentation mode
that makes them taller, with bigger type and thicker lines, all from :data:`PROJECTOR` below.
Colours are chosen to stay readable on a washed-out projector (``tests/test_contrast.py`` checks
every palette against WCAG AA); numbers written on heatmap cells get, cell by cell, whichever of
:data:`CELL_TEXT_DARK` and :data:`CELL_TEXT_LIGHT` reads better on that cell's colour
(:func:`coloured_cell_text`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from cnn_core.contrast import parse_colour, readable_text_on
from components.presentation import TEXT

#: Charts sit on the page's white (Streamlit's light theme; Plotly's background is see-through).
CHART_BACKGROUND = "#ffffff"
CELL_TEXT_DARK = "#000000"   # black: with white, every colour has one of them at 4.58:1 or more
CELL_TEXT_LIGHT = "#ffffff"


@dataclass(frozen=True)
class ChartLook:
    """Type size (points; None keeps the chart's own), title size, how much taller charts and
    thicker lines get, and the colour of every word on the chart (None keeps the theme's)."""

    font_size: int | None = None
    title_size: int | None = None
    height_scale: float = 1.0
    line_scale: float = 1.0
    text_colour: str | None = None


LAPTOP = ChartLook()
#: The numbers written in a heatmap's cells (a confusion matrix's counts), unless a look names a
#: size: left to itself Plotly sizes them to fit and drew them 1 px high, dots instead of counts.
CELL_TEXT_SIZE = 13
#: Streamlit's chart theme writes axis labels, ticks and legends in a faded grey, in its template:
#: the projector look names its own size and colour for each of them.
PROJECTOR = ChartLook(font_size=18, title_size=21, height_scale=1.35, line_scale=1.6, text_colour=TEXT)


def current_look() -> ChartLook:
    """:data:`PROJECTOR` while this session is in presentation mode, else :data:`LAPTOP`."""
    from components.presentation import is_on

    return PROJECTOR if is_on() else LAPTOP


def apply_look(fig, look: ChartLook):
    """``fig`` with ``look``'s sizes (in place; returned for chaining). :data:`LAPTOP` changes
    nothing but give a heatmap's cell numbers a size (:data:`CELL_TEXT_SIZE`)."""
    for trace in fig.data:
        if trace.type == "heatmap" and trace.texttemplate and trace.textfont.size is None:
            trace.textfont.size = look.font_size or CELL_TEXT_SIZE
    if look.height_scale != 1.0 and fig.layout.height:
        fig.layout.height = round(fig.layout.height * look.height_scale)
    words = {k: v for k, v in (("size", look.font_size), ("color", look.text_colour)) if v}
    if words:
        titles = {**words, "size": look.title_size or look.font_size} if look.font_size else words
        fig.update_layout(font=words, legend=dict(font=words, title=dict(font=words)),
                          hoverlabel=dict(font=dict(size=look.font_size) if look.font_size else {}))
        fig.update_xaxes(tickfont=words, title_font=words)
        fig.update_yaxes(tickfont=words, title_font=words)
        fig.update_annotations(font=titles)   # subplot titles
        if fig.layout.title.text:
            fig.update_layout(title_font=titles)
        for trace in fig.data:
            if "colorbar" in trace and trace.type != "scatter":   # heatmaps: their scale is shown
                trace.colorbar.tickfont = words
                trace.colorbar.title.font = words
            if trace.type == "parcoords":
                trace.labelfont, trace.tickfont, trace.rangefont = words, words, words
            # only colour bars that are shown: giving one to a plain marker or line makes Plotly draw it
            for part in ("marker", "line"):
                if part in trace and "colorbar" in trace[part] and trace[part].showscale:
                    trace[part].colorbar.tickfont = words
    if look.font_size:
        for trace in fig.data:
            if "textfont" in trace:
                trace.textfont.size = look.font_size
    if look.line_scale != 1.0:
        for trace in fig.data:
            if "line" in trace and getattr(trace.line, "width", None):
                trace.line.width = trace.line.width * look.line_scale
    return fig


def finish(fig):
    """``fig`` in the session's look (see :func:`current_look`): every chart builder's last step."""
    return apply_look(fig, current_look())


def scale_stops(colorscale) -> list[tuple[float, str]]:
    """A Plotly colour scale (a name such as ``"Blues"`` or a list of stops) as ``(position, colour)``."""
    import plotly.graph_objects as go

    return [(float(at), str(colour)) for at, colour in go.Heatmap(colorscale=colorscale).colorscale]


def colour_at(stops: Sequence[tuple[float, str]], where: float) -> str:
    """The colour at ``where`` (0..1) of a colour scale, mixed linearly in RGB between stops as
    Plotly does."""
    where = min(max(float(where), 0.0), 1.0)
    for (a_at, a), (b_at, b) in zip(stops, stops[1:]):
        if where <= b_at:
            share = 0.0 if b_at == a_at else (where - a_at) / (b_at - a_at)
            ca, cb = parse_colour(a), parse_colour(b)
            return "#" + "".join(f"{round(x + share * (y - x)):02x}" for x, y in zip(ca[:3], cb[:3]))
    return "#" + "".join(f"{round(v):02x}" for v in parse_colour(stops[-1][1])[:3])


def cell_text_colours(values: Sequence[float], colorscale, zmin: float, zmax: float) -> list[str]:
    """For each cell value, the text colour (dark or light) that reads best on its heatmap colour."""
    stops = scale_stops(colorscale)
    span = (zmax - zmin) or 1.0
    return [readable_text_on(colour_at(stops, (float(v) - zmin) / span), CELL_TEXT_DARK, CELL_TEXT_LIGHT)
            if v is not None and math.isfinite(float(v)) else CELL_TEXT_DARK for v in values]


def coloured_cell_text(texts: Sequence[Sequence[str]], values, colorscale, zmin: float,
                       zmax: float) -> list[list[str]]:
    """Heatmap cell texts, each wrapped in a ``<span>`` of the text colour that reads best on its
    cell (Plotly draws heatmap text as its pseudo-HTML). Plotly's own choice, grey or white by a
    brightness cut, leaves mid-scale cells near 3:1."""
    rows = [list(row) for row in values]
    out = []
    for row_texts, row_values in zip(texts, rows):
        colours = cell_text_colours(row_values, colorscale, zmin, zmax)
        out.append([f'<span style="color:{c}">{t}</span>' for t, c in zip(row_texts, colours)])
    return out


__all__ = ["CELL_TEXT_DARK", "CELL_TEXT_LIGHT", "CELL_TEXT_SIZE", "CHART_BACKGROUND", "ChartLook", "LAPTOP",
           "PROJECTOR", "apply_look", "cell_text_colours", "coloured_cell_text", "colour_at", "current_look", "finish",
           "scale_stops"]
