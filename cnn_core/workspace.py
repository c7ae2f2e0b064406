"""The workspace folder and how files are written into it (atomically).

Everything a user would miss after a restart lives in the workspace (default ``./workspace``,
overridable by the environment variable ``CNN_LAB_WORKSPACE``): the run index and run folders
(:mod:`cnn_core.runs`), uploaded data sets, sweeps.

Every file is written to a temporary name next to its final one and moved into place with
``os.replace``, so a reader sees either the old file or the whole new one, never half of it, and
a process killed mid-write leaves at most a temporary file (named ``.<name>.<pid>.<thread>.tmp``
or ``.tmp-<pid>-<thread>-<name>``).

This module imports nothing heavy.

Example:
    >>> import tempfile
    >>> folder = workspace_path(tempfile.mkdtemp())
    >>> atomic_write_json(folder / "note.json", {"a": 1})
    >>> (folder / "note.json").read_text()
    '{\\n  "a": 1\\n}'
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

WORKSPACE_ENV = "CNN_LAB_WORKSPACE"


def workspace_path(override: Path | str | None = None) -> Path:
    """The workspace folder: ``override``, else ``$CNN_LAB_WORKSPACE``, else ``./workspace``."""
    if override:
        return Path(override).expanduser().resolve()
    env = os.environ.get(WORKSPACE_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return Path("workspace").resolve()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see either the old file or the whole new one."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_json(path: Path, obj: Any) -> None:
    """:func:`atomic_write_bytes` of ``obj`` as indented, key-sorted JSON (UTF-8)."""
    atomic_write_bytes(path, json.dumps(obj, indent=2, sort_keys=True).encode("utf-8"))


def temporary_sibling(path: Path) -> Path:
    """A temporary file name next to ``path`` with the same suffix (Keras needs ``.keras``)."""
    path = Path(path)
    return path.with_name(f".tmp-{os.getpid()}-{threading.get_ident()}-{path.name}")


__all__ = ["WORKSPACE_ENV", "atomic_write_bytes", "atomic_write_json", "temporary_sibling",
           "workspace_path"]
