"""AppTest of the evaluation page, on runs written straight into the run store (no training)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from page_helpers import open_page
from run_fixtures import figure, image_count, known_probabilities, make_finished_run, shapes_test_set

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PAGE = "pages/evaluation.py"


def expected():
    y_true, names = shapes_test_set()
    probs = known_probabilities(y_true, len(names))
    return y_true, probs.argmax(1), names


def heatmap(at):
    charts = [figure(c) for c in at.get("plotly_chart")]
    return next(f for f in charts if f["data"][0]["type"] == "heatmap")


def test_empty_state_points_to_the_model_builder():
    at = open_page(PAGE)
    assert "nothing to evaluate" in at.info[0].value
    links = [link.proto.page for link in at.get("page_link")]
    assert "model_builder" in links
    assert not at.get("plotly_chart")


def test_metrics_heatmap_and_toggle(workspace):
    run_id = make_finished_run(workspace)
    y_true, y_pred, names = expected()
    at = open_page(PAGE)
    assert at.selectbox(key="eval_run").value == run_id
    metrics = {m.label: m.value for m in at.main.metric}
    assert metrics["Test accuracy"] == f"{np.mean(y_true == y_pred) * 100:.1f}%"
    assert metrics["Mistakes"] == str(int(np.sum(y_true != y_pred)))
    assert all(m.help for m in at.main.metric)
    figure_counts = heatmap(at)
    counts = figure_counts["data"][0]
    cells = figure_counts["data"][1]  # invisible markers that make cells clickable
    assert len(cells["customdata"]) == len(names) ** 2 and cells["customdata"][1] == [0, 1]
    assert counts["x"] == names and counts["y"] == names
    assert sum(map(sum, counts["z"])) == len(y_true)
    at.toggle(key="eval_normalize").set_value(True).run()
    shares = heatmap(at)["data"][0]["z"]
    assert shares != counts["z"]
    assert np.allclose(np.sum(shares, axis=1), 1.0)


def test_choosing_a_cell_shows_exactly_its_pictures(workspace):
    make_finished_run(workspace)
    y_true, y_pred, names = expected()
    at = open_page(PAGE)
    # default: the most common mix-up
    at.selectbox(key="eval_true").set_value("circle")
    at.selectbox(key="eval_pred").set_value("square").run()
    wanted = int(np.sum((y_true == 0) & (y_pred == 1)))
    assert 0 < wanted < 36
    assert image_count(at) == wanted
    assert any(f"{wanted} test pictures of **circle** mistaken for **square**" in c.value for c in at.caption)
    at.selectbox(key="eval_pred").set_value("triangle").run()
    assert image_count(at) == 0  # no circle was taken for a triangle
    assert not at.exception


def test_per_class_table_and_top_pairs(workspace):
    from sklearn.metrics import f1_score

    make_finished_run(workspace)
    y_true, y_pred, names = expected()
    at = open_page(PAGE)
    tables = [frame.value for frame in at.dataframe]
    report = next(t for t in tables if "f1" in t.columns)
    assert list(report["class"]) == names
    assert np.allclose(report["f1"] / 100, f1_score(y_true, y_pred, average=None, labels=range(len(names))))
    assert list(report["support"]) == [int(np.sum(y_true == i)) for i in range(len(names))]
    bars = next(f for f in map(figure, at.get("plotly_chart")) if f["data"][0]["type"] == "bar")
    assert [t["name"] for t in bars["data"]] == ["precision", "recall", "F1"]
    pairs = next(t for t in tables if "predicted_name" in t.columns)
    assert pairs.iloc[0]["count"] == max(int(np.sum((y_true == t) & (y_pred == p)))
                                         for t in range(5) for p in range(5) if t != p)


def test_defaults_to_the_active_finished_run(workspace):
    older = make_finished_run(workspace, name="older")
    newer = make_finished_run(workspace, name="newer")
    make_finished_run(workspace, name="not tested", predictions=False, status="stopped")
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["active_run_id"] = older
    at.run()
    at.switch_page(PAGE).run()
    picker = at.selectbox(key="eval_run")
    assert picker.value == older and len(picker.options) == 2 and picker.help
    picker.set_value(newer).run()
    at.switch_page("pages/mistakes.py").run()  # the mistakes page shows the same run
    assert at.selectbox(key="mis_run").value == newer


def test_clicked_cell_reads_the_chart_selection():
    from components.run_charts import clicked_cell

    assert clicked_cell(None) is None
    assert clicked_cell({"selection": {"points": []}}) is None
    state = {"selection": {"points": [{"x": "square", "y": "circle", "customdata": [0, 1]}]}}
    assert clicked_cell(state) == (0, 1)


def test_a_run_with_damaged_settings_is_not_offered_and_breaks_nothing(workspace):
    from cnn_core.runs import RunStore

    good = make_finished_run(workspace, name="good")
    damaged = make_finished_run(workspace, name="damaged")
    store = RunStore(workspace)
    store.update_config(damaged, dataset=["not", "a", "data set"], preset={"a": 1})
    at = open_page(PAGE)
    assert not at.exception
    options = at.selectbox(key="eval_run").options
    assert len(options) == 1 and "good" in options[0] and "damaged" not in options[0]
    assert at.selectbox(key="eval_run").value == good
