"""Sharing runs: export a run as one ZIP file, import such a file as a new run.

An export holds::

    manifest.json          format name and version, the files with their SHA-256
    config.json            the run's specs (data set, model, preprocessing, augmentation, preset)
    run.json               name, status, message, times, results
    epochs.json            one entry per epoch (loss, accuracy, val_loss, val_accuracy, ...)
    dataset.json           the data set's class names and image shape, when known
    model.keras            the trained model, when there is one
    predictions.npz        test-set probabilities and true labels, when there are some
    confusion_matrix.png   a picture of the confusion matrix, for people opening the ZIP by hand

An imported ZIP is untrusted. :func:`import_run` refuses, with :class:`UnsafeArchiveError` and a
plain message, everything :mod:`cnn_core.safe_archive` refuses for every incoming ZIP (paths
outside the archive's folder, links, encrypted, oversized or over-compressed members...), unknown
format versions, a config with any field that does not fit the app's own declarations
(:func:`cnn_core.run_config.check_run_config` names the field), more epochs than the epochs
setting allows, more classes than :data:`~cnn_core.class_names.MAX_CLASSES`, and model files
that could run code or read files (:mod:`cnn_core.model_file_check`, before loading with
``safe_mode=True``). The epochs go into the store in one transaction. Nothing half-imported
remains when an import fails; one cut off by a crash is removed at the next start
(:mod:`cnn_core.leftovers`).

Keras is imported only when an archive with a model is imported.

Example:
    >>> data = export_run(store, run_id)
    >>> new_id = import_run(store, data, name="my friend's run")
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnn_core import model_file_check, safe_archive
from cnn_core.class_names import run_class_names
from cnn_core.confusion_picture import confusion_counts, render_confusion_png
from cnn_core.errors import CnnLabError, RunStateError, UnsafeArchiveError
from cnn_core.leftovers import IMPORTING_MESSAGE
from cnn_core.model_file_check import check_model_config  # noqa: F401 - part of this module's API
from cnn_core.run_archive_content import (
    check_dataset_json,
    check_epochs,
    check_predictions,
    check_run,
    load_json,
    number_or_none,
)
from cnn_core.run_config import check_run_config
from cnn_core.run_status import ACTIVE_STATUSES, RunStatus
from cnn_core.runs import RunStore
from cnn_core.stored_messages import english_text, stored_message
from cnn_core.workspace import atomic_write_bytes

FORMAT_NAME = "cnn-lab-run"
FORMAT_VERSION = 1
SUPPORTED_VERSIONS = (1,)

MANIFEST = "manifest.json"
JSON_MEMBERS = ("manifest.json", "config.json", "run.json", "epochs.json", "dataset.json")
BINARY_MEMBERS = ("model.keras", "predictions.npz", "confusion_matrix.png")
REQUIRED_MEMBERS = ("manifest.json", "config.json", "run.json", "epochs.json")
#: Files of an archive made by a file manager, skipped (still checked for safe paths).
IGNORED_NAMES = (".DS_Store", "Thumbs.db", "desktop.ini")
IGNORED_FOLDERS = ("__MACOSX",)
@dataclass(frozen=True)
class ArchiveLimits(safe_archive.ArchiveLimits):
    """Size limits of a run archive (bytes after decompression unless said otherwise); the
    rules (compression ratio, paths, links...) are :mod:`cnn_core.safe_archive`'s."""

    members: int = 64                          # entries in the archive
    member_bytes: int = 512 * 1024 * 1024      # largest member of any kind
    json_bytes: int = 32 * 1024 * 1024         # each JSON member
    model_bytes: int = 512 * 1024 * 1024       # model.keras
    predictions_bytes: int = 512 * 1024 * 1024 # predictions.npz (uncompressed arrays)
    other_bytes: int = 16 * 1024 * 1024        # confusion_matrix.png and skipped files

    def member_limit(self, name: str) -> int:
        if name.endswith(".json"):
            return self.json_bytes
        if name == "model.keras" or name == "model.weights.h5":
            return self.model_bytes
        if name == "predictions.npz" or name.endswith(".npy"):
            return self.predictions_bytes
        return self.other_bytes


