"""What a run looks like as stored: :class:`RunRecord` (one row of the run index), the epoch
metrics, run ids, and the plain sentence about resuming.

The index itself (:mod:`cnn_core.run_index_db`) and the store that reads and writes it
(:class:`cnn_core.runs.RunStore`) build on these. This module imports nothing heavy.

Example:
    >>> new_run_id()[8]
    '-'
    >>> clean_float(float("nan")) is None
    True
"""

from __future__ import annotations

import json
import math
import secrets
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

from cnn_core.run_status import (
    ACTIVE_STATUSES,
    FINAL_STATUSES,
    RESUMABLE_STATUSES,
    RunProgress,
    RunStatus,
)
from cnn_core.stored_messages import Message, message_text, stored_message

#: The metrics of one epoch, as columns of the ``epochs`` table (others go to its ``extra``).
EPOCH_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds")

def resume_hint(checkpoint_epoch: int) -> Message:
    """The plain sentence telling where a resumed run continues (stored, shown translated)."""
    if checkpoint_epoch:
        return stored_message("It can be resumed: training continues after epoch {epoch}, its last save.",
                              epoch=int(checkpoint_epoch))
    return stored_message("It can be resumed (it will start from the beginning).")


@dataclass(frozen=True)
class Starter:
    """Who asks: a browser session's id and the name its user typed (may be empty).

    The app passes one with every run it starts and every run it steers; the command line and
    imports pass none (they act for the whole workspace, like the teacher).
    """

    session_id: str
    name: str = ""

    def __post_init__(self):
        if not self.session_id or not str(self.session_id).strip():
            raise ValueError("a Starter needs a session id")

    def owns(self, run: "RunRecord") -> bool:
        """Whether ``run`` was started by this session."""
        return run.session_id == self.session_id


@dataclass
class RunRecord:
    """One training run as stored in the index. Times are UNIX seconds (``time.time()``)."""

    id: str
    name: str
    status: RunStatus
    message: str
    created_at: float
    started_at: float | None
    finished_at: float | None
    config: dict
    epochs_done: int = 0
    epochs_planned: int = 0
    best_val_accuracy: float | None = None
    test_accuracy: float | None = None
    test_loss: float | None = None
    train_seconds: float | None = None
    progress: dict = field(default_factory=dict)
    sweep_id: str | None = None
    owner: str | None = None
    checkpoint_epoch: int = 0     # the epoch checkpoint.keras holds (0: none yet)
    session_id: str | None = None  # the browser session that started it (None: CLI, import, older)
    started_by: str = ""           # the name that session typed ("" when none)
    shared: bool = False           # shown to every session, not only its own

    @property
    def starter(self) -> "Starter | None":
        """Who started the run in the app (None for command-line, imported and older runs)."""
        return Starter(self.session_id, self.started_by) if self.session_id else None

    @property
    def shown_message(self) -> str:
        """:attr:`message` in the reader's language (stored as message ids; older plain text as it is)."""
        return message_text(self.message)

    @property
    def live_progress(self) -> RunProgress:
        """:attr:`progress` as a typed record (phase, batch, the engine's time-left estimate)."""
        return RunProgress.from_dict(self.progress)

    @property
    def is_active(self) -> bool:
        """Queued, running, paused or stopping."""
        return self.status in ACTIVE_STATUSES

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def can_resume(self) -> bool:
        """Stopped or interrupted with epochs left to train after its checkpoint."""
        return self.status in RESUMABLE_STATUSES and self.checkpoint_epoch < self.epochs_planned


#: The ``runs`` columns a :class:`RunRecord` is read from, in order.
RECORD_COLUMNS = (
    "id, name, status, message, created_at, started_at, finished_at, config, epochs_done, "
    "epochs_planned, best_val_accuracy, test_accuracy, test_loss, train_seconds, progress, "
    "sweep_id, owner, checkpoint_epoch, session_id, started_by, shared"
)


def status_of(text: str) -> RunStatus | str:
    """The stored status text as a :class:`RunStatus` (an unknown one is kept as text)."""
    try:
        return RunStatus(text)
    except ValueError:   # a status written by a newer version: shown as it is
        return text


def record_from_row(row: sqlite3.Row) -> RunRecord:
    """The record of an index row selected with :data:`RECORD_COLUMNS`."""
    return RunRecord(
        id=row["id"], name=row["name"], status=status_of(row["status"]), message=row["message"] or "",
        created_at=row["created_at"], started_at=row["started_at"], finished_at=row["finished_at"],
        config=json.loads(row["config"]), epochs_done=row["epochs_done"],
        epochs_planned=row["epochs_planned"], best_val_accuracy=row["best_val_accuracy"],
        test_accuracy=row["test_accuracy"], test_loss=row["test_loss"],
        train_seconds=row["train_seconds"], progress=json.loads(row["progress"] or "{}"),
        sweep_id=row["sweep_id"], owner=row["owner"], checkpoint_epoch=row["checkpoint_epoch"] or 0,
        session_id=row["session_id"], started_by=row["started_by"] or "", shared=bool(row["shared"]),
    )


def clean_float(value: Any) -> float | None:
    """A JSON/SQLite-safe float: NaN and infinities become None."""
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def new_run_id() -> str:
    """A short, sortable, readable id such as ``"20261122-081530-ab12"`` (local time)."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


__all__ = ["EPOCH_METRICS", "RECORD_COLUMNS", "RunRecord", "Starter", "clean_float", "new_run_id",
           "record_from_row", "resume_hint", "status_of"]
