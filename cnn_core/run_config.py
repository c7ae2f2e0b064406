"""Checking a run's stored config, field by field, and finding damaged runs in a list.

A run's config (``config.json``) holds its data set, model, preprocessing and augmentation
settings, the preset it started from, and bookkeeping entries (sweep, comparison, import). A run
imported from someone else's archive, or a store damaged by hand, may hold anything there.
:func:`check_run_config` checks every field against the same declarations the app uses
(:meth:`ModelSpec.from_dict` + ``validate``, :meth:`AugmentSpec.from_dict`,
:meth:`PreprocessSpec.from_dict`, the data set options' ranges) and raises
:class:`~cnn_core.errors.SpecError` naming the field. :func:`split_damaged` lets a page show the
good runs and list the damaged ones (with a way to delete them) instead of failing on them.

Example:
    >>> check_run_config({"dataset": {"id": "shapes"}, "preset": {"a": 1}})
    Traceback (most recent call last):
    ...
    cnn_core.errors.SpecError: The run setting 'preset' must be a name (text) of at most 100 characters, not a dict.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from cnn_core.class_names import MAX_CLASSES
from cnn_core.dataset_types import MAX_IMAGE_SIDE, MIN_IMAGE_SIDE
from cnn_core.errors import CnnLabError, SpecError

#: Longest text accepted in a config (names, ids, messages).
MAX_TEXT = 1000
#: Longest data set id or preset name.
MAX_NAME = 200
#: Bookkeeping entries (sweep, comparison, import notes) may nest this deep.
MAX_DEPTH = 4
#: ...and hold this many values in all.
MAX_VALUES = 2000

#: The config sections that are specs.
SPEC_FIELDS = ("model", "augment", "preprocess")


def _spec_classes() -> dict[str, type]:
    """The spec classes (imported when needed: models and augment import Keras)."""
    from cnn_core.augment import AugmentSpec
    from cnn_core.model import ModelSpec
    from cnn_core.preprocessing import PreprocessSpec

    return {"model": ModelSpec, "augment": AugmentSpec, "preprocess": PreprocessSpec}


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


def _text(field: str, value: Any, longest: int, empty_ok: bool = False) -> str:
    if not isinstance(value, str) or len(value) > longest or (not empty_ok and not value.strip()):
        shown = f"{len(value)} characters" if isinstance(value, str) else f"a {_kind(value)}"
        raise SpecError(field, "The run setting '{field}' must be a name (text) of at most {longest} characters, not "
                               "{shown}.",
                               field=field, longest=longest, shown=shown)
    return value


def _number(field: str, value: Any, low: float, high: float, whole: bool = False) -> None:
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) \
        and math.isfinite(value) and low <= value <= high \
        and (not whole or float(value).is_integer())
    if not ok:
        kind = "a whole number" if whole else "a number"
        raise SpecError(field, "The run setting '{field}' must be {kind} from {low:g} to {high:g}, not "
                               "{value!r:.60}.",
                               field=field, kind=kind, low=low, high=high, value=value)


def _check_spec(field: str, cls, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise SpecError(field, "The run's '{field}' settings must be a set of named settings, not a {value}.",
                               field=field, value=_kind(value))
    if cls is None:     # the quick check: plain values only
        _simple(field, value, 1)
        return
    try:
        spec = cls.from_dict(value)
        validate = getattr(spec, "validate", None)
        if callable(validate):
            validate()
    except SpecError as error:
        raise SpecError(f"{field}.{error.setting}",
                        "The run's setting '{field}.{setting_}' does not fit: {error}",
                        field=field, setting_=error.setting, error=error) from None
    except (TypeError, ValueError, OverflowError) as error:
        raise SpecError(field, "The run's '{field}' settings cannot be read ({error}).",
                               field=field, error=error) from None


def _check_dataset(value: Any) -> None:
    if not isinstance(value, dict):
        raise SpecError("dataset", "The run's 'dataset' must be a set of named settings, not a {value}.",
                                   value=_kind(value))
    _text("dataset.id", value.get("id"), MAX_TEXT)   # a folder data set's id is its path
    for key, item in value.items():
        field = f"dataset.{key}"
        if not isinstance(key, str) or len(key) > 100:
            raise SpecError("dataset", "The run's 'dataset' has a setting without a proper name.")
        if key == "id" or item is None:
            continue
        if key == "image_size":
            if not isinstance(item, list) or len(item) != 2:
                raise SpecError(field, "The run setting '{field}' must be two whole numbers (height, width).",
                                       field=field)
            for side in item:
                _number(field, side, MIN_IMAGE_SIDE, MAX_IMAGE_SIDE, whole=True)
        elif key == "color_mode":
            if item not in ("rgb", "grayscale"):
                raise SpecError(field, "The run setting '{field}' must be 'rgb' or 'grayscale'.",
                                       field=field)
        elif key == "test_fraction":
            _number(field, item, 0.0, 0.9)
        elif key == "seed":
            _number(field, item, 0, 2 ** 31, whole=True)
        elif key == "class_names":
            _check_names(field, item)
        else:
            _simple(field, item, 1)


def _check_names(field: str, value: Any) -> None:
    if not isinstance(value, list) or len(value) > MAX_CLASSES:
        raise SpecError(field, "The run setting '{field}' must be a list of at most {max_classes:,} class names.",
                               field=field, max_classes=MAX_CLASSES)
    for name in value:
        _text(field, name, MAX_NAME, empty_ok=True)


def _simple(field: str, value: Any, depth: int, budget: list[int] | None = None) -> None:
    """JSON made of short texts, finite numbers, booleans, lists and dicts, not too deep."""
    budget = budget if budget is not None else [MAX_VALUES]
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        raise SpecError(field, "The run entry '{field}' is too large or too deeply nested.",
                               field=field)
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or abs(value) > 1e300:
            raise SpecError(field, "The run entry '{field}' holds a number out of range.",
                                   field=field)
        return
    if isinstance(value, str):
        _text(field, value, MAX_TEXT, empty_ok=True)
        return
    if isinstance(value, list):
        for item in value:
            _simple(field, item, depth + 1, budget)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _text(field, key, 100)
            _simple(f"{field}.{key}", item, depth + 1, budget)
        return
    raise SpecError(field, "The run entry '{field}' holds a {value}.",
                           field=field, value=_kind(value))


def check_run_config(config: Any, specs: bool = True) -> dict:
    """``config`` if every field fits the app's declarations; else SpecError naming the field.

    With ``specs=False`` the model, augmentation and preprocessing sections are only checked to
    hold plain values (no Keras import: quick enough for every run of a page's list).
    """
    if not isinstance(config, dict):
        raise SpecError("config", "The run's settings are not a set of named settings.")
    if "dataset" not in config:
        raise SpecError("dataset", "The run's settings name no data set.")
    _check_dataset(config["dataset"])
    classes = _spec_classes() if specs else {}
    for field in SPEC_FIELDS:
        _check_spec(field, classes.get(field), config.get(field))
    if config.get("preset") is not None:
        _text("preset", config["preset"], 100)
    if config.get("class_names") is not None:
        _check_names("class_names", config["class_names"])
    for key, value in config.items():
        if key in ("dataset", "preset", "class_names") or key in SPEC_FIELDS:
            continue
        _text("config", key, 100)
        if key in ("comparison", "comparison_id", "name"):
            if value is not None:
                _text(key, value, MAX_NAME, empty_ok=True)
            continue
        if key in ("sweep", "imported") and value is not None and not isinstance(value, dict):
            raise SpecError(key, "The run entry '{key}' must be a set of named values, not a {value}.",
                                 key=key, value=_kind(value))
        _simple(key, value, 1)
    return config


def config_problem(config: Any, specs: bool = True) -> str | None:
    """Why a stored config cannot be used (one plain sentence), or None when it is fine."""
    try:
        check_run_config(config, specs)
    except CnnLabError as error:
        return str(error)
    except (TypeError, ValueError, RecursionError) as error:
        return f"Its settings cannot be read ({type(error).__name__})."
    return None


def split_damaged(runs: Sequence[Any]) -> tuple[list[Any], list[tuple[Any, str]]]:
    """``(usable runs, [(damaged run, why), ...])`` of run records, order kept."""
    good, damaged = [], []
    for run in runs:
        problem = config_problem(getattr(run, "config", None), specs=False)
        if problem is None and not isinstance(getattr(run, "name", ""), str):
            problem = "Its name is not text."
        if problem is None:
            good.append(run)
        else:
            damaged.append((run, problem))
    return good, damaged


__all__ = ["MAX_DEPTH", "MAX_TEXT", "SPEC_FIELDS", "check_run_config", "config_problem",
           "split_damaged"]
