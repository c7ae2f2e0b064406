"""Checking the parts of a run archive (see :mod:`cnn_core.exchange`) before anything is written.

Each function takes one part as read from the archive and returns it checked, or raises
:class:`~cnn_core.errors.UnsafeArchiveError` with a plain message naming the part and the field:
``predictions.npz`` (no pickles, numbers of the right kinds and shapes, at most
:data:`~cnn_core.class_names.MAX_CLASSES` classes), ``epochs.json`` (at most as many epochs as the
epochs setting allows, numbers where numbers belong), ``run.json`` and ``dataset.json``.

Example:
    >>> check_epochs([{"epoch": 1, "loss": 0.5}])
    [{'epoch': 1, 'loss': 0.5}]
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import zipfile
from typing import Any

from cnn_core import safe_archive
from cnn_core.class_names import MAX_CLASSES, too_many_classes_message
from cnn_core.errors import SpecError, UnsafeArchiveError
from cnn_core.run_record import EPOCH_METRICS


def _refuse(message: str) -> UnsafeArchiveError:
    return UnsafeArchiveError(message)


def load_json(data: bytes, name: str) -> Any:
    """The JSON document ``name`` of an archive; refused when it is not valid JSON."""
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise _refuse(f"'{name}' in the archive is not valid JSON ({error}).") from None


def check_predictions(data: bytes, limits: safe_archive.ArchiveLimits):
    import numpy as np

    what = "predictions.npz"
    # sorted test labels compress extremely well: only the absolute size limits apply inside
    inner = dataclasses.replace(limits, ratio=math.inf)
    with safe_archive.open_zip(data, inner, what) as zf:
        for member in safe_archive.check_members(zf, inner, what, limits.member_limit):
            if member.path not in ("probs.npy", "y_true.npy", "class_names.npy"):
                raise _refuse(f"predictions.npz contains '{member.path}', which CNN Lab never "
                              "writes. It was refused.")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            probs, y_true = npz["probs"], npz["y_true"]
            names = npz["class_names"] if "class_names" in npz.files else None
    except ValueError as error:
        if "pickle" in str(error).lower() or "object" in str(error).lower():
            raise _refuse("predictions.npz contains pickled Python objects, which could run code "
                          "when read. It was refused.") from None
        raise _refuse(f"predictions.npz cannot be read ({error}).") from None
    except (KeyError, OSError, zipfile.BadZipFile, EOFError) as error:
        raise _refuse(f"predictions.npz cannot be read ({error}).") from None
    if probs.dtype.kind != "f" or y_true.dtype.kind not in "iu":
        raise _refuse("predictions.npz holds arrays of the wrong kind (numbers expected).")
    if probs.ndim != 2 or y_true.ndim != 1 or probs.shape[0] != y_true.shape[0] or probs.shape[1] < 1:
        raise _refuse(f"predictions.npz is inconsistent: probabilities {probs.shape} for labels {y_true.shape}.")
    if probs.shape[1] > MAX_CLASSES:
        raise _refuse("The run was refused: " + too_many_classes_message(probs.shape[1], "it"))
    if not np.all(np.isfinite(probs)) or (len(y_true) and (y_true.min() < 0 or y_true.max() >= probs.shape[1])):
        raise _refuse("predictions.npz holds values that are not probabilities or class numbers.")
    if names is not None:
        if names.dtype.kind != "U" or names.shape != (probs.shape[1],):
            raise _refuse("predictions.npz holds class names that do not fit its probabilities.")
        names = [str(n)[:200] for n in names]
    return probs, y_true, names


def number_or_none(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _refuse(f"{what} is not a number in the archive.")
    return float(value)


def _check_epoch_count(count: int) -> None:
    """Refuse more epochs (or a higher epoch number) than the epochs setting allows."""
    from cnn_core.model import ModelSpec

    try:
        ModelSpec.from_dict({"epochs": count}).validate()
    except SpecError as error:
        raise _refuse(f"epochs.json was refused: it goes up to epoch {count:,}, more than a run "
                      f"can have ({error})") from None


def check_epochs(epochs: Any) -> list[dict]:
    if not isinstance(epochs, list):
        raise _refuse("epochs.json is not a list of epochs.")
    if epochs:
        _check_epoch_count(len(epochs))
    checked, numbers = [], set()
    for entry in epochs:
        if not isinstance(entry, dict):
            raise _refuse("epochs.json contains an entry that is not an epoch.")
        epoch = entry.get("epoch")
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 1 or epoch in numbers:
            raise _refuse(f"epochs.json has a bad epoch number ({epoch!r:.40}).")
        numbers.add(epoch)
        metrics = {}
        for key, value in entry.items():
            if key == "epoch":
                continue
            if not isinstance(key, str) or len(key) > 100:
                raise _refuse("epochs.json has a bad metric name.")
            if key in EPOCH_METRICS:
                metrics[key] = number_or_none(value, f"epochs.json: {key} of epoch {epoch}")
            elif value is None or isinstance(value, bool) or (
                    isinstance(value, (int, float)) and math.isfinite(value)) or (
                    isinstance(value, str) and len(value) <= 1000):
                metrics[key] = value
            else:
                raise _refuse(f"epochs.json: {key} of epoch {epoch} is not a simple value.")
        checked.append({"epoch": epoch, **metrics})
    if numbers:
        _check_epoch_count(max(numbers))
    return sorted(checked, key=lambda e: e["epoch"])


def check_run(run: Any) -> dict:
    if not isinstance(run, dict):
        raise _refuse("run.json in the archive does not describe a run.")
    for key in ("test_accuracy", "test_loss", "train_seconds", "exported_at"):
        number_or_none(run.get(key), f"run.json: {key}")
    for key in ("id", "name", "status", "message"):
        value = run.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > 1000):
            raise _refuse(f"run.json: '{key}' is not a short text in the archive.")
    return run


def check_dataset_json(data: bytes | None) -> tuple[bytes | None, list[str] | None]:
    if data is None:
        return None, None
    info = load_json(data, "dataset.json")
    if not isinstance(info, dict):
        raise _refuse("dataset.json in the archive does not describe a data set.")
    names = info.get("class_names")
    if names is not None:
        if not isinstance(names, list) or not all(isinstance(n, str) and len(n) <= 200 for n in names):
            raise _refuse("dataset.json: its class names are not a list of short texts.")
        if len(names) > MAX_CLASSES:
            raise _refuse("The run was refused: " + too_many_classes_message(len(names), "it"))
    return data, names


__all__ = ["check_dataset_json", "check_epochs", "check_predictions", "check_run", "load_json",
           "number_or_none"]
