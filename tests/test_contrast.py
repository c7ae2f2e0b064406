"""WCAG contrast: the pure function, and every colour presentation mode puts in front of a room
(theme text, chart palettes, heatmap colour scales and the text on their cells, status colours)
reaching level AA: 4.5:1 for text, 3:1 for graphics and large text."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from cnn_core.contrast import AA_LARGE, AA_TEXT, blend, contrast_ratio, parse_colour, passes_aa, readable_text_on
from components import compare_charts, dataset_charts, presentation, run_charts
from components.chart_look import (CELL_TEXT_DARK, CELL_TEXT_LIGHT, CHART_BACKGROUND, LAPTOP, PROJECTOR, apply_look,
                                   colour_at, scale_stops)

ROOT = Path(__file__).resolve().parent.parent
CHART_MODULES = sorted((ROOT / "components").glob("*charts*.py"))
HEX = re.compile(r"""["'](#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3})["']""")


# -- the function ---------------------------------------------------------------------------------

def test_contrast_ratio_matches_the_wcag_reference_values():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the classic AA grey
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # just below
    assert contrast_ratio("#ff0000", "#ffffff") == pytest.approx(4.0, abs=0.01)


def test_contrast_is_symmetric_and_reads_every_notation():
    assert contrast_ratio("#3b6fd8", "#f0f2f6") == pytest.approx(contrast_ratio("#f0f2f6", "#3b6fd8"))
    assert contrast_ratio("#abc", "#fff") == pytest.approx(contrast_ratio("#aabbcc", "#ffffff"))
    assert contrast_ratio("rgb(59, 111, 216)", "#ffffff") == pytest.approx(contrast_ratio("#3b6fd8", "#ffffff"))


def test_a_see_through_colour_is_measured_as_it_shows_on_its_background():
    assert blend("rgba(0, 0, 0, 0.5)", "#ffffff") == "#808080"
    assert contrast_ratio("rgba(0,0,0,0.5)", "#ffffff") == pytest.approx(contrast_ratio("#808080", "#ffffff"))
    # Streamlit's caption grey (its text colour at 60%) is too faint for a projector
    assert not passes_aa("rgba(49, 51, 63, 0.6)", "#ffffff")


def test_aa_thresholds_for_text_and_for_graphics():
    assert (AA_TEXT, AA_LARGE) == (4.5, 3.0)
    assert passes_aa("#767676", "#ffffff") and not passes_aa("#949494", "#ffffff")
    assert passes_aa("#949494", "#ffffff", large=True) and not passes_aa("#aaaaaa", "#ffffff", large=True)


def test_readable_text_on_picks_dark_text_on_light_cells_and_light_text_on_dark_ones():
    assert readable_text_on("#f7fbff") == "#000000"
    assert readable_text_on("#08306b") == "#ffffff"


@pytest.mark.parametrize("bad", ["blue", "#12345", "rgb(1,2)", ""])
def test_an_unreadable_colour_is_refused_by_name(bad):
    with pytest.raises(ValueError, match="not a colour"):
        parse_colour(bad)


# -- the colours presentation mode uses -----------------------------------------------------------

def chart_colours() -> list[tuple[str, str]]:
    """Every #rgb / #rrggbb written in a components/*charts*.py module: (module, colour)."""
    found = [(path.name, colour) for path in CHART_MODULES for colour in HEX.findall(path.read_text())]
    assert len(found) >= 20, found  # the palettes are there to check
    return found


@pytest.mark.parametrize("module,colour", chart_colours())
def test_every_chart_colour_reaches_3_to_1_on_the_chart_background(module, colour):
    assert passes_aa(colour, CHART_BACKGROUND, large=True), \
        f"{colour} in {module}: {contrast_ratio(colour, CHART_BACKGROUND):.2f}:1 on {CHART_BACKGROUND}"


def test_the_palettes_are_the_ones_checked():
    palettes = [*run_charts.SCORE_COLORS.values(), run_charts.TRAIN_COLOR, run_charts.VALIDATION_COLOR,
                run_charts.OTHER_COLOR, run_charts.MARKER_LINE_COLOR, *compare_charts.RUN_COLORS,
                compare_charts.NOISE_BAR_COLOR, *dataset_charts.SPLIT_COLORS.values(),
                *dataset_charts.CHANNEL_COLORS.values()]
    checked = {colour.lower() for _, colour in chart_colours()}
    assert {c.lower() for c in palettes} <= checked


@pytest.mark.parametrize("status", ["GOOD_COLOR", "BAD_COLOR"])
def test_status_colours_read_as_text(status):
    colour = getattr(run_charts, status)
    assert passes_aa(colour, CHART_BACKGROUND), f"{status} {colour}: {contrast_ratio(colour, CHART_BACKGROUND):.2f}:1"


@pytest.mark.parametrize("text", [presentation.TEXT, presentation.MUTED_TEXT])
@pytest.mark.parametrize("background", [presentation.BACKGROUND, presentation.SIDEBAR_BACKGROUND])
def test_presentation_text_reads_on_the_page_and_the_sidebar(text, background):
    assert passes_aa(text, background), f"{text} on {background}: {contrast_ratio(text, background):.2f}:1"
    assert text in presentation.PROJECTOR_CSS


def test_the_theme_colours_reach_aa():
    theme = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text()).get("theme", {})
    background = theme.get("backgroundColor", presentation.BACKGROUND)
    primary = theme["primaryColor"]
    assert passes_aa("#ffffff", primary), "white text on primary buttons"
    assert passes_aa(primary, background, large=True), "the primary colour (sliders, toggles) on the page"
    if "textColor" in theme:
        assert passes_aa(theme["textColor"], background)


HEATMAP_SCALES = {"confusion matrix": run_charts.CONFUSION_SCALE, "sweep / accuracy": compare_charts.ACCURACY_SCALE}


