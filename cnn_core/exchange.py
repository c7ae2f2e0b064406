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
plain message: paths outside the archive's folder, absolute paths and links; encrypted, oversized
or over-compressed members (zip bombs); unknown format versions; and model files that could run
code. A ``model.keras`` (itself a ZIP) is inspected WITHOUT deserializing it: Lambda layers,
functions, pickled files and classes from modules other than Keras' own and CNN Lab's registered
ones are refused; only then is it loaded, with ``keras.saving.load_model(safe_mode=True)``.
Nothing half-imported remains when an import fails.

Keras is imported only when an archive with a model is imported.

Example:
    >>> data = export_run(store, run_id)
    >>> new_id = import_run(store, data, name="my friend's run")
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import os
import shutil
import stat
import tempfile
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnn_core.errors import CnnLabError, RunStateError, UnsafeArchiveError
from cnn_core.runs import ACTIVE_STATUSES, EPOCH_METRICS, RunStore, atomic_write_bytes

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
#: What a model.keras may contain.
MODEL_MEMBERS = ("config.json", "metadata.json", "model.weights.h5")
#: Layer classes that carry Python code.
CODE_CLASS_NAMES = ("Lambda", "TFOpLambda", "SlicingOpLambda", "__lambda__", "__function__")


@dataclass(frozen=True)
class ArchiveLimits:
    """Size limits for an imported archive (bytes after decompression unless said otherwise)."""

    archive_bytes: int = 1024 * 1024 * 1024   # the ZIP file itself
    members: int = 64                          # entries in the archive
    json_bytes: int = 32 * 1024 * 1024         # each JSON member
    model_bytes: int = 512 * 1024 * 1024       # model.keras
    predictions_bytes: int = 512 * 1024 * 1024 # predictions.npz (uncompressed arrays)
    other_bytes: int = 16 * 1024 * 1024        # confusion_matrix.png and skipped files
    total_bytes: int = 1024 * 1024 * 1024      # all members together
    ratio: float = 200.0                       # uncompressed / compressed, for members over 1 MiB
    epochs: int = 100_000                      # entries in epochs.json

    def member_limit(self, name: str) -> int:
        if name.endswith(".json"):
            return self.json_bytes
        if name == "model.keras" or name == "model.weights.h5":
            return self.model_bytes
        if name == "predictions.npz" or name.endswith(".npy"):
            return self.predictions_bytes
        return self.other_bytes


DEFAULT_LIMITS = ArchiveLimits()
_RATIO_FLOOR = 1024 * 1024  # small members may compress very well (JSON of zeros) without harm


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


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


def _class_names(store: RunStore, run_id: str, n_classes: int) -> list[str]:
    """The run's class names (store, dataset.json or config), else "0", "1"..."""
    try:
        names = store.class_names(run_id) if hasattr(store, "class_names") else None
        if names and len(names) == n_classes:
            return [str(n) for n in names]
    except (OSError, ValueError, KeyError, CnnLabError):
        pass
    try:
        info = json.loads((store.run_dir(run_id) / "dataset.json").read_text("utf-8"))
        names = [str(n) for n in info.get("class_names") or []]
        if len(names) == n_classes:
            return names
    except (OSError, ValueError, AttributeError):
        pass
    config = store.get(run_id).config or {}
    names = (config.get("dataset") or {}).get("class_names") or config.get("class_names") or []
    if len(names) == n_classes:
        return [str(n) for n in names]
    return [str(i) for i in range(n_classes)]


