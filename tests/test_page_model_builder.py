"""AppTest of the model builder: a widget per setting, live layer table/totals, inline errors, training."""

from __future__ import annotations

import dataclasses

import pytest
from streamlit.testing.v1 import AppTest

from page_helpers import current_page, open_page, stop_run

WIDGET_KINDS = ("slider", "select_slider", "selectbox", "radio", "toggle", "number_input")

pytest.importorskip("tensorflow")


def open_builder(dataset_id: str = "shapes") -> AppTest:
    return open_page("pages/model_builder.py", dataset_id)


def widgets(at: AppTest) -> dict:
    return {w.key: w for kind in WIDGET_KINDS for w in at.main.get(kind) if w.key}


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.main.metric if m.label == label)


def element_after(at: AppTest, key: str):
    """The element drawn right after the widget ``key`` inside its expander."""
    for expander in at.main.expander:
        children = list(expander.children.values())
        for i, child in enumerate(children):
            if getattr(child, "key", None) == key:
                return children[i + 1] if i + 1 < len(children) else None
    raise AssertionError(f"no widget {key!r} in an expander")


def expected_summary(spec, dataset_id: str = "shapes"):
    from cnn_core.datasets import load_dataset
    from cnn_core.model import build_model, summarize

    dataset = load_dataset(dataset_id)
    return summarize(build_model(spec, dataset.image_shape, dataset.n_classes))


def layers(at):
    """The layer table as drawn (a static table: long texts wrap instead of being cut)."""
    return at.main.table[0].value.reset_index()


def test_table_totals_and_diagram_match_the_built_model():
    from cnn_core.model import DEFAULT_PRESET, PRESETS

    from components.model_summary import human_count

    at = open_builder()
    summary = expected_summary(PRESETS[DEFAULT_PRESET])
    table = layers(at)
    assert len(table) == len(summary.rows)
    assert [int(p.replace(",", "")) for p in table["parameters"]] == [row.params for row in summary.rows]
    assert list(table.columns) == ["layer", "output shape", "parameters", "what it does"]
    assert all(table["what it does"])              # every layer explained, in full
    assert metric(at, "Parameters") == human_count(summary.total_params)
    assert metric(at, "Operations per picture") == human_count(summary.flops_per_image)
    assert metric(at, "Training time").startswith("about ")  # a range, from the cost estimate
    assert len(at.get("plotly_chart")) == 1
    assert at.session_state["model_spec"] == PRESETS[DEFAULT_PRESET].to_dict()


def test_every_setting_has_an_explained_widget():
    from cnn_core.model import ModelSpec

    at = open_builder()
    shown = widgets(at)
    for field in dataclasses.fields(ModelSpec):
        widget = shown.get(f"spec_{field.name}")
        assert widget is not None, f"no widget for {field.name}"
        assert widget.help, f"no explanation for {field.name}"
    assert at.selectbox(key="spec_preset").help
    assert at.button(key="mb_train").help


def test_moving_a_slider_changes_the_totals_and_the_stored_spec():
    at = open_builder()
    before = metric(at, "Parameters")
    rows_before = len(layers(at))
    at.select_slider(key="spec_filters").set_value(64).run()
    assert not at.exception
    assert metric(at, "Parameters") != before
    assert at.session_state["model_spec"]["filters"] == 64
    assert at.session_state["preset"] is None  # no longer the preset as shipped
    at.slider(key="spec_dense_layers").set_value(0).run()
    assert len(layers(at)) < rows_before


def test_choosing_a_preset_sets_every_widget():
    from cnn_core.model import PRESETS

    at = open_builder()
    at.selectbox(key="spec_preset").select("mlp").run()
    assert not at.exception
    assert at.slider(key="spec_conv_blocks").value == 0
    assert at.session_state["model_spec"] == PRESETS["mlp"].to_dict()
    assert at.session_state["preset"] == "mlp"
    assert "Conv2D" not in set(layers(at)["layer"])


def test_a_preset_pick_whose_change_callback_was_lost_still_loads_the_preset():
    """A pick that reaches the server while a rerun is starting can arrive without its callback
    (seen in a browser journey: the selectbox showed mlp, the sliders kept lenet's values)."""
    from cnn_core.model import PRESETS

    at = open_builder()
    assert at.slider(key="spec_conv_blocks").value != 0
    at.session_state["spec_preset"] = "mlp"  # the widget's new value, no on_change call
    at.run()
    assert not at.exception
    assert at.slider(key="spec_conv_blocks").value == 0
    assert at.session_state["model_spec"] == PRESETS["mlp"].to_dict()


