"""A run's settings in the words, labels and units the widgets use, read from the declarations.

Every place that names a setting to people ("what changed" between runs, the Training page's
"every setting this run trained with", the augmentation a run uses) goes through here, so
``augment.rotation = 0.1`` reads "Turn: up to ±36°" everywhere. Labels and value texts come
from each field's :func:`cnn_core.settings.setting` declaration; nothing is listed twice.

Example:
    >>> setting_label("model.learning_rate"), setting_text("augment.rotation", 0.1)
    ('Learning rate', 'up to ±36°')
    >>> describe_augment({"flip": "horizontal", "rotation": 0.1})
    'mirror left ↔ right, turn up to ±36°'
    >>> describe_augment({})
    'no augmentation'
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from cnn_core.i18n import N_, _
from cnn_core.model.presets import preset_name

#: Config sections holding a declared spec: section -> (module, class), in the order shown.
SPEC_SECTIONS = {"model": ("cnn_core.model.spec", "ModelSpec"),
                 "augment": ("cnn_core.augment", "AugmentSpec"),
                 "preprocess": ("cnn_core.preprocessing", "PreprocessSpec")}
#: Section titles, as the Training page shows them.
SECTION_TITLES = {"dataset": N_("Data set"), "model": N_("Model"), "augment": N_("Augmentation"),
                  "preprocess": N_("Preprocessing")}
#: Data set options stored in a run's config (``config["dataset"]``) and their labels.
DATASET_LABELS = {"id": N_("Data set"), "image_size": N_("Picture size"), "color_mode": N_("Colours"),
                  "test_fraction": N_("Test share"), "seed": N_("Data set seed")}
OTHER_LABELS = {"preset": N_("Preset")}


def spec_class(section: str):
    """The spec class of a config section (``"model"`` -> ModelSpec), or None."""
    where = SPEC_SECTIONS.get(section)
    return getattr(importlib.import_module(where[0]), where[1]) if where else None


def setting_declaration(name: str):
    """The :class:`cnn_core.settings.Setting` of a flattened name such as
    ``"augment.rotation"``, or None for names that are not a declared spec setting."""
    from cnn_core.settings import declared

    section, _dot, field_name = name.partition(".")
    cls = spec_class(section)
    if cls is None or not field_name:
        return None
    return declared(cls).get(field_name)


def short_setting_name(name: str) -> str:
    """``"model.learning_rate"`` -> ``"learning_rate"``; other sections keep their prefix."""
    return name.split(".", 1)[1] if name.startswith("model.") else name


def setting_label(name: str) -> str:
    """The label people see for a flattened setting name: ``"model.learning_rate"`` ->
    "Learning rate", ``"dataset.id"`` -> "Data set"; unknown names as they are written."""
    decl = setting_declaration(name)
    if decl is not None:
        return _(decl.label)
    section, _dot, field_name = name.partition(".")
    if section == "dataset" and field_name in DATASET_LABELS:
        return _(DATASET_LABELS[field_name])
    if name in OTHER_LABELS:
        return _(OTHER_LABELS[name])
    return short_setting_name(name)


def plain_value(value: Any) -> str:
    """A value with no declaration as people read it: on/off, 0.001, 32x32, (none)."""
    if value is None:
        return _("(none)")
    if isinstance(value, bool):
        return _("on") if value else _("off")
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        return "x".join(str(v) for v in value)
    return str(value)


def setting_text(name: str, value: Any) -> str:
    """A value of a flattened setting as the widgets show it (``up to ±36°``, ``5x5``, ``on``)."""
    decl = setting_declaration(name)
    if decl is None:
        return plain_value(value)
    from cnn_core.settings import show_value

    return show_value(decl, value)


def labelled_change(name: str, old: Any, new: Any) -> str:
    """``"Learning rate: 0.001 -> 0.01"`` for a flattened setting name."""
    return f"{setting_label(name)}: {setting_text(name, old)} -> {setting_text(name, new)}"


def _filled(section: str, values: Mapping | None) -> dict[str, Any]:
    """A spec section's stored values over the declared defaults (what the run trained with:
    training fills missing settings with their defaults), in declaration order."""
    from cnn_core.settings import defaults

    stored = dict(values or {})
    filled = defaults(spec_class(section))
    filled.update({k: v for k, v in stored.items() if k in filled})
    return filled


def config_sections(config: Mapping | None) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every setting of a run's stored config, by section: ``[(title, [(label, text), ...]), ...]``
    with sections Data set, Model, Augmentation, Preprocessing (in that order)."""
    config = dict(config or {})
    dataset = config.get("dataset") or {}
    if not isinstance(dataset, Mapping):
        dataset = {"id": dataset}
    from cnn_core.dataset_names import dataset_name

    data_rows = [(setting_label(f"dataset.{key}"),
                  dataset_name(value) if key == "id" and isinstance(value, str) else plain_value(value))
                 for key, value in dataset.items()]
    data_rows.append((setting_label("preset"), preset_name(config.get("preset"))))
    sections = [(_(SECTION_TITLES["dataset"]), data_rows)]
    for section in SPEC_SECTIONS:
        rows = [(setting_label(f"{section}.{name}"), setting_text(f"{section}.{name}", value))
                for name, value in _filled(section, config.get(section)).items()]
        sections.append((_(SECTION_TITLES[section]), rows))
    return sections


def augment_on(augment: Mapping | None) -> bool:
    """Whether an augment spec dict changes pictures (any setting but the seed off its default)."""
    if not augment:
        return False
    filled = _filled("augment", augment)
    from cnn_core.settings import defaults

    default = defaults(spec_class("augment"))
    return any(filled[k] != default[k] for k in filled if k != "seed")


def describe_augment(augment: Mapping | None) -> str:
    """The augmentation of a spec dict in the widgets' words: "mirror left ↔ right, turn up to
    ±36°", or "no augmentation"."""
    from cnn_core.settings import declared, defaults

    cls = spec_class("augment")
    filled, default = _filled("augment", augment), defaults(cls)
    parts = [f"{_(decl.label).lower()} {setting_text('augment.' + name, filled[name])}"
             for name, decl in declared(cls).items()
             if name != "seed" and filled[name] != default[name]]
    return ", ".join(parts) if parts else _("no augmentation")


__all__ = ["SPEC_SECTIONS", "augment_on", "config_sections", "describe_augment", "labelled_change",
           "plain_value", "setting_declaration", "setting_label", "setting_text", "short_setting_name",
           "spec_class"]