DEFAULT_LIMITS = ArchiveLimits()
#: The message of a run while it is being imported; a run left with it by a dead process is a
#: cut-off import, removed at the next start (:mod:`cnn_core.leftovers`).
#: Prefix of the staging folder an import writes in the workspace.
STAGING_PREFIX = ".import-"


# =========================================================================== export

def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, indent=2, sort_keys=True, allow_nan=False).encode("utf-8")


def _clean_json(value: Any) -> Any:
    """NaN/inf -> None, recursively, so the JSON is standard."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_json(v) for v in value]
    return value


def export_run(store: RunStore, run_id: str, path: str | os.PathLike | None = None) -> bytes:
    """The run as one ZIP (bytes); also written to ``path`` when given.

    Raises:
        RunNotFoundError: no such run.
        RunStateError: the run is still queued or training (export it once it has ended).
    """
    import numpy as np

    record = store.get(run_id)
    if record.status in ACTIVE_STATUSES:
        raise RunStateError(
            "Run '{name}' is {status}. Export it once training has ended.",
            name=record.name, status=record.status
        )
    run_dir = store.run_dir(run_id)
    files: dict[str, bytes] = {}
    files["config.json"] = _json_bytes(_clean_json(record.config))
    files["run.json"] = _json_bytes(_clean_json({
        "id": record.id, "name": record.name, "status": record.status, "message": english_text(record.message),
        "created_at": record.created_at, "started_at": record.started_at,
        "finished_at": record.finished_at, "epochs_done": record.epochs_done,
        "epochs_planned": record.epochs_planned, "best_val_accuracy": record.best_val_accuracy,
        "test_accuracy": record.test_accuracy, "test_loss": record.test_loss,
        "train_seconds": record.train_seconds, "sweep_id": record.sweep_id,
    }))
    files["epochs.json"] = _json_bytes(_clean_json(store.epochs(run_id)))
    dataset_json = run_dir / "dataset.json"
    if dataset_json.is_file():
        files["dataset.json"] = dataset_json.read_bytes()
    model_path = store.model_path(run_id)
    if model_path.is_file():
        files["model.keras"] = model_path.read_bytes()
    if store.has_predictions(run_id):
        probs, y_true = store.load_predictions(run_id)
        n_classes = int(probs.shape[1])
        names = run_class_names(store, run_id, n_classes)
        buf = io.BytesIO()
        np.savez_compressed(buf, probs=probs, y_true=y_true, class_names=np.asarray(names, dtype=np.str_))
        files["predictions.npz"] = buf.getvalue()
        accuracy = f" · test accuracy {record.test_accuracy:.1%}" if record.test_accuracy is not None else ""
        files["confusion_matrix.png"] = render_confusion_png(
            confusion_counts(probs, y_true, n_classes), names, title=f"{record.name}{accuracy}")
    manifest = {
        "format": FORMAT_NAME, "version": FORMAT_VERSION, "exported_at": time.time(),
        "run_id": record.id, "name": record.name,
        "files": {name: {"sha256": _sha256(data), "bytes": len(data)} for name, data in files.items()},
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST, _json_bytes(manifest))
        for name, data in files.items():
            # model.keras and npz are already compressed; storing them saves time
            kind = zipfile.ZIP_STORED if name in BINARY_MEMBERS else zipfile.ZIP_DEFLATED
            zf.writestr(zipfile.ZipInfo(name, date_time=time.localtime()[:6]), data, compress_type=kind)
    data = out.getvalue()
    if path is not None:
        atomic_write_bytes(Path(path), data)
    return data


def export_file_name(store: RunStore, run_id: str) -> str:
    """A file name for a download button: ``cnn-lab-run-<id>.zip``."""
    return f"cnn-lab-run-{store.get(run_id).id}.zip"


# =========================================================================== safe reading

def _refuse(message: str) -> UnsafeArchiveError:
    return UnsafeArchiveError(message)


def _read_archive(data: bytes, limits: ArchiveLimits) -> dict[str, bytes]:
    """The export's members by name (a single top folder is allowed and dropped)."""
    what = "The archive"
    with safe_archive.open_zip(data, limits, what) as zf:
        entries = {m.path: m for m in safe_archive.check_members(zf, limits, what, limits.member_limit)}
        kept = {
            name: info for name, info in entries.items()
            if name.rsplit("/", 1)[-1] not in IGNORED_NAMES
            and name.split("/", 1)[0] not in IGNORED_FOLDERS
        }
        tops = {name.split("/", 1)[0] for name in kept if "/" in name}
        prefix = ""
        if tops and all("/" in name for name in kept) and len(tops) == 1:
            prefix = next(iter(tops)) + "/"
        members: dict[str, bytes] = {}
        for name, info in kept.items():
            short = name[len(prefix):]
            if short not in JSON_MEMBERS and short not in BINARY_MEMBERS:
                raise _refuse(f"The archive contains '{name}', which is not part of a CNN Lab run "
                              "export. Only archives made by CNN Lab's export are accepted.")
            members[short] = safe_archive.read_member(zf, info, limits.member_limit(short), what)
    missing = [name for name in REQUIRED_MEMBERS if name not in members]
    if missing:
        raise _refuse(f"The archive is not a CNN Lab run export: it has no {', '.join(missing)}.")
    return members


