"""Thirty people on one server: the fair queue, the teacher's limits, cancel rights, owner records.

The queue's worker is given a stand-in for ``run_training`` that holds each run "training" until
the test lets it finish, so places in the line are exact and nothing trains for real.
"""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from cnn_core import classroom, job_queue
from cnn_core.classroom import ClassroomSettings, teacher_settings
from cnn_core.errors import NotYoursError, QueueLimitError, SpecError
from cnn_core.job_queue import JobQueue
from cnn_core.model import PRESETS
from cnn_core.queue_place import QueuePlace, fair_line, ordinal, queue_place
from cnn_core.run_index_db import SCHEMA_VERSION
from cnn_core.run_record import Starter
from cnn_core.run_status import RunStatus
from cnn_core.runs import RunStore
from cnn_core.training import TrainingRequest

ANN = Starter("a" * 24, "Ann")
BEN = Starter("b" * 24, "Ben")
CHO = Starter("c" * 24, "Cho")
TEACHER_VARS = [classroom.environment_variable(name) for name in
                ("max_parallel_trainings", "max_student_epochs", "max_queued_per_session")]


@pytest.fixture(autouse=True)
def no_teacher_settings(monkeypatch):
    for name in TEACHER_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(classroom, "_command_line", {})


class HeldTraining:
    """Stands in for run_training: marks the run running and holds it until released or stopped."""

    def __init__(self):
        self.release = threading.Event()
        self.started: list[str] = []

    def __call__(self, run_id, store, control):
        self.started.append(run_id)
        store.set_status(run_id, RunStatus.RUNNING)
        while not (self.release.is_set() or control.stop_requested):
            time.sleep(0.01)
        store.set_status(run_id, RunStatus.STOPPED if control.stop_requested else RunStatus.FINISHED)


@pytest.fixture
def held(monkeypatch):
    fake = HeldTraining()
    monkeypatch.setattr(job_queue, "run_training", fake)
    made = []
    real_init = JobQueue.__init__

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(JobQueue, "__init__", init)
    yield fake
    for queue in made:   # nothing left to train once the stand-in is gone
        for run_id in queue.queued_run_ids():
            queue.stop(run_id)
    fake.release.set()
    for queue in made:
        wait_until(lambda: not queue.active_run_ids())


def request(epochs: int = 1, name: str = "") -> TrainingRequest:
    return TrainingRequest("shapes", PRESETS["fast"].replace(epochs=epochs), name=name or None)


