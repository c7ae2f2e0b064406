"""Sweeps: expansion (grid order, seeded random draws, named errors), launch, status, stop."""

from __future__ import annotations

import json
import math

import pytest

from cnn_core.errors import SpecError
from cnn_core.model import PRESETS, ModelSpec
from cnn_core.run_status import FINAL_STATUSES
from cnn_core.runs import RunStore
from cnn_core.sweep_spec import (
    MAX_SWEEP_RUNS,
    SettingRange,
    SweepSpec,
    expand_sweep,
)
from cnn_core.sweeps import (
    SweepNotFoundError,
    launch_sweep,
    list_sweeps,
    load_sweep,
    stop_sweep,
    sweep_results,
    sweep_runs,
    sweep_status,
)

BASE = PRESETS["lenet"]


# --------------------------------------------------------------------------- grid

def test_grid_is_the_cartesian_product_first_setting_slowest():
    sweep = SweepSpec(base=BASE, grid={"learning_rate": [0.001, 0.01], "filters": [16, 32, 8]})
    specs = expand_sweep(sweep)
    assert [(s.learning_rate, s.filters) for s in specs] == [
        (0.001, 16), (0.001, 32), (0.001, 8), (0.01, 16), (0.01, 32), (0.01, 8)]
    for spec in specs:  # everything else is the base's
        assert spec.replace(learning_rate=BASE.learning_rate, filters=BASE.filters) == BASE
    assert expand_sweep(sweep) == specs


def test_grid_reads_text_values_and_drops_duplicates():
    sweep = SweepSpec(base=BASE, grid={"dense_dropout": ["0", "0.25", "0.250", 0.25],
                                       "batch_norm": ["true", False]})
    specs = expand_sweep(sweep)
    assert [(s.dense_dropout, s.batch_norm) for s in specs] == [
        (0.0, True), (0.0, False), (0.25, True), (0.25, False)]


def test_grid_of_one_setting():
    specs = expand_sweep(SweepSpec(base=BASE, grid={"optimizer": ["adam", "sgd", "rmsprop"]}))
    assert [s.optimizer for s in specs] == ["adam", "sgd", "rmsprop"]


@pytest.mark.parametrize("grid, setting, words", [
    ({"filters": [16, 0]}, "filters", "filters=0"),
    ({"kernel_size": [3, 4]}, "kernel_size", "kernel_size=4"),
    ({"learning_rate": [0.01, -1]}, "learning_rate", "learning_rate=-1"),
    ({"optimizer": ["adam", "magic"]}, "optimizer", "optimizer=magic"),
    ({"filters": ["many"]}, "filters", "many"),
    ({"filters": [1.5]}, "filters", "1.5"),
    ({"learning_rate": [0.01], "wings": [2]}, "wings", "wings"),
])
def test_bad_values_are_named(grid, setting, words):
    with pytest.raises(SpecError) as caught:
        expand_sweep(SweepSpec(base=BASE, grid=grid))
    assert caught.value.setting == setting
    assert words in str(caught.value)


def test_grid_of_three_settings_is_refused():
    sweep = SweepSpec(base=BASE, grid={"filters": [8], "epochs": [1], "seed": [1]})
    with pytest.raises(SpecError, match="at most 2"):
        expand_sweep(sweep)


def test_too_many_runs_is_refused_with_a_plain_message():
    sweep = SweepSpec(base=BASE, grid={"filters": list(range(8, 17)), "seed": list(range(8))})
    with pytest.raises(SpecError) as caught:
        expand_sweep(sweep)
    assert "72 models" in str(caught.value) and str(MAX_SWEEP_RUNS) in str(caught.value)
    with pytest.raises(SpecError, match="limit"):
        expand_sweep(SweepSpec(base=BASE, mode="random", draws=MAX_SWEEP_RUNS + 1,
                               ranges={"seed": {"low": 0, "high": 10**6}}))


def test_a_bad_base_is_reported():
    with pytest.raises(SpecError) as caught:
        expand_sweep(SweepSpec(base={"filters": 0}, grid={"seed": [1, 2]}))
    assert caught.value.setting == "filters" and "base model" in str(caught.value)


# --------------------------------------------------------------------------- random

RANGES = {
    "learning_rate": {"low": 1e-4, "high": 1e-1},
    "dense_dropout": SettingRange(low=0.0, high=0.5),
    "filters": {"low": 8, "high": 64},
    "optimizer": {"choices": ["adam", "sgd"]},
}