def confusion_counts(probs, y_true, n_classes: int):
    """Confusion matrix (rows: true class, columns: predicted class) as int64 counts."""
    import numpy as np

    y_pred = np.argmax(probs, axis=1) if len(probs) else np.zeros(0, dtype=np.int64)
    y_true = np.asarray(y_true, dtype=np.int64)
    valid = (y_true >= 0) & (y_true < n_classes)
    index = y_true[valid] * n_classes + y_pred[valid]
    return np.bincount(index, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def render_confusion_png(confusion, class_names: list[str], title: str = "") -> bytes:
    """A labelled confusion-matrix picture (PNG bytes) drawn with Pillow.

    Rows are true classes, columns predicted classes; each cell shows its count and is shaded
    by its share of the row (blue on the diagonal, red elsewhere).
    """
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    confusion = np.asarray(confusion, dtype=np.int64)
    n = confusion.shape[0]
    cell = max(28, min(64, 640 // max(n, 1)))
    try:
        font = ImageFont.load_default(size=max(9, min(14, cell // 3)))
    except TypeError:  # Pillow < 10.1
        font = ImageFont.load_default()
    labels = [name if len(name) <= 14 else name[:13] + "…" for name in class_names]
    label_w = max((int(font.getlength(s)) for s in labels), default=10) + 12
    top = 48 + label_w
    left = label_w + 28
    title = title or "Confusion matrix"
    subtitle = "rows: true class · columns: predicted class"
    text_w = max(int(font.getlength(title)), int(font.getlength(subtitle))) + 16
    width, height = max(left + n * cell + 16, text_w), top + n * cell + 16
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((8, 6), title, fill="black", font=font)
    draw.text((8, 26), subtitle, fill="dimgray", font=font)
    rows = confusion.sum(axis=1, keepdims=True).clip(min=1)
    share = confusion / rows
    for i in range(n):
        y = top + i * cell
        draw.text((left - 6, y + cell / 2), labels[i], fill="black", font=font, anchor="rm")
        for j in range(n):
            x = left + j * cell
            v = float(share[i, j])
            if i == j:
                color = (int(255 - 200 * v), int(255 - 140 * v), 255)
            else:
                color = (255, int(255 - 200 * v), int(255 - 200 * v))
            draw.rectangle([x, y, x + cell - 1, y + cell - 1], fill=color, outline=(210, 210, 210))
            text_color = "white" if v > 0.6 else "black"
            draw.text((x + cell / 2, y + cell / 2), str(int(confusion[i, j])), fill=text_color,
                      font=font, anchor="mm")
    # column labels, written vertically above the grid
    for j in range(n):
        label = Image.new("RGBA", (label_w, cell), (255, 255, 255, 0))
        ImageDraw.Draw(label).text((4, cell / 2), labels[j], fill="black", font=font, anchor="lm")
        rotated = label.rotate(90, expand=True)
        image.paste(rotated, (left + j * cell, top - label_w), rotated)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


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
            f"Run '{record.name}' is {record.status}. Export it once training has ended."
        )
    run_dir = store.run_dir(run_id)
    files: dict[str, bytes] = {}
    files["config.json"] = _json_bytes(_clean_json(record.config))
    files["run.json"] = _json_bytes(_clean_json({
        "id": record.id, "name": record.name, "status": record.status, "message": record.message,
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
        names = _class_names(store, run_id, n_classes)
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


def _safe_name(name: str, what: str) -> str:
    """A member's path checked to stay inside the archive's folder; returns it normalized."""
    if "\x00" in name:
        raise _refuse(f"{what} contains a file name with a NUL character. It was refused.")
    if "\\" in name:
        raise _refuse(f"{what} contains the path '{name}' with backslashes. It was refused: "
                      "use an archive made by CNN Lab's export.")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise _refuse(f"{what} contains the absolute path '{name}'. It was refused: files in an "
                      "archive must stay inside its folder.")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise _refuse(f"{what} contains the path '{name}', which points outside its folder. "
                      "It was refused.")
    return "/".join(parts) + ("/" if name.endswith("/") else "")


def _check_entries(zf: zipfile.ZipFile, what: str, limits: ArchiveLimits) -> dict[str, zipfile.ZipInfo]:
    """Every entry's path, type, size and compression ratio checked; returns name -> info."""
    infos = zf.infolist()
    if len(infos) > limits.members:
        raise _refuse(f"{what} holds {len(infos)} files; at most {limits.members} are accepted.")
    entries: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = _safe_name(info.filename, what)
        mode = (info.external_attr >> 16) & 0xFFFF
        if stat.S_ISLNK(mode):
            raise _refuse(f"{what} contains a link ('{info.filename}'). Links are refused: they "
                          "can point at files outside the archive.")
        if info.flag_bits & 0x1:
            raise _refuse(f"{what} contains an encrypted file ('{info.filename}'). Encrypted "
                          "archives are not accepted.")
        if name.endswith("/"):
            continue
        if name in entries:
            raise _refuse(f"{what} contains '{name}' twice. It was refused.")
        limit = limits.member_limit(name.rsplit("/", 1)[-1])
        if info.file_size > limit:
            raise _refuse(f"{what}: '{name}' is {_mib(info.file_size)} unpacked; the limit is "
                          f"{_mib(limit)}. It was refused.")
        if info.file_size > _RATIO_FLOOR and info.file_size > limits.ratio * max(info.compress_size, 1):
            raise _refuse(f"{what}: '{name}' would unpack to {info.file_size / max(info.compress_size, 1):.0f} "
                          "times its packed size, which is how 'zip bombs' fill disks. It was refused.")
        total += info.file_size
        if total > limits.total_bytes:
            raise _refuse(f"{what} unpacks to more than {_mib(limits.total_bytes)}. It was refused.")
        entries[name] = info
    return entries


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, what: str,
                 limits: ArchiveLimits) -> bytes:
    """A member's bytes, read with a hard cap (sizes in the archive's header are not trusted)."""
    limit = min(limits.member_limit(name.rsplit("/", 1)[-1]), max(info.file_size, 0))
    chunks, size = [], 0
    try:
        with zf.open(info) as f:
            while True:
                chunk = f.read(1024 * 1024)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise _refuse(f"{what}: '{name}' unpacks to more than its header says. "
                                  "It was refused.")
                chunks.append(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError) as error:
        raise _refuse(f"{what}: '{name}' cannot be read ({error}). The file may be damaged.") from None
    except RuntimeError as error:  # e.g. encrypted
        raise _refuse(f"{what}: '{name}' cannot be read ({error}).") from None
    return b"".join(chunks)


def _open_zip(data: bytes, what: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as error:
        raise _refuse(f"{what} is not a ZIP archive that can be read ({error}).") from None


def _load_json(data: bytes, name: str) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise _refuse(f"'{name}' in the archive is not valid JSON ({error}).") from None


def _read_archive(data: bytes, limits: ArchiveLimits) -> dict[str, bytes]:
    """The export's members by name (a single top folder is allowed and dropped)."""
    what = "The archive"
    if len(data) > limits.archive_bytes:
        raise _refuse(f"The archive is {_mib(len(data))}; the limit is {_mib(limits.archive_bytes)}.")
    with _open_zip(data, what) as zf:
        entries = _check_entries(zf, what, limits)
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
            members[short] = _read_member(zf, info, short, what, limits)
    missing = [name for name in REQUIRED_MEMBERS if name not in members]
    if missing:
        raise _refuse(f"The archive is not a CNN Lab run export: it has no {', '.join(missing)}.")
    return members


def _check_manifest(members: dict[str, bytes]) -> dict:
    manifest = _load_json(members[MANIFEST], MANIFEST)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise _refuse("The archive is not a CNN Lab run export (its manifest names another format).")
    version = manifest.get("version")
    if version not in SUPPORTED_VERSIONS:
        raise _refuse(
            f"The archive uses export format version {version!r}; this CNN Lab reads version "
            f"{', '.join(map(str, SUPPORTED_VERSIONS))}. Update CNN Lab, or export the run again "
            "with this version."
        )
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


# =========================================================================== model inspection

def _allowed_custom_objects() -> tuple[set[str], set[str]]:
    """(registered names, modules) of CNN Lab's own Keras-serializable objects."""
    import keras

    import cnn_core.model.legacy_schedules  # noqa: F401 - registers CNN Lab's old schedules

    try:
        import cnn_core.preprocessing  # noqa: F401 - may register its scaling layer
    except ImportError:  # pragma: no cover
        pass
    names, modules = set(), set()
    for registered, obj in keras.saving.get_custom_objects().items():
        module = getattr(obj, "__module__", "") or ""
        if module == "cnn_core" or module.startswith("cnn_core."):
            names.add(registered)
            modules.add(module)
    return names, modules


def _is_keras_module(module: str) -> bool:
    return module == "keras" or module.startswith("keras.")


def check_model_config(config: Any, allowed_names: set[str] = frozenset(),
                       allowed_modules: set[str] = frozenset()) -> None:
    """Refuse a model config (``config.json`` of a ``.keras`` file) that could run code.

    Walks the JSON without deserializing anything. Refused: Lambda layers and serialized
    functions, a ``"function"`` entry, and any ``module``/``registered_name`` outside Keras' own
    namespaces and ``allowed_names``/``allowed_modules`` (CNN Lab's registered objects).
    """
    stack = [config]
    seen = 0
    while stack:
        node = stack.pop()
        seen += 1
        if seen > 2_000_000:
            raise _refuse("The model's description is unreasonably large. It was refused.")
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        class_name = node.get("class_name")
        if class_name in CODE_CLASS_NAMES:
            raise _refuse(
                "The model contains a Lambda layer (Python code stored in the model file). Such "
                "models can run any program when loaded, so CNN Lab refuses them. Export models "
                "built with CNN Lab's model builder only."
            )
        if "function" in node or "function_type" in node:
            raise _refuse("The model contains a stored Python function, which could run any program "
                          "when loaded. It was refused.")
        module = node.get("module")
        if module is not None:
            ours = module in allowed_modules and node.get("registered_name") in allowed_names
            if not isinstance(module, str) or not (_is_keras_module(module) or ours):
                raise _refuse(
                    f"The model uses '{class_name}' from module '{module}', which is neither part of "
                    "Keras nor of CNN Lab. Code from other modules could run when loading, so the "
                    "model was refused."
                )
        registered = node.get("registered_name")
        if registered is not None:
            ok = registered in allowed_names or (
                isinstance(module, str) and _is_keras_module(module)
                and (registered == class_name or class_name == "function")
                and isinstance(registered, str) and ">" not in registered
            )
            if not ok:
                raise _refuse(
                    f"The model uses the registered object '{registered}', which is neither part of "
                    "Keras nor of CNN Lab. It was refused."
                )
        stack.extend(node.values())


def inspect_keras_file(data: bytes, limits: ArchiveLimits = DEFAULT_LIMITS) -> dict:
    """Check a ``.keras`` file's bytes without loading it; returns its parsed config.json.

    Raises UnsafeArchiveError for unexpected members (e.g. pickles), unsafe paths or sizes, and
    a config that could run code (see :func:`check_model_config`).
    """
    what = "The model file (model.keras)"
    with _open_zip(data, what) as zf:
        entries = _check_entries(zf, what, limits)
        for name in entries:
            if name not in MODEL_MEMBERS:
                kind = " (a pickled Python object)" if name.endswith((".pkl", ".pickle", ".npy")) else ""
                raise _refuse(f"{what} contains '{name}'{kind}, which a Keras model saved by CNN Lab "
                              "never holds. It was refused.")
        if "config.json" not in entries or "model.weights.h5" not in entries:
            raise _refuse(f"{what} is incomplete: it needs config.json and model.weights.h5.")
        config = _load_json(_read_member(zf, entries["config.json"], "config.json", what, limits),
                            "model.keras/config.json")
        if "metadata.json" in entries:
            _load_json(_read_member(zf, entries["metadata.json"], "metadata.json", what, limits),
                       "model.keras/metadata.json")
        weights = _read_member(zf, entries["model.weights.h5"], "model.weights.h5", what, limits)
    if not weights.startswith(b"\x89HDF\r\n\x1a\n"):
        raise _refuse(f"{what}: its weights are not an HDF5 file. It was refused.")
    names, modules = _allowed_custom_objects()
    check_model_config(config, names, modules)
    return config


def _load_model_safely(path: Path) -> None:
    import keras

    import cnn_core.model.legacy_schedules  # noqa: F401 - registers CNN Lab's old schedules

    try:
        keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # noqa: BLE001 - anything Keras cannot load is refused
        raise _refuse(f"The model in the archive cannot be loaded ({type(error).__name__}: {error}). "
                      "It was refused.") from None


# =========================================================================== validating content

def _check_predictions(data: bytes, limits: ArchiveLimits):
    import numpy as np

    what = "predictions.npz"
    # sorted test labels compress extremely well: only the absolute size limits apply inside
    with _open_zip(data, what) as zf:
        entries = _check_entries(zf, what, dataclasses.replace(limits, ratio=math.inf))
        for name in entries:
            if name not in ("probs.npy", "y_true.npy", "class_names.npy"):
                raise _refuse(f"predictions.npz contains '{name}', which CNN Lab never writes. It was refused.")
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
    if not np.all(np.isfinite(probs)) or (len(y_true) and (y_true.min() < 0 or y_true.max() >= probs.shape[1])):
        raise _refuse("predictions.npz holds values that are not probabilities or class numbers.")
    if names is not None:
        if names.dtype.kind != "U" or names.shape != (probs.shape[1],):
            raise _refuse("predictions.npz holds class names that do not fit its probabilities.")
        names = [str(n)[:200] for n in names]
    return probs, y_true, names


def _number_or_none(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _refuse(f"{what} is not a number in the archive.")
    return float(value)


def _check_epochs(epochs: Any, limits: ArchiveLimits) -> list[dict]:
    if not isinstance(epochs, list) or len(epochs) > limits.epochs:
        raise _refuse("epochs.json is not a list of epochs.")
    checked, numbers = [], set()
    for entry in epochs:
        if not isinstance(entry, dict):
            raise _refuse("epochs.json contains an entry that is not an epoch.")
        epoch = entry.get("epoch")
        if isinstance(epoch, bool) or not isinstance(epoch, int) or not 1 <= epoch <= limits.epochs or epoch in numbers:
            raise _refuse(f"epochs.json has a bad epoch number ({epoch!r}).")
        numbers.add(epoch)
        metrics = {}
        for key, value in entry.items():
            if key == "epoch":
                continue
            if not isinstance(key, str) or len(key) > 100:
                raise _refuse("epochs.json has a bad metric name.")
            if key in EPOCH_METRICS:
                metrics[key] = _number_or_none(value, f"epochs.json: {key} of epoch {epoch}")
            elif value is None or isinstance(value, (int, float, str, bool)):
                metrics[key] = value
            else:
                raise _refuse(f"epochs.json: {key} of epoch {epoch} is not a simple value.")
        checked.append({"epoch": epoch, **metrics})
    return sorted(checked, key=lambda e: e["epoch"])


def _check_config(config: Any) -> dict:
    if not isinstance(config, dict) or not isinstance(config.get("model", {}), dict):
        raise _refuse("config.json in the archive does not describe a run's settings.")
    try:
        from cnn_core.model import ModelSpec

        ModelSpec.from_dict(config.get("model") or {})
    except CnnLabError as error:
        raise _refuse(f"The run's model settings do not fit this CNN Lab: {error}") from None
    except (TypeError, ValueError) as error:
        raise _refuse(f"The run's model settings cannot be read ({error}).") from None
    return config


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
    config = _check_config(_load_json(members["config.json"], "config.json"))
    run = _load_json(members["run.json"], "run.json")
    if not isinstance(run, dict):
        raise _refuse("run.json in the archive does not describe a run.")
    for key in ("test_accuracy", "test_loss", "train_seconds"):
        _number_or_none(run.get(key), f"run.json: {key}")
    epochs = _check_epochs(_load_json(members["epochs.json"], "epochs.json"), limits)
    dataset_json = members.get("dataset.json")
    if dataset_json is not None and not isinstance(_load_json(dataset_json, "dataset.json"), dict):
        raise _refuse("dataset.json in the archive does not describe a data set.")
    model = members.get("model.keras")
    if model is not None:
        inspect_keras_file(model, limits)
    predictions = _check_predictions(members["predictions.npz"], limits) if "predictions.npz" in members else None
    return _CheckedExport(manifest, config, run, epochs, dataset_json, model, predictions)


# =========================================================================== import

def _read_input(zip_bytes_or_path, limits: ArchiveLimits) -> bytes:
    if isinstance(zip_bytes_or_path, (bytes, bytearray, memoryview)):
        return bytes(zip_bytes_or_path)
    if hasattr(zip_bytes_or_path, "read"):  # an uploaded file object
        data = zip_bytes_or_path.read(limits.archive_bytes + 1)
        if len(data) > limits.archive_bytes:
            raise _refuse(f"The archive is larger than {_mib(limits.archive_bytes)}.")
        return bytes(data)
    path = Path(zip_bytes_or_path)
    try:
        if path.stat().st_size > limits.archive_bytes:
            raise _refuse(f"The archive is larger than {_mib(limits.archive_bytes)}.")
        return path.read_bytes()
    except OSError as error:
        raise _refuse(f"The archive {path} cannot be read ({error}).") from None


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
    config["imported"] = _clean_json(imported)
    run_name = (name or "").strip() or str(original.get("name") or "") or None
    if run_name and len(run_name) > 200:
        run_name = run_name[:200]

    staging = Path(tempfile.mkdtemp(prefix=".import-", dir=store.workspace))
    run_id = None
    try:
        if checked.model is not None:
            model_path = staging / "model.keras"
            model_path.write_bytes(checked.model)
            _load_model_safely(model_path)
        run_id = store.create_run(config, name=run_name, status="failed")
        store.set_status(run_id, "failed", "Being imported from an archive…")
        run_dir = store.run_dir(run_id)
        if checked.model is not None:
            os.replace(staging / "model.keras", store.model_path(run_id))
        if checked.dataset_json is not None:
            atomic_write_bytes(run_dir / "dataset.json", checked.dataset_json)
        if checked.predictions is not None:
            probs, y_true, names = checked.predictions
            if names is not None:
                store.save_predictions(run_id, probs, y_true, class_names=names)
            else:
                store.save_predictions(run_id, probs, y_true)
        for entry in checked.epochs:
            store.add_epoch(run_id, entry["epoch"], {k: v for k, v in entry.items() if k != "epoch"})
        store.set_result(run_id, test_accuracy=original.get("test_accuracy"),
                         test_loss=original.get("test_loss"), train_seconds=original.get("train_seconds"))
        was = original.get("status")
        note = f" It was {was} there." if was and was != "finished" else ""
        store.set_status(run_id, "finished", f"Imported from an archive (run {imported['from_run_id']}).{note}")
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
