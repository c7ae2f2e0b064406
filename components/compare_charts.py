"""Figures and tables for comparing runs: overlaid curves, parallel coordinates, sweep results,
and the parameter count of a run's model.

Pure functions from plain data (run-store rows, configs, pandas tables) to ``go.Figure``,
DataFrames or numbers, with no Streamlit calls, so the compare page stays thin and they can be
tested alone. Only :func:`parameter_count` imports TensorFlow (the model code), on first use.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnn_core.comparison import flatten_config, format_setting_value, setting_label
from cnn_core.dataset_names import dataset_name
from cnn_core.i18n import N_, _
from cnn_core.model.presets import preset_name
from components.chart_look import coloured_cell_text, finish

#: One colour per run (cycled after ten); each reaches 3:1 on white (tests/test_contrast.py).
RUN_COLORS = ("#3b6fd8", "#c85f26", "#238551", "#cf3f3f", "#8e5cc4", "#9c6b3f", "#c2467f", "#6b6d78",
              "#857d00", "#1a7f8a")
NOISE_BAR_COLOR = "#77808f"
#: Accuracy as colour: the dark first half of Viridis, so even its lightest end reaches 3:1 on white
#: (full Viridis ends in a yellow that vanishes on a projector) and its ends 3:1 from each other.
ACCURACY_SCALE = ((0.0, "#440154"), (0.2, "#482878"), (0.4, "#3e4989"), (0.6, "#31688e"), (0.8, "#26828e"),
                  (1.0, "#1f9e89"))
#: Columns of the compare page's runs table, in order, with their header.
TABLE_HEADERS = {
    "name": N_("run"), "status": N_("status"), "dataset": N_("data set"), "preset": N_("preset"),
    "test_accuracy": N_("test accuracy"), "best_val_accuracy": N_("best validation accuracy"),
    "train_seconds": N_("training time (s)"), "conv_blocks": N_("conv blocks"), "filters": N_("filters"),
    "learning_rate": N_("learning rate"), "optimizer": N_("optimiser"), "batch_size": N_("batch size"), "epochs": N_("epochs"),
    "conv_dropout": N_("conv dropout"), "dense_dropout": N_("dense dropout"), "augmentation": N_("augmentation"),
    "created_at": N_("created"),
}
MAX_PARALLEL_SETTINGS = 10
_MARGIN = dict(l=10, r=10, t=40, b=10)


def run_color(index: int) -> str:
    return RUN_COLORS[index % len(RUN_COLORS)]


def filter_runs(table, datasets: Sequence[str] = (), statuses: Sequence[str] = (), presets: Sequence[str] = ()):
    """Rows of :func:`cnn_core.comparison.runs_table` matching every non-empty choice.

    A run without a preset matches the choice ``"custom"``.
    """
    mask = table["run_id"].notna()
    if datasets:
        mask &= table["dataset"].isin(list(datasets))
    if statuses:
        mask &= table["status"].isin(list(statuses))
    if presets:
        mask &= table["preset"].fillna("custom").isin(list(presets))
    return table[mask]


def display_table(table):
    """The runs table as shown: readable headers, accuracies in percent, the id as the index."""
    shown = table.set_index("run_id")[list(TABLE_HEADERS)].copy()
    shown["dataset"] = shown["dataset"].map(dataset_name)
    shown["preset"] = shown["preset"].map(lambda p: preset_name(p if isinstance(p, str) else None))
    for column in ("test_accuracy", "best_val_accuracy"):
        shown[column] = shown[column] * 100
    return shown.rename(columns=TABLE_HEADERS)


@functools.lru_cache(maxsize=128)
def _parameter_count(spec_json: str, image_shape: tuple, n_classes: int) -> int:
    from cnn_core.model import ModelSpec, plan_summary

    return int(plan_summary(ModelSpec.from_dict(json.loads(spec_json)), image_shape, n_classes).total_params)


def parameter_count(model: Mapping, image_shape: Sequence[int] | None, n_classes: int) -> int | None:
    """How many numbers the model of a run's settings learns, counted without building it; None
    when the data set's image shape or classes are unknown (the run has not loaded its data yet).

    Raises SpecError when the settings cannot work on such images.
    """
    if not image_shape or not n_classes:
        return None
    return _parameter_count(json.dumps(dict(model), sort_keys=True), tuple(int(d) for d in image_shape),
                            int(n_classes))


def run_parameters(store, run) -> int | None:
    """:func:`parameter_count` of a stored run (None until it has loaded its data, or if it cannot work)."""
    from cnn_core.errors import CnnLabError

    info = store.dataset_info(run.id) or {}
    try:
        return parameter_count(run.config.get("model") or {}, info.get("image_shape"),
                               len(info.get("class_names") or []))
    except CnnLabError:
        return None


# --------------------------------------------------------------------------- curves

_SERIES = (("loss", N_("training"), 1, False), ("val_loss", N_("validation"), 1, False),
           ("accuracy", N_("training"), 2, True), ("val_accuracy", N_("validation"), 2, True))


def overlay_curves_figure(curves: Sequence[tuple[str, Sequence[Mapping]]]) -> go.Figure:
    """Loss (left) and accuracy (right) per epoch of several runs, one colour per run.

    ``curves``: ``(label, epoch rows)`` per run. Training is drawn solid, validation dashed;
    series with no values are left out. One legend entry per run.
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=(_("Loss (lower is better)"), _("Accuracy (higher is better)")),
                        horizontal_spacing=0.1)
    for index, (label, epochs) in enumerate(curves):
        color, shown = run_color(index), False
        x = [int(row["epoch"]) for row in epochs]
        for key, part, col, percent in _SERIES:
            y = [row.get(key) for row in epochs]
            if all(v is None for v in y):
                continue
            if percent:
                y = [None if v is None else 100.0 * v for v in y]
            fig.add_trace(go.Scatter(
                x=x, y=y, name=label, legendgroup=f"run{index}", showlegend=not shown, mode="lines+markers",
                line=dict(color=color, width=2.2, dash="solid" if part == "training" else "dash"),
                hovertemplate=f"{label} · {_(part)}: %{{y:.3f}}{'%' if percent else ''}<extra>"
                              + _("epoch %{x}") + "</extra>",
            ), row=1, col=col)
            shown = True
    fig.update_xaxes(title_text=_("epoch"))
    fig.update_yaxes(title_text=_("loss"), row=1, col=1, rangemode="tozero")
    fig.update_yaxes(title_text=_("accuracy (%)"), row=1, col=2, range=[0, 101])
    fig.update_layout(height=360, margin=_MARGIN, legend=dict(orientation="h", yanchor="bottom", y=1.12, x=0))
    return finish(fig)