def test_impossible_spec_shows_the_error_under_the_setting_it_names():
    from cnn_core.datasets import load_dataset
    from cnn_core.errors import SpecError
    from cnn_core.model import PRESETS, check_spec

    at = open_builder()
    at.selectbox(key="spec_preset").select("fast").run()
    at.slider(key="spec_conv_blocks").set_value(6).run()
    assert not at.exception
    dataset = load_dataset("shapes")
    with pytest.raises(SpecError) as caught:
        check_spec(PRESETS["fast"].replace(conv_blocks=6), dataset.image_shape, dataset.n_classes)
    assert caught.value.setting == "conv_blocks"
    shown = element_after(at, "spec_conv_blocks")
    assert shown.type == "error" and shown.value == str(caught.value)
    assert at.button(key="mb_train").disabled
    assert not at.main.table
    # back to a possible value: the error goes, the table comes back
    at.slider(key="spec_conv_blocks").set_value(3).run()
    assert not at.main.error and at.main.table


def test_settings_survive_a_page_switch():
    at = open_builder()
    at.select_slider(key="spec_filters").set_value(16).run()
    at.switch_page("pages/data.py").run()
    at.switch_page("pages/model_builder.py").run()
    assert at.select_slider(key="spec_filters").value == 16
    assert at.session_state["model_spec"]["filters"] == 16


def test_train_this_model_queues_a_run_and_opens_training(workspace):
    from cnn_core.runs import RunStore

    at = open_builder()
    at.select_slider(key="spec_filters").set_value(8).run()
    at.button(key="mb_train").click().run()
    runs = RunStore(workspace).list_runs()
    assert len(runs) == 1
    try:
        assert runs[0].config["model"]["filters"] == 8
        assert runs[0].config["dataset"]["id"] == "shapes"
        assert current_page(at) == "training.py"
    finally:
        stop_run(workspace, runs[0].id)


def test_unreadable_data_set_keeps_the_settings_and_explains():
    at = open_builder("user:missing")
    assert at.main.error and "missing" in at.main.error[0].value
    assert any("data set" in i.value for i in at.main.info)
    assert at.slider(key="spec_conv_blocks")  # the settings stay usable
    assert at.button(key="mb_train").disabled


def test_a_slider_can_go_back_to_the_presets_value_after_moving():
    from cnn_core.model import PRESETS

    at = open_builder()
    lenet = PRESETS["lenet"]
    assert at.select_slider(key="spec_filters").value == lenet.filters == 6  # not on the 4-8-16 ladder
    at.select_slider(key="spec_filters").set_value(32).run()
    at.select_slider(key="spec_filters").set_value(6).run()
    assert not at.exception
    assert at.session_state["model_spec"]["filters"] == 6
    assert at.session_state["preset"] == "lenet"  # back to the preset as shipped


def test_choosing_muon_switches_on_its_filter_step():
    at = open_builder()
    at.selectbox(key="spec_optimizer").select("adam").run()
    shown = widgets(at)
    assert shown["spec_muon_rate"].disabled and shown["spec_momentum"].disabled  # not Adam's
    at.selectbox(key="spec_optimizer").select("muon").run()
    assert not at.exception
    shown = widgets(at)
    assert not shown["spec_muon_rate"].disabled and not shown["spec_momentum"].disabled
    at.select_slider(key="spec_muon_rate").set_value(0.1).run()
    assert at.session_state["model_spec"]["optimizer"] == "muon"
    assert at.session_state["model_spec"]["muon_rate"] == 0.1


def test_a_time_limit_caps_the_training_time_estimate():
    at = open_builder()
    at.slider(key="spec_epochs").set_value(100).run()
    at.select_slider(key="spec_filters").set_value(64).run()
    unlimited = metric(at, "Training time")
    assert "min" in unlimited and unlimited != "about 1 min", unlimited   # longer than the limit
    at.select_slider(key="spec_time_limit").set_value(1).run()
    assert not at.exception, at.exception
    assert metric(at, "Training time") in ("about 1 min", "about 40 s – 1 min", "about 50 s – 1 min")
