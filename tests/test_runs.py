"""The run store: SQLite index + run folders, atomic files, interrupted-run detection."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import threading

import numpy as np
import pytest

from cnn_core import process_owner, runs
from cnn_core.errors import RunNotFoundError, RunStateError
from cnn_core.process_owner import current_owner, owner_alive
from cnn_core.run_record import new_run_id
from cnn_core.runs import RunStore
from cnn_core.workspace import workspace_path

CONFIG = {
    "dataset": {"id": "shapes", "image_size": None, "color_mode": None},
    "model": {"epochs": 5, "learning_rate": 0.001},
    "preprocess": {"scaling": "divide_255"},
    "augment": {},
    "preset": "fast",
}


def dead_owner() -> str:
    """The owner string of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return f"{proc.pid}:12345"


def test_workspace_path_uses_environment(workspace, tmp_path):
    assert workspace_path() == workspace.resolve()
    assert workspace_path(tmp_path / "other") == (tmp_path / "other").resolve()


def test_run_id_is_short_sortable_and_readable():
    run_id = new_run_id()
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}", run_id)
    assert sorted([run_id, "19990101-000000-ffff"])[0].startswith("1999")


def test_create_and_read_round_trip(workspace):
    store = RunStore()
    run_id = store.create_run(CONFIG, name="first")
    record = store.get(run_id)
    assert record.status == "queued" and record.name == "first"
    assert record.config == CONFIG
    assert record.epochs_planned == 5 and record.epochs_done == 0
    assert record.owner == current_owner()
    folder = workspace / "runs" / run_id
    assert store.run_dir(run_id) == folder
    assert json.loads((folder / "config.json").read_text()) == CONFIG
    # the index is SQLite in WAL mode
    with sqlite3.connect(workspace / "runs.sqlite") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # a second store (another page, another process) sees the same run
    assert RunStore(workspace).get(run_id).config == CONFIG


def test_default_name_and_listing_newest_first():
    store = RunStore()
    first = store.create_run(CONFIG)
    second = store.create_run(CONFIG, sweep_id="sw1")
    assert store.get(first).name.startswith("Shapes · ")     # the data set's display name, not its id
    assert [r.id for r in store.list_runs()] == [second, first]
    store.set_status(first, "running")
    assert [r.id for r in store.list_runs(status="running")] == [first]
    assert [r.id for r in store.list_runs(status=("queued", "running"))] == [second, first]
    assert [r.id for r in store.list_runs(sweep_id="sw1")] == [second]


def test_unknown_run_raises_run_not_found():
    store = RunStore()
    with pytest.raises(RunNotFoundError, match="no run"):
        store.get("nope")
    with pytest.raises(RunNotFoundError):
        store.add_epoch("nope", 1, {})


def test_status_times_and_conditional_transitions():
    store = RunStore()
    run_id = store.create_run(CONFIG)
    assert store.set_status(run_id, "running")
    record = store.get(run_id)
    assert record.started_at is not None and record.finished_at is None
    assert not store.set_status(run_id, "paused", expected=("queued",))   # not queued: no change
    assert store.get(run_id).status == "running"
    store.set_status(run_id, "finished", "Trained 5 epochs.")
    record = store.get(run_id)
    assert record.status == "finished" and record.message == "Trained 5 epochs."
    assert record.finished_at >= record.started_at
    with pytest.raises(ValueError):
        store.set_status(run_id, "exploded")