def test_random_draws_are_seeded_reproducible_and_within_ranges():
    sweep = SweepSpec(base=BASE, mode="random", draws=40, ranges=RANGES, seed=3)
    specs = expand_sweep(sweep)
    assert specs == expand_sweep(SweepSpec.from_dict(json.loads(json.dumps(sweep.to_dict(), sort_keys=True))))
    assert specs != expand_sweep(SweepSpec(base=BASE, mode="random", draws=40, ranges=RANGES, seed=4))
    assert len(specs) == 40
    for s in specs:
        assert 1e-4 <= s.learning_rate <= 1e-1
        assert 0.0 <= s.dense_dropout <= 0.5
        assert isinstance(s.filters, int) and 8 <= s.filters <= 64
        assert s.optimizer in ("adam", "sgd")
        assert s.replace(learning_rate=BASE.learning_rate, dense_dropout=BASE.dense_dropout,
                         filters=BASE.filters, optimizer=BASE.optimizer) == BASE
    # learning rate on a log scale: about a third of the draws below 0.001 (uniform: ~1%)
    assert sum(s.learning_rate < 1e-3 for s in specs) >= 6
    # dropout uniform: about half below 0.25
    assert 8 <= sum(s.dense_dropout < 0.25 for s in specs) <= 32
    assert {s.optimizer for s in specs} == {"adam", "sgd"}


def test_random_duplicate_draws_train_once():
    sweep = SweepSpec(base=BASE, mode="random", draws=10, ranges={"optimizer": {"choices": ["adam", "sgd"]}})
    assert sorted(s.optimizer for s in expand_sweep(sweep)) == ["adam", "sgd"]


def test_weight_decay_range_from_zero_is_linear_and_log_scale_needs_positive_low():
    specs = expand_sweep(SweepSpec(base=BASE, mode="random", draws=5,
                                   ranges={"weight_decay": {"low": 0, "high": 0.01}}))
    assert all(0 <= s.weight_decay <= 0.01 for s in specs)
    with pytest.raises(SpecError, match="above 0"):
        expand_sweep(SweepSpec(base=BASE, mode="random", draws=5,
                               ranges={"dense_dropout": {"low": 0, "high": 0.5, "scale": "log"}}))


@pytest.mark.parametrize("ranges, setting", [
    ({"dense_dropout": {"low": 0.5, "high": 0.1}}, "dense_dropout"),
    ({"dense_dropout": {"low": 0.0, "high": 0.95}}, "dense_dropout"),   # drawn values above 0.9
    ({"optimizer": {"low": 1, "high": 2}}, "optimizer"),
    ({"filters": {"low": 8}}, "filters"),
    ({"optimizer": {"choices": ["adam", "magic"]}}, "optimizer"),
])
def test_bad_random_ranges_are_named(ranges, setting):
    with pytest.raises(SpecError) as caught:
        expand_sweep(SweepSpec(base=BASE, mode="random", draws=30, ranges=ranges, seed=1))
    assert caught.value.setting == setting


def test_spec_dict_round_trip_and_unknown_keys():
    sweep = SweepSpec(base=BASE, mode="random", draws=4, ranges=RANGES, seed=9, preset="lenet")
    again = SweepSpec.from_dict(json.loads(json.dumps(sweep.to_dict(), sort_keys=True)))
    assert again == sweep and again.base_spec() == BASE
    grid = SweepSpec(base=BASE, grid={"filters": [8, 16]})
    assert SweepSpec.from_dict(grid.to_dict()) == grid
    with pytest.raises(SpecError) as caught:
        SweepSpec.from_dict({"mode": "grid", "gird": {}})
    assert caught.value.setting == "gird"
    with pytest.raises(SpecError, match="grid' or 'random"):
        SweepSpec(base=BASE, mode="bayesian").validate()


# --------------------------------------------------------------------------- launching (fake queue)

class FakeQueue:
    """The JobQueue's submit/stop, without training: runs stay queued until stopped."""

    def __init__(self, store: RunStore, fail_after: int | None = None):
        self.store = store
        self.submitted: list = []
        self.fail_after = fail_after

    def submit(self, request, starter=None) -> str:
        if self.fail_after is not None and len(self.submitted) >= self.fail_after:
            raise RuntimeError("queue broke")
        request.validate()
        self.submitted.append(request)
        return self.store.create_run(request.to_config(), name=request.name, sweep_id=request.sweep_id)

    def stop(self, run_id: str, starter=None) -> None:
        self.store.set_status(run_id, "stopped", "Stopped before it started.")