# --------------------------------------------------------------------------- parallel coordinates

def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _axis(name: str, values: list[Any]) -> tuple[str, list[Any]]:
    """An axis' title and values as people read them: the widget's label, data set and preset
    display names (not ``dataset.id`` / ``mnist_sample`` / ``lenet``)."""
    if name == "dataset.id":
        return setting_label(name), [dataset_name(v) for v in values]
    if name == "preset":
        return setting_label(name), [preset_name(v) for v in values]
    return setting_label(name), values  # the widget's label, in the session's language


def _dimension(name: str, values: list[Any]) -> dict:
    """One parallel-coordinates axis: numbers as they are (log10 when they span 10x or more),
    anything else as codes 0, 1, ... with the values as tick labels."""
    label, values = _axis(name, values)
    if all(_is_number(v) for v in values):
        numbers = [float(v) for v in values]
        low, high = min(numbers), max(numbers)
        if low > 0 and high / low >= 10:
            ticks = sorted(set(numbers))
            if len(ticks) > 8:
                ticks = [10.0 ** e for e in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)]
            return dict(label=_("{setting} (log)", setting=label), values=[math.log10(v) for v in numbers],
                        tickvals=[math.log10(t) for t in ticks], ticktext=[f"{t:g}" for t in ticks])
        return dict(label=label, values=numbers)
    categories = sorted({format_setting_value(v) for v in values})
    codes = [categories.index(format_setting_value(v)) for v in values]
    return dict(label=label, values=codes, tickvals=list(range(len(categories))), ticktext=categories,
                range=[-0.5, len(categories) - 0.5] if len(categories) == 1 else [0, len(categories) - 1])


