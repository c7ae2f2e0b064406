"""Specs as URL query parameters: short links, exact round trips, junk tolerated."""

from __future__ import annotations

import dataclasses
import urllib.parse

import pytest

from cnn_core.augment import AugmentSpec
from cnn_core.errors import SpecError
from cnn_core.model import PRESETS, ModelSpec
from cnn_core.settings import declared
from cnn_core.spec_url import spec_from_query, spec_to_query



def _valid(spec) -> bool:
    try:
        spec.validate()
    except SpecError:
        return False
    return True


def other_value(spec, name: str):
    """A valid value of setting ``name`` different from the spec's."""
    current = getattr(spec, name)
    if isinstance(current, bool):
        candidates = [not current]
    elif isinstance(current, int):
        candidates = [current + 2, current + 1, current - 1, current * 2]
    elif isinstance(current, float):
        candidates = [current * 0.5, 0.1, 0.25, current + 0.5, 1e-4]
    else:
        choices = declared(type(spec))[name].choices    # a text setting: its declared choices
        assert choices, f"the text setting {name!r} declares no choices"
        candidates = [c for c in choices if c != current]
    for value in candidates:
        changed = dataclasses.replace(spec, **{name: value})
        if value != current and _valid(changed):
            return value
    raise AssertionError(f"no other valid value found for {name}")


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(ModelSpec)])
def test_every_model_setting_round_trips(name):
    base = ModelSpec()
    spec = dataclasses.replace(base, **{name: other_value(base, name)})
    params = spec_to_query(spec)
    assert params == {name: params[name]}, "only the changed setting is written"
    model, augment, preset, dataset_id, warnings = spec_from_query(params)
    assert model == spec
    assert augment == AugmentSpec() and preset is None and dataset_id is None
    assert warnings == []


def test_all_settings_changed_at_once_round_trip_through_a_real_url():
    spec = ModelSpec(
        conv_blocks=3, filters=24, filter_growth=1.5, convs_per_block=2, kernel_size=5, stride=1,
        padding="valid", activation="gelu", batch_norm=True, pooling="average", conv_dropout=0.15,
        head="global_average", dense_layers=2, dense_units=96, dense_dropout=0.35, optimizer="sgd",
        learning_rate=0.0031622776601683794, momentum=0.85, lr_schedule="cosine",
        weight_decay=1e-4, label_smoothing=0.1, batch_size=48, epochs=7,
        early_stopping_patience=3, seed=7, dense_shrink=0.5, nesterov=True,
    )
    augment = AugmentSpec(flip="horizontal", rotation=0.1, translation=0.05, zoom=0.2,
                          contrast=0.3, brightness=0.1, seed=3)
    params = spec_to_query(spec, augment, dataset_id="shapes")
    query = urllib.parse.urlencode(params)
    back = spec_from_query(dict(urllib.parse.parse_qsl(query)))
    assert back.model == spec
    assert back.augment == augment
    assert back.dataset_id == "shapes"
    assert back.warnings == []


def test_only_changes_from_the_preset_are_written():
    spec = PRESETS["lenet"].replace(learning_rate=0.01)
    params = spec_to_query(spec, AugmentSpec(flip="horizontal"), preset="lenet", dataset_id="mnist_sample")
    assert params == {"dataset": "mnist_sample", "preset": "lenet", "learning_rate": "0.01",
                      "aug_flip": "horizontal"}
    model, augment, preset, dataset_id, warnings = spec_from_query(params)
    assert (model, augment.flip, preset, dataset_id, warnings) == (spec, "horizontal", "lenet", "mnist_sample", [])


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_a_preset_alone_is_one_parameter(preset):
    assert spec_to_query(PRESETS[preset], preset=preset) == {"preset": preset}
    assert spec_from_query({"preset": preset}).model == PRESETS[preset]


def test_junk_is_ignored_with_warnings_and_never_raises():
    params = {
        "preset": "lenet", "learning_rate": "fast please", "filters": "-5", "kernel_size": "4",
        "batch_norm": "maybe", "epochs": "1e999", "optimizer": "magic", "conv_blocks": ["2", "1"],
        "aug_flip": "sideways", "aug_zoom": "0.2", "utm_source": "mail", "page": "compare",
        "dense_units": "nan",
    }
    model, augment, preset, dataset_id, warnings = spec_from_query(params)
    lenet = PRESETS["lenet"]
    assert preset == "lenet" and dataset_id is None
    assert model == lenet.replace(conv_blocks=1)   # repeated key: the last value counts
    assert augment == AugmentSpec(zoom=0.2)
    text = " ".join(warnings)
    for key in ("learning_rate", "filters", "kernel_size", "batch_norm", "epochs", "optimizer",
                "aug_flip", "dense_units"):
        assert key in text
    assert "utm_source" not in text and "page" not in text


@pytest.mark.parametrize("params", [
    None, 42, "learning_rate=0.1", {}, {"preset": "nope"}, {"preset": ""}, {b"filters": b"16"},
    {"filters": None}, {"filters": []}, {"seed": "3.5"}, {"dataset": "   "},
])
def test_anything_gives_usable_specs(params):
    model, augment, preset, dataset_id, warnings = spec_from_query(params)
    model.validate()
    augment.validate()
    assert isinstance(warnings, list)
    assert dataset_id is None or dataset_id.strip()


def test_unknown_preset_falls_back_to_defaults_and_says_so():
    model, _, preset, _, warnings = spec_from_query({"preset": "resnet900", "filters": "16"})
    assert preset is None and model == ModelSpec(filters=16)
    assert any("resnet900" in w for w in warnings)


def test_a_link_names_the_followed_run_and_junk_is_no_run():
    from cnn_core.spec_url import run_from_query

    assert run_from_query({"run": " 20260101-120000-ab12 "}) == "20260101-120000-ab12"
    assert run_from_query({"run": ["old", "new"]}) == "new"   # repeated: the last one counts
    assert run_from_query({"run": ""}) is None and run_from_query({}) is None
    assert run_from_query(None) is None   # not even a mapping: never raises
