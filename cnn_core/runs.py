"""The run store: an SQLite index of training runs plus one folder per run.

Layout of a workspace (:func:`~cnn_core.workspace.workspace_path`)::

    <workspace>/runs.sqlite        index: tables ``runs`` and ``epochs`` (:mod:`cnn_core.run_index_db`)
    <workspace>/runs/<run_id>/     config.json, model.keras, predictions.npz, ... (:mod:`cnn_core.run_files`)

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
import os
import secrets
import shutil
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from cnn_core.classroom import check_may_steer
from cnn_core.errors import RunNotFoundError, RunStateError
from cnn_core.i18n import N_, _
from cnn_core.process_owner import current_owner, owner_alive
from cnn_core.run_files import RunFiles
from cnn_core.run_index_db import (
    close_thread_connection,
    init_index,
    thread_connection,
    write_transaction,
)
from cnn_core.run_record import (
    EPOCH_METRICS,
    RECORD_COLUMNS,
    RunRecord,
    Starter,
    clean_float,
    new_run_id,
    record_from_row,
    resume_hint,
    status_of,
)
from cnn_core.run_status import ACTIVE_STATUSES, RUN_STATUSES, RunStatus
from cnn_core.stored_messages import Message, stored_plural, stored_text
from cnn_core.workspace import atomic_write_json, workspace_path

_checked_workspaces: set[Path] = set()
_checked_lock = threading.Lock()


class RunStore(RunFiles):
    """SQLite index + run folders in one workspace.

    Opening a workspace for the first time in a process marks runs abandoned by dead processes as
    ``"interrupted"`` (see :meth:`mark_interrupted`). The index file is handled by
    :mod:`cnn_core.run_index_db`, its rows read into :class:`~cnn_core.run_record.RunRecord`; the
    files of each run come from :class:`~cnn_core.run_files.RunFiles`.

    Args:
        workspace: the workspace folder; defaults to :func:`~cnn_core.workspace.workspace_path`.
    """

    def __init__(self, workspace: Path | str | None = None):
        self.workspace = workspace_path(workspace)
        self.runs_root = self.workspace / "runs"
        self.db_path = self.workspace / "runs.sqlite"
        self.runs_root.mkdir(parents=True, exist_ok=True)
        init_index(self.db_path)
        with _checked_lock:
            first_time = self.workspace not in _checked_workspaces
            _checked_workspaces.add(self.workspace)
        if first_time:
            self.mark_interrupted()
            from cnn_core.leftovers import remove_stale_leftovers  # imports this module

            remove_stale_leftovers(self)

    # ---------------------------------------------------------------- connection helpers
    def close(self) -> None:
        """Close this thread's connection to the index (it reopens on the next call)."""
        close_thread_connection(self.db_path)

    def _transaction(self):
        """A write transaction on the index (see :func:`~cnn_core.run_index_db.write_transaction`)."""
        return write_transaction(self.db_path)

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        yield thread_connection(self.db_path)

    def _require(self, conn: sqlite3.Connection, run_id: str) -> sqlite3.Row:
        row = conn.execute(f"SELECT {RECORD_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunNotFoundError(
                "There is no run with id '{run_id}' in {workspace}. Pick one from the list of runs (python "
                "-m cnn_core runs).",
                run_id=run_id, workspace=self.workspace
            )
        return row

    # ---------------------------------------------------------------- create / read
    def create_run(self, config: dict, name: str | None = None, sweep_id: str | None = None,
                   status: RunStatus | str = RunStatus.QUEUED, starter: Starter | None = None) -> str:
        """Create a run folder with ``config.json``, then its index row (status ``queued``).

        ``starter``: the browser session starting it (None: the command line, an import).
        """
        status = RunStatus(status)
        config_text = json.dumps(config, sort_keys=True)
        epochs_planned = int(((config.get("model") or {}).get("epochs")) or 0)
        for _attempt in range(50):
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
            from cnn_core.dataset_names import dataset_name
            from cnn_core.model.presets import preset_name

            preset = config.get("preset")
            dataset = (config.get("dataset") or {}).get("id")
            parts = ([dataset_name(dataset)] if dataset else []) + ([preset_name(preset)] if preset else [])
            name = " · ".join(parts) or run_id
            name = f"{name} · {run_id[9:15]}"
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO runs (id, name, status, message, created_at, config, epochs_planned, "
                "sweep_id, owner, session_id, started_by) VALUES (?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?)",
                (run_id, name, status, time.time(), config_text, epochs_planned, sweep_id,
                 current_owner(), starter.session_id if starter else None,
                 (starter.name or "") if starter else ""),
            )
        return run_id

    def get(self, run_id: str) -> RunRecord:
        with self._reader() as conn:
            return record_from_row(self._require(conn, run_id))

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
        sql = f"SELECT {RECORD_COLUMNS} FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, id DESC"
        with self._reader() as conn:
            return [record_from_row(r) for r in conn.execute(sql, args)]

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

    def set_planned_epochs(self, run_id: str, epochs: int, **entries: Any) -> dict:
        """Plan ``epochs`` epochs for the run from now on (its config's model settings and the
        index), with further top-level config ``entries``; e.g. when a time limit keeps fewer
        epochs than were asked for. Returns the new config."""
        with self._transaction() as conn:
            config = json.loads(self._require(conn, run_id)["config"])
            config["model"] = {**(config.get("model") or {}), "epochs": int(epochs)}
            config.update(entries)
            atomic_write_json(self.run_dir(run_id) / "config.json", config)
            conn.execute("UPDATE runs SET config = ?, epochs_planned = ? WHERE id = ?",
                         (json.dumps(config, sort_keys=True), int(epochs), run_id))
        return config

    def config(self, run_id: str) -> dict:
        return self.get(run_id).config

    # ---------------------------------------------------------------- status and progress
    def set_status(self, run_id: str, status: RunStatus | str, message: Message | str = "",
                   expected: tuple[str, ...] | list[str] | None = None) -> bool:
        """Set the status (and message). With ``expected``, only if the current status is one of
        them; returns whether the row changed. Starting sets ``started_at``, ending ``finished_at``.
        A :class:`~cnn_core.stored_messages.Message` is stored as message ids and parameters, so
        every reader sees it in their own language (``RunRecord.shown_message``).

        Raises:
            ValueError: ``status`` is not a :class:`RunStatus`.
        """
        try:
            status = RunStatus(status)
        except ValueError:
            raise ValueError(f"unknown status {status!r}; use one of {RUN_STATUSES}") from None
        now = time.time()
        sets = ["status = ?", "message = ?"]
        args: list[Any] = [status.value, stored_text(message)]
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
            raise RunNotFoundError("There is no run with id '{run_id}' in {workspace}.",
                                   run_id=run_id, workspace=self.workspace)
        return status_of(row[0])

    def set_shared(self, run_id: str, shared: bool) -> None:
        """Show the run to every session (True) or only to the session that started it."""
        with self._transaction() as conn:
            self._require(conn, run_id)
            conn.execute("UPDATE runs SET shared = ? WHERE id = ?", (int(bool(shared)), run_id))

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
        fields = {k: (clean_float(v) if isinstance(v, float) else v) for k, v in fields.items()}
        fields["updated_at"] = time.time()
        with self._transaction() as conn:
            row = conn.execute("SELECT progress, status FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise RunNotFoundError("There is no run with id '{run_id}' in {workspace}.",
                                       run_id=run_id, workspace=self.workspace)
            progress = {} if replace else json.loads(row[0] or "{}")
            progress.update(fields)
            conn.execute("UPDATE runs SET progress = ? WHERE id = ?", (json.dumps(progress), run_id))
        return row[1]

    def set_name(self, run_id: str, name: str) -> None:
        self.rename(run_id, name)

    def rename(self, run_id: str, name: str, starter: Starter | None = None) -> None:
        """Give the run a new name (``starter``: a browser session may rename only its own)."""
        name = (name or "").strip()
        if not name:
            raise RunStateError("A run name cannot be empty. Type at least one character.")
        with self._transaction() as conn:
            check_may_steer(record_from_row(self._require(conn, run_id)), starter, _("rename"))
            conn.execute("UPDATE runs SET name = ? WHERE id = ?", (name, run_id))

    # ---------------------------------------------------------------- epochs
    def add_epoch(self, run_id: str, epoch: int, metrics: dict) -> None:
        """Record epoch ``epoch`` (1-based: the first epoch is 1). Re-recording replaces the row.

        ``epochs_done`` becomes the number of recorded epochs and ``best_val_accuracy`` their best
        validation accuracy. Keys beyond :data:`EPOCH_METRICS` are kept in ``extra``.
        """
        epoch = int(epoch)
        row = {k: clean_float(metrics.get(k)) for k in EPOCH_METRICS}
        extra = {k: clean_float(v) if isinstance(v, (int, float)) else v
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
            extra = {k: clean_float(v) if isinstance(v, (int, float)) else v
                     for k, v in metrics.items() if k not in EPOCH_METRICS}
            rows.append((run_id, int(entry["epoch"]),
                         *(clean_float(metrics.get(k)) for k in EPOCH_METRICS), json.dumps(extra)))
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
                (clean_float(test_accuracy), clean_float(test_loss), clean_float(train_seconds), run_id),
            )

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
                message = N_("The program closed before this run started. "
                             "It can be resumed (it will start from the beginning).")
            else:
                message = stored_plural("Training was cut off after {count} epoch because the program "
                                        "running it closed.",
                                        "Training was cut off after {count} epochs because the program "
                                        "running it closed.", row["epochs_done"]) + resume_hint(row["checkpoint_epoch"])
            if self.set_status(row["id"], RunStatus.INTERRUPTED, message, expected=(row["status"],)):
                marked.append(row["id"])
        return marked

    def delete(self, run_id: str, starter: Starter | None = None) -> None:
        """Delete a run: its index row (epochs too), then its folder. Refused while it trains,
        and when ``starter`` (a browser session) is not the session that started it."""
        record = self.get(run_id)
        check_may_steer(record, starter, _("delete"))
        if record.is_active and owner_alive(record.owner):
            raise RunStateError(
                "Run '{name}' is {status}. Stop it first, then delete it.",
                name=record.name, status=record.status
            )
        with self._transaction() as conn:
            conn.execute("DELETE FROM epochs WHERE run_id = ?", (run_id,))
            conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        folder = self.run_dir(run_id)
        if folder.exists():
            trash = folder.with_name(f".deleted-{run_id}-{secrets.token_hex(2)}")
            os.replace(folder, trash)
            shutil.rmtree(trash, ignore_errors=True)
