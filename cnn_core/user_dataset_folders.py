"""Where the user's own data sets live: their folder names, claiming a name, deleting one.

A user data set is ``<workspace>/datasets/<name>/`` (:mod:`cnn_core.uploads` fills it). Its name is
made safe on every system (:func:`safe_dataset_name`); a finished import is renamed into place
under a free name, never over an existing data set (:func:`rename_into_place`); a deletion checks
the uploader and moves the folder out of sight before removing it (:func:`delete_user_dataset`).

Example:
    >>> safe_dataset_name("My cats / dogs!")
    'My_cats_dogs'
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
import uuid
from pathlib import Path

from cnn_core.datasets import clear_dataset_cache, user_datasets_dir
from cnn_core.errors import DatasetError
from cnn_core.i18n import _
from cnn_core.image_folders import is_visible_name
from cnn_core.run_record import Starter
from cnn_core.upload_owners import check_owner

#: Longest data set folder name.
MAX_NAME_LENGTH = 64

_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                     *(f"LPT{i}" for i in range(1, 10))}


def safe_dataset_name(name: str, default: str = "dataset") -> str:
    """A folder name safe on every system: letters, digits, ``_``, ``-`` and ``.`` only,
    no leading dot, at most 64 characters (``"My cats / dogs!"`` -> ``"My_cats_dogs"``)."""
    text = unicodedata.normalize("NFKC", str(name or ""))
    text = re.sub(r"[^\w.\-]+", "_", text)
    text = re.sub(r"_+", "_", text).strip("._- ")
    text = text[:MAX_NAME_LENGTH].strip("._- ")
    if not text:
        text = default
    if text.split(".")[0].upper() in _WINDOWS_RESERVED:
        text = "_" + text
    return text


def user_datasets_folder(workspace) -> Path:
    """``<workspace>/datasets``, made if missing."""
    base = user_datasets_dir(workspace)
    base.mkdir(parents=True, exist_ok=True)
    return base


def free_name(base: Path, name: str) -> Path:
    """``base/name``, or ``name-2``, ``name-3``... when taken."""
    candidate = base / name
    k = 2
    while candidate.exists() or candidate.is_symlink():
        candidate = base / f"{name}-{k}"
        k += 1
    return candidate


def rename_into_place(src: Path, base: Path, name: str) -> Path:
    """Rename ``src`` to ``base/name`` (or ``name-2``...), never replacing an existing folder."""
    for _attempt in range(1000):
        dest = free_name(base, name)
        try:
            os.mkdir(dest)          # claim the name atomically (fails if someone took it)
        except FileExistsError:
            continue
        try:
            os.rename(src, dest)    # replaces only the empty folder we just created
        except OSError:
            os.rmdir(dest)
            raise
        return dest
    raise DatasetError("Could not find a free folder name for '{name}'. Choose another name.",
                       name=name)


def delete_user_dataset(name: str, workspace: Path | str | None = None,
                        starter: Starter | None = None) -> None:
    """Delete the user data set ``<workspace>/datasets/<name>`` (all its images).

    Raises:
        DatasetError: there is no such data set.
        NotYoursError: ``starter`` (a browser session) did not upload it.
    """
    base = user_datasets_dir(workspace)
    if not name or name != Path(name).name or name in (".", "..") or not is_visible_name(name):
        raise DatasetError("'{name}' is not one of your data sets.",
                           name=name)
    path = base / name
    if path.is_symlink():
        path.unlink()
        clear_dataset_cache()
        return
    if not path.is_dir():
        raise DatasetError("There is no data set of yours called '{name}'.",
                           name=name)
    check_owner(path, starter, _("delete"))
    trash = base / f".deleting-{uuid.uuid4().hex}"
    os.rename(path, trash)   # disappears at once; the slow delete happens out of sight
    shutil.rmtree(trash, ignore_errors=True)
    clear_dataset_cache()


__all__ = ["MAX_NAME_LENGTH", "delete_user_dataset", "free_name", "rename_into_place",
           "safe_dataset_name", "user_datasets_folder"]
