"""The run index's SQLite file: its schema and upgrades, and one open connection per thread.

``<workspace>/runs.sqlite`` holds two tables, ``runs`` (one row per run, read into
:class:`~cnn_core.run_record.RunRecord`) and ``epochs`` (one row per recorded epoch). It runs in
WAL mode with a 30 s busy timeout. Each thread of each process keeps its own connection
(autocommit; writes take the write lock up front with ``BEGIN IMMEDIATE``), so the index can be
shared by threads and processes (the Streamlit server and ``python -m cnn_core`` at once).
:class:`cnn_core.runs.RunStore` is the only user.

This module imports nothing heavy.

Example:
    >>> import tempfile, pathlib
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "runs.sqlite"
    >>> init_index(db)
    >>> with write_transaction(db) as conn:
    ...     conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    0
"""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Iterator

SCHEMA_VERSION = 3
SCHEMA = """
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
    checkpoint_epoch INTEGER NOT NULL DEFAULT 0,
    session_id TEXT,
    started_by TEXT NOT NULL DEFAULT '',
    shared INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS runs_status ON runs(status);
CREATE INDEX IF NOT EXISTS runs_sweep ON runs(sweep_id);
CREATE INDEX IF NOT EXISTS runs_session ON runs(session_id);
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

_thread_connections = threading.local()


def init_index(db_path: Path) -> None:
    """Create the tables (or upgrade an older index) and switch the file to WAL mode."""
    with closing(sqlite3.connect(db_path, timeout=30.0, isolation_level=None)) as conn:
        conn.execute("PRAGMA busy_timeout = 30000")
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version < SCHEMA_VERSION:
            conn.execute("BEGIN IMMEDIATE")   # two processes opening an old index upgrade it once
            try:
                _upgrade(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")


#: Columns added after the first version, with their definitions: an older index gets them
#: (``ALTER TABLE``), its rows the defaults. Version 2: checkpoint_epoch; version 3: who started
#: a run from the app (browser session id and display name) and whether it is shared with all.
ADDED_COLUMNS = {
    "checkpoint_epoch": "INTEGER NOT NULL DEFAULT 0",
    "session_id": "TEXT",
    "started_by": "TEXT NOT NULL DEFAULT ''",
    "shared": "INTEGER NOT NULL DEFAULT 0",
}


def _upgrade(conn: sqlite3.Connection) -> None:
    """Bring the tables to :data:`SCHEMA_VERSION` inside the caller's transaction (existing rows
    are kept: runs made before version 3 have no session, so every session sees them)."""
    if conn.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
        return   # another process upgraded it while we waited for the lock
    for statement in SCHEMA.split(";"):
        if statement.strip() and "runs_session" not in statement:
            conn.execute(statement)
    columns = {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
    for name, definition in ADDED_COLUMNS.items():
        if name not in columns:
            conn.execute(f"ALTER TABLE runs ADD COLUMN {name} {definition}")
    conn.execute("CREATE INDEX IF NOT EXISTS runs_session ON runs(session_id)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def thread_connection(db_path: Path) -> sqlite3.Connection:
    """This thread's connection to the index (opened once per thread and process).

    Connections are not shared between threads, and are kept open: closing the last
    connection to a WAL database checkpoints and syncs it, which costs ~10 ms a call.
    Every statement runs in autocommit mode, so an idle connection holds no lock or snapshot.
    """
    key = (os.getpid(), str(db_path))
    cache = getattr(_thread_connections, "cache", None)
    if cache is None:
        cache = _thread_connections.cache = {}
    conn = cache.get(key)
    if conn is not None and Path(db_path).exists():
        return conn
    if conn is not None:   # the database file was removed (workspace deleted): reopen
        conn.close()
    conn = sqlite3.connect(db_path, timeout=30.0, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    cache[key] = conn
    return conn


def close_thread_connection(db_path: Path) -> None:
    """Close this thread's connection to the index (it reopens on the next call)."""
    cache = getattr(_thread_connections, "cache", None) or {}
    conn = cache.pop((os.getpid(), str(db_path)), None)
    if conn is not None:
        conn.close()


@contextmanager
def write_transaction(db_path: Path) -> Iterator[sqlite3.Connection]:
    """A write transaction (BEGIN IMMEDIATE: takes the write lock up front, no deadlocks)."""
    conn = thread_connection(db_path)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


__all__ = ["SCHEMA", "SCHEMA_VERSION", "close_thread_connection", "init_index", "thread_connection",
           "write_transaction"]
