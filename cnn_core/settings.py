"""Each setting of a spec declared once; checks, parsing, text and widgets derived from it.

A spec (:class:`~cnn_core.model.ModelSpec`, :class:`~cnn_core.preprocessing.PreprocessSpec`,
:class:`~cnn_core.augment.AugmentSpec`) is a frozen dataclass whose every field is declared with
:func:`setting`: its kind, range or choices, default, unit and scale, a short label, a one-line
plain help, how a value is shown and whether a sweep may vary it. Everything else reads that one
declaration: :func:`check_fields` (the ``validate`` of each spec), :func:`spec_from_dict` (its
``from_dict``: coerces *and* validates), :func:`parse_text` (the one text-to-value reader used by
the CLI, the URL and sweeps), :func:`format_text` (value -> text), :func:`show_value` (value as
people read it: "up to ±36°") and the model builder, augmentation and sweep forms.

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Toy:
    ...     size: int = setting(3, kind="int", low=1, high=9, label="Size", help="How big.")
    >>> parse_text(Toy, "size", "5.0")
    5
    >>> spec_from_dict(Toy, {"size": 12})
    Traceback (most recent call last):
    ...
    cnn_core.errors.SpecError: size must be between 1 and 9, not 12.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cnn_core.errors import SpecError
from cnn_core.i18n import N_, gettext, ngettext

KINDS = ("int", "float", "bool", "choice")
SCALES = ("linear", "log")
#: Words read as on / off wherever a setting is typed (CLI, link, sweep form), any case.
TRUE_WORDS = frozenset({"1", "true", "yes", "on", "t", "y"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", "f", "n"})


def _off_or(text: Callable[[Any], str]) -> Callable[[Any], str]:
    return lambda v: gettext("off") if v == 0 else text(v)


#: How a value is shown to people, by the name a declaration gives in ``show=``.
FORMATS: dict[str, Callable[[Any], str]] = {
    "number": lambda v: f"{v:g}",
    "percent": lambda v: f"{v:.0%}",
    "times": lambda v: f"×{v:.3g}",
    "square": lambda v: f"{v}x{v}",
    "off_or_number": _off_or(lambda v: f"{v:g}"),
    "off_or_epochs": _off_or(lambda v: ngettext("after {count} epoch", "after {count} epochs", v)),
    "off_or_minutes": _off_or(lambda v: ngettext("{count} minute", "{count} minutes", v)),
    "turn": _off_or(lambda v: gettext("up to ±{angle:.0f}°", angle=v * 360)),   # a fraction of a full turn
    "plus_minus_percent": _off_or(lambda v: gettext("up to ±{share:.0%}", share=v)),
}


@dataclass(frozen=True, eq=False)
class Setting:
    """The declaration of one spec field (see :func:`setting`; ``name`` is filled in by
    :func:`declared`)."""

    kind: str
    label: str
    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple = ()
    words: Mapping[str, str] = field(default_factory=dict)
    unit: str = ""
    scale: str = "linear"
    hint: str = ""
    show: str = ""
    ladder: tuple = ()
    widget: str = ""
    widget_range: tuple = ()
    step: float | None = None
    group: str = ""
    suggested: Any = None
    sweep: tuple = ()
    sweep_range: tuple = ()
    sweep_choices: tuple = ()
    sweep_rank: int = 1000
    demo: bool = False
    name: str = ""

    @property
    def sweepable(self) -> bool:
        return bool(self.sweep)

    def widget_kind(self) -> str:
        """``toggle``, ``radio``, ``selectbox``, ``select_slider``, ``slider`` or ``number``."""
        if self.widget:
            return self.widget
        if self.kind == "bool":
            return "toggle"
        if self.kind == "choice":
            return "radio"
        return "select_slider" if self.ladder else "slider"

    def slider_range(self) -> tuple:
        """(lowest, highest) a slider offers: ``widget_range`` if declared, else the valid range."""
        return tuple(self.widget_range) or (self.low, self.high)

    def sweep_options(self) -> tuple:
        """The values a sweep form offers to pick from (empty for typed numbers)."""
        if self.sweep_choices:
            return tuple(self.sweep_choices)
        if self.kind == "choice":
            return tuple(self.choices)
        if self.kind == "bool":
            return (False, True)
        return ()


def setting(default: Any, **declaration: Any) -> Any:
    """A dataclass field with its :class:`Setting` declaration in ``metadata["setting"]``.

    Args:
        default: the value a new spec gets.
        kind: ``"int"``, ``"float"``, ``"bool"`` or ``"choice"``.
        label, help: the short label and one plain line shown next to the widget.
        low, high, low_open: the valid range of a number (``low_open``: ``low`` itself is not).
        choices, words: the allowed names of a choice and how each is shown.
        unit, scale: e.g. ``"epochs"``; ``"log"`` for settings spanning orders of magnitude.
        hint: typical values, added to an out-of-range message.
        show: a :data:`FORMATS` name for showing a value; ladder: the values a slider steps over;
        widget / widget_range / step: the widget when the kind's default does not fit.
        group: the model builder's section. suggested: the first value when switched on.
        sweep: the values a sweep tries first (sweepable when given); sweep_range: (low, high)
            for random sweeps; sweep_choices: the values a sweep form offers, for numbers;
            sweep_rank: where the sweep form lists it (lower first; then declaration order).
        demo: one of the handful of settings a demo needs (presentation mode shows only these
            up front, the rest under "More settings").
    """
    decl = Setting(**declaration)
    if decl.kind not in KINDS or decl.scale not in SCALES:
        raise ValueError(f"kind must be one of {KINDS} and scale one of {SCALES}")
    return field(default=default, metadata={"setting": decl})


_DECLARED: dict[type, dict[str, Setting]] = {}


def declared(spec_class) -> dict[str, Setting]:
    """Every field of ``spec_class`` (a class or instance) with its declaration, in order."""
    cls = spec_class if isinstance(spec_class, type) else type(spec_class)
    if cls not in _DECLARED:
        out = {}
        for f in dataclasses.fields(cls):
            decl = f.metadata.get("setting")
            if decl is None:
                raise TypeError(f"{cls.__name__}.{f.name} has no setting() declaration")
            out[f.name] = dataclasses.replace(decl, name=f.name)
        _DECLARED[cls] = out
    return _DECLARED[cls]


def sweepable(spec_class) -> list[Setting]:
    """The declarations a sweep may vary, in the order the sweep form lists them."""
    decls = [d for d in declared(spec_class).values() if d.sweepable]
    return sorted(decls, key=lambda d: d.sweep_rank)  # stable: ties keep declaration order


def demo_settings(spec_class) -> list[Setting]:
    """The declarations marked ``demo=True``, in declaration order (presentation mode's knobs)."""
    return [d for d in declared(spec_class).values() if d.demo]


def defaults(spec_class) -> dict[str, Any]:
    """``{name: default}`` of every field."""
    cls = spec_class if isinstance(spec_class, type) else type(spec_class)
    return {f.name: f.default for f in dataclasses.fields(cls)}


def choice_list(values) -> str:
    """``'a', 'b' or 'c'``."""
    quoted = [f"'{v}'" for v in values]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1] if len(quoted) > 1 else quoted[0]


