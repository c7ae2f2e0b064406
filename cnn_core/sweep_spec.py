"""What a hyperparameter sweep varies, and the list of model specs that gives.

A :class:`SweepSpec` starts from a base model and says what to vary:

* ``mode="grid"``: up to two settings, each with a list of values; every combination is trained
  (the cartesian product, first setting slowest, values in the order given).
* ``mode="random"``: ``draws`` random combinations from ranges (:class:`SettingRange`), drawn
  from ``seed``: the same seed gives the same list. ``learning_rate`` and ``weight_decay`` are
  drawn on a log scale (as many runs between 0.0001 and 0.001 as between 0.001 and 0.01), other
  numbers uniformly; whole-number settings give whole numbers.

Every expanded spec is validated (:func:`expand_sweep`), so a bad value is reported by name
before anything is queued. Launching, storing and following sweeps is :mod:`cnn_core.sweeps`.
This module does not import TensorFlow.

Example:
    >>> from cnn_core.model import PRESETS
    >>> sweep = SweepSpec(base=PRESETS["fast"], grid={"learning_rate": [0.001, 0.01], "filters": [16, 32]})
    >>> [(s.learning_rate, s.filters) for s in expand_sweep(sweep)]
    [(0.001, 16), (0.001, 32), (0.01, 16), (0.01, 32)]
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cnn_core.errors import SpecError
from cnn_core.settings import coerce, declared, format_text, parse_text

MODES = ("grid", "random")
#: The most runs one sweep may queue.
MAX_SWEEP_RUNS = 64
#: The most settings a grid sweep varies (two fit a table: rows x columns).
MAX_GRID_SETTINGS = 2
SCALES = ("auto", "linear", "log")


def _model_spec_class():
    from cnn_core.model import ModelSpec

    return ModelSpec


def _declaration(setting: str):
    """The declaration of ModelSpec's ``setting``; SpecError if a sweep cannot vary it."""
    decls = declared(_model_spec_class())
    if setting not in decls:
        raise SpecError(
            setting,
            "'{setting_}' is not a model setting, so a sweep cannot vary it. Choose one of: {decls}.",
            setting_=setting, decls=', '.join(decls)
        )
    return decls[setting]


def coerce_setting_value(setting: str, value: Any) -> Any:
    """``value`` as the kind of ModelSpec's ``setting``; texts such as ``"0.01"`` are read by
    :func:`cnn_core.settings.parse_text`, the reader the CLI and links use.

    Raises SpecError naming the setting and value when it is not of the right kind.
    """
    decl = _declaration(setting)
    if isinstance(value, str):
        return parse_text(_model_spec_class(), setting, value)
    if isinstance(value, float) and decl.kind == "int" and not value.is_integer():
        raise SpecError(setting, "{setting_}={value} is not a whole number. Give a whole number for {setting_}.",
                                 setting_=setting, value=format_text(value))
    return coerce(decl, value)


@dataclass(frozen=True)
class SettingRange:
    """Where a random sweep draws one setting from: ``low``..``high`` (inclusive) or ``choices``.

    Args:
        low, high: the range of a number setting.
        choices: the values to pick from instead (e.g. optimizers); when given, low/high are unused.
        scale: ``"auto"`` (log for number settings declared on a log scale, e.g. learning_rate
            and weight_decay, when low > 0, else linear),
            ``"linear"`` or ``"log"`` (low must be above 0).
    """

    low: float | None = None
    high: float | None = None
    choices: tuple = ()
    scale: str = "auto"

    def __post_init__(self):
        object.__setattr__(self, "choices", tuple(self.choices or ()))

    def to_dict(self) -> dict:
        if self.choices:
            return {"choices": list(self.choices)}
        out = {"low": self.low, "high": self.high}
        if self.scale != "auto":
            out["scale"] = self.scale
        return out

    @classmethod
    def from_dict(cls, d: Mapping | Sequence | SettingRange) -> SettingRange:
        """From ``{"low", "high", "scale"}``, ``{"choices": [...]}`` or a ``[low, high]`` pair."""
        if isinstance(d, SettingRange):
            return d
        if isinstance(d, Mapping):
            unknown = set(d) - {"low", "high", "choices", "scale"}
            if unknown:
                key = sorted(unknown)[0]
                raise SpecError(key, "'{key}' is not part of a sweep range. Use low and high, or choices.",
                                     key=key)
            return cls(low=d.get("low"), high=d.get("high"), choices=tuple(d.get("choices") or ()),
                       scale=d.get("scale", "auto"))
        if isinstance(d, Sequence) and not isinstance(d, str) and len(d) == 2:
            return cls(low=d[0], high=d[1])
        raise SpecError("ranges", "{d!r} is not a range. Give low and high (e.g. 0 and 0.5) or a list of choices.",
                                  d=d)

    def describe(self) -> str:
        if self.choices:
            return " | ".join(str(c) for c in self.choices)
        return f"{self.low} to {self.high}" + (f" ({self.scale})" if self.scale != "auto" else "")