def parallel_figure(configs: Sequence[Mapping], settings: Sequence[str], accuracies: Sequence[float]) -> go.Figure:
    """Parallel coordinates: one line per run through its ``settings`` (flattened names such as
    ``"model.learning_rate"``) ending at its test accuracy; the colour is the accuracy too."""
    flats = [flatten_config(c or {}) for c in configs]
    dimensions = [_dimension(name, [flat.get(name) for flat in flats]) for name in settings[:MAX_PARALLEL_SETTINGS]]
    percent = [100.0 * a for a in accuracies]
    dimensions.append(dict(label=_("test accuracy (%)"), values=percent))
    fig = go.Figure(go.Parcoords(
        dimensions=dimensions,
        line=dict(color=percent, colorscale=ACCURACY_SCALE, showscale=True, colorbar=dict(title=_("accuracy %"))),
    ))
    fig.update_layout(height=380, margin=dict(l=60, r=60, t=50, b=20))
    return finish(fig)


# --------------------------------------------------------------------------- sweeps

def sweep_score(results) -> tuple[str, str]:
    """The column a sweep is judged by: test accuracy when some run has one, else best validation."""
    if "test_accuracy" in results and results["test_accuracy"].notna().any():
        return "test_accuracy", _("test accuracy")
    return "best_val_accuracy", _("best validation accuracy")


def results_n_test(store, results) -> int | None:
    """Test pictures behind the scores of a sweep's ``results`` (the first scored run's; a sweep's
    runs share one data set), None when unknown."""
    from cnn_core.accuracy_noise import n_test_of

    if "test_accuracy" not in results:
        return None
    for run_id in results.loc[results["test_accuracy"].notna(), "run_id"]:
        n = n_test_of(store, run_id)
        if n:
            return n
    return None


def _noise_title(words: str, scores: Sequence[float], n_test: int | None) -> tuple[str, float | None]:
    """The chart title with the test set's noise in it, and that noise in points (None if unknown).

    Scores are fractions. When even the best and the worst are within the noise the title says
    there is no real difference at all; otherwise ``≈`` marks the ones within noise of the best.
    """
    from cnn_core.accuracy_noise import difference_noise, is_real_difference

    if not n_test or len(scores) < 2:
        return f"{words} (%)", None
    best, worst = max(scores), min(scores)
    noise = difference_noise(best, worst, n_test) * 100
    if not is_real_difference(best, worst, n_test):
        return _("{score} (%): no real difference between these runs (all within the test set's noise, "
                 "±{noise:.1f} points)", score=words, noise=noise), noise
    return _("{score} (%) · ≈: no real difference from the best (within the test set's noise)", score=words), noise


def _near_best(scores: Sequence[float], n_test: int | None) -> list[bool]:
    """Per score (fractions): within the test set's noise of the best one (and not the best)."""
    from cnn_core.accuracy_noise import is_real_difference

    best = max(scores) if scores else None
    return [bool(n_test) and s != best and not is_real_difference(s, best, n_test) for s in scores]