def test_launch_tags_runs_records_the_sweep_and_reports_status(workspace):
    store = RunStore(workspace)
    queue = FakeQueue(store)
    sweep = SweepSpec(base=BASE.replace(epochs=1), grid={"learning_rate": [0.001, 0.01], "filters": [4, 8]},
                      preset="lenet")
    sweep_id = launch_sweep(queue, store, "shapes", sweep, name="lr x filters")

    assert len(queue.submitted) == 4
    record = load_sweep(store, sweep_id)
    assert record.name == "lr x filters" and record.dataset_id == "shapes"
    assert record.values == [{"learning_rate": 0.001, "filters": 4}, {"learning_rate": 0.001, "filters": 8},
                             {"learning_rate": 0.01, "filters": 4}, {"learning_rate": 0.01, "filters": 8}]
    assert (workspace / "sweeps" / f"{sweep_id}.json").is_file()
    assert [r.id for r in list_sweeps(store)] == [sweep_id]
    runs = [store.get(run_id) for run_id in record.run_ids]
    assert all(r.sweep_id == sweep_id and r.config["preset"] == "lenet" for r in runs)
    assert "learning_rate=0.01, filters=8" in runs[3].name
    assert runs[3].config["sweep"] == {"id": sweep_id, "values": {"learning_rate": 0.01, "filters": 8}}

    status = sweep_status(store, sweep_id)
    assert status.total == 4 and status.counts["queued"] == 4 and status.fraction_done == 0

    # the first run "finishes"
    store.set_status(record.run_ids[0], "running")
    store.add_epoch(record.run_ids[0], 1, {"loss": 1.0, "accuracy": 0.5, "val_accuracy": 0.6})
    store.set_result(record.run_ids[0], test_accuracy=0.55, train_seconds=2.0)
    store.set_status(record.run_ids[0], "finished")

    stopped = stop_sweep(queue, store, sweep_id)
    assert sorted(stopped) == sorted(record.run_ids[1:])
    status = sweep_status(store, sweep_id)
    assert status.counts["finished"] == 1 and status.counts["stopped"] == 3
    assert status.is_done and status.fraction_done == 1.0
    assert sweep_status(store, sweep_id, sweep_runs(store, sweep_id)) == status   # runs read once

    table = sweep_results(store, sweep_id)
    assert list(table.columns) == ["run_id", "name", "learning_rate", "filters", "status",
                                   "best_val_accuracy", "test_accuracy", "train_seconds"]
    assert table["run_id"].tolist() == record.run_ids
    assert table.loc[0, ["learning_rate", "filters", "status"]].tolist() == [0.001, 4, "finished"]
    assert table.loc[0, "best_val_accuracy"] == pytest.approx(0.6)
    assert table.loc[0, "test_accuracy"] == pytest.approx(0.55)
    assert math.isnan(table.loc[1, "test_accuracy"])


def test_a_bad_value_queues_nothing(workspace):
    store = RunStore(workspace)
    queue = FakeQueue(store)
    with pytest.raises(SpecError) as caught:
        launch_sweep(queue, store, "shapes", SweepSpec(base=BASE, grid={"filters": [8, 16, -1]}))
    assert caught.value.setting == "filters" and "filters=-1" in str(caught.value)
    assert queue.submitted == [] and store.list_runs() == [] and list_sweeps(store) == []


def test_too_much_pooling_for_the_images_is_caught_before_queueing(workspace):
    store = RunStore(workspace)
    queue = FakeQueue(store)
    with pytest.raises(SpecError) as caught:  # shapes are 32x32: 8 pooling steps cannot work
        launch_sweep(queue, store, "shapes", SweepSpec(base=PRESETS["fast"], grid={"conv_blocks": [2, 8]}))
    assert "conv_blocks=8" in str(caught.value)
    assert queue.submitted == [] and store.list_runs() == []


def test_a_queue_failure_midway_stops_what_was_queued(workspace):
    store = RunStore(workspace)
    queue = FakeQueue(store, fail_after=2)
    with pytest.raises(RuntimeError):
        launch_sweep(queue, store, "shapes", SweepSpec(base=BASE, grid={"seed": [1, 2, 3]}))
    assert [r.status for r in store.list_runs()] == ["stopped", "stopped"]


def test_unknown_sweep(workspace):
    store = RunStore(workspace)
    with pytest.raises(SweepNotFoundError):
        sweep_status(store, "sweep-nope")
    with pytest.raises(SweepNotFoundError):
        load_sweep(store, "../runs")
    (workspace / "sweeps").mkdir()
    (workspace / "sweeps" / "broken.json").write_text("{not json")
    assert list_sweeps(store) == []


# --------------------------------------------------------------------------- the real queue

TINY = ModelSpec(conv_blocks=1, filters=4, dense_layers=1, dense_units=8, epochs=1, batch_size=128)


def test_real_queue_runs_a_sweep_and_stops_another(workspace):
    from cnn_core.job_queue import get_job_queue

    queue = get_job_queue(workspace)
    store = queue.store
    small = {"image_size": (16, 16)}
    sweep_id = launch_sweep(queue, store, "shapes", SweepSpec(base=TINY, grid={"learning_rate": [0.003, 0.01]}),
                            dataset_options=small)
    second = launch_sweep(queue, store, "shapes", SweepSpec(base=TINY, grid={"seed": [1, 2, 3]}),
                          dataset_options=small)
    stopped = stop_sweep(queue, store, second)
    assert len(stopped) == 3

    for run_id in load_sweep(store, sweep_id).run_ids:
        record = queue.wait(run_id, timeout=120)
        assert record.status == "finished", record.message
    for run_id in load_sweep(store, second).run_ids:
        assert queue.wait(run_id, timeout=60).status in FINAL_STATUSES
    assert sweep_status(store, second).counts["stopped"] == 3
    status = sweep_status(store, sweep_id)
    assert status.counts["finished"] == 2 and status.is_done
    table = sweep_results(store, sweep_id)
    assert table["learning_rate"].tolist() == [0.003, 0.01]
    assert table["test_accuracy"].notna().all() and table["train_seconds"].gt(0).all()
    assert store.get(table.loc[0, "run_id"]).config["dataset"]["image_size"] == [16, 16]
