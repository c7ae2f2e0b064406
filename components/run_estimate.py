"""How long runs will take, said before they start (model builder, sweep form): a range.

The pure cost estimate of each run (:func:`components.model_summary.epoch_seconds` x epochs) is
calibrated by the runs that finished on the same data set in this workspace, on this machine
(:func:`cnn_core.time_left.calibrate_speed`); with none, the range is wide. The engine part is
:mod:`cnn_core.time_left`.
"""

from __future__ import annotations

from cnn_core.errors import CnnLabError
from cnn_core.run_status import RunStatus
from cnn_core.time_left import MeasuredRun, SpeedCalibration, calibrate_speed, range_text, time_range_before_start
from components import state

#: How many of the newest finished runs calibrate the estimate.
CALIBRATION_RUNS = 8


def _pure_seconds(model: dict, facts) -> float | None:
    from components.model_summary import epoch_seconds

    try:
        per_epoch = epoch_seconds(dict(model), facts)
    except (CnnLabError, TypeError, ValueError, KeyError):
        return None
    return None if per_epoch is None else per_epoch * int(model.get("epochs") or 1)


def calibration(dataset_id: str, facts) -> SpeedCalibration | None:
    """This machine's speed from the newest finished runs on ``dataset_id`` (None: none yet)."""
    measured = []
    for run in state.run_store().list_runs(status=RunStatus.FINISHED):
        dataset = (run.config or {}).get("dataset") or {}
        model = (run.config or {}).get("model") or {}
        if not isinstance(dataset, dict) or dataset.get("id") != dataset_id or not run.train_seconds:
            continue
        pure = _pure_seconds({**model, "epochs": max(1, run.epochs_done)}, facts)
        if pure:
            measured.append(MeasuredRun(pure, run.train_seconds, (run.progress or {}).get("startup_seconds")))
        if len(measured) >= CALIBRATION_RUNS:
            break
    return calibrate_speed(measured)


def time_range(models: list[dict], dataset_id: str) -> tuple[float, float] | None:
    """(low, high) seconds the runs ``models`` (spec dicts) will take on ``dataset_id``; None if unknown.

    Runs that all have a ``time_limit`` (minutes) take at most the sum of their limits."""
    from components.model_summary import dataset_facts

    try:
        facts = dataset_facts(dataset_id)
    except CnnLabError:
        return None
    if facts is None:
        return None
    pure = [_pure_seconds(model, facts) for model in models]
    if not pure or any(p is None for p in pure):
        return None
    span = time_range_before_start(pure, calibration(dataset_id, facts))
    limits = [60.0 * float(model.get("time_limit") or 0) for model in models]
    if span is None or not all(limits):
        return span
    # each run under a time limit trains only the epochs that fit into it
    return min(span[0], sum(limits)), min(span[1], sum(limits))


def time_range_text(models: list[dict], dataset_id: str) -> str:
    """"about 20–40 s", or "estimating…" when it cannot be told."""
    return range_text(time_range(models, dataset_id))


__all__ = ["calibration", "time_range", "time_range_text"]