def sweep_figure(results, settings: Sequence[str], mode: str = "grid",
                 labels: Mapping[str, str] | None = None, n_test: int | None = None) -> go.Figure | None:
    """Accuracy over the swept settings: a heatmap for a two-setting grid, a line for one setting,
    a scatter coloured by accuracy for two random settings; None when no run has a score yet.
    ``labels`` names the settings on the axes as the form does (default: their engine names).

    With ``n_test`` (test pictures behind each score) differences smaller than the test set's
    noise are marked as no real difference: ``≈`` on the heatmap cells and points within noise of
    the best, error bars on the line, and a title that says so when no run is really better; the
    heatmap's colours then span at least the noise, so luck does not look like a result.
    """
    column, words = sweep_score(results)
    name = {s: (labels or {}).get(s, s) for s in settings}
    scored = results[results[column].notna()]
    if scored.empty or not settings:
        return None
    score = scored[column] * 100
    n_test = n_test if column == "test_accuracy" else None  # validation scores have their own noise
    title, noise = _noise_title(words, scored[column].tolist(), n_test)
    if len(settings) == 1:
        s = settings[0]
        data = scored.assign(score=score).sort_values(s) if all(_is_number(v) for v in scored[s]) \
            else scored.assign(score=score)
        error = None
        if n_test:
            from cnn_core.accuracy_noise import NOISE_STANDARD_ERRORS, standard_error

            error = dict(type="data", visible=True, color=NOISE_BAR_COLOR,
                         array=[NOISE_STANDARD_ERRORS * standard_error(v / 100, n_test) * 100 for v in data["score"]])
        fig = go.Figure(go.Scatter(x=data[s].tolist(), y=data["score"].tolist(), mode="lines+markers",
                                   line=dict(color=RUN_COLORS[0], width=2.5), error_y=error,
                                   hovertemplate=f"{name[s]} %{{x}}: %{{y:.1f}}%<extra></extra>"))
        numbers = [float(v) for v in data[s] if _is_number(v)]
        log = len(numbers) == len(data) and min(numbers, default=0) > 0 and max(numbers) / min(numbers) >= 10
        fig.update_xaxes(title_text=name[s], type="log" if log else None)
    elif mode == "grid" and len(settings) == 2:
        rows, cols = settings
        table = scored.assign(score=score, r=scored[rows].map(format_setting_value), c=scored[cols].map(format_setting_value))
        grid = table.pivot_table(index="r", columns="c", values="score", aggfunc="mean", sort=False)
        z = grid.values.tolist()
        cells = [v for row in z for v in row if v is not None and not math.isnan(v)]
        near = dict(zip(cells, _near_best([v / 100 for v in cells], n_test)))
        text = [["" if v is None or math.isnan(v) else f"{v:.1f}%" + (" ≈" if near.get(v) else "") for v in row]
                for row in z]
        span = {}
        if noise is not None and cells and max(cells) - min(cells) < noise:  # luck must not look like a result
            middle = (max(cells) + min(cells)) / 2
            span = dict(zmin=middle - noise / 2, zmax=middle + noise / 2)
        low, high = (span["zmin"], span["zmax"]) if span else (min(cells, default=0.0), max(cells, default=1.0))
        text = coloured_cell_text(text, z, ACCURACY_SCALE, low, high)
        fig = go.Figure(go.Heatmap(
            z=z, x=[str(c) for c in grid.columns], y=[str(r) for r in grid.index], text=text,
            colorscale=ACCURACY_SCALE, colorbar=dict(title="%"), texttemplate="%{text}", **span,
            hovertemplate=f"{name[rows]} %{{y}}, {name[cols]} %{{x}}: %{{z:.1f}}%<extra></extra>",
        ))
        fig.update_xaxes(title_text=name[cols], type="category")
        fig.update_yaxes(title_text=name[rows], type="category", autorange="reversed")  # first value on top
    else:
        x, y = settings[0], settings[1]
        near = _near_best(scored[column].tolist(), n_test)
        fig = go.Figure(go.Scatter(
            x=scored[x].tolist(), y=scored[y].tolist(), mode="markers+text" if any(near) else "markers",
            text=["≈" if n else "" for n in near], textposition="top center",
            marker=dict(size=14, color=score.tolist(), colorscale=ACCURACY_SCALE, showscale=True,
                        colorbar=dict(title="%")),
            hovertemplate=f"{name[x]} %{{x}}, {name[y]} %{{y}}: %{{marker.color:.1f}}%<extra></extra>"))
        fig.update_xaxes(title_text=name[x])
        fig.update_yaxes(title_text=name[y])
    fig.update_layout(height=340, margin=_MARGIN, title=dict(text=title, font=dict(size=14)))
    return finish(fig)


__all__ = ["display_table", "filter_runs", "overlay_curves_figure", "parallel_figure", "parameter_count", "run_color",
           "results_n_test", "run_parameters", "sweep_figure", "sweep_score"]
