"""Every declared setting of every spec: round trips through dict, JSON, link and CLI text, and
out-of-range values refused by name. The fields are read from the declarations, so a new setting
is tested here without editing this file."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

import pytest

from cnn_core.augment import AugmentSpec
from cnn_core.cli import apply_settings
from cnn_core.errors import SpecError
from cnn_core.model import ModelSpec
from cnn_core.preprocessing import PreprocessSpec
from cnn_core.settings import (
    FALSE_WORDS, TRUE_WORDS, declared, format_text, parse_text, setting, show_value, spec_from_dict,
)
from cnn_core.spec_url import AUGMENT_PREFIX, spec_from_query, spec_to_query

SPECS = (ModelSpec, PreprocessSpec, AugmentSpec)
FIELDS = [pytest.param(cls, name, id=f"{cls.__name__}.{name}") for cls in SPECS for name in declared(cls)]


def other_valid_value(cls, name):
    """A value of ``name`` other than the default that validates, taken from its declaration."""
    decl, default = declared(cls)[name], getattr(cls(), name)
    if decl.kind == "bool":
        candidates = [not default]
    elif decl.kind == "choice":
        candidates = [c for c in decl.choices if c != default]
    else:
        span = [v for v in (decl.low, decl.high) if v is not None]
        middle = [sum(span) / 2] if len(span) == 2 else []
        candidates = [*decl.ladder, *decl.sweep, *middle, *span]
        if decl.kind == "int":
            candidates = [int(v) for v in candidates if float(v).is_integer()]
        else:
            candidates = [float(v) for v in candidates]
    for value in (v for v in candidates if v != default):
        try:
            dataclasses.replace(cls(), **{name: value}).validate()
        except SpecError:
            continue
        return value
    raise AssertionError(f"the declaration of {cls.__name__}.{name} offers no other valid value")


def invalid_values(cls, name):
    """Values the declaration refuses: beyond either end, or not one of the choices."""
    decl = declared(cls)[name]
    if decl.kind == "choice":
        return ["no_such_choice"]
    if decl.kind == "bool":
        return ["maybe"]
    step = 1 if decl.kind == "int" else max(abs(decl.high - decl.low) * 0.5, 0.01)
    return [decl.low - step if not decl.low_open else decl.low, decl.high + step]


@pytest.mark.parametrize("cls, name", FIELDS)
def test_every_setting_round_trips_through_dict_json_link_and_cli(cls, name):
    value = other_valid_value(cls, name)
    spec = dataclasses.replace(cls(), **{name: value})
    # dict and JSON
    assert cls.from_dict(spec.to_dict()) == spec
    assert cls.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    # text, as typed in a link or a terminal, read by the one parser
    text = format_text(value)
    assert parse_text(cls, name, text) == value
    # the CLI (--set for model and preprocessing, --augment for augmentation)
    assert apply_settings(cls(), [f"{name}={text}"]) == spec
    # the link (model and augmentation settings travel in it)
    if cls is ModelSpec:
        assert spec_to_query(spec) == {name: text}
        back = spec_from_query({name: text})
        assert back.model == spec and back.warnings == []
    elif cls is AugmentSpec:
        back = spec_from_query(spec_to_query(ModelSpec(), spec))
        assert back.augment == spec and back.warnings == []
    # shown to people in the widgets' words
    assert show_value(declared(cls)[name], value)


@pytest.mark.parametrize("cls, name", FIELDS)
def test_every_setting_refuses_values_out_of_its_range_by_name(cls, name):
    for bad in invalid_values(cls, name):
        with pytest.raises(SpecError) as caught:
            cls.from_dict({name: bad})
        assert caught.value.setting == name
        assert name in str(caught.value)
    with pytest.raises(SpecError) as caught:  # not even the right kind of value
        cls.from_dict({name: [1, 2]})
    assert caught.value.setting == name


@pytest.mark.parametrize("cls", SPECS)
def test_from_dict_coerces_and_validates_the_same_for_every_spec(cls):
    assert cls.from_dict({}) == cls()
    assert cls.from_dict(None) == cls()
    with pytest.raises(SpecError) as caught:
        cls.from_dict({"no_such_setting": 1})
    assert caught.value.setting == "no_such_setting"
    for name, decl in declared(cls).items():
        default = getattr(cls(), name)
        if decl.kind == "int":  # JSON may write whole numbers as floats
            assert getattr(cls.from_dict({name: float(default)}), name) == default
            assert isinstance(getattr(cls.from_dict({name: float(default)}), name), int)
        if decl.kind == "float" and float(default).is_integer():
            assert isinstance(getattr(cls.from_dict({name: int(default)}), name), float)


def test_switches_read_the_same_words_in_the_cli_and_in_links():
    for word in TRUE_WORDS | {w.upper() for w in TRUE_WORDS}:
        assert apply_settings(ModelSpec(), [f"batch_norm={word}"]).batch_norm is True
        assert spec_from_query({"batch_norm": word}).model.batch_norm is True
    for word in FALSE_WORDS:
        spec = ModelSpec(batch_norm=True)
        assert apply_settings(spec, [f"batch_norm={word}"]).batch_norm is False
        assert spec_from_query({"preset": "fast", "batch_norm": word}).model.batch_norm is False
    with pytest.raises(SpecError) as caught:
        apply_settings(ModelSpec(), ["batch_norm=maybe"])
    assert caught.value.setting == "batch_norm"
    assert "batch_norm" in " ".join(spec_from_query({"batch_norm": "maybe"}).warnings)


def test_augmentation_settings_travel_in_links_with_their_prefix():
    spec = AugmentSpec(rotation=0.1)
    assert spec_to_query(ModelSpec(), spec) == {f"{AUGMENT_PREFIX}rotation": "0.1"}


def test_numbers_read_from_text_keep_their_kind():
    assert parse_text(ModelSpec, "filters", "16.0") == 16 and isinstance(parse_text(ModelSpec, "filters", "16"), int)
    assert parse_text(ModelSpec, "learning_rate", "1e-3") == 0.001
    for bad in ("2.5", "many", "nan", "inf"):
        with pytest.raises(SpecError) as caught:
            parse_text(ModelSpec, "filters", bad)
        assert caught.value.setting == "filters"


def test_an_undeclared_field_is_a_programming_error():
    @dataclass(frozen=True)
    class Half:
        size: int = setting(3, kind="int", low=1, high=9, label="Size", help="How big.")
        colour: str = "red"

    with pytest.raises(TypeError, match="colour"):
        spec_from_dict(Half, {})


def test_values_are_shown_in_the_widgets_words_and_units():
    model, augment = declared(ModelSpec), declared(AugmentSpec)
    assert show_value(model["learning_rate"], 0.01) == "0.01"
    assert show_value(model["optimizer"], "sgd") == "SGD with momentum"
    assert show_value(model["kernel_size"], 5) == "5x5"
    assert show_value(model["batch_norm"], True) == "on"
    assert show_value(augment["rotation"], 0.1) == "up to ±36°"
    assert show_value(augment["rotation"], 0.0) == "off"
    assert show_value(augment["zoom"], 0.2) == "up to ±20%"