def _check_manifest(members: dict[str, bytes]) -> dict:
    manifest = load_json(members[MANIFEST], MANIFEST)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise _refuse("The archive is not a CNN Lab run export (its manifest names another format).")
    version = manifest.get("version")
    if version not in SUPPORTED_VERSIONS:
        raise _refuse(
            f"The archive uses export format version {version!r}; this CNN Lab reads version "
            f"{', '.join(map(str, SUPPORTED_VERSIONS))}. Update CNN Lab, or export the run again "
            "with this version."
        )
    if manifest.get("run_id") is not None and (not isinstance(manifest["run_id"], str)
                                               or len(manifest["run_id"]) > 200):
        raise _refuse("The archive's manifest is damaged (its run id is not a short text).")
    number_or_none(manifest.get("exported_at"), "manifest.json: exported_at")
    listed = manifest.get("files") or {}
    if not isinstance(listed, dict):
        raise _refuse("The archive's manifest is damaged (its file list is not readable).")
    for name, data in members.items():
        if name == MANIFEST:
            continue
        entry = listed.get(name)
        if not isinstance(entry, dict) or entry.get("sha256") != _sha256(data):
            raise _refuse(f"'{name}' does not match the archive's manifest: the file was changed "
                          "or damaged after export. It was refused.")
    return manifest


# =========================================================================== checking

def _check_config(config: Any) -> dict:
    try:
        return check_run_config(config)
    except CnnLabError as error:
        raise _refuse(f"The run's settings do not fit this CNN Lab: {error}") from None


@dataclass
class _CheckedExport:
    manifest: dict
    config: dict
    run: dict
    epochs: list[dict]
    dataset_json: bytes | None
    model: bytes | None
    predictions: tuple | None


def check_export(data: bytes, limits: ArchiveLimits = DEFAULT_LIMITS) -> _CheckedExport:
    """Everything :func:`import_run` checks before writing anything. Raises UnsafeArchiveError."""
    members = _read_archive(data, limits)
    manifest = _check_manifest(members)
    config = _check_config(load_json(members["config.json"], "config.json"))
    run = check_run(load_json(members["run.json"], "run.json"))
    epochs = check_epochs(load_json(members["epochs.json"], "epochs.json"))
    dataset_json, names = check_dataset_json(members.get("dataset.json"))
    model = members.get("model.keras")
    if model is not None:
        inspect_keras_file(model, limits)
    predictions = check_predictions(members["predictions.npz"], limits) if "predictions.npz" in members else None
    fits = names is not None and (predictions is None or len(names) == predictions[0].shape[1])
    if predictions is not None and predictions[2] is not None and not fits:
        # the class names are stored once, in dataset.json (see cnn_core.class_names)
        info = json.loads(dataset_json) if dataset_json is not None else {}
        info["class_names"] = predictions[2]
        dataset_json = _json_bytes(info)
    return _CheckedExport(manifest, config, run, epochs, dataset_json, model, predictions)


