"""Removing what a crashed process left behind in a workspace.

A process killed hard (kill -9, power cut) cannot tidy up. It may leave:

- ``runs/<id>/.tmp-<pid>-<thread>-model.keras`` and ``.<file>.<pid>.<thread>.tmp``: half-written
  files of an atomic write (:func:`cnn_core.workspace.temporary_sibling`, ``atomic_write_bytes``);
- ``runs/.deleted-*``: a run folder whose deletion was cut off;
- ``datasets/.importing-<pid>-*`` (folders, and ``.part`` files of loose pictures) and
  ``datasets/.deleting-*``: a data set upload or deletion cut
  off (:mod:`cnn_core.uploads`);
- ``.import-<pid>-*`` in the workspace: a run import's staging folder (:mod:`cnn_core.exchange`);
- a run row still saying "Being imported from an archive…" whose importing process is gone.

:func:`remove_stale_leftovers` removes those whose process no longer runs (the pid in the name;
names without one count as stale once older than :data:`UNOWNED_GRACE_SECONDS`). It is called when
a workspace's store is first opened in a process, next to marking dead runs interrupted.

Example:
    >>> removed = remove_stale_leftovers(RunStore(tmp))     # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

from cnn_core.i18n import N_
from cnn_core.run_status import RunStatus

#: A leftover whose name carries no process id is removed once it is this old.
UNOWNED_GRACE_SECONDS = 3600
#: The message of a run while an archive import writes it (cnn_core.exchange); a run left with it
#: by an import that was cut off is removed when a store opens.
IMPORTING_MESSAGE = N_("Being imported from an archive…")

_TMP_FILE = re.compile(r"^\.tmp-(\d+)-\d+-|^\..+\.(\d+)\.\d+\.tmp$")
_OWNED_FOLDER = re.compile(r"^\.(?:importing|import)-(\d+)-")
_UNOWNED_FOLDER = re.compile(r"^\.(?:importing|import|deleting|deleted)-")


def _pid_alive(pid: int) -> bool:
    from cnn_core.process_owner import owner_alive

    return pid == os.getpid() or owner_alive(f"{pid}:")


def _stale(path: Path, pid_text: str | None, now: float) -> bool:
    if pid_text:
        return not _pid_alive(int(pid_text))
    try:
        return now - path.lstat().st_mtime > UNOWNED_GRACE_SECONDS
    except OSError:
        return False


def _remove(path: Path) -> bool:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        return False
    return not path.exists() and not path.is_symlink()


def _entries(folder: Path) -> list[Path]:
    try:
        return [folder / name for name in os.listdir(folder) if name.startswith(".")]
    except OSError:
        return []


def stale_leftovers(workspace: Path | str, now: float | None = None) -> list[Path]:
    """The leftover files and folders of dead processes in ``workspace`` (nothing is removed)."""
    workspace = Path(workspace)
    now = time.time() if now is None else now
    found: list[Path] = []
    folders = [workspace, workspace / "datasets", workspace / "runs"]
    for folder in folders:
        for path in _entries(folder):
            owned = _OWNED_FOLDER.match(path.name)
            if owned or _UNOWNED_FOLDER.match(path.name):
                if _stale(path, owned.group(1) if owned else None, now):
                    found.append(path)
    runs = workspace / "runs"
    try:
        run_dirs = [runs / name for name in os.listdir(runs) if not name.startswith(".")]
    except OSError:
        run_dirs = []
    for run_dir in run_dirs:
        for path in _entries(run_dir):
            match = _TMP_FILE.match(path.name)
            if match and _stale(path, match.group(1) or match.group(2), now):
                found.append(path)
    return found


def remove_stale_leftovers(store) -> list[str]:
    """Remove leftovers of dead processes from ``store``'s workspace, and runs whose import was
    cut off. Returns what was removed (paths relative to the workspace, and run ids)."""
    from cnn_core.process_owner import owner_alive

    removed = [str(p.relative_to(store.workspace)) for p in stale_leftovers(store.workspace)
               if _remove(p)]
    for run in store.list_runs(status=RunStatus.FAILED):
        if run.message == IMPORTING_MESSAGE and not owner_alive(run.owner):
            try:
                store.delete(run.id)
                removed.append(run.id)
            except Exception:  # noqa: BLE001 - another process may have removed it first
                continue
    return removed


__all__ = ["UNOWNED_GRACE_SECONDS", "remove_stale_leftovers", "stale_leftovers"]
