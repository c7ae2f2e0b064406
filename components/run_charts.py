"""Plotly figures of a training run: curves, confusion matrix, per-class scores, probabilities.

Pure functions from plain data to ``go.Figure`` (no Streamlit calls), so pages stay thin and the
figures can be tested on their own. Each passes its figure through
:func:`components.chart_look.finish`, which sizes it for a projector in presentation mode.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnn_core.confusion_picture import MAX_DRAWN_CLASSES, most_confused_classes
from cnn_core.content_cache import ContentCache, epochs_key
from cnn_core.i18n import _, current_language, ngettext
from cnn_core.i18n_class_names import class_label
from components.chart_look import coloured_cell_text, current_look, finish

# Every colour reaches WCAG AA on the page's white (3:1 for lines and bars, 4.5:1 for the status
# colours, which also mark text): tests/test_contrast.py.
TRAIN_COLOR = "#3b6fd8"
VALIDATION_COLOR = "#c85f26"
GOOD_COLOR = "#238551"
BAD_COLOR = "#cf3f3f"
OTHER_COLOR = "#77808f"      # bars of the classes neither predicted nor true
MARKER_LINE_COLOR = "#6b6d78"  # the best epoch's dotted line
SCORE_COLORS = {"precision": "#3b6fd8", "recall": "#c85f26", "f1": "#238551"}
CONFUSION_SCALE = "Blues"
_MARGIN = dict(l=10, r=10, t=40, b=10)


def curves_figure(epochs: Sequence[dict], best_epoch: int | None = None) -> go.Figure:
    """Loss (left) and accuracy (right) per epoch, training vs validation.

    ``epochs`` are run-store rows (``epoch``, ``loss``, ``accuracy``, ``val_loss``,
    ``val_accuracy``). Series with no values are left out; ``best_epoch`` gets a dotted line.
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=(_("Loss (lower is better)"),
                                                       _("Accuracy (higher is better)")),
                        horizontal_spacing=0.1)
    x = [int(row["epoch"]) for row in epochs]
    series = (("loss", "training", TRAIN_COLOR, 1, False), ("val_loss", "validation", VALIDATION_COLOR, 1, False),
              ("accuracy", "training", TRAIN_COLOR, 2, True),
              ("val_accuracy", "validation", VALIDATION_COLOR, 2, True))
    for key, label, color, col, percent in series:
        y = [row.get(key) for row in epochs]
        if all(v is None for v in y):
            continue
        if percent:
            y = [None if v is None else 100.0 * v for v in y]
        fig.add_trace(go.Scatter(
            x=x, y=y, name=label, legendgroup=label, showlegend=col == 1, mode="lines+markers",
            line=dict(color=color, width=2.5, dash="solid" if label == "training" else "dash"),
            hovertemplate=f"{label}: %{{y:.3f}}{'%' if percent else ''}<extra>epoch %{{x}}</extra>",
        ), row=1, col=col)
    if best_epoch:
        for col in (1, 2):
            fig.add_vline(x=best_epoch, line=dict(color=MARKER_LINE_COLOR, dash="dot", width=1), row=1, col=col)
    fig.update_xaxes(title_text=_("epoch (one pass over all training pictures)"), dtick=1 if len(x) <= 20 else None,
                     rangemode="tozero" if not x else "normal")
    fig.update_yaxes(title_text=_("loss"), row=1, col=1, rangemode="tozero")
    fig.update_yaxes(title_text=_("accuracy (%)"), row=1, col=2, range=[0, 101])
    fig.update_layout(height=340, margin=_MARGIN, hovermode="x unified",
                      legend=dict(orientation="h", yanchor="bottom", y=1.12, x=0))
    return finish(fig)


#: Curve figures already built, by what they show (the Training page's live view draws its run's
#: curves every poll; they change once an epoch).
_CURVES = ContentCache(max_entries=64)