# --------------------------------------------------------------------------- checking

def _is_number(value: Any) -> bool:
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, float, np.number))


def coerce(decl: Setting, value: Any) -> Any:
    """``value`` as the declared kind (``3.0`` -> ``3`` for whole numbers, ``1`` -> ``1.0``,
    ``0``/``1`` -> off/on); SpecError naming the setting when it is of the wrong kind."""
    name = decl.name
    if decl.kind == "bool":
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if _is_number(value) and value in (0, 1):
            return bool(value)
        raise SpecError(name, "{name} must be on or off (true/false), not {value!r}.",
                              name=name, value=value)
    if decl.kind == "int":
        if not _is_number(value) or not math.isfinite(value) or not float(value).is_integer():
            raise SpecError(name, "{name} must be a whole number, not {value!r}.",
                                  name=name, value=value)
        return int(value)
    if decl.kind == "float":
        if not _is_number(value):
            raise SpecError(name, "{name} must be a number, not {value!r}.",
                                  name=name, value=value)
        return float(value)
    if not isinstance(value, str):
        raise SpecError(name, "{name} must be a name (text), not {value!r}.",
                              name=name, value=value)
    return value


def check_value(decl: Setting, value: Any) -> None:
    """SpecError naming the setting when ``value`` is of the wrong kind, out of range or not one
    of the choices."""
    name = decl.name
    if decl.kind == "choice":
        if value not in decl.choices:
            raise SpecError(name, "Unknown {name} {value!r}. Choose {decl}.",
                                  name=name, value=value, decl=choice_list(decl.choices))
        return
    if decl.kind == "bool":
        if not isinstance(value, (bool, np.bool_)):
            raise SpecError(name, "{name} must be on or off (true/false).",
                                  name=name)
        return
    hint = " " + gettext(decl.hint) if decl.hint else ""
    if decl.kind == "int":
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise SpecError(name, "{name} must be a whole number, not {value!r}.",
                                  name=name, value=value)
        if not decl.low <= value <= decl.high:
            raise SpecError(name, "{name} must be between {low} and {high}, not {value}.{hint}",
                                  name=name, low=decl.low, high=decl.high, value=value, hint=hint)
        return
    if not _is_number(value):
        raise SpecError(name, "{name} must be a number, not {value!r}.",
                              name=name, value=value)
    low, high = decl.low, decl.high
    if not math.isfinite(value) or value > high or value < low or (decl.low_open and value <= low):
        bracket = "(" if decl.low_open else "["
        raise SpecError(name, "{name} must be in {bracket}{low:g}, {high:g}], not {value:g}.{hint}",
                              name=name, bracket=bracket, low=low, high=high, value=value, hint=hint)