def inspect_keras_file(data: bytes, limits: ArchiveLimits = DEFAULT_LIMITS) -> dict:
    """:func:`cnn_core.model_file_check.inspect_keras_file` with a run archive's limits."""
    return model_file_check.inspect_keras_file(data, limits, limits.member_limit)


# =========================================================================== import

def _read_input(zip_bytes_or_path, limits: ArchiveLimits) -> bytes:
    too_big = f"The archive is larger than {safe_archive.size_text(limits.archive_bytes)}."
    if isinstance(zip_bytes_or_path, (bytes, bytearray, memoryview)):
        return bytes(zip_bytes_or_path)
    if hasattr(zip_bytes_or_path, "read"):  # an uploaded file object
        data = zip_bytes_or_path.read(limits.archive_bytes + 1)
        if len(data) > limits.archive_bytes:
            raise _refuse(too_big)
        return bytes(data)
    path = Path(zip_bytes_or_path)
    try:
        if path.stat().st_size > limits.archive_bytes:
            raise _refuse(too_big)
        return path.read_bytes()
    except OSError as error:
        raise _refuse(f"The archive '{path.name}' cannot be read ({error.strerror or 'error'}).") from None


def import_run(store: RunStore, zip_bytes, name: str | None = None,
               limits: ArchiveLimits = DEFAULT_LIMITS) -> str:
    """Import an exported run as a new run (new id, status ``finished``); returns its id.

    Args:
        store: the run store to import into.
        zip_bytes: the archive as bytes, a path, or a binary file object (an upload).
        name: the new run's name (default: the exported run's name).
        limits: size limits (see :class:`ArchiveLimits`).

    Raises:
        UnsafeArchiveError: the archive was refused; nothing was written.
    """
    data = _read_input(zip_bytes, limits)
    checked = check_export(data, limits)
    original = checked.run
    config = dict(checked.config)
    imported = {
        "from_run_id": original.get("id") or checked.manifest.get("run_id"),
        "original_name": original.get("name"),
        "original_status": original.get("status"),
        "exported_at": checked.manifest.get("exported_at"),
        "imported_at": time.time(),
    }
    if "sweep" in config:  # the sweep lives in another workspace
        imported["sweep"] = config.pop("sweep")
    config.pop("class_names", None)   # kept once, in dataset.json
    config["imported"] = _clean_json(imported)
    run_name = (name or "").strip() or str(original.get("name") or "") or None
    if run_name and len(run_name) > 200:
        run_name = run_name[:200]

    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=store.workspace))
    run_id = None
    try:
        if checked.model is not None:
            model_path = staging / "model.keras"
            model_path.write_bytes(checked.model)
            model_file_check.load_model_safely(model_path)
        run_id = store.create_run(config, name=run_name, status=RunStatus.FAILED)
        store.set_status(run_id, RunStatus.FAILED, IMPORTING_MESSAGE)
        run_dir = store.run_dir(run_id)
        if checked.model is not None:
            os.replace(staging / "model.keras", store.model_path(run_id))
        if checked.dataset_json is not None:
            atomic_write_bytes(run_dir / "dataset.json", checked.dataset_json)
        if checked.predictions is not None:
            probs, y_true, _ = checked.predictions
            store.save_predictions(run_id, probs, y_true)
        store.add_epochs(run_id, checked.epochs)     # one transaction, linear in the epochs
        store.set_result(run_id, test_accuracy=original.get("test_accuracy"),
                         test_loss=original.get("test_loss"), train_seconds=original.get("train_seconds"))
        was = original.get("status")
        message = stored_message("Imported from an archive (run {run}).", run=str(imported["from_run_id"]))
        if was and was != RunStatus.FINISHED:
            message += stored_message("It was {status} there.", status=stored_message(str(was)))
        store.set_status(run_id, RunStatus.FINISHED, message)
    except BaseException:
        if run_id is not None:
            try:
                store.delete(run_id)
            except Exception:  # noqa: BLE001 - best effort, then report the original error
                shutil.rmtree(store.run_dir(run_id), ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return run_id