@pytest.mark.parametrize("name", HEATMAP_SCALES)
def test_heatmap_scale_ends_stand_apart_and_every_cell_number_reads(name):
    stops = scale_stops(HEATMAP_SCALES[name])
    low, high = stops[0][1], stops[-1][1]
    assert passes_aa(low, high, large=True), f"{name}: ends {low} and {high} are too alike"
    worst = min(contrast_ratio(readable_text_on(colour_at(stops, t), CELL_TEXT_DARK, CELL_TEXT_LIGHT),
                               colour_at(stops, t)) for t in np.linspace(0, 1, 201))
    assert worst >= AA_TEXT, f"{name}: the number on some cell reads at only {worst:.2f}:1"


def test_accuracy_colours_of_points_and_lines_reach_3_to_1_on_white_all_along_the_scale():
    stops = scale_stops(compare_charts.ACCURACY_SCALE)
    worst = min(contrast_ratio(colour_at(stops, t), CHART_BACKGROUND) for t in np.linspace(0, 1, 201))
    assert worst >= AA_LARGE, worst


def test_confusion_matrix_numbers_are_written_in_the_colour_that_reads_on_their_cell():
    confusion = np.array([[40, 0, 10], [5, 25, 20], [0, 1, 49]])
    fig = run_charts.confusion_figure(confusion, ["a", "b", "c"])
    heatmap = fig.data[0]
    assert heatmap.texttemplate == "%{text}"
    stops = scale_stops(heatmap.colorscale)
    top = confusion.max()
    for i in range(3):
        for j in range(3):
            colour = re.search(r"color:(#[0-9a-f]{6})", heatmap.text[i][j]).group(1)
            cell = colour_at(stops, confusion[i, j] / top)
            assert contrast_ratio(colour, cell) >= AA_TEXT, (i, j, colour, cell)
            assert f">{confusion[i, j]}<" in heatmap.text[i][j]
    # a light and a dark cell do not share one text colour (Plotly's own pick fails mid-scale)
    assert "#ffffff" in heatmap.text[2][2] and "#000000" in heatmap.text[0][1]


def test_the_sweep_heatmap_is_drawn_with_the_checked_scale_and_readable_numbers():
    import pandas as pd

    results = pd.DataFrame({"lr": [0.001, 0.001, 0.01, 0.01], "dropout": [0.0, 0.5, 0.0, 0.5],
                            "test_accuracy": [0.5, 0.6, 0.8, 0.95], "status": ["finished"] * 4})
    fig = compare_charts.sweep_figure(results, ["lr", "dropout"], mode="grid")
    heatmap = fig.data[0]
    assert [c for _, c in scale_stops(heatmap.colorscale)] == [c for _, c in compare_charts.ACCURACY_SCALE]
    assert all("<span style=\"color:#" in cell for row in heatmap.text for cell in row)


# -- chart sizes from one place -----------------------------------------------------------------

def test_the_projector_look_makes_charts_taller_with_bigger_type_and_thicker_lines():
    epochs = [{"epoch": 1, "loss": 1.0, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.45}]
    laptop = run_charts.curves_figure(epochs)   # outside a session: the laptop look
    projector = apply_look(run_charts.curves_figure(epochs), PROJECTOR)
    assert projector.layout.height == round(laptop.layout.height * PROJECTOR.height_scale)
    assert projector.layout.font.size == PROJECTOR.font_size
    assert all(a.font.size == PROJECTOR.title_size for a in projector.layout.annotations)  # subplot titles
    assert projector.data[0].line.width == pytest.approx(laptop.data[0].line.width * PROJECTOR.line_scale)
    # every word in the projector's dark text colour (Streamlit's chart theme writes them in a faded grey)
    for axis in (projector.layout.xaxis, projector.layout.yaxis, projector.layout.xaxis2, projector.layout.yaxis2):
        assert axis.tickfont.color == axis.title.font.color == presentation.TEXT
        assert axis.tickfont.size == PROJECTOR.font_size
    assert projector.layout.legend.font.color == presentation.TEXT
    assert not any("colorbar" in trace.to_plotly_json().get(part, {}) for trace in projector.data
                   for part in ("marker", "line")), "a colour bar appeared on a plain line chart"


def test_the_projector_look_reaches_colour_bars_and_parallel_coordinates():
    heat = apply_look(run_charts.confusion_figure(np.eye(3, dtype=int), ["a", "b", "c"]), PROJECTOR)
    assert heat.data[0].colorbar.tickfont.color == presentation.TEXT
    cells = heat.data[1]   # the invisible click targets: still no colour bar of their own
    assert cells.type == "scatter" and "colorbar" not in cells.to_plotly_json().get("marker", {})
    sweep = apply_look(compare_charts.sweep_figure(
        __import__("pandas").DataFrame({"a": [1, 2, 3], "b": [4, 5, 6], "test_accuracy": [0.5, 0.6, 0.7]}),
        ["a", "b"], mode="random"), PROJECTOR)
    assert sweep.data[0].marker.showscale and sweep.data[0].marker.colorbar.tickfont.color == presentation.TEXT
    parallel = apply_look(compare_charts.parallel_figure([{"model": {"lr": 0.1}}, {"model": {"lr": 0.01}}],
                                                         ["model.lr"], [0.5, 0.6]), PROJECTOR)
    assert parallel.data[0].labelfont.color == parallel.data[0].tickfont.color == presentation.TEXT


def test_the_laptop_look_changes_nothing():
    epochs = [{"epoch": 1, "loss": 1.0, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.45}]
    fig = run_charts.curves_figure(epochs)
    before = fig.to_dict()
    assert apply_look(fig, LAPTOP).to_dict() == before