def wait_until(condition, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


# --------------------------------------------------------------------------- owner records

def test_a_run_records_who_started_it_and_cli_runs_have_no_owner(workspace, held):
    queue = JobQueue(workspace)
    mine = queue.submit(request(), starter=ANN)
    cli = queue.submit(request())
    record = queue.store.get(mine)
    assert (record.session_id, record.started_by, record.shared) == (ANN.session_id, "Ann", False)
    assert record.starter == ANN
    assert queue.store.get(cli).starter is None and queue.store.get(cli).started_by == ""
    queue.store.set_shared(mine, True)
    assert queue.store.get(mine).shared


def test_an_older_run_index_is_upgraded_and_keeps_its_runs(workspace):
    db = workspace / "runs.sqlite"
    conn = sqlite3.connect(db)
    conn.executescript("""
        CREATE TABLE runs (id TEXT PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL,
            message TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL, started_at REAL,
            finished_at REAL, config TEXT NOT NULL, epochs_done INTEGER NOT NULL DEFAULT 0,
            epochs_planned INTEGER NOT NULL DEFAULT 0, best_val_accuracy REAL, test_accuracy REAL,
            test_loss REAL, train_seconds REAL, progress TEXT NOT NULL DEFAULT '{}', sweep_id TEXT,
            owner TEXT);
        CREATE TABLE epochs (run_id TEXT NOT NULL, epoch INTEGER NOT NULL, loss REAL,
            accuracy REAL, val_loss REAL, val_accuracy REAL, learning_rate REAL, seconds REAL,
            extra TEXT NOT NULL DEFAULT '{}', PRIMARY KEY (run_id, epoch));
        INSERT INTO runs (id, name, status, created_at, config, epochs_planned)
            VALUES ('20250101-000000-abcd', 'old run', 'finished', 1.0, '{"model": {}}', 3);
        PRAGMA user_version = 1;
    """)
    conn.close()
    store = RunStore(workspace)
    old = store.get("20250101-000000-abcd")
    assert old.name == "old run" and old.starter is None and not old.shared
    assert old.checkpoint_epoch == 0
    with sqlite3.connect(db) as check:
        assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    # every session sees a run nobody started from a browser
    assert classroom.visible_runs([old], BEN) == [old]
    new = store.create_run({"model": {"epochs": 1}}, starter=BEN)
    assert store.get(new).starter == BEN


# --------------------------------------------------------------------------- who sees what

def test_own_runs_come_first_and_private_runs_of_others_are_hidden(workspace):
    store = RunStore(workspace)
    ann_private = store.create_run({"model": {}}, name="ann private", starter=ANN)
    ann_shared = store.create_run({"model": {}}, name="ann shared", starter=ANN)
    store.set_shared(ann_shared, True)
    ben = store.create_run({"model": {}}, name="ben", starter=BEN)
    cli = store.create_run({"model": {}}, name="cli")
    runs = store.list_runs()   # newest first: cli, ben, ann shared, ann private
    seen_by_ben = [r.name for r in classroom.visible_runs(runs, BEN)]
    assert seen_by_ben == ["ben", "cli", "ann shared"]
    seen_by_ann = [r.name for r in classroom.visible_runs(runs, ANN)]
    assert seen_by_ann == ["ann shared", "ann private", "cli"]
    assert len(classroom.visible_runs(runs, None)) == 4       # the command line sees all
    by_id = {r.id: r for r in runs}
    assert classroom.started_by_text(by_id[ann_shared], BEN) == "by Ann"
    assert classroom.started_by_text(by_id[ann_shared], ANN) == ""
    assert classroom.started_by_text(by_id[cli], BEN) == ""
    assert not classroom.can_see(by_id[ann_private], BEN) and classroom.can_see(by_id[ben], BEN)
    del ann_private, ben


# --------------------------------------------------------------------------- the fair queue

def test_one_waiting_run_per_session_by_default_with_a_plain_message(workspace, held):
    queue = JobQueue(workspace, workers=1)
    first = queue.submit(request(), starter=ANN)         # trains at once
    wait_until(lambda: held.started == [first])
    waiting = queue.submit(request(), starter=ANN)       # waits: Ann's one waiting run
    with pytest.raises(QueueLimitError, match="already have a run waiting"):
        queue.submit(request(), starter=ANN)
    assert queue.queued_run_ids() == [waiting]           # the refused run left nothing behind
    assert len(queue.store.list_runs()) == 2
    queue.submit(request(), starter=BEN)                 # another person still gets in line
    queue.submit(request())                              # the command line has no limit
    queue.submit(request())
    queue.stop(waiting, starter=ANN)                     # once Ann's run left the line...
    queue.submit(request(), starter=ANN)                 # ...she may queue another


def test_two_quick_clicks_queue_only_one_run(workspace, held):
    queue = JobQueue(workspace, workers=1)
    queue.submit(request(), starter=BEN)
    wait_until(lambda: len(held.started) == 1)
    outcomes = []

    def click():
        try:
            outcomes.append(queue.submit(request(), starter=ANN))
        except QueueLimitError:
            outcomes.append("refused")

    clicks = [threading.Thread(target=click) for _ in range(4)]
    for thread in clicks:
        thread.start()
    for thread in clicks:
        thread.join()
    assert outcomes.count("refused") == 3
    assert len(queue.waiting_run_ids(ANN)) == 1


def test_teacher_limits_come_from_environment_and_command_line(workspace, held, monkeypatch):
    assert teacher_settings(environ={}, argv=[]) == ClassroomSettings()
    assert teacher_settings() == ClassroomSettings(training_process=0)   # the tests' (conftest.py)
    monkeypatch.setenv("CNN_LAB_MAX_STUDENT_EPOCHS", "3")
    monkeypatch.setenv("CNN_LAB_MAX_QUEUED_PER_SESSION", "2")
    monkeypatch.setenv("CNN_LAB_MAX_PARALLEL_TRAININGS", "2")
    assert JobQueue(workspace).workers == 2
    classroom.use_command_line(["--server.port", "1", "--max-parallel-trainings", "3"])
    settings = teacher_settings()
    assert (settings.max_parallel_trainings, settings.max_student_epochs,
            settings.max_queued_per_session) == (3, 3, 2)   # the flag wins over the variable

    queue = JobQueue(workspace, workers=1)
    with pytest.raises(SpecError, match="at most 3 epochs") as refused:
        queue.submit(request(epochs=5), starter=ANN)
    assert refused.value.setting == "epochs"             # the model builder marks the epochs widget
    queue.submit(request(epochs=5))                      # the teacher's own runs are not limited
    queue.submit(request(epochs=3), starter=ANN)
    queue.submit(request(epochs=3), starter=ANN)         # two may wait now
    with pytest.raises(QueueLimitError, match="2 runs waiting"):
        queue.submit(request(epochs=3), starter=ANN)


def sweep_of(values, setting="learning_rate"):
    from cnn_core.sweep_spec import SweepSpec

    return SweepSpec(base=PRESETS["fast"].replace(epochs=1), grid={setting: values})


def test_a_sweep_or_an_mlp_vs_cnn_pair_is_one_waiting_request_under_the_same_limit(workspace, held):
    """A pair queued whole counts as one run waiting; while it waits the same person can queue
    nothing else (a single run, a sweep, another pair); others still can."""
    from cnn_core.comparison import mlp_vs_cnn, mlp_vs_cnn_pairs
    from cnn_core.sweeps import launch_sweep, list_sweeps, load_sweep

    queue = JobQueue(workspace, workers=1)
    store = queue.store
    queue.submit(request(), starter=BEN)                       # Ben's run holds the trainer
    wait_until(lambda: len(held.started) == 1)
    mlp, cnn = mlp_vs_cnn(queue, "shapes", epochs=1, starter=ANN)
    assert queue.queued_run_ids() == [mlp, cnn]
    assert store.get(mlp).starter == store.get(cnn).starter == ANN   # Ann's runs: hers to stop
    assert queue.waiting_requests(ANN) == 1
    made = len(store.list_runs())
    with pytest.raises(QueueLimitError, match="already have a run waiting"):
        queue.submit(request(), starter=ANN)
    with pytest.raises(QueueLimitError, match="already have a run waiting"):
        mlp_vs_cnn(queue, "shapes", epochs=1, starter=ANN)
    with pytest.raises(QueueLimitError, match="already have a run waiting"):
        launch_sweep(queue, store, "shapes", sweep_of([0.001, 0.01]), starter=ANN)
    assert len(store.list_runs()) == made and list_sweeps(store) == []   # nothing left behind
    launch_sweep(queue, store, "shapes", sweep_of([0.001, 0.01]), starter=BEN)   # another person gets in
    with pytest.raises(QueueLimitError):
        launch_sweep(queue, store, "shapes", sweep_of([0.003]), starter=BEN)     # but only once
    queue.stop(mlp, starter=ANN)
    queue.stop(cnn, starter=ANN)                               # once Ann's pair left the line...
    sweep_id = launch_sweep(queue, store, "shapes", sweep_of([0.001, 0.003, 0.01]), starter=ANN)
    assert [store.get(run_id).starter for run_id in load_sweep(store, sweep_id).run_ids] == [ANN] * 3
    assert queue.waiting_requests(ANN) == 1
    # the command line has no limit; a session sees only its own and shared pairs and sweeps
    mlp_vs_cnn(queue, "shapes", epochs=1)
    assert [pair[0].starter for pair in mlp_vs_cnn_pairs(store, viewer=BEN)] == [None]
    assert [(m.id, c.id) for m, c in mlp_vs_cnn_pairs(store, viewer=ANN)][1:] == [(mlp, cnn)]
    assert sweep_id not in [record.id for record in list_sweeps(store, viewer=BEN)]
    assert sweep_id in [record.id for record in list_sweeps(store, viewer=ANN)]


def test_a_sweep_or_a_pair_asking_for_more_epochs_than_allowed_queues_nothing(workspace, held, monkeypatch):
    from cnn_core.comparison import mlp_vs_cnn
    from cnn_core.sweeps import launch_sweep, list_sweeps, stop_sweep

    monkeypatch.setenv("CNN_LAB_MAX_STUDENT_EPOCHS", "2")
    queue = JobQueue(workspace, workers=1)
    store = queue.store
    with pytest.raises(SpecError, match="at most 2 epochs") as refused:
        launch_sweep(queue, store, "shapes", sweep_of([1, 3], setting="epochs"), starter=ANN)
    assert refused.value.setting == "epochs"
    with pytest.raises(SpecError, match="at most 2 epochs"):
        mlp_vs_cnn(queue, "shapes", epochs=3, starter=ANN)
    assert store.list_runs() == [] and list_sweeps(store) == []
    sweep_id = launch_sweep(queue, store, "shapes", sweep_of([1, 3], setting="epochs"))   # the teacher's own
    assert stop_sweep(queue, store, sweep_id, starter=ANN) != []      # nobody's runs: anyone may stop them
    mine = launch_sweep(queue, store, "shapes", sweep_of([1, 2], setting="epochs"), starter=ANN)
    assert stop_sweep(queue, store, mine, starter=BEN) == []          # not Ben's to stop
    assert len(stop_sweep(queue, store, mine, starter=ANN)) == 2


@pytest.mark.parametrize("value", ["many", "0", "2.5", "-1"])
def test_a_bad_teacher_setting_is_refused_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("CNN_LAB_MAX_PARALLEL_TRAININGS", value)
    with pytest.raises(SpecError, match="CNN_LAB_MAX_PARALLEL_TRAININGS must be a whole number from 1"):
        teacher_settings()
    with pytest.raises(SpecError, match="--max-student-epochs must be a whole number"):
        classroom.use_command_line(["--max-student-epochs", "lots"])


def test_several_trainings_at_once_when_the_teacher_allows(workspace, held):
    queue = JobQueue(workspace, workers=2)
    runs = [queue.submit(request()) for _ in range(3)]
    wait_until(lambda: len(held.started) == 2)
    time.sleep(0.1)
    assert sorted(held.started) == sorted(runs[:2]) and queue.queued_run_ids() == [runs[2]]


def test_the_line_takes_turns_between_people_first_come_first_served_within_a_turn():
    owners = {"a1": "ann", "a2": "ann", "a3": "ann", "b1": "ben", "c1": "cho", "x1": "", "x2": ""}
    assert fair_line(["a1", "a2", "a3", "b1", "c1"], owners.get) == ["a1", "b1", "c1", "a2", "a3"]
    assert fair_line(["a1", "b1", "c1"], owners.get) == ["a1", "b1", "c1"]   # one each: arrival order
    # somebody whose run trains now waits behind those who have none training
    owners["a0"] = "ann"
    assert fair_line(["a1", "b1", "c1"], owners.get, training=["a0"]) == ["b1", "c1", "a1"]
    # command-line runs (no session) are one person's: in the order they came
    assert fair_line(["x1", "x2", "b1"], owners.get) == ["x1", "b1", "x2"]
    assert fair_line([], owners.get) == []


def test_a_sweep_trains_in_turn_with_the_rest_of_the_class(workspace, held):
    """Ann's sweep of three does not make Cho, who queued after it, wait for all three."""
    from cnn_core.sweeps import launch_sweep, load_sweep

    queue = JobQueue(workspace, workers=1)
    store = queue.store
    ben = queue.submit(request(), starter=BEN)                 # Ben's run holds the trainer
    wait_until(lambda: held.started == [ben])
    sweep_id = launch_sweep(queue, store, "shapes", sweep_of([0.001, 0.003, 0.01]), starter=ANN)
    a1, a2, a3 = load_sweep(store, sweep_id).run_ids
    assert queue.queued_run_ids() == [a1, a2, a3]
    cho = queue.submit(request(), starter=CHO)
    ben2 = queue.submit(request(), starter=BEN)                # Ben has one training: his turn is later
    assert queue.queued_run_ids() == [a1, cho, a2, ben2, a3]
    assert queue.place(cho).text() == "2nd in line"
    for running, following in ((ben, a1), (a1, cho), (cho, a2)):
        queue.stop(running)
        wait_until(lambda: held.started[-1] == following)
    assert held.started == [ben, a1, cho, a2]
    assert queue.queued_run_ids() == [ben2, a3]


# --------------------------------------------------------------------------- cancel rights

def test_a_student_cancels_their_own_queued_run_never_another(workspace, held):
    queue = JobQueue(workspace, workers=1)
    training = queue.submit(request(), starter=BEN)
    wait_until(lambda: held.started == [training])
    anns = queue.submit(request(), starter=ANN)
    bens = queue.submit(request(), starter=BEN)
    with pytest.raises(NotYoursError, match="started by Ann; only they can stop it"):
        queue.stop(anns, starter=BEN)
    assert queue.store.get(anns).status == RunStatus.QUEUED and anns in queue.queued_run_ids()
    queue.store.set_shared(anns, True)                   # shared: others see it, still cannot stop it
    with pytest.raises(NotYoursError):
        queue.stop(anns, starter=BEN)
    for steer in (queue.pause, queue.stop):              # nor steer another's training run
        with pytest.raises(NotYoursError):
            steer(training, starter=ANN)
    assert queue.store.get(training).status == RunStatus.RUNNING
    queue.stop(anns, starter=ANN)                        # her own: it leaves the line
    assert queue.store.get(anns).status == RunStatus.STOPPED and anns not in queue.queued_run_ids()
    queue.stop(bens)                                     # the teacher (command line) may stop any
    assert queue.store.get(bens).status == RunStatus.STOPPED


def test_resuming_another_sessions_stopped_run_is_refused(workspace, held):
    queue = JobQueue(workspace, workers=1)
    blocker = queue.submit(request())
    wait_until(lambda: held.started == [blocker])
    anns = queue.submit(request(), starter=ANN)
    queue.stop(anns, starter=ANN)
    with pytest.raises(NotYoursError):
        queue.resume_interrupted(anns, starter=BEN)


# --------------------------------------------------------------------------- place in line

def test_place_in_line_names_the_place_and_the_measured_wait(workspace, held):
    queue = JobQueue(workspace, workers=1)
    store = queue.store
    measured = store.create_run(request(epochs=2).to_config(), name="measured earlier")
    store.set_progress(measured, batches=10, seconds_per_batch=1.5, epoch_overhead=5.0,
                       startup_seconds=10.0)
    store.set_status(measured, RunStatus.FINISHED)       # 2 epochs of 10 batches: 10 + 2 * 20 = 50 s
    training = queue.submit(request(epochs=2), starter=BEN)
    wait_until(lambda: held.started == [training])
    store.set_progress(training, seconds_left=30.0)
    first = queue.submit(request(epochs=2), starter=ANN)
    second = queue.submit(request(epochs=2), starter=Starter("c" * 24, "Cho"))
    third = queue.submit(request(epochs=2), starter=Starter("d" * 24))
    assert queue.place(first) == QueuePlace(1, 30.0)     # when the training run ends
    assert queue.place(second) == QueuePlace(2, 80.0)    # + one measured run of 50 s
    assert queue.place(third) == QueuePlace(3, 130.0)
    assert queue.place(third).text() == "3rd in line, about 2 min"
    assert queue.place(training).text() == "training now"
    queue.stop(first, starter=ANN)
    assert queue.place(third) == QueuePlace(2, 80.0)     # everyone behind moves up


def test_a_waiting_run_learning_from_the_hardest_is_counted_at_its_cost_up_to_its_time_limit(
        workspace):
    from cnn_core.queue_place import run_seconds

    store = RunStore(workspace)
    measured = store.create_run(request(epochs=28).to_config(), name="measured earlier")
    store.set_progress(measured, batches=10, seconds_per_batch=1.0, epoch_overhead=0.0,
                       startup_seconds=10.0)
    store.update_config(measured, time_limit_fit={"asked_epochs": 28, "epochs": 28,
                                                  "epoch_seconds": 10.0, "minutes": 10,
                                                  "choosing_cost": 1.5})
    store.set_status(measured, RunStatus.FINISHED)
    finished = [store.get(measured)]
    assert PRESETS["fast"].hard_share < 1 and PRESETS["fast"].time_limit == 10
    fast = store.get(store.create_run(request(epochs=28).to_config()))
    # 11 warm-up epochs of 10 batches at 1 s, 17 choosing ones at 1.5 times that, 10 s start-up
    assert run_seconds(fast, finished) == pytest.approx(10 + 11 * 10 + 17 * 15)
    longer = store.get(store.create_run(request(epochs=60).to_config()))
    assert run_seconds(longer, finished) == pytest.approx(10 + 600)   # its 10 minutes at most
    plain = TrainingRequest("shapes", PRESETS["fast"].replace(epochs=28, hard_share=1.0,
                                                              time_limit=0))
    assert run_seconds(store.get(store.create_run(plain.to_config())), finished) == \
        pytest.approx(10 + 28 * 10)


def test_place_without_measurements_says_only_the_place():
    from cnn_core.run_record import RunRecord

    def record(run_id, status):
        return RunRecord(run_id, run_id, status, "", 0.0, None, None, {"dataset": {"id": "x"}},
                         epochs_planned=2)

    waiting = [record("w1", RunStatus.QUEUED), record("w2", RunStatus.QUEUED)]
    place = queue_place(waiting[1], [record("t", RunStatus.RUNNING)], waiting, [], trainers=1)
    assert place == QueuePlace(2, None) and place.text() == "2nd in line"
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 102)] == \
        ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "102nd"]


