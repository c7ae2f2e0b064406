"""Hyperparameter sweeps: many runs that differ in one or two settings, queued together.

A :class:`SweepSpec` starts from a base model and says what to vary:

* ``mode="grid"``: up to two settings, each with a list of values; every combination is trained
  (the cartesian product, first setting slowest, values in the order given).
* ``mode="random"``: ``draws`` random combinations from ranges (:class:`SettingRange`), drawn
  from ``seed``: the same seed gives the same list. ``learning_rate`` and ``weight_decay`` are
  drawn on a log scale (as many runs between 0.0001 and 0.001 as between 0.001 and 0.01), other
  numbers uniformly; whole-number settings give whole numbers.

Every expanded spec is validated before anything is queued, so a bad value is reported by name
and nothing half-started remains. Each run is tagged with the sweep's id (``sweep_id`` in the run
store, and ``config["sweep"] = {"id": ..., "values": {setting: value}}``), and the sweep itself is
a small JSON file in ``<workspace>/sweeps/<id>.json`` so the app can list sweeps.

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
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnn_core.errors import CnnLabError, SpecError
from cnn_core.run_record import new_run_id
from cnn_core.run_status import FINAL_STATUSES, RUN_STATUSES
from cnn_core.runs import RunStore
from cnn_core.workspace import atomic_write_json
from cnn_core.settings import coerce, declared, format_text, parse_text

MODES = ("grid", "random")
#: The most runs one sweep may queue.
MAX_SWEEP_RUNS = 64
#: The most settings a grid sweep varies (two fit a table: rows x columns).
MAX_GRID_SETTINGS = 2
SCALES = ("auto", "linear", "log")
SWEEP_RECORD_VERSION = 1


class SweepNotFoundError(CnnLabError):
    """No sweep with that id in the workspace."""


def _model_spec_class():
    from cnn_core.model import ModelSpec

    return ModelSpec


def _declaration(setting: str):
    """The declaration of ModelSpec's ``setting``; SpecError if a sweep cannot vary it."""
    decls = declared(_model_spec_class())
    if setting not in decls:
        raise SpecError(
            setting,
            f"'{setting}' is not a model setting, so a sweep cannot vary it. "
            f"Choose one of: {', '.join(decls)}.",
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
        raise SpecError(setting, f"{setting}={format_text(value)} is not a whole number. "
                                 f"Give a whole number for {setting}.")
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
                raise SpecError(key, f"'{key}' is not part of a sweep range. Use low and high, or choices.")
            return cls(low=d.get("low"), high=d.get("high"), choices=tuple(d.get("choices") or ()),
                       scale=d.get("scale", "auto"))
        if isinstance(d, Sequence) and not isinstance(d, str) and len(d) == 2:
            return cls(low=d[0], high=d[1])
        raise SpecError("ranges", f"{d!r} is not a range. Give low and high (e.g. 0 and 0.5) or a list of choices.")

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
            raise SpecError(error.setting, f"The sweep's base model cannot work: {error}") from None

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
                raise SpecError(key, f"'{key}' is not a sweep setting. Known: {', '.join(sorted(known))}.")
        return cls(**dict(d))

    def validate(self) -> None:
        """Check the sweep's shape (not yet each run's values: :func:`expand_sweep` does)."""
        if self.mode not in MODES:
            raise SpecError("mode", f"A sweep is either 'grid' or 'random', not {self.mode!r}.")
        self.base_spec()  # validated when it is read
        if self.mode == "grid":
            if not self.grid:
                raise SpecError("grid", "A grid sweep needs at least one setting with a list of values.")
            if len(self.grid) > MAX_GRID_SETTINGS:
                raise SpecError(
                    "grid",
                    f"A grid sweep varies at most {MAX_GRID_SETTINGS} settings (it has {len(self.grid)}: "
                    f"{', '.join(self.settings)}). Use a random sweep to vary more at once.",
                )
            seen = set()
            for setting, values in self.grid:
                _declaration(setting)
                if setting in seen:
                    raise SpecError(setting, f"{setting} appears twice in the grid. Give it once with all its values.")
                seen.add(setting)
                if not values:
                    raise SpecError(setting, f"{setting} has no values to try. Give at least one.")
        else:
            if isinstance(self.draws, bool) or not isinstance(self.draws, int) or self.draws < 1:
                raise SpecError("draws", f"A random sweep needs at least 1 draw, not {self.draws!r}.")
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
                        raise SpecError(setting, f"The range of {setting} includes "
                                                 f"{format_text(value)}, which cannot work: {error}") from None
        count = sweep_size(self)
        if count > MAX_SWEEP_RUNS:
            raise SpecError(
                "draws" if self.mode == "random" else "grid",
                f"This sweep would train {count} models; the limit is {MAX_SWEEP_RUNS}. "
                "Use fewer values per setting or fewer random draws.",
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
        raise SpecError(setting, f"The scale of {setting} must be one of {', '.join(SCALES)}, not {r.scale!r}.")
    if r.choices:
        for choice in r.choices:
            coerce_setting_value(setting, choice)
        return
    if decl.kind not in ("int", "float"):
        raise SpecError(setting, f"{setting} is not a number: give a list of choices to draw from.")
    if r.low is None or r.high is None:
        raise SpecError(setting, f"The range of {setting} needs both a low and a high value.")
    low, high = coerce_setting_value(setting, r.low), coerce_setting_value(setting, r.high)
    if low > high:
        raise SpecError(setting, f"The range of {setting} goes from {r.low} down to {r.high}. Put the smaller value first.")
    if r.scale == "log" and low <= 0:
        raise SpecError(setting, f"A log-scale range of {setting} must start above 0 (e.g. 0.0001), not at {r.low}.")


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


def _describe_values(values: Mapping[str, Any]) -> str:
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
                f"The sweep's run with {_describe_values(values)} cannot work: {error}",
            ) from None
        specs.append(spec)
    return specs


# --------------------------------------------------------------------------- sweep records

@dataclass
class SweepRecord:
    """A launched sweep as stored in ``<workspace>/sweeps/<id>.json``."""

    id: str
    name: str
    created_at: float
    dataset_id: str
    spec: SweepSpec
    augment: dict
    run_ids: list[str]
    values: list[dict]   # the swept settings' values of each run, same order as run_ids
    dataset_options: dict = field(default_factory=dict)   # image_size, color_mode...

    def to_dict(self) -> dict:
        return {
            "version": SWEEP_RECORD_VERSION, "id": self.id, "name": self.name,
            "created_at": self.created_at, "dataset_id": self.dataset_id,
            "spec": self.spec.to_dict(), "augment": self.augment,
            "run_ids": list(self.run_ids), "values": list(self.values),
            "dataset_options": {k: list(v) if isinstance(v, tuple) else v
                                for k, v in self.dataset_options.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> SweepRecord:
        return cls(
            id=d["id"], name=d.get("name") or d["id"], created_at=float(d.get("created_at") or 0),
            dataset_id=d.get("dataset_id") or "", spec=SweepSpec.from_dict(d.get("spec") or {}),
            augment=dict(d.get("augment") or {}), run_ids=list(d.get("run_ids") or []),
            values=list(d.get("values") or []),
            dataset_options=dict(d.get("dataset_options") or {}),
        )


def sweeps_dir(store: RunStore) -> Path:
    return Path(store.workspace) / "sweeps"


def _record_path(store: RunStore, sweep_id: str) -> Path:
    if not sweep_id or "/" in sweep_id or "\\" in sweep_id or sweep_id.startswith("."):
        raise SweepNotFoundError(f"'{sweep_id}' is not a sweep id. Pick a sweep from the list of sweeps.")
    return sweeps_dir(store) / f"{sweep_id}.json"


def save_sweep_record(store: RunStore, record: SweepRecord) -> None:
    folder = sweeps_dir(store)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(_record_path(store, record.id), record.to_dict())


def load_sweep(store: RunStore, sweep_id: str) -> SweepRecord:
    """The stored sweep ``sweep_id``; SweepNotFoundError if there is none."""
    path = _record_path(store, sweep_id)
    try:
        return SweepRecord.from_dict(json.loads(path.read_text("utf-8")))
    except FileNotFoundError:
        raise SweepNotFoundError(
            f"There is no sweep with id '{sweep_id}' in {store.workspace}. Pick one from the list of sweeps."
        ) from None
    except (ValueError, KeyError, TypeError, CnnLabError) as error:
        raise SweepNotFoundError(f"The record of sweep '{sweep_id}' cannot be read ({error}).") from None


def list_sweeps(store: RunStore) -> list[SweepRecord]:
    """All sweeps of the workspace, newest first (unreadable records are skipped)."""
    records = []
    folder = sweeps_dir(store)
    if folder.is_dir():
        for path in folder.glob("*.json"):
            if path.name.startswith("."):
                continue
            try:
                records.append(load_sweep(store, path.stem))
            except SweepNotFoundError:
                continue
    return sorted(records, key=lambda r: (r.created_at, r.id), reverse=True)


def new_sweep_id() -> str:
    return "sweep-" + new_run_id()


def default_sweep_name(sweep: SweepSpec) -> str:
    if sweep.mode == "grid":
        return "Sweep: " + " x ".join(sweep.settings)
    return f"Random sweep: {', '.join(sweep.settings)} ({sweep.draws} draws)"


def run_name(sweep_name: str, values: Mapping[str, Any]) -> str:
    return f"{sweep_name} · {_describe_values(values)}"


def run_config_tag(sweep_id: str, values: Mapping[str, Any]) -> dict:
    """What a sweep's run carries in ``config["sweep"]``."""
    return {"id": sweep_id, "values": dict(values)}


# --------------------------------------------------------------------------- launching

def check_sweep_for_dataset(specs: Sequence, dataset_id: str, combos: Sequence[Mapping],
                            workspace: Path | None = None, dataset_options: Mapping | None = None) -> None:
    """Check every spec against the data set's image shape when it is known without loading it
    (built-in and cached data sets); SpecError names the run's values."""
    from cnn_core.datasets import list_datasets
    from cnn_core.model import check_spec

    try:
        info = next((i for i in list_datasets(workspace) if i.id == dataset_id), None)
    except CnnLabError:
        return
    if info is None or not info.image_shape or not info.n_classes:
        return
    height, width, channels = (int(v) for v in info.image_shape)
    options = dataset_options or {}
    if options.get("image_size"):
        height, width = (int(v) for v in options["image_size"])
    mode = options.get("color_mode")
    if mode in ("grayscale", "rgb"):
        channels = 1 if mode == "grayscale" else 3
    for spec, values in zip(specs, combos):
        try:
            check_spec(spec, (height, width, channels), int(info.n_classes))
        except SpecError as error:
            raise SpecError(
                error.setting,
                f"The sweep's run with {_describe_values(values)} cannot work on {info.name}: {error}",
            ) from None


def _training_request(dataset_id, spec, augment, preset, name, sweep_id, preprocess=None,
                      dataset_options=None):
    from cnn_core.training import TrainingRequest

    kwargs = dict(dataset_id=dataset_id, model=spec, augment=augment, preset=preset, name=name)
    if preprocess is not None:
        kwargs["preprocess"] = preprocess
    if dataset_options:
        kwargs["dataset_options"] = dict(dataset_options)
    return TrainingRequest(sweep_id=sweep_id, **kwargs)


def _prepare(store: RunStore, dataset_id: str, sweep: SweepSpec, augment, name: str | None,
             preprocess=None, dataset_options=None):
    from cnn_core.augment import AugmentSpec

    if not dataset_id or not str(dataset_id).strip():
        raise SpecError("dataset", "No data set is selected. Pick a data set first.")
    augment = augment if augment is not None else AugmentSpec()
    augment.validate()
    if preprocess is not None:
        preprocess.validate()
    specs = expand_sweep(sweep)
    combos = sweep_combinations(sweep)
    check_sweep_for_dataset(specs, dataset_id, combos, store.workspace, dataset_options)
    record = SweepRecord(
        id=new_sweep_id(), name=(name or "").strip() or default_sweep_name(sweep), created_at=time.time(),
        dataset_id=dataset_id, spec=sweep, augment=augment.to_dict(), run_ids=[], values=[],
        dataset_options=dict(dataset_options or {}),
    )
    return augment, specs, combos, record


def launch_sweep(queue, store: RunStore, dataset_id: str, sweep: SweepSpec, augment=None,
                 name: str | None = None, preprocess=None, dataset_options: dict | None = None) -> str:
    """Check every run of the sweep, then queue them all; returns the sweep's id.

    Args:
        queue: the training job queue (``cnn_core.job_queue.get_job_queue()``).
        store: the run store of the same workspace.
        dataset_id: the data set every run trains on.
        sweep: what to vary.
        augment: the augmentation of every run (default: none).
        name: the sweep's name (default: what it varies).
        preprocess: the PreprocessSpec of every run (default: the training default).
        dataset_options: options of every run's data set (``image_size``, ``color_mode``...),
            as in :class:`cnn_core.training.TrainingRequest`.

    Raises:
        SpecError: a run's settings cannot work, or the sweep is too large; nothing is queued.
    """
    augment, specs, combos, record = _prepare(store, dataset_id, sweep, augment, name, preprocess, dataset_options)
    save_sweep_record(store, record)  # first, so a page polling the queue finds the sweep
    try:
        for spec, values in zip(specs, combos):
            request = _training_request(dataset_id, spec, augment, sweep.preset,
                                        run_name(record.name, values), record.id, preprocess,
                                        record.dataset_options)
            run_id = queue.submit(request)
            record.run_ids.append(run_id)
            record.values.append(values)
            store.update_config(run_id, sweep=run_config_tag(record.id, values))
    except BaseException:
        for run_id in record.run_ids:  # nothing half-queued: what was queued is stopped
            try:
                queue.stop(run_id)
            except CnnLabError:
                pass
        if not record.run_ids:
            _record_path(store, record.id).unlink(missing_ok=True)
            raise
        save_sweep_record(store, record)
        raise
    save_sweep_record(store, record)
    return record.id


def run_sweep(store: RunStore, dataset_id: str, sweep: SweepSpec, augment=None, name: str | None = None,
              on_run: Callable[[int, int, Mapping, Any], None] | None = None,
              on_start: Callable[[int, int, Mapping], None] | None = None, preprocess=None,
              dataset_options: dict | None = None) -> str:
    """Train the sweep's runs one after the other in this thread (the CLI's way); returns its id.

    ``on_start(index, total, values)`` is called before each run and
    ``on_run(index, total, values, record)`` after it, with its final RunRecord.
    """
    from cnn_core.training import run_training

    augment, specs, combos, record = _prepare(store, dataset_id, sweep, augment, name, preprocess, dataset_options)
    save_sweep_record(store, record)
    for index, (spec, values) in enumerate(zip(specs, combos)):
        if on_start is not None:
            on_start(index, len(specs), values)
        request = _training_request(dataset_id, spec, augment, sweep.preset,
                                    run_name(record.name, values), record.id, preprocess,
                                        record.dataset_options)
        run = run_training(request, store)
        store.update_config(run.id, sweep=run_config_tag(record.id, values))
        record.run_ids.append(run.id)
        record.values.append(values)
        save_sweep_record(store, record)
        if on_run is not None:
            on_run(index, len(specs), values, run)
    return record.id


# --------------------------------------------------------------------------- following a sweep

def sweep_runs(store: RunStore, sweep_id: str) -> list:
    """The sweep's runs in sweep order (runs deleted since are left out; runs tagged with the
    sweep but missing from its record, e.g. cut off by Ctrl-C, come last)."""
    record = load_sweep(store, sweep_id)
    tagged = {r.id: r for r in store.list_runs(sweep_id=sweep_id)}
    runs = []
    for run_id in record.run_ids:
        run = tagged.pop(run_id, None)
        if run is None and store.exists(run_id):
            run = store.get(run_id)
        if run is not None:
            runs.append(run)
    runs.extend(sorted(tagged.values(), key=lambda r: (r.created_at, r.id)))
    return runs


def _run_values(record: SweepRecord, run) -> dict:
    """The swept settings' values of one run (from its stored model settings)."""
    model = run.config.get("model") or {}
    return {setting: model.get(setting) for setting in record.spec.settings}


@dataclass
class SweepStatus:
    """How far a sweep is: ``counts`` per run status, ``done`` runs out of ``total``."""

    sweep_id: str
    counts: dict[str, int]
    total: int
    done: int

    @property
    def fraction_done(self) -> float:
        return self.done / self.total if self.total else 1.0

    @property
    def is_done(self) -> bool:
        return self.done >= self.total


def sweep_status(store: RunStore, sweep_id: str) -> SweepStatus:
    """Counts of the sweep's runs per status and the fraction whose training is over."""
    runs = sweep_runs(store, sweep_id)
    counts = {status: 0 for status in RUN_STATUSES}
    for run in runs:
        counts[run.status] = counts.get(run.status, 0) + 1
    done = sum(counts[s] for s in FINAL_STATUSES)
    return SweepStatus(sweep_id=sweep_id, counts=counts, total=len(runs), done=done)


def stop_sweep(queue, store: RunStore, sweep_id: str) -> list[str]:
    """Stop the sweep's running run and take its waiting runs off the queue; returns their ids."""
    stopped = []
    runs = sweep_runs(store, sweep_id)
    # waiting runs first, so the queue does not start the next one while the current one stops
    order = sorted(runs, key=lambda r: r.status == "running")
    for run in order:
        if run.status in ("queued", "running", "paused"):
            try:
                queue.stop(run.id)
            except CnnLabError:
                continue
            stopped.append(run.id)
    return stopped


def sweep_results(store: RunStore, sweep_id: str):
    """A pandas DataFrame, one row per run in sweep order: run_id, name, the swept settings,
    status, best_val_accuracy, test_accuracy, train_seconds."""
    import pandas as pd

    record = load_sweep(store, sweep_id)
    settings = record.spec.settings
    rows = []
    for run in sweep_runs(store, sweep_id):
        row = {"run_id": run.id, "name": run.name, **_run_values(record, run)}
        row.update(status=run.status, best_val_accuracy=run.best_val_accuracy,
                   test_accuracy=run.test_accuracy, train_seconds=run.train_seconds)
        rows.append(row)
    columns = ["run_id", "name", *settings, "status", "best_val_accuracy", "test_accuracy", "train_seconds"]
    return pd.DataFrame(rows, columns=columns)