def test_epochs_progress_and_results():
    store = RunStore()
    run_id = store.create_run(CONFIG)
    store.add_epoch(run_id, 1, {"loss": 1.0, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.4,
                                "learning_rate": 1e-3, "seconds": 2.0, "top_5": 0.9})
    store.add_epoch(run_id, 2, {"loss": 0.5, "accuracy": 0.8, "val_loss": float("nan"),
                                "val_accuracy": 0.7, "learning_rate": 5e-4, "seconds": 2.1})
    store.add_epoch(run_id, 2, {"loss": 0.4, "accuracy": 0.8, "val_loss": 0.6,
                                "val_accuracy": 0.6, "learning_rate": 5e-4, "seconds": 2.1})  # replaces
    rows = store.epochs(run_id)
    assert [r["epoch"] for r in rows] == [1, 2]
    assert rows[0]["top_5"] == 0.9 and rows[1]["loss"] == 0.4
    record = store.get(run_id)
    assert record.epochs_done == 2 and record.best_val_accuracy == pytest.approx(0.6)
    store.delete_epochs_after(run_id, 1)
    assert store.get(run_id).epochs_done == 1 and store.get(run_id).best_val_accuracy == 0.4

    assert store.set_progress(run_id, epoch=2, batch=3, loss=float("inf")) == "queued"
    store.set_progress(run_id, batch=4)
    progress = store.get(run_id).progress
    assert progress["epoch"] == 2 and progress["batch"] == 4 and progress["loss"] is None
    store.set_progress(run_id, replace=True, phase="saving")
    assert "batch" not in store.get(run_id).progress

    store.set_result(run_id, test_accuracy=0.91, test_loss=0.3, train_seconds=12.5)
    record = store.get(run_id)
    assert (record.test_accuracy, record.test_loss, record.train_seconds) == (0.91, 0.3, 12.5)


def test_predictions_round_trip_as_float32():
    store = RunStore()
    run_id = store.create_run(CONFIG)
    with pytest.raises(RunStateError, match="no test-set predictions"):
        store.load_predictions(run_id)
    probs = np.random.default_rng(0).dirichlet(np.ones(4), size=30)
    y_true = np.arange(30) % 4
    store.save_predictions(run_id, probs, y_true, class_names=["a", "b", "c", "d"])
    loaded_probs, loaded_y = store.load_predictions(run_id)
    assert loaded_probs.dtype == np.float32 and loaded_y.dtype == np.int64
    np.testing.assert_allclose(loaded_probs, probs.astype(np.float32))
    np.testing.assert_array_equal(loaded_y, y_true)
    assert store.class_names(run_id) == ["a", "b", "c", "d"]
    assert not [p for p in store.run_dir(run_id).iterdir() if p.name.startswith(".")]  # no temp left


def test_atomic_write_keeps_old_file_when_replace_fails(tmp_path, monkeypatch):
    folder = tmp_path / "atomic"
    folder.mkdir()
    target = folder / "config.json"
    runs.atomic_write_json(target, {"version": 1})

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(runs.os, "replace", broken_replace)
    with pytest.raises(OSError):
        runs.atomic_write_json(target, {"version": 2})
    assert json.loads(target.read_text()) == {"version": 1}
    assert [p.name for p in folder.iterdir()] == ["config.json"]   # temp file cleaned up


def test_run_row_appears_only_after_its_folder_and_config(monkeypatch, workspace):
    store = RunStore()
    seen_at_insert = []
    real_transaction = store._transaction

    def checking_transaction():
        folders = [p for p in (workspace / "runs").iterdir()]
        seen_at_insert.append(all((f / "config.json").exists() for f in folders) and bool(folders))
        return real_transaction()

    monkeypatch.setattr(store, "_transaction", checking_transaction)
    store.create_run(CONFIG)
    assert seen_at_insert == [True]

    def failing_write(path, obj):
        raise OSError("disk full")

    monkeypatch.setattr(runs, "atomic_write_json", failing_write)
    with pytest.raises(OSError):
        store.create_run(CONFIG)
    assert len(store.list_runs()) == 1     # no row for the run whose config could not be written


def test_owner_liveness():
    assert owner_alive(current_owner())
    assert not owner_alive(dead_owner())
    pid, token = current_owner().split(":")[:2]
    # (owner strings without the Linux start tick, as other systems and older versions write)
    # same pid but another start time = a reused pid = dead owner
    assert not owner_alive(f"{pid}:{float(token) + 30:.2f}")
    # the boot time psutil adds can read a second off (seen in CI): still the same process
    assert owner_alive(f"{pid}:{float(token) + 1:.2f}")
    assert owner_alive(f"{pid}:{float(token) - 1:.2f}")
    assert not owner_alive(None) and not owner_alive("garbage")


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="the start tick is read from Linux's /proc")
def test_a_step_of_the_wall_clock_leaves_a_live_owner_alive(monkeypatch, workspace):
    # psutil's start time is the start tick plus a boot time the kernel works out from the wall
    # clock at each reading: when the clock is set, every live process looks started at another
    # time (the likely cause of a sweep's run marked interrupted in CI while it trained)
    owner = current_owner()
    pid, token, tick = owner.split(":")
    monkeypatch.setattr(process_owner, "_start_token", lambda process: f"{float(token) + 3600:.2f}")
    assert owner_alive(owner)
    store = RunStore()
    run_id = store.create_run(CONFIG)
    store.set_status(run_id, "running")
    assert store.mark_interrupted() == [] and store.get(run_id).status == "running"
    # the tick still tells a reused pid, and the boot id the same pid after a restart
    ticks, boot = tick.split("@")
    assert not owner_alive(f"{pid}:{token}:{int(ticks) + 1}@{boot}")
    assert not owner_alive(f"{pid}:{token}:{ticks}@{'0' * len(boot)}")
    # a child that has ended and been reaped is gone whatever its owner string says
    dead_pid = dead_owner().partition(":")[0]
    assert not owner_alive(f"{dead_pid}:{token}:{tick}")


