"""The run store: an SQLite index of training runs plus one folder per run.

Layout of a workspace (``workspace_path()``)::

    <workspace>/runs.sqlite                 index: tables ``runs`` and ``epochs`` (WAL mode)
    <workspace>/runs/<run_id>/config.json   the specs the run was started with
                              checkpoint.keras   model + optimizer state after the last full epoch
                              model.keras        the final model (raw 0..255 pixels in)
                              predictions.npz    test-set probabilities (float32) and true labels
                              logs/              TensorBoard event files
                              error.log          traceback of an unexpected failure, if any

Readers never see half a run: a run's folder and ``config.json`` are written before its row is
inserted, and a row is deleted before its folder. Every file is written to a temporary name first
and moved into place with ``os.replace``. Each thread uses its own SQLite connection (WAL mode,
busy timeout, autocommit), so the store can be shared by threads and processes (the Streamlit
server and ``python -m cnn_core`` at once).

This module does not import TensorFlow.

Example:
    >>> store = RunStore("/tmp/ws")
    >>> run_id = store.create_run({"model": {"epochs": 3}}, name="first try")
    >>> store.get(run_id).status
    'queued'
"""

from __future__ import annotations

import json
import math
import os
import secrets
import shutil
import sqlite3
import threading
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from cnn_core.errors import RunNotFoundError, RunStateError
from cnn_core.process_owner import current_owner, owner_alive
from cnn_core.run_status import (
    ACTIVE_STATUSES,
    FINAL_STATUSES,
    RESUMABLE_STATUSES,
    RunProgress,
    RunStatus,
)
from cnn_core.workspace import (  # noqa: F401 - atomic writes and temporary names: re-exported for old importers
    atomic_write_bytes,
    atomic_write_json,
    temporary_sibling,
    workspace_path,
)

#: Every status, as stored (derived from :class:`~cnn_core.run_status.RunStatus`).
RUN_STATUSES = tuple(status.value for status in RunStatus)

EPOCH_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds")

_SCHEMA_VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    config TEXT NOT NULL,
    epochs_done INTEGER NOT NULL DEFAULT 0,
    epochs_planned INTEGER NOT NULL DEFAULT 0,
    best_val_accuracy REAL,
    test_accuracy REAL,
    test_loss REAL,
    train_seconds REAL,
    progress TEXT NOT NULL DEFAULT '{}',
    sweep_id TEXT,
    owner TEXT,
    checkpoint_epoch INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS runs_status ON runs(status);
