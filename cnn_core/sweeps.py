"""Hyperparameter sweeps: many runs that differ in one or two settings, queued together.

What a sweep varies, and the specs that gives, is a :class:`~cnn_core.sweep_spec.SweepSpec`
(:mod:`cnn_core.sweep_spec`). This module launches a sweep, stores it and follows it: each run
is tagged with the sweep's id (``sweep_id`` in the run store, and
``config["sweep"] = {"id": ..., "values": {setting: value}}``), and the sweep itself is a small
JSON file in ``<workspace>/sweeps/<id>.json`` (:class:`SweepRecord`) so the app can list sweeps.
Every expanded spec is validated before anything is queued, so a bad value is reported by name
and nothing half-started remains.

Example:
    >>> from cnn_core.model import PRESETS
    >>> sweep = SweepSpec(base=PRESETS["fast"], grid={"learning_rate": [0.001, 0.01]})
    >>> default_sweep_name(sweep)
    'Sweep: learning_rate'
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnn_core.classroom import check_request, teacher_settings, visible_runs
from cnn_core.errors import CnnLabError, SpecError
from cnn_core.run_record import Starter, new_run_id
from cnn_core.run_status import FINAL_STATUSES, RUN_STATUSES, STEERABLE_STATUSES, RunStatus
from cnn_core.runs import RunStore
from cnn_core.sweep_spec import SweepSpec, describe_values, expand_sweep, sweep_combinations
from cnn_core.workspace import atomic_write_json

SWEEP_RECORD_VERSION = 1


class SweepNotFoundError(CnnLabError):
    """No sweep with that id in the workspace."""


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
        raise SweepNotFoundError("'{sweep_id}' is not a sweep id. Pick a sweep from the list of sweeps.",
                                 sweep_id=sweep_id)
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
            "There is no sweep with id '{sweep_id}' in {workspace}. Pick one from the list of sweeps.",
            sweep_id=sweep_id, workspace=store.workspace
        ) from None
    except (ValueError, KeyError, TypeError, CnnLabError) as error:
        raise SweepNotFoundError("The record of sweep '{sweep_id}' cannot be read ({error}).",
                                 sweep_id=sweep_id, error=error) from None


def list_sweeps(store: RunStore, viewer: Starter | None = None) -> list[SweepRecord]:
    """All sweeps of the workspace, newest first (unreadable records are skipped); with a
    ``viewer`` (a browser session), only those with a run it may see (or no run at all)."""
    if viewer is not None:
        seen = {run.id for run in visible_runs(store.list_runs(), viewer)}
        return [record for record in list_sweeps(store)
                if not record.run_ids or any(run_id in seen for run_id in record.run_ids)]
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
    return f"{sweep_name} · {describe_values(values)}"


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
                "The sweep's run with {values} cannot work on {name}: {error}",
                values=describe_values(values), name=info.name, error=error
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
                 name: str | None = None, preprocess=None, dataset_options: dict | None = None,
                 starter: Starter | None = None) -> str:
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
        starter: the browser session queueing it: its runs are that session's, and the teacher's
            limits apply as to one run (every run's epochs; the sweep is one request waiting).
            None for the command line and scripts.

    Raises:
        SpecError: a run's settings cannot work, the sweep is too large, or a run asks for more
            epochs than the teacher allows; nothing is queued.
        QueueLimitError: ``starter`` already has as many runs waiting as allowed; nothing is queued.
    """
    augment, specs, combos, record = _prepare(store, dataset_id, sweep, augment, name, preprocess, dataset_options)
    if starter is not None:   # every run's epochs before any is queued (the queue checks each again)
        check_request(max(spec.epochs for spec in specs), 0, teacher_settings())
    save_sweep_record(store, record)  # first, so a page polling the queue finds the sweep
    try:
        for spec, values in zip(specs, combos):
            request = _training_request(dataset_id, spec, augment, sweep.preset,
                                        run_name(record.name, values), record.id, preprocess,
                                        record.dataset_options)
            run_id = queue.submit(request, starter=starter)
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


def sweep_status(store: RunStore, sweep_id: str, runs: list | None = None) -> SweepStatus:
    """Counts of the sweep's runs per status and the fraction whose training is over; ``runs``:
    the sweep's runs when the caller has just read them (:func:`sweep_runs`)."""
    runs = sweep_runs(store, sweep_id) if runs is None else runs
    counts = {status: 0 for status in RUN_STATUSES}
    for run in runs:
        counts[run.status] = counts.get(run.status, 0) + 1
    done = sum(counts[s] for s in FINAL_STATUSES)
    return SweepStatus(sweep_id=sweep_id, counts=counts, total=len(runs), done=done)


def stop_sweep(queue, store: RunStore, sweep_id: str, starter: Starter | None = None) -> list[str]:
    """Stop the sweep's running run and take its waiting runs off the queue; returns their ids.
    With a ``starter`` (a browser session) only the runs it may stop (see
    :func:`cnn_core.classroom.check_may_steer`)."""
    stopped = []
    runs = sweep_runs(store, sweep_id)
    # waiting runs first, so the queue does not start the next one while the current one stops
    order = sorted(runs, key=lambda r: r.status == RunStatus.RUNNING)
    for run in order:
        if run.status in STEERABLE_STATUSES:
            try:
                queue.stop(run.id, starter=starter)
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