# --------------------------------------------------------------------------- memory

def test_data_sets_are_loaded_once_per_process_and_shared_by_all_sessions():
    from cnn_core.datasets import clear_dataset_cache, load_dataset

    clear_dataset_cache()
    loaded = []

    def session():
        loaded.append(load_dataset("digits"))

    sessions = [threading.Thread(target=session) for _ in range(6)]
    for thread in sessions:
        thread.start()
    for thread in sessions:
        thread.join()
    assert len(loaded) == 6 and all(ds is loaded[0] for ds in loaded)


# --------------------------------------------------------------------------- uploads

def _pets_zip() -> bytes:
    import io
    import zipfile

    from PIL import Image

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for cls, value in (("cats", 40), ("dogs", 200)):
            for i in range(3):
                png = io.BytesIO()
                Image.new("RGB", (8, 8), (value, i * 30, 0)).save(png, "PNG")
                zf.writestr(f"{cls}/{i}.png", png.getvalue())
    return buf.getvalue()


def test_an_upload_is_listed_only_for_its_session_until_shared(workspace):
    from cnn_core.uploads import (
        dataset_uploader,
        dataset_visible,
        delete_user_dataset,
        import_image_files,
        import_image_zip_report,
        share_user_dataset,
    )

    report = import_image_zip_report(_pets_zip(), "pets", workspace, starter=ANN)
    pets = "user:" + report.name
    assert dataset_visible(pets, ANN, workspace) and not dataset_visible(pets, BEN, workspace)
    assert dataset_visible(pets, None, workspace)            # the command line lists everything
    assert dataset_visible("mnist_sample", BEN, workspace)   # built-in sets are everyone's
    with pytest.raises(NotYoursError, match="uploaded by Ann"):
        share_user_dataset(report.name, True, BEN, workspace)
    with pytest.raises(NotYoursError):
        import_image_files([("x.png", b"")], "cats", report.name, workspace, starter=BEN)
    with pytest.raises(NotYoursError):
        delete_user_dataset(report.name, workspace, starter=BEN)
    share_user_dataset(report.name, True, ANN, workspace)
    assert dataset_visible(pets, BEN, workspace)
    assert dataset_uploader(pets, BEN, workspace) == "by Ann" and dataset_uploader(pets, ANN, workspace) == ""
    share_user_dataset(report.name, False, ANN, workspace)
    assert not dataset_visible(pets, BEN, workspace)
    # a set made picture by picture belongs to its maker too
    import io

    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    made = import_image_files([("a.png", png.getvalue())], "apples", "fruit", workspace, starter=BEN)
    assert not dataset_visible("user:" + made.name, ANN, workspace)
    delete_user_dataset(made.name, workspace, starter=BEN)


def test_readme_documents_every_teacher_setting_with_its_variable_and_flag():
    from pathlib import Path

    from cnn_core.settings import declared

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for name in declared(ClassroomSettings):
        assert f"`{classroom.environment_variable(name)}`" in readme, name
        assert f"`{classroom.command_line_flag(name)} N`" in readme, name


def test_a_student_cannot_delete_or_rename_another_sessions_shared_run(workspace):
    store = RunStore(workspace)
    anns = store.create_run({"model": {}}, name="ann's", status=RunStatus.FINISHED, starter=ANN)
    store.set_shared(anns, True)
    with pytest.raises(NotYoursError):
        store.delete(anns, starter=BEN)
    with pytest.raises(NotYoursError):
        store.rename(anns, "mine now", starter=BEN)
    assert store.get(anns).name == "ann's"
    store.rename(anns, "ann's best", starter=ANN)
    store.delete(anns, starter=ANN)
    assert not store.exists(anns)