def check_fields(spec) -> None:
    """Check every field of ``spec`` against its declaration (the first bad one raises)."""
    for name, decl in declared(spec).items():
        check_value(decl, getattr(spec, name))


def spec_from_dict(cls, d: Mapping[str, Any] | None, what: str = "setting"):
    """``cls`` from a dict: missing fields get defaults, values are coerced to their kinds, then
    the spec is validated (its ``validate()``, which includes cross-field checks).

    Raises:
        SpecError: naming an unknown key, a value of the wrong kind or one out of range.
    """
    if d is None:
        d = {}
    if not isinstance(d, Mapping):
        raise SpecError(what, "Expected a dict of settings, got {name__}.",
                              name__=type(d).__name__)
    decls = declared(cls)
    values = {}
    for key, value in d.items():
        if key not in decls:
            raise SpecError(str(key), "'{key}' is not a known {what}. Known settings: {decls}.",
                                      key=key, what=what, decls=', '.join(decls))
        values[key] = coerce(decls[key], value)
    spec = cls(**values)
    if hasattr(spec, "validate"):
        spec.validate()  # the spec's own checks include check_fields and cross-field checks
    else:
        check_fields(spec)
    return spec


def replace_checked(spec, changes: Mapping[str, Any], what: str = "setting"):
    """A copy of ``spec`` with ``changes`` (unknown names raise SpecError; values not checked)."""
    decls = declared(spec)
    for key in changes:
        if key not in decls:
            raise SpecError(key, "'{key}' is not a {what}.",
                                 key=key, what=what)
    return dataclasses.replace(spec, **changes)


# --------------------------------------------------------------------------- text

def parse_text(spec_class, name: str, text: str) -> Any:
    """The one text reader (CLI ``--set``/``--augment``/``--grid``, links, sweep forms).

    ``"3"``/``"3.0"`` for whole numbers, ``"1e-3"`` for numbers, on/off words
    (:data:`TRUE_WORDS`/:data:`FALSE_WORDS`) for switches, a name for choices. Ranges are
    checked by the spec's ``validate``, not here. Raises SpecError naming the setting.
    """
    decls = declared(spec_class)
    if name not in decls:
        raise SpecError(name, "'{name}' is not a known setting. Known settings: {decls}.",
                              name=name, decls=', '.join(decls))
    decl = decls[name]
    text = str(text).strip()
    example = getattr(spec_class, name, None) if isinstance(spec_class, type) else getattr(spec_class, name)
    if decl.kind == "bool":
        lowered = text.lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
        raise SpecError(name, "{name} is on or off: write {name}=true or {name}=false, not '{text}'.",
                              name=name, text=text)
    if decl.kind in ("int", "float"):
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        whole = decl.kind == "int"
        if not math.isfinite(number) or (whole and not number.is_integer()):
            kind = "a whole number" if whole else "a number"
            raise SpecError(name, "{name} needs {kind}, such as {example}, not '{text}'.",
                                  name=name, kind=kind, example=format_text(example), text=text)
        return int(number) if whole else number
    if not text:
        raise SpecError(name, "{name} needs a name, such as {example}.",
                              name=name, example=example)
    return text


def format_text(value: Any) -> str:
    """A value as typed in a link or the CLI: ``0.001``, ``32``, ``true``, ``adam``
    (:func:`parse_text` reads it back to the same value)."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # a NumPy scalar (e.g. from a pandas table)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)  # shortest text that reads back as the same float
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def show_value(decl: Setting, value: Any) -> str:
    """A value as the widgets show it: ``on``, ``SGD with momentum``, ``5x5``, ``up to ±36°``."""
    if value is None:
        return gettext("(none)")
    if decl.kind == "bool" or isinstance(value, bool):
        return gettext("on") if value else gettext("off")
    if decl.kind == "choice":
        return gettext(decl.words.get(value, str(value).replace("_", " ")))
    if decl.show:
        return FORMATS[decl.show](value)
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{text} {decl.unit}" if decl.unit else text


def labelled_change(decl: Setting, old: Any, new: Any) -> str:
    """``"Learning rate: 0.001 -> 0.01"`` in the words and units the widgets use."""
    return f"{gettext(decl.label)}: {show_value(decl, old)} -> {show_value(decl, new)}"


__all__ = [
    "FALSE_WORDS", "FORMATS", "KINDS", "SCALES", "TRUE_WORDS", "Setting", "check_fields",
    "check_value", "choice_list", "coerce", "declared", "defaults", "demo_settings", "format_text",
    "sweepable",
    "labelled_change", "parse_text", "replace_checked", "setting", "show_value", "spec_from_dict",
]