def test_mark_interrupted_only_for_dead_owners(workspace):
    store = RunStore()
    dead = dead_owner()
    ids = {}
    for status in ("queued", "running", "paused", "stopping", "finished"):
        ids[f"dead_{status}"] = run_id = store.create_run(CONFIG)
        store.set_status(run_id, status)
        store.set_owner(run_id, dead)
    ids["live_running"] = live = store.create_run(CONFIG)
    store.set_status(live, "running")
    store.add_epoch(ids["dead_running"], 1, {"loss": 1.0})

    marked = store.mark_interrupted()
    assert sorted(marked) == sorted(ids[f"dead_{s}"] for s in ("queued", "running", "paused", "stopping"))
    record = store.get(ids["dead_running"])
    assert record.status == "interrupted"
    assert "resumed" in record.shown_message and "1 epoch" in record.shown_message
    assert record.can_resume
    assert store.get(ids["dead_finished"]).status == "finished"
    assert store.get(live).status == "running"          # this process is alive
    assert store.mark_interrupted() == []                # nothing left to mark


def test_opening_a_workspace_marks_runs_of_dead_processes_once(workspace):
    store = RunStore()
    run_id = store.create_run(CONFIG)
    store.set_status(run_id, "running")
    store.set_owner(run_id, dead_owner())
    RunStore(workspace)                                   # already opened in this process: no check
    assert store.get(run_id).status == "running"
    runs._checked_workspaces.discard(workspace.resolve())  # as if this process just started
    RunStore(workspace)
    assert store.get(run_id).status == "interrupted"


def test_rename_and_delete(workspace):
    store = RunStore()
    run_id = store.create_run(CONFIG)
    store.rename(run_id, "  better name ")
    assert store.get(run_id).name == "better name"
    with pytest.raises(RunStateError):
        store.rename(run_id, "   ")

    store.set_status(run_id, "running")                   # owned by this live process
    with pytest.raises(RunStateError, match="Stop it first"):
        store.delete(run_id)
    store.set_status(run_id, "stopped")
    store.add_epoch(run_id, 1, {"loss": 1.0})
    store.save_predictions(run_id, np.eye(3), [0, 1, 2])
    store.delete(run_id)
    assert not (workspace / "runs" / run_id).exists()
    assert not store.exists(run_id)
    with pytest.raises(RunNotFoundError):
        store.epochs(run_id)
    with sqlite3.connect(workspace / "runs.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM epochs").fetchone()[0] == 0


def test_concurrent_writers_from_threads_and_a_process(workspace):
    store = RunStore()
    run_id = store.create_run(CONFIG)
    errors = []

    def writer(offset):
        try:
            for i in range(40):
                store.set_progress(run_id, **{f"t{offset}": i})
                store.add_epoch(run_id, offset * 100 + i + 1, {"loss": float(i)})
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    code = (
        "import sys; sys.path.insert(0, %r)\n"
        "from cnn_core.runs import RunStore\n"
        "s = RunStore(%r)\n"
        "for i in range(40): s.add_epoch(%r, 1000 + i, {'loss': 1.0})\n"
    ) % (str(runs.Path(runs.__file__).parent.parent), str(workspace), run_id)
    proc = subprocess.Popen([sys.executable, "-c", code])
    threads = [threading.Thread(target=writer, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert proc.wait(timeout=60) == 0
    assert errors == []
    assert store.get(run_id).epochs_done == 3 * 40 + 40
    assert os.path.exists(workspace / "runs.sqlite")
