"""Class names: how many a data set or run may have, which names can be told apart, and the one
function that reads a run's class names.

A run's class names are stored once, in its ``dataset.json`` (written when training loaded the
data, or by the run import). :func:`run_class_names` is the one reader; it also understands the
older copies (``config["dataset"]["class_names"]``, ``config["class_names"]``, the
``class_names`` array of ``predictions.npz``) so runs stored by earlier versions keep their names.

Example:
    >>> check_class_names(["cat", "dog"], "the folder")
    ['cat', 'dog']
    >>> check_class_names(["caf\\u00e9", "cafe\\u0301"], "the folder")
    Traceback (most recent call last):
    ...
    cnn_core.errors.DatasetError: ...
"""

from __future__ import annotations

import unicodedata
from typing import Any, Sequence

from cnn_core.errors import DatasetError

#: Most classes a data set or run may have: the confusion matrix is classes x classes, and a
#: picture of it with thousands of rows helps nobody (50,000 classes asked for 18.6 GiB).
MAX_CLASSES = 1000


def name_key(name: str) -> str:
    """What a name looks like on screen: NFKC-normalised, without hidden format characters
    (direction marks, zero-width joiners...). Two names with one key cannot be told apart."""
    text = unicodedata.normalize("NFKC", str(name))
    return "".join(c for c in text if unicodedata.category(c) not in ("Cf", "Cc"))


def hidden_characters(name: str) -> bool:
    """Whether ``name`` holds invisible characters (direction marks, zero-width, controls)."""
    return any(unicodedata.category(c) in ("Cf", "Cc") for c in str(name))


def too_many_classes_message(n: int, where: str) -> str:
    return (f"{where} has {n:,} classes; CNN Lab works with at most {MAX_CLASSES:,}. Group the "
            "pictures into fewer classes, or use a part of them.")


def check_class_names(names: Sequence[Any], where: str) -> list[str]:
    """``names`` as strings, if they are at most :data:`MAX_CLASSES` and can be told apart.

    Raises:
        DatasetError: too many classes, a name with hidden characters (e.g. a right-to-left
            mark), or two names that differ only by Unicode normalisation.
    """
    names = [str(n) for n in names]
    if len(names) > MAX_CLASSES:
        raise DatasetError(too_many_classes_message(len(names), where))
    seen: dict[str, str] = {}
    for name in names:
        if hidden_characters(name):
            raise DatasetError(
                "The class name '{name}' in {where} holds hidden characters (such as direction marks), so "
                "it does not read as it is written. Rename that folder.",
                name=name.encode('unicode_escape').decode('ascii'), where=where)
        key = name_key(name)
        if key in seen:
            raise DatasetError(
                "The class names '{key}' and '{name}' in {where} look the same on screen but are written "
                "differently (Unicode look-alikes). Rename one of them.",
                key=seen[key], name=name, where=where)
        seen[key] = name
    return names


def _fitting(names: Any, n_classes: int) -> list[str] | None:
    if isinstance(names, (list, tuple)) and len(names) == n_classes:
        return [str(n) for n in names]
    return None


def run_class_names(store, run_id: str, n_classes: int) -> list[str]:
    """The class names of a run with ``n_classes`` classes; ``"0"``, ``"1"``... when unknown."""
    dataset_info = getattr(store, "dataset_info", None)
    info = dataset_info(run_id) if dataset_info else None
    names = _fitting((info or {}).get("class_names") if isinstance(info, dict) else None, n_classes)
    if names is None:   # copies kept by runs stored before the names were kept once
        config = getattr(store.get(run_id), "config", None) or {}
        dataset = config.get("dataset") if isinstance(config.get("dataset"), dict) else {}
        names = _fitting(dataset.get("class_names"), n_classes) \
            or _fitting(config.get("class_names"), n_classes)
    if names is None and hasattr(store, "class_names"):
        try:
            names = _fitting(store.class_names(run_id), n_classes)
        except (OSError, ValueError, KeyError):
            names = None
    return names if names is not None else [str(i) for i in range(n_classes)]


__all__ = ["MAX_CLASSES", "check_class_names", "hidden_characters", "name_key",
           "run_class_names", "too_many_classes_message"]