def shared_curves_figure(epochs: Sequence[dict], best_epoch: int | None = None) -> go.Figure:
    """:func:`curves_figure`, built once for each content (the epochs' numbers, the best epoch,
    the language and the chart look) and shared by every poll and session that shows it: the
    figure must not be changed (``st.plotly_chart`` only reads it)."""
    key = (epochs_key(epochs), best_epoch, current_language(), current_look())
    return _CURVES.get_or_make(key, lambda: curves_figure(epochs, best_epoch))


def confusion_figure(confusion: np.ndarray, class_names: Sequence[str], *, normalized: bool = False,
                     selected: tuple[int, int] | None = None) -> go.Figure:
    """The confusion matrix as a heatmap: rows = true class, columns = predicted class.

    With ``normalized`` each row is divided by its total (share of that class's pictures).
    With more than :data:`MAX_DRAWN_CLASSES` classes only the most-confused ones are drawn
    (``customdata`` keeps the real class numbers), so a 1,000-class run stays light.
    An invisible marker sits on every cell (``customdata`` = ``[true, predicted]``) so a click
    selects the cell: Plotly heatmaps report no selection themselves.
    """
    counts = np.asarray(confusion, dtype=np.int64)
    names = [class_label(n) for n in class_names]
    index = list(range(len(names)))   # drawn position -> class number
    if len(names) > MAX_DRAWN_CLASSES:  # only the classes most mixed up (and the selected ones)
        index = most_confused_classes(counts, MAX_DRAWN_CLASSES)
        index = sorted(set(index) | set(selected or ()))
        counts, names = counts[np.ix_(index, index)], [names[k] for k in index]
        selected = (index.index(selected[0]), index.index(selected[1])) if selected else None
    n = len(names)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, np.maximum(totals, 1), dtype=np.float64)
    z = shares if normalized else counts
    text = coloured_cell_text([[(f"{shares[i, j] * 100:.0f}%" if normalized else f"{counts[i, j]}")
                                for j in range(n)] for i in range(n)],
                              z, CONFUSION_SCALE, 0.0, 1.0 if normalized else float(max(z.max(initial=0), 1)))
    hover = [[ngettext("true {true}, predicted {predicted}: {count} picture ({share}% of {true}). "
                       "Click to see it.",
                       "true {true}, predicted {predicted}: {count} pictures ({share}% of {true}). "
                       "Click to see them.", int(counts[i, j]), true=names[i], predicted=names[j],
                       share=format(shares[i, j] * 100, ".1f")) for j in range(n)]
             for i in range(n)]
    fig = go.Figure(go.Heatmap(
        z=z.tolist(), x=names, y=names, text=text, texttemplate="%{text}" if n <= 20 else None,
        hoverinfo="skip", colorscale=CONFUSION_SCALE,
        zmin=0, zmax=1 if normalized else None, xgap=1, ygap=1,
        colorbar=dict(title=_("share") if normalized else _("pictures"), tickformat=".0%" if normalized else None),
    ))
    cells = [(i, j) for i in range(n) for j in range(n)]
    fig.add_trace(go.Scatter(
        x=[names[j] for _, j in cells], y=[names[i] for i, _ in cells], mode="markers",
        marker=dict(symbol="square", size=max(8, min(48, 420 // max(n, 1))), color="rgba(0,0,0,0)"),
        customdata=[[index[i], index[j]] for i, j in cells], text=[hover[i][j] for i, j in cells],
        hovertemplate="%{text}<extra></extra>", showlegend=False, name="cells",
    ))
    if selected is not None:
        i, j = selected
        fig.add_shape(type="rect", x0=j - 0.5, x1=j + 0.5, y0=i - 0.5, y1=i + 0.5,
                      line=dict(color=BAD_COLOR, width=3))
    side = max(380, min(760, 110 + 40 * n))
    fig.update_layout(height=side, margin=dict(l=10, r=10, t=40 if n < len(class_names) else 10, b=10),
                      clickmode="event+select", dragmode=False,
                      title_text=_("The {count} most-confused of {total:,} classes", count=n, total=len(class_names))
                      if n < len(class_names) else None)
    fig.update_xaxes(title_text=_("predicted class (what the model said)"), type="category", showgrid=False,
                     zeroline=False, tickangle=-45 if max(map(len, names), default=0) > 6 else 0,
                     range=[-0.5, n - 0.5], autorange=False)
    fig.update_yaxes(title_text=_("true class (what the picture really is)"), type="category",
                     range=[n - 0.5, -0.5], autorange=False, showgrid=False, zeroline=False)
    return finish(fig)


def clicked_cell(selection_state) -> tuple[int, int] | None:
    """The ``(true, predicted)`` cell clicked on a :func:`confusion_figure`, from the chart's
    selection state (``st.session_state[key]`` of ``st.plotly_chart(on_select=...)``), or None."""
    try:
        points = selection_state["selection"]["points"]
    except (KeyError, TypeError, AttributeError):
        return None
    for point in points or []:
        data = point.get("customdata") if hasattr(point, "get") else None
        if isinstance(data, (list, tuple)) and len(data) == 2:
            return int(data[0]), int(data[1])
    return None


def per_class_figure(report) -> go.Figure:
    """Grouped bars of precision, recall and F1 per class (``report``: DataFrame or list of dicts)."""
    rows = report.to_dict("records") if hasattr(report, "to_dict") else list(report)
    names = [str(r["class"]) for r in rows]
    fig = go.Figure()
    for key, label in (("precision", _("precision")), ("recall", _("recall")), ("f1", "F1")):
        fig.add_trace(go.Bar(x=names, y=[100.0 * float(r[key]) for r in rows], name=label,
                             marker_color=SCORE_COLORS[key],
                             hovertemplate=_("{score} of {name}: {value}", score=label, name="%{x}",
                                               value="%{y:.1f}%") + "<extra></extra>"))
    fig.update_layout(barmode="group", height=320, margin=_MARGIN,
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    fig.update_xaxes(type="category", title_text=_("class"))
    fig.update_yaxes(range=[0, 101], title_text=_("score (%)"))
    return finish(fig)


def probability_figure(probs: Sequence[float], class_names: Sequence[str], *, true_index: int | None = None,
                       height: int | None = None) -> go.Figure:
    """Horizontal bars of the model's probability for every class.

    The predicted class (highest bar) is red when wrong, green when right; the true class is
    marked "(true)".
    """
    p = np.asarray(probs, dtype=np.float64).reshape(-1)
    names = [class_label(n) for n in class_names]
    predicted = int(np.argmax(p)) if p.size else -1
    labels = [_("{name} (true)", name=name) if i == true_index else name for i, name in enumerate(names)]
    colors = []
    for i in range(len(names)):
        if i == predicted:
            colors.append(GOOD_COLOR if predicted == true_index or true_index is None else BAD_COLOR)
        elif i == true_index:
            colors.append(GOOD_COLOR)
        else:
            colors.append(OTHER_COLOR)
    fig = go.Figure(go.Bar(
        x=(100.0 * p).tolist(), y=labels, orientation="h", marker_color=colors,
        text=[f"{v * 100:.1f}%" for v in p], textposition="outside", cliponaxis=False,
        hovertemplate=_("%{y}: %{x:.1f}%<extra></extra>"),
    ))
    fig.update_layout(height=height or max(220, 40 + 28 * len(names)), margin=dict(l=10, r=40, t=10, b=10),
                      showlegend=False)
    fig.update_xaxes(range=[0, 112], title_text=_("probability the model gave (%)"))
    fig.update_yaxes(type="category", autorange="reversed")
    return finish(fig)


__all__ = ["clicked_cell", "confusion_figure", "curves_figure", "per_class_figure", "probability_figure",
           "shared_curves_figure"]