def _pairs(items, value_key: str | None):
    """``{name: value}`` or ``[(name, value)]`` or ``[{"setting": name, value_key: value}]``
    (the stored form, which keeps the order even through JSON with sorted keys) -> pairs."""
    if isinstance(items, Mapping):
        return list(items.items())
    pairs = []
    for item in items:
        if isinstance(item, Mapping) and "setting" in item:
            rest = {k: v for k, v in item.items() if k != "setting"}
            pairs.append((item["setting"], rest[value_key] if value_key else rest))
        else:
            setting, value = item
            pairs.append((setting, value))
    return pairs


def _normalize_grid(grid) -> tuple[tuple[str, tuple], ...]:
    out = []
    for setting, values in _pairs(grid, "values"):
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            values = (values,)
        out.append((str(setting), tuple(values)))
    return tuple(out)


def _normalize_ranges(ranges) -> tuple[tuple[str, SettingRange], ...]:
    return tuple((str(setting), SettingRange.from_dict(r)) for setting, r in _pairs(ranges, None))


@dataclass(frozen=True)
class SweepSpec:
    """What a sweep trains. See the module docstring.

    Args:
        base: the model every run starts from (a ModelSpec or its dict).
        mode: ``"grid"`` or ``"random"``.
        grid: grid mode: ``{setting: [values]}``, at most two settings.
        draws: random mode: how many runs to draw.
        ranges: random mode: ``{setting: SettingRange | {"low","high"} | {"choices"}}``.
        seed: random mode: the seed of the draws (the models' own seed is the base's).
        preset: the preset the base came from, recorded in each run (optional).
    """

    base: dict = field(default_factory=dict, hash=False)
    mode: str = "grid"
    grid: tuple = ()
    draws: int = 8
    ranges: tuple = ()
    seed: int = 0
    preset: str | None = None

    def __post_init__(self):
        base = self.base
        if hasattr(base, "to_dict"):
            base = base.to_dict()
        object.__setattr__(self, "base", dict(base or {}))
        object.__setattr__(self, "grid", _normalize_grid(self.grid or ()))
        object.__setattr__(self, "ranges", _normalize_ranges(self.ranges or ()))

    @property
    def settings(self) -> list[str]:
        """The settings this sweep varies, in order."""
        pairs = self.grid if self.mode == "grid" else self.ranges
        return [name for name, _ in pairs]

    def base_spec(self):
        """The base model as a ModelSpec (missing settings take their defaults); SpecError naming
        the setting when the base model cannot work."""
        try:
            return _model_spec_class().from_dict(self.base)
        except SpecError as error:
            raise SpecError(error.setting, "The sweep's base model cannot work: {error}",
                                           error=error) from None

    def to_dict(self) -> dict:
        return {
            "base": dict(self.base),
            "mode": self.mode,
            # lists of {"setting": ...}: the order matters and survives JSON with sorted keys
            "grid": [{"setting": name, "values": list(values)} for name, values in self.grid],
            "draws": self.draws,
            "ranges": [{"setting": name, **r.to_dict()} for name, r in self.ranges],
            "seed": self.seed,
            "preset": self.preset,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> SweepSpec:
        known = {f.name for f in dataclasses.fields(cls)}
        for key in d:
            if key not in known:
                raise SpecError(key, "'{key}' is not a sweep setting. Known: {known}.",
                                     key=key, known=', '.join(sorted(known)))
        return cls(**dict(d))

    def validate(self) -> None:
        """Check the sweep's shape (not yet each run's values: :func:`expand_sweep` does)."""
        if self.mode not in MODES:
            raise SpecError("mode", "A sweep is either 'grid' or 'random', not {mode!r}.",
                                    mode=self.mode)
        self.base_spec()  # validated when it is read
        if self.mode == "grid":
            if not self.grid:
                raise SpecError("grid", "A grid sweep needs at least one setting with a list of values.")
            if len(self.grid) > MAX_GRID_SETTINGS:
                raise SpecError(
                    "grid",
                    "A grid sweep varies at most {max_grid_settings} settings (it has {n_grid}: {self}). Use a "
                    "random sweep to vary more at once.",
                    max_grid_settings=MAX_GRID_SETTINGS, n_grid=len(self.grid), self=', '.join(self.settings)
                )
            seen = set()
            for setting, values in self.grid:
                _declaration(setting)
                if setting in seen:
                    raise SpecError(setting, "{setting_} appears twice in the grid. Give it once with all its "
                                             "values.",
                                             setting_=setting)
                seen.add(setting)
                if not values:
                    raise SpecError(setting, "{setting_} has no values to try. Give at least one.",
                                             setting_=setting)
        else:
            if isinstance(self.draws, bool) or not isinstance(self.draws, int) or self.draws < 1:
                raise SpecError("draws", "A random sweep needs at least 1 draw, not {draws!r}.",
                                         draws=self.draws)
            if not self.ranges:
                raise SpecError("ranges", "A random sweep needs at least one setting with a range to draw from.")
            base = self.base_spec()
            for setting, r in self.ranges:
                _check_range(setting, r)
                ends = r.choices if r.choices else (r.low, r.high)
                for end in ends:  # a range whose ends cannot work fails before drawing
                    value = coerce_setting_value(setting, end)
                    try:
                        dataclasses.replace(base, **{setting: value}).validate()
                    except SpecError as error:
                        if error.setting != setting:
                            raise
                        raise SpecError(setting, "The range of {setting_} includes {value}, which cannot work: "
                                                 "{error}",
                                                 setting_=setting, value=format_text(value), error=error) from None
        count = sweep_size(self)
        if count > MAX_SWEEP_RUNS:
            raise SpecError(
                "draws" if self.mode == "random" else "grid",
                "This sweep would train {count} models; the limit is {max_sweep_runs}. Use fewer values "
                "per setting or fewer random draws.",
                count=count, max_sweep_runs=MAX_SWEEP_RUNS
            )


def sweep_size(sweep: SweepSpec) -> int:
    """How many runs the sweep asks for (before removing duplicates of random draws)."""
    if sweep.mode == "grid":
        def distinct(setting, values) -> int:
            keys = set()
            for value in values:
                try:
                    keys.add(repr(coerce_setting_value(setting, value)))
                except SpecError:
                    keys.add(repr(value))
            return len(keys)

        return math.prod(distinct(s, values) for s, values in sweep.grid) if sweep.grid else 0
    return int(sweep.draws) if isinstance(sweep.draws, int) else 0


def _check_range(setting: str, r: SettingRange) -> None:
    decl = _declaration(setting)
    if r.scale not in SCALES:
        raise SpecError(setting, "The scale of {setting_} must be one of {scales}, not {scale!r}.",
                                 setting_=setting, scales=', '.join(SCALES), scale=r.scale)
    if r.choices:
        for choice in r.choices:
            coerce_setting_value(setting, choice)
        return
    if decl.kind not in ("int", "float"):
        raise SpecError(setting, "{setting_} is not a number: give a list of choices to draw from.",
                                 setting_=setting)
    if r.low is None or r.high is None:
        raise SpecError(setting, "The range of {setting_} needs both a low and a high value.",
                                 setting_=setting)
    low, high = coerce_setting_value(setting, r.low), coerce_setting_value(setting, r.high)
    if low > high:
        raise SpecError(setting, "The range of {setting_} goes from {low} down to {high}. Put the smaller value "
                                 "first.",
                                 setting_=setting, low=r.low, high=r.high)
    if r.scale == "log" and low <= 0:
        raise SpecError(setting, "A log-scale range of {setting_} must start above 0 (e.g. 0.0001), not at {low}.",
                                 setting_=setting, low=r.low)


def _round_significant(value: float, digits: int = 3) -> float:
    return float(f"{value:.{digits}g}") if value else 0.0


def _log_scaled(setting: str) -> bool:
    """Whether a number setting is declared on a log scale (drawn so in ``"auto"`` ranges)."""
    decl = _declaration(setting)
    return decl.scale == "log" and decl.kind == "float"


def _draw_value(rng: random.Random, setting: str, r: SettingRange) -> Any:
    if r.choices:
        return coerce_setting_value(setting, rng.choice(r.choices))
    low, high = coerce_setting_value(setting, r.low), coerce_setting_value(setting, r.high)
    if _declaration(setting).kind == "int":
        return rng.randint(low, high)
    log = r.scale == "log" or (r.scale == "auto" and _log_scaled(setting) and low > 0)
    if log:
        value = math.exp(rng.uniform(math.log(low), math.log(high)))
    else:
        value = rng.uniform(low, high)
    return min(max(_round_significant(value), low), high)


def sweep_combinations(sweep: SweepSpec) -> list[dict[str, Any]]:
    """The swept settings' values of each run, in order (``[{setting: value}, ...]``).

    Raises SpecError for the sweep's shape (see :meth:`SweepSpec.validate`) and for values that
    are not of the setting's kind.
    """
    sweep.validate()
    if sweep.mode == "grid":
        names = [name for name, _ in sweep.grid]
        value_lists = []
        for name, values in sweep.grid:
            coerced, seen = [], set()
            for value in values:
                v = coerce_setting_value(name, value)
                if repr(v) not in seen:  # 0.01 given twice trains once
                    seen.add(repr(v))
                    coerced.append(v)
            value_lists.append(coerced)
        return [dict(zip(names, combo)) for combo in itertools.product(*value_lists)]
    rng = random.Random(sweep.seed)
    combos, seen = [], set()
    for _ in range(sweep.draws):
        combo = {name: _draw_value(rng, name, r) for name, r in sweep.ranges}
        key = json.dumps(combo, sort_keys=True)
        if key not in seen:  # the same draw twice would train the same model twice
            seen.add(key)
            combos.append(combo)
    return combos


def describe_values(values: Mapping[str, Any]) -> str:
    """The swept values of one run in words, e.g. ``learning rate 0.001, filters 16``."""
    return ", ".join(f"{k}={format_text(v)}" for k, v in values.items())


def expand_sweep(sweep: SweepSpec) -> list:
    """One ModelSpec per run of the sweep, each validated.

    Grid: the cartesian product, first setting slowest, values in the order given (duplicates
    once). Random: ``draws`` seeded draws (a draw equal to an earlier one is dropped).

    Raises:
        SpecError: naming the setting and value that cannot work, or the sweep is too large
            (more than :data:`MAX_SWEEP_RUNS` runs).
    """
    base = sweep.base_spec()
    specs = []
    for values in sweep_combinations(sweep):
        try:
            spec = dataclasses.replace(base, **values)
            spec.validate()
        except SpecError as error:
            setting = error.setting if error.setting in values else next(iter(values))
            raise SpecError(
                error.setting or setting,
                "The sweep's run with {values} cannot work: {error}",
                values=describe_values(values), error=error
            ) from None
        specs.append(spec)
    return specs


__all__ = ["MAX_GRID_SETTINGS", "MAX_SWEEP_RUNS", "MODES", "SCALES", "SettingRange", "SweepSpec",
           "coerce_setting_value", "describe_values", "expand_sweep", "sweep_combinations",
           "sweep_size"]
