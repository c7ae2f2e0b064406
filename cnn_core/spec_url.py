"""Model and augmentation settings as URL query parameters, so an experiment can be shared as a link.

Only settings that differ from the preset (or from the defaults when there is no preset) are
written, so links stay short and readable::

    ?dataset=shapes&preset=lenet&learning_rate=0.01&filters=16&aug_flip=horizontal&run=20260101-...

``run=`` names the run the page follows (:func:`run_from_query`).

Values are read by :func:`cnn_core.settings.parse_text`, the reader the CLI and sweeps use too.
Reading is forgiving: a link is typed, pasted and edited by people. Unknown parameters are
ignored, a value that cannot be used falls back to the preset's value with a warning, and
:func:`spec_from_query` never raises.

Example:
    >>> from cnn_core.model import PRESETS
    >>> params = spec_to_query(PRESETS["lenet"].replace(learning_rate=0.01), preset="lenet")
    >>> params
    {'preset': 'lenet', 'learning_rate': '0.01'}
    >>> model, augment, preset, dataset_id, warnings = spec_from_query(params)
    >>> model.learning_rate, preset, warnings
    (0.01, 'lenet', [])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, NamedTuple

from cnn_core.augment import AugmentSpec
from cnn_core.errors import SpecError
from cnn_core.model import PRESETS, ModelSpec
from cnn_core.settings import format_text, parse_text

DATASET_KEY = "dataset"
PRESET_KEY = "preset"
AUGMENT_PREFIX = "aug_"
RUN_KEY = "run"


class QuerySpecs(NamedTuple):
    """What a link describes; a tuple ``(model, augment, preset, dataset_id, warnings)``.

    ``warnings`` lists, in plain words, every parameter that was ignored or replaced by a default.
    """

    model: ModelSpec
    augment: AugmentSpec
    preset: str | None
    dataset_id: str | None
    warnings: list[str]


def _changed_fields(spec, baseline) -> dict[str, Any]:
    return {
        field.name: getattr(spec, field.name)
        for field in dataclasses.fields(spec)
        if getattr(spec, field.name) != getattr(baseline, field.name)
    }


def spec_to_query(
    model_spec: ModelSpec,
    augment_spec: AugmentSpec | None = None,
    preset: str | None = None,
    dataset_id: str | None = None,
) -> dict[str, str]:
    """Query parameters describing the specs: only the settings that differ from ``preset``.

    Args:
        model_spec: the model to describe.
        augment_spec: the augmentation, if any; only its non-default settings are written
            (prefixed ``aug_``).
        preset: the preset the model started from; an unknown name is treated as no preset.
        dataset_id: the data set to name in the link (``dataset=``), optional.

    Returns:
        A ``dict[str, str]`` ready for ``st.query_params.from_dict`` or ``urllib.parse.urlencode``.
    """
    params: dict[str, str] = {}
    if dataset_id:
        params[DATASET_KEY] = str(dataset_id)
    baseline = ModelSpec()
    if preset in PRESETS:
        params[PRESET_KEY] = preset
        baseline = PRESETS[preset]
    for name, value in _changed_fields(model_spec, baseline).items():
        params[name] = format_text(value)
    if augment_spec is not None:
        for name, value in _changed_fields(augment_spec, AugmentSpec()).items():
            params[AUGMENT_PREFIX + name] = format_text(value)
    return params


def run_from_query(params: Mapping[str, Any]) -> str | None:
    """The run id a link names (``run=``), or None; never raises.

    >>> run_from_query({"run": " 20260101-120000-ab12 "})
    '20260101-120000-ab12'
    """
    try:
        text = _single(params.get(RUN_KEY))
    except Exception:  # noqa: BLE001 - junk in, nothing out
        return None
    return text.strip() or None if text else None


def _single(value: Any) -> str | None:
    """A query value as one string (the last one when repeated), or None if it is not text."""
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else None
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", "replace")
    return str(value)


def _read_fields(
    cls, baseline, values: Mapping[str, str], prefix: str, warnings: list[str]
) -> dict[str, Any]:
    """Field values parsed from ``values``; unparsable ones are left out with a warning."""
    parsed: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        key = prefix + field.name
        if key not in values:
            continue
        try:
            parsed[field.name] = parse_text(cls, field.name, values[key])
        except SpecError as error:
            kept = format_text(getattr(baseline, field.name))
            warnings.append(f"Ignored {key}={values[key]!r} ({str(error).rstrip('.')}); kept {kept}.")
    return parsed


def _build_valid(cls, baseline, parsed: dict[str, Any], prefix: str, warnings: list[str]):
    """``baseline`` with ``parsed`` applied, dropping settings that fail validation one at a time."""
    parsed = dict(parsed)
    for _ in range(len(parsed) + 1):
        try:
            spec = dataclasses.replace(baseline, **parsed)
            spec.validate()
            return spec
        except SpecError as error:
            setting = error.setting if error.setting in parsed else next(iter(parsed), None)
            if setting is None:
                break
            value = parsed.pop(setting)
            warnings.append(
                f"Ignored {prefix}{setting}={format_text(value)}: {error} "
                f"Kept {format_text(getattr(baseline, setting))}."
            )
        except (TypeError, ValueError) as error:  # defensive: a spec that cannot even be built
            warnings.append(f"Ignored the link's settings ({error}); using the defaults.")
            break
    return baseline


def spec_from_query(params: Mapping[str, Any]) -> QuerySpecs:
    """The specs a link describes, never raising.

    Args:
        params: query parameters, e.g. ``st.query_params`` or ``dict(urllib.parse.parse_qsl(q))``;
            values may be strings or lists of strings (the last one counts).

    Returns:
        :class:`QuerySpecs`, a tuple ``(model_spec, augment_spec, preset, dataset_id, warnings)``;
        ``warnings`` say in plain words what was ignored. Unknown parameters are ignored silently (links
        carry other things, e.g. a page's own parameters).
    """
    warnings: list[str] = []
    try:
        items = dict(params.items())
    except Exception:  # noqa: BLE001 - junk in, defaults out
        items = {}
        warnings.append("The link's parameters could not be read; using the defaults.")
    values: dict[str, str] = {}
    for key, raw in items.items():
        text = _single(raw)
        if text is not None:
            values[str(key)] = text

    preset = values.get(PRESET_KEY) or None
    baseline = ModelSpec()
    if preset is not None:
        if preset in PRESETS:
            baseline = PRESETS[preset]
        else:
            warnings.append(
                f"Unknown preset {preset!r}; started from the defaults. "
                f"Presets: {', '.join(sorted(PRESETS))}."
            )
            preset = None
    dataset_id = values.get(DATASET_KEY, "").strip() or None

    model = _build_valid(
        ModelSpec, baseline, _read_fields(ModelSpec, baseline, values, "", warnings), "", warnings
    )
    default_augment = AugmentSpec()
    augment = _build_valid(
        AugmentSpec,
        default_augment,
        _read_fields(AugmentSpec, default_augment, values, AUGMENT_PREFIX, warnings),
        AUGMENT_PREFIX,
        warnings,
    )
    return QuerySpecs(model, augment, preset, dataset_id, warnings)
