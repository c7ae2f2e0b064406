"""Reading what is typed after the options: ``key=value`` settings, image sizes, grids, ranges.

Values are read by :func:`cnn_core.settings.parse_text`, the reader links and sweeps use too.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from typing import Any, Sequence

from cnn_core.errors import SpecError
from cnn_core.i18n import _
from cnn_core.settings import parse_text

SCALE_WORDS = ("log", "linear")


def parse_assignment(text: str) -> tuple[str, str]:
    """``"key=value"`` -> ``("key", "value")``."""
    key, sep, value = text.partition("=")
    key = key.strip().replace("-", "_")
    if not sep or not key:
        raise SpecError(key or text, "'{text}' is not a setting. Write it as name=value, for example "
                                     "learning_rate=0.01.",
                                     text=text)
    return key, value.strip()


def apply_settings(spec_or_specs: Any, assignments: Sequence[str], what: str = "setting"):
    """Apply ``key=value`` texts to one frozen spec or a tuple of specs (first owner of the key
    wins). Returns the changed spec(s). Unknown keys raise :class:`SpecError` naming the key."""
    specs = list(spec_or_specs) if isinstance(spec_or_specs, (tuple, list)) else [spec_or_specs]
    changes: list[dict] = [{} for _ in specs]
    for text in assignments:
        key, raw = parse_assignment(text)
        for index, spec in enumerate(specs):
            names = {f.name for f in dataclasses.fields(spec)}
            if key in names:
                changes[index][key] = parse_text(spec, key, raw)
                break
        else:
            known = sorted({f.name for spec in specs for f in dataclasses.fields(spec)})
            raise SpecError(key, "Unknown {what} '{key}'. You can set: {known}.",
                                 what=what, key=key, known=', '.join(known))
    new = [dataclasses.replace(spec, **change) if change else spec
           for spec, change in zip(specs, changes)]
    return tuple(new) if isinstance(spec_or_specs, (tuple, list)) else new[0]


def parse_image_size(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    parts = text.lower().replace("×", "x").split("x")
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) == 1:
        numbers = numbers * 2
    if len(numbers) != 2 or min(numbers) < 1:
        raise SpecError("image_size", "Image size '{text}' is not valid. Write HEIGHTxWIDTH, for example 32x32, or "
                                      "one number "
                                      "for square images.",
                                      text=text)
    return numbers[0], numbers[1]


def parse_grid_option(text: str) -> tuple[str, list[str]]:
    """``"learning_rate=0.001,0.01"`` -> ``("learning_rate", ["0.001", "0.01"])``."""
    setting, raw = parse_assignment(text)
    values = [v.strip() for v in raw.split(",") if v.strip()]
    if not values:
        raise SpecError(setting, "--grid {text}: give the values to try after '=', separated by commas, for example "
                                 "learning_rate=0.001,0.01.",
                                 text=text)
    return setting, values


def parse_range_option(text: str):
    """``"dense_dropout=0:0.5"`` (range), ``"learning_rate=0.0001:0.01:log"`` (range with a scale)
    or ``"optimizer=adam,sgd"`` (choices) -> ``(setting, SettingRange)``."""
    from cnn_core.sweep_spec import SettingRange, coerce_setting_value

    setting, raw = parse_assignment(text)
    if ":" in raw:
        parts = [p.strip() for p in raw.split(":")]
        scale = "auto"
        if len(parts) == 3 and parts[2].lower() in SCALE_WORDS:
            scale = parts.pop().lower()
        if len(parts) != 2 or not all(parts):
            raise SpecError(setting, "--range {text}: write LOW:HIGH, for example dense_dropout=0:0.5 (or add :log "
                                     "for a log "
                                     "scale).",
                                     text=text)
        low, high = (coerce_setting_value(setting, p) for p in parts)
        return setting, SettingRange(low=low, high=high, scale=scale)
    choices = [v.strip() for v in raw.split(",") if v.strip()]
    if not choices:
        raise SpecError(setting, "--range {text}: give LOW:HIGH or choices separated by commas, for example "
                                 "optimizer=adam,sgd.",
                                 text=text)
    return setting, SettingRange(choices=tuple(coerce_setting_value(setting, c) for c in choices))


def dataset_and_options(args) -> tuple[str, dict]:
    """The data set (an id, or a folder made absolute) and its loading options from
    ``--dataset``, ``--image-size`` and ``--color-mode``."""
    options: dict = {}
    size = parse_image_size(args.image_size)
    if size:
        options["image_size"] = size
    if args.color_mode:
        options["color_mode"] = args.color_mode
    dataset = os.path.abspath(args.dataset) if os.path.isdir(args.dataset) else args.dataset
    return dataset, options


def add_training_options(p: argparse.ArgumentParser, every_run: bool = False) -> None:
    """The options ``train`` and ``sweep`` share: data set, preset, settings, epochs, image size."""
    p.add_argument("--dataset", default="mnist_sample", help=_("data set id or a folder path"))
    p.add_argument("--preset", default="lenet",
                   help=_("model preset every run starts from") if every_run else _("model preset to start from"))
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help=_("change a model or preprocessing setting of every run (repeatable)") if every_run
                   else _("change a model or preprocessing setting (repeatable)"))
    p.add_argument("--augment", action="append", metavar="KEY=VALUE",
                   help=_("augmentation setting of every run, e.g. flip=horizontal (repeatable)") if every_run
                   else _("augmentation setting, e.g. flip=horizontal (repeatable)"))
    p.add_argument("--epochs", type=int, default=None,
                   help=_("epochs of every run") if every_run else _("number of epochs"))
    p.add_argument("--image-size", default=None, help=_("resize images, e.g. 32x32"))
    p.add_argument("--color-mode", default=None, help=_("grayscale or rgb"))
