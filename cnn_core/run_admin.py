"""Tidying the run store from anywhere (the CLI, scripts): open a workspace with a plain error,
delete a run, rename a run. Pages use the same store methods through these functions.

Example:
    >>> store = open_store("/tmp/ws")                  # doctest: +SKIP
    >>> print(delete_run(store, "20261122-081530-ab12"))  # doctest: +SKIP
    Deleted run 20261122-081530-ab12 (shapes · fast).
"""

from __future__ import annotations

import sqlite3
import unicodedata
from pathlib import Path

from cnn_core.errors import RunStateError, WorkspaceError
from cnn_core.i18n import _
from cnn_core.runs import RunStore
from cnn_core.workspace import workspace_path

#: Longest run name.
MAX_RUN_NAME = 200


def open_store(workspace: Path | str | None = None) -> RunStore:
    """The run store of ``workspace``; WorkspaceError (one plain sentence) if it cannot be used."""
    path = workspace_path(workspace)
    try:
        return RunStore(path)
    except (OSError, sqlite3.Error) as error:
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        raise WorkspaceError(
            "The workspace '{path}' cannot be used ({reason}). Give --workspace a folder you can write "
            "to (it is created if missing).",
            path=path, reason=reason) from None


def clean_run_name(name: str) -> str:
    """A run name without control characters or surrounding blanks, at most 200 characters."""
    text = "".join(c for c in str(name or "") if unicodedata.category(c) not in ("Cc", "Cf"))
    text = " ".join(text.split())
    if not text:
        raise RunStateError("A run name cannot be empty. Type at least one character.")
    if len(text) > MAX_RUN_NAME:
        raise RunStateError("A run name has at most {max_run_name} characters; this one has {n_text}.",
                            max_run_name=MAX_RUN_NAME, n_text=len(text))
    return text


def delete_run(store: RunStore, run_id: str) -> str:
    """Delete a run (refused while it trains); works on damaged runs too. Returns a note."""
    record = store.get(run_id)
    store.delete(run_id)
    return _("Deleted run {run} ({name}).", run=record.id, name=record.name)


def rename_run(store: RunStore, run_id: str, name: str, starter=None) -> str:
    """Give a run a new name (see :func:`clean_run_name`). Returns a note. ``starter``: the
    browser session asking (it may rename only its own runs)."""
    new_name = clean_run_name(name)
    store.rename(run_id, new_name, starter=starter)
    return _("Run {run} is now called '{name}'.", run=run_id, name=new_name)


__all__ = ["MAX_RUN_NAME", "clean_run_name", "delete_run", "open_store", "rename_run"]