CREATE INDEX IF NOT EXISTS runs_sweep ON runs(sweep_id);
CREATE TABLE IF NOT EXISTS epochs (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    loss REAL,
    accuracy REAL,
    val_loss REAL,
    val_accuracy REAL,
    learning_rate REAL,
    seconds REAL,
    extra TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, epoch)
);
"""



def resume_hint(checkpoint_epoch: int) -> str:
    """The plain sentence telling where a resumed run continues."""
    if checkpoint_epoch:
        return f"It can be resumed: training continues after epoch {checkpoint_epoch}, its last save."
    return "It can be resumed (it will start from the beginning)."


# --------------------------------------------------------------------------- records

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


_COLUMNS = (
    "id, name, status, message, created_at, started_at, finished_at, config, epochs_done, "
    "epochs_planned, best_val_accuracy, test_accuracy, test_loss, train_seconds, progress, "
    "sweep_id, owner, checkpoint_epoch"
)


def _status_of(text: str) -> RunStatus | str:
    try:
        return RunStatus(text)
    except ValueError:   # a status written by a newer version: shown as it is
        return text


def _row_to_record(row: sqlite3.Row) -> RunRecord:
    return RunRecord(
        id=row["id"], name=row["name"], status=_status_of(row["status"]), message=row["message"] or "",
        created_at=row["created_at"], started_at=row["started_at"], finished_at=row["finished_at"],
        config=json.loads(row["config"]), epochs_done=row["epochs_done"],
        epochs_planned=row["epochs_planned"], best_val_accuracy=row["best_val_accuracy"],
        test_accuracy=row["test_accuracy"], test_loss=row["test_loss"],
        train_seconds=row["train_seconds"], progress=json.loads(row["progress"] or "{}"),
        sweep_id=row["sweep_id"], owner=row["owner"], checkpoint_epoch=row["checkpoint_epoch"] or 0,
    )


def _clean_float(value: Any) -> float | None:
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


# --------------------------------------------------------------------------- the store

_thread_connections = threading.local()
_checked_workspaces: set[Path] = set()
_checked_lock = threading.Lock()


class RunStore:
    """SQLite index + run folders in one workspace.

    Opening a workspace for the first time in a process marks runs abandoned by dead processes as
    ``"interrupted"`` (see :meth:`mark_interrupted`).

    Args:
        workspace: the workspace folder; defaults to :func:`workspace_path`.
    """

    def __init__(self, workspace: Path | str | None = None):
        self.workspace = workspace_path(workspace)
        self.runs_root = self.workspace / "runs"
        self.db_path = self.workspace / "runs.sqlite"
        self.runs_root.mkdir(parents=True, exist_ok=True)
        self._init_db()
        with _checked_lock:
            first_time = self.workspace not in _checked_workspaces
            _checked_workspaces.add(self.workspace)
        if first_time:
            self.mark_interrupted()
            from cnn_core.leftovers import remove_stale_leftovers  # imports this module

            remove_stale_leftovers(self)

    # ---------------------------------------------------------------- connection helpers
    def _connect(self) -> sqlite3.Connection:
        """This thread's connection to the index (opened once per thread and process).

        Connections are not shared between threads, and are kept open: closing the last
        connection to a WAL database checkpoints and syncs it, which costs ~10 ms a call.
        Every statement runs in autocommit mode, so an idle connection holds no lock or snapshot.
        """
        key = (os.getpid(), str(self.db_path))
        cache = getattr(_thread_connections, "cache", None)
        if cache is None:
            cache = _thread_connections.cache = {}
        conn = cache.get(key)
        if conn is not None and self.db_path.exists():
            return conn
        if conn is not None:   # the database file was removed (workspace deleted): reopen
            conn.close()
        conn = sqlite3.connect(self.db_path, timeout=30.0, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        cache[key] = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection to the index (it reopens on the next call)."""
        cache = getattr(_thread_connections, "cache", None) or {}
        conn = cache.pop((os.getpid(), str(self.db_path)), None)
        if conn is not None:
            conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE: takes the write lock up front, no deadlocks)."""
        conn = self._connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        yield self._connect()

    def _init_db(self) -> None:
        with closing(sqlite3.connect(self.db_path, timeout=30.0, isolation_level=None)) as conn:
            conn.execute("PRAGMA busy_timeout = 30000")
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version < _SCHEMA_VERSION:
                conn.executescript(_SCHEMA)
                columns = {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
                if "checkpoint_epoch" not in columns:   # stores made before version 2
                    conn.execute("ALTER TABLE runs ADD COLUMN checkpoint_epoch INTEGER NOT NULL "
                                 "DEFAULT 0")
                conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    def _require(self, conn: sqlite3.Connection, run_id: str) -> sqlite3.Row:
        row = conn.execute(f"SELECT {_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunNotFoundError(
                f"There is no run with id '{run_id}' in {self.workspace}. "
                "Pick one from the list of runs (python -m cnn_core runs)."
            )
        return row

    # ---------------------------------------------------------------- create / read
    def create_run(self, config: dict, name: str | None = None, sweep_id: str | None = None,
                   status: RunStatus | str = RunStatus.QUEUED) -> str:
        """Create a run folder with ``config.json``, then its index row (status ``queued``)."""
        status = RunStatus(status)
        config_text = json.dumps(config, sort_keys=True)
        epochs_planned = int(((config.get("model") or {}).get("epochs")) or 0)
        for _ in range(50):
            run_id = new_run_id()
            folder = self.runs_root / run_id
            try:
                folder.mkdir(parents=True)
            except FileExistsError:
                continue
            break
        else:  # pragma: no cover - 50 collisions in one second
            raise RuntimeError("could not find a free run id")
        atomic_write_json(folder / "config.json", config)
        if not name:
            preset = config.get("preset")
            dataset = (config.get("dataset") or {}).get("id")
            name = " · ".join(str(p) for p in (dataset, preset) if p) or run_id
            name = f"{name} · {run_id[9:15]}"
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO runs (id, name, status, message, created_at, config, epochs_planned, "
                "sweep_id, owner) VALUES (?, ?, ?, '', ?, ?, ?, ?, ?)",
                (run_id, name, status, time.time(), config_text, epochs_planned, sweep_id,
                 current_owner()),
            )
        return run_id

    def get(self, run_id: str) -> RunRecord:
        with self._reader() as conn:
            return _row_to_record(self._require(conn, run_id))

    def exists(self, run_id: str) -> bool:
        with self._reader() as conn:
            return conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None

    def list_runs(self, status: str | tuple[str, ...] | list[str] | None = None,
                  sweep_id: str | None = None) -> list[RunRecord]:
        """All runs, newest first; optionally only those with ``status`` (one or several)."""
        where, args = [], []
        if status is not None:
            statuses = (status,) if isinstance(status, str) else tuple(status)
            where.append(f"status IN ({','.join('?' * len(statuses))})")
            args.extend(statuses)
        if sweep_id is not None:
            where.append("sweep_id = ?")
            args.append(sweep_id)
        sql = f"SELECT {_COLUMNS} FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, id DESC"
        with self._reader() as conn:
            return [_row_to_record(r) for r in conn.execute(sql, args)]

    def update_config(self, run_id: str, **entries: Any) -> dict:
        """Add or replace top-level entries of the run's config (``config.json`` and the index),
        e.g. ``class_names`` once training has loaded the data set. Returns the new config."""
        with self._transaction() as conn:
            config = json.loads(self._require(conn, run_id)["config"])
            config.update(entries)
            atomic_write_json(self.run_dir(run_id) / "config.json", config)
            conn.execute("UPDATE runs SET config = ? WHERE id = ?",
                         (json.dumps(config, sort_keys=True), run_id))
        return config

    def run_dir(self, run_id: str) -> Path:
        return self.runs_root / run_id

    def config(self, run_id: str) -> dict:
        return self.get(run_id).config

    # ---------------------------------------------------------------- status and progress
    def set_status(self, run_id: str, status: RunStatus | str, message: str = "",
                   expected: tuple[str, ...] | list[str] | None = None) -> bool:
        """Set the status (and message). With ``expected``, only if the current status is one of
        them; returns whether the row changed. Starting sets ``started_at``, ending ``finished_at``.

        Raises:
            ValueError: ``status`` is not a :class:`RunStatus`.
        """
        try:
            status = RunStatus(status)
        except ValueError:
            raise ValueError(f"unknown status {status!r}; use one of {RUN_STATUSES}") from None
        now = time.time()
        sets = ["status = ?", "message = ?"]
        args: list[Any] = [status.value, message]
        if status is RunStatus.RUNNING:
            sets.append("started_at = COALESCE(started_at, ?)")
            args.append(now)
        if status.is_final:
            sets.append("finished_at = ?")
            args.append(now)
        elif status in (RunStatus.QUEUED, RunStatus.RUNNING):
            sets.append("finished_at = NULL")
        sql = f"UPDATE runs SET {', '.join(sets)} WHERE id = ?"
        args.append(run_id)
        if expected is not None:
            sql += f" AND status IN ({','.join('?' * len(expected))})"
            args.extend(RunStatus(e).value for e in expected)
        with self._transaction() as conn:
            self._require(conn, run_id)
            changed = conn.execute(sql, args).rowcount
        return bool(changed)

    def status(self, run_id: str) -> RunStatus | str:
        with self._reader() as conn:
            row = conn.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunNotFoundError(f"There is no run with id '{run_id}' in {self.workspace}.")
        return _status_of(row[0])

    def set_checkpoint_epoch(self, run_id: str, epoch: int) -> None:
        """Record that ``checkpoint.keras`` now holds the model after epoch ``epoch``."""
        with self._transaction() as conn:
            self._require(conn, run_id)
            conn.execute("UPDATE runs SET checkpoint_epoch = ? WHERE id = ?", (int(epoch), run_id))

    def set_owner(self, run_id: str, owner: str | None = None) -> None:
        """Record the process working on the run (default: this one)."""
        with self._transaction() as conn:
            self._require(conn, run_id)
            conn.execute("UPDATE runs SET owner = ? WHERE id = ?", (owner or current_owner(), run_id))

    def set_progress(self, run_id: str, replace: bool = False, **fields: Any) -> str:
        """Merge ``fields`` into the run's progress dict (or replace it with ``replace=True``).

        Usual keys: phase, epoch, epochs, batch, batches, loss, accuracy, seconds, seconds_left,
        updated_at (added automatically). Returns the run's current status, so a training loop
        learns about stop/pause requests made by other processes at no extra cost.
        """
        fields = {k: (_clean_float(v) if isinstance(v, float) else v) for k, v in fields.items()}
        fields["updated_at"] = time.time()
        with self._transaction() as conn:
            row = conn.execute("SELECT progress, status FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise RunNotFoundError(f"There is no run with id '{run_id}' in {self.workspace}.")
            progress = {} if replace else json.loads(row[0] or "{}")
            progress.update(fields)
            conn.execute("UPDATE runs SET progress = ? WHERE id = ?", (json.dumps(progress), run_id))
        return row[1]

    def set_name(self, run_id: str, name: str) -> None:
        self.rename(run_id, name)

    def rename(self, run_id: str, name: str) -> None:
        name = (name or "").strip()
        if not name:
            raise RunStateError("A run name cannot be empty. Type at least one character.")
        with self._transaction() as conn:
            self._require(conn, run_id)
            conn.execute("UPDATE runs SET name = ? WHERE id = ?", (name, run_id))

    # ---------------------------------------------------------------- epochs
    def add_epoch(self, run_id: str, epoch: int, metrics: dict) -> None:
        """Record epoch ``epoch`` (1-based: the first epoch is 1). Re-recording replaces the row.

        ``epochs_done`` becomes the number of recorded epochs and ``best_val_accuracy`` their best
        validation accuracy. Keys beyond :data:`EPOCH_METRICS` are kept in ``extra``.
        """
        epoch = int(epoch)
        row = {k: _clean_float(metrics.get(k)) for k in EPOCH_METRICS}
        extra = {k: _clean_float(v) if isinstance(v, (int, float)) else v
                 for k, v in metrics.items() if k not in EPOCH_METRICS and k != "epoch"}
        with self._transaction() as conn:
            self._require(conn, run_id)
            conn.execute(
                "INSERT OR REPLACE INTO epochs (run_id, epoch, loss, accuracy, val_loss, val_accuracy, "
                "learning_rate, seconds, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, epoch, *(row[k] for k in EPOCH_METRICS), json.dumps(extra)),
            )
            self._refresh_epoch_summary(conn, run_id)

    def add_epochs(self, run_id: str, entries: list[dict]) -> None:
        """Record many epochs (dicts with ``epoch`` and metrics, as :meth:`add_epoch` takes) in
        one transaction and linear time: the summary is refreshed once, not once per epoch."""
        rows = []
        for entry in entries:
            metrics = {k: v for k, v in entry.items() if k != "epoch"}
            extra = {k: _clean_float(v) if isinstance(v, (int, float)) else v
                     for k, v in metrics.items() if k not in EPOCH_METRICS}
            rows.append((run_id, int(entry["epoch"]),
                         *(_clean_float(metrics.get(k)) for k in EPOCH_METRICS), json.dumps(extra)))
        with self._transaction() as conn:
            self._require(conn, run_id)
            conn.executemany(
                "INSERT OR REPLACE INTO epochs (run_id, epoch, loss, accuracy, val_loss, val_accuracy, "
                "learning_rate, seconds, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            self._refresh_epoch_summary(conn, run_id)

    def _refresh_epoch_summary(self, conn: sqlite3.Connection, run_id: str) -> None:
        conn.execute(
            "UPDATE runs SET epochs_done = (SELECT COUNT(*) FROM epochs WHERE run_id = ?), "
            "best_val_accuracy = (SELECT MAX(val_accuracy) FROM epochs WHERE run_id = ?) WHERE id = ?",
            (run_id, run_id, run_id),
        )

    def delete_epochs_after(self, run_id: str, epoch: int) -> None:
        """Forget epochs numbered above ``epoch`` (used when resuming from an older checkpoint)."""
        with self._transaction() as conn:
            self._require(conn, run_id)
            conn.execute("DELETE FROM epochs WHERE run_id = ? AND epoch > ?", (run_id, int(epoch)))
            self._refresh_epoch_summary(conn, run_id)

    def epochs(self, run_id: str) -> list[dict]:
        """Recorded epochs in order; each dict has ``epoch`` and :data:`EPOCH_METRICS` (+ extras)."""
        with self._reader() as conn:
            self._require(conn, run_id)
            rows = conn.execute(
                "SELECT epoch, loss, accuracy, val_loss, val_accuracy, learning_rate, seconds, extra "
                "FROM epochs WHERE run_id = ? ORDER BY epoch", (run_id,),
            ).fetchall()
        out = []
        for r in rows:
            d = {k: r[k] for k in ("epoch", *EPOCH_METRICS)}
            extra = json.loads(r["extra"] or "{}")
            for k, v in extra.items():
                d.setdefault(k, v)
            out.append(d)
        return out

    # ---------------------------------------------------------------- results and files
    def set_result(self, run_id: str, test_accuracy: float | None = None,
                   test_loss: float | None = None, train_seconds: float | None = None) -> None:
        with self._transaction() as conn:
            self._require(conn, run_id)
            conn.execute(
                "UPDATE runs SET test_accuracy = ?, test_loss = ?, train_seconds = ? WHERE id = ?",
                (_clean_float(test_accuracy), _clean_float(test_loss), _clean_float(train_seconds), run_id),
            )

    def save_predictions(self, run_id: str, probs, y_true, class_names: list[str] | None = None) -> Path:
        """Store test-set probabilities (N, classes) as float32 and true labels (N,) as int64
        (and the class names, when given, as ``class_names``)."""
        import io

        import numpy as np

        probs = np.asarray(probs, dtype=np.float32)
        y_true = np.asarray(y_true).astype(np.int64).reshape(-1)
        if probs.ndim != 2 or probs.shape[0] != y_true.shape[0]:
            raise ValueError(f"probabilities {probs.shape} do not match labels {y_true.shape}")
        buf = io.BytesIO()
        arrays = {"probs": probs, "y_true": y_true}
        if class_names is not None:
            arrays["class_names"] = np.asarray([str(c) for c in class_names], dtype=np.str_)
        np.savez_compressed(buf, **arrays)
        path = self.run_dir(run_id) / "predictions.npz"
        atomic_write_bytes(path, buf.getvalue())
        return path

    def has_predictions(self, run_id: str) -> bool:
        return (self.run_dir(run_id) / "predictions.npz").exists()

    def load_predictions(self, run_id: str):
        """``(probs float32 (N, classes), y_true int64 (N,))`` of the run's test set."""
        import numpy as np

        record = self.get(run_id)
        path = self.run_dir(run_id) / "predictions.npz"
        if not path.exists():
            raise RunStateError(
                f"Run '{record.name}' has no test-set predictions yet (status: {record.status}). "
                "Predictions are saved when training ends; wait for it or pick a finished run."
            )
        with np.load(path) as data:
            return data["probs"].astype(np.float32), data["y_true"].astype(np.int64)

    def class_names(self, run_id: str) -> list[str] | None:
        """The class names of the run's data set (known once training has loaded it)."""
        info = self.dataset_info(run_id)
        if info and info.get("class_names"):
            return list(info["class_names"])
        path = self.run_dir(run_id) / "predictions.npz"
        if path.exists():
            import numpy as np

            with np.load(path) as data:
                if "class_names" in data.files:
                    return [str(c) for c in data["class_names"]]
        return None

    def dataset_info(self, run_id: str) -> dict | None:
        """``dataset.json`` written when training loaded the data: class names, image shape,
        split sizes, fitted scaling. None before that."""
        path = self.run_dir(run_id) / "dataset.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def model_path(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "model.keras"

    def checkpoint_path(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "checkpoint.keras"

    def logs_dir(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "logs"

    # ---------------------------------------------------------------- lifecycle
    def mark_interrupted(self) -> list[str]:
        """Mark runs left queued/running/paused/stopping by a process that no longer runs as
        ``"interrupted"``. Runs of live processes (including this one) are left alone.

        Returns the ids of the runs marked.
        """
        with self._reader() as conn:
            rows = conn.execute(
                f"SELECT id, status, owner, epochs_done, checkpoint_epoch FROM runs WHERE status IN "
                f"({','.join('?' * len(ACTIVE_STATUSES))})", ACTIVE_STATUSES,
            ).fetchall()
        marked = []
        for row in rows:
            if owner_alive(row["owner"]):
                continue
            if row["status"] == RunStatus.QUEUED and row["epochs_done"] == 0:
                message = ("The program closed before this run started. "
                           "It can be resumed (it will start from the beginning).")
            else:
                message = (f"Training was cut off after {row['epochs_done']} epoch(s) because the "
                           f"program running it closed. " + resume_hint(row["checkpoint_epoch"]))
            if self.set_status(row["id"], RunStatus.INTERRUPTED, message, expected=(row["status"],)):
                marked.append(row["id"])
        return marked

    def delete(self, run_id: str) -> None:
        """Delete a run: its index row (epochs too), then its folder. Refused while it trains."""
        record = self.get(run_id)
        if record.is_active and owner_alive(record.owner):
            raise RunStateError(
                f"Run '{record.name}' is {record.status}. Stop it first, then delete it."
            )
        with self._transaction() as conn:
            conn.execute("DELETE FROM epochs WHERE run_id = ?", (run_id,))
            conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        folder = self.run_dir(run_id)
        if folder.exists():
            trash = folder.with_name(f".deleted-{run_id}-{secrets.token_hex(2)}")
            os.replace(folder, trash)
            shutil.rmtree(trash, ignore_errors=True)
