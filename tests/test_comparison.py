"""Comparing runs: the runs table, differing settings, what changed, MLP vs CNN, ensembles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cnn_core.augment import AugmentSpec
from cnn_core.comparison import (
    RUNS_TABLE_COLUMNS,
    differing_settings,
    flatten_config,
    mlp_vs_cnn,
    mlp_vs_cnn_pairs,
    runs_table,
    what_changed,
)
from cnn_core.errors import SpecError
from cnn_core.evaluation import ensemble_predictions, evaluate_ensemble
from cnn_core.model import PRESETS
from cnn_core.preprocessing import PreprocessSpec
from cnn_core.runs import RunStore


def config(model=None, augment=None, dataset="shapes", preset="lenet", **extra) -> dict:
    """A run config as the job queue writes it (TrainingRequest.to_config)."""
    return {
        "dataset": {"id": dataset},
        "model": (model or PRESETS["lenet"]).to_dict(),
        "preprocess": PreprocessSpec().to_dict(),
        "augment": (augment or AugmentSpec()).to_dict(),
        "preset": preset,
        **extra,
    }


def finished(store: RunStore, cfg: dict, name: str, test_accuracy: float, seconds: float,
             val_accuracy: float = 0.5) -> str:
    run_id = store.create_run(cfg, name=name)
    store.set_status(run_id, "running")
    store.add_epoch(run_id, 1, {"loss": 1.0, "val_accuracy": val_accuracy})
    store.set_result(run_id, test_accuracy=test_accuracy, test_loss=0.5, train_seconds=seconds)
    store.set_status(run_id, "finished")
    return run_id


@pytest.fixture
def store(workspace) -> RunStore:
    return RunStore(workspace)


def test_runs_table_has_one_row_per_run_with_key_settings(store):
    a = finished(store, config(), "plain", 0.8, 10.0, val_accuracy=0.82)
    b = finished(store, config(PRESETS["lenet"].replace(learning_rate=0.01, dense_dropout=0.3),
                               AugmentSpec(flip="horizontal")), "tuned", 0.85, 12.5)
    queued = store.create_run(config(PRESETS["mlp"], preset="mlp"), name="waiting")
    table = runs_table(store)
    assert list(table.columns) == list(RUNS_TABLE_COLUMNS)
    assert table["run_id"].tolist() == [queued, b, a]        # newest first
    row = table.set_index("run_id").loc[b]
    assert (row["name"], row["dataset"], row["preset"]) == ("tuned", "shapes", "lenet")
    assert row["learning_rate"] == 0.01 and row["dense_dropout"] == 0.3
    assert bool(row["augmentation"]) is True
    assert row["test_accuracy"] == 0.85 and row["train_seconds"] == 12.5 and row["status"] == "finished"
    assert bool(table.set_index("run_id").loc[a, "augmentation"]) is False
    assert table.set_index("run_id").loc[queued, "conv_blocks"] == 0
    assert pd.api.types.is_datetime64_any_dtype(table["created_at"])
    assert runs_table(store, [a, b])["run_id"].tolist() == [a, b]
    assert runs_table(RunStore(store.workspace / "empty")).empty


def test_differing_settings_flattens_and_ignores_bookkeeping():
    one = config()
    two = config(PRESETS["lenet"].replace(learning_rate=0.01), AugmentSpec(flip="horizontal"),
                 sweep={"id": "sweep-1", "values": {"learning_rate": 0.01}})
    three = config(dataset="mnist_sample")
    assert differing_settings([one, two]) == ["model.learning_rate", "augment.flip"]
    assert differing_settings([one, two, three]) == ["dataset.id", "model.learning_rate", "augment.flip"]
    assert differing_settings([one, one]) == [] and differing_settings([one]) == []
    assert "sweep.id" in differing_settings([one, two], include_bookkeeping=True)
    # a setting missing from one config differs; 1 and 1.0 are the same number
    assert differing_settings([{"model": {"filters": 1}}, {"model": {"filters": 1.0}}]) == []
    assert differing_settings([{"model": {"filters": 1}}, {"model": {}}]) == ["model.filters"]
    assert flatten_config({"a": {"b": [1, 2]}, "c": {}, "d": None}) == {"a.b": (1, 2), "d": None}


def test_what_changed_lists_old_and_new_and_the_effect(store):
    a = finished(store, config(), "before", 0.80, 10.0, val_accuracy=0.81)
    b = finished(store, config(PRESETS["lenet"].replace(learning_rate=0.01, batch_norm=True)), "after",
                 0.83, 14.0, val_accuracy=0.86)
    change = what_changed(store, a, b)
    assert [(c.setting, c.old, c.new) for c in change.changes] == [
        ("model.batch_norm", False, True), ("model.learning_rate", 0.001, 0.01)]
    assert change.test_accuracy_delta == pytest.approx(0.03)
    assert change.best_val_accuracy_delta == pytest.approx(0.05)
    assert change.train_seconds_delta == pytest.approx(4.0)
    summary = change.summary()
    assert "Learning rate: 0.001 -> 0.01" in summary and "Batch normalisation: off -> on" in summary
    assert "+3.0 points" in summary and "4.0 s longer" in summary
    same = what_changed(store, a, a)
    assert same.changes == [] and same.summary().startswith("same settings")
    unfinished = store.create_run(config())
    assert what_changed(store, a, unfinished).test_accuracy_delta is None


def test_what_changed_speaks_the_widgets_words_and_units(store):
    a = finished(store, config(), "plain", 0.8, 10.0)
    b = finished(store, config(PRESETS["lenet"].replace(optimizer="sgd"), AugmentSpec(rotation=0.1)),
                 "turned", 0.8, 10.0)
    lines = [c.describe() for c in what_changed(store, a, b).changes]
    assert "Optimiser: Adam -> SGD with momentum" in lines
    assert "Turn: off -> up to ±36°" in lines


class FakeQueue:
    def __init__(self, store):
        self.store = store
        self.requests = []

    def submit(self, request, starter=None):
        request.validate()
        self.requests.append(request)
        return self.store.create_run(request.to_config(), name=request.name, sweep_id=request.sweep_id)


def test_mlp_vs_cnn_queues_both_with_the_same_epochs_and_is_found_again(store):
    queue = FakeQueue(store)
    mlp_id, cnn_id = mlp_vs_cnn(queue, "shapes", epochs=3)
    assert [r.preset for r in queue.requests] == ["mlp", "lenet"]
    assert [r.model.epochs for r in queue.requests] == [3, 3]
    assert queue.requests[0].model.conv_blocks == 0 and queue.requests[1].model.conv_blocks > 0
    assert {r.dataset_id for r in queue.requests} == {"shapes"}
    pairs = mlp_vs_cnn_pairs(store)
    assert [(m.id, c.id) for m, c in pairs] == [(mlp_id, cnn_id)]
    assert store.get(mlp_id).config["comparison"] == store.get(cnn_id).config["comparison"] == "mlp_vs_cnn"
    assert differing_settings([store.get(mlp_id).config, store.get(cnn_id).config])[0] == "model.conv_blocks"
    second = mlp_vs_cnn(queue, "shapes", epochs=1, cnn_preset="fast")
    assert [(m.id, c.id) for m, c in mlp_vs_cnn_pairs(store)] == [second, (mlp_id, cnn_id)]
    with pytest.raises(SpecError) as caught:
        mlp_vs_cnn(queue, "shapes", epochs=3, cnn_preset="mlp")
    assert caught.value.setting == "preset"
    with pytest.raises(SpecError):
        mlp_vs_cnn(queue, "shapes", epochs=0)


def test_ensemble_accuracy_on_known_probabilities(store):
    """Three runs each right on 2 of 4 images; their average is right on all 4."""
    y = np.array([0, 1, 2, 0])
    probs = [
        np.array([[.6, .3, .1], [.1, .6, .3], [.5, .4, .1], [.2, .5, .3]]),   # right: 0, 1
        np.array([[.6, .3, .1], [.5, .2, .3], [.1, .3, .6], [.2, .6, .2]]),   # right: 0, 2
        np.array([[.2, .5, .3], [.1, .6, .3], [.1, .3, .6], [.9, .05, .05]]),  # right: 1, 2, 3
    ]
    ids = []
    for i, p in enumerate(probs):
        run_id = finished(store, config(), f"run {i}", float(np.mean(p.argmax(1) == y)), 1.0)
        store.save_predictions(run_id, p, y)
        ids.append(run_id)
    np.testing.assert_allclose(ensemble_predictions(probs), np.mean(probs, axis=0))
    assert evaluate_ensemble(store, ids).accuracy == 1.0

    from cnn_core.cli.explore import ensemble_line

    line = ensemble_line(store, ids)
    assert "Ensemble of 3 runs: test accuracy 100.0%" in line and "best single run 75.0%" in line
    assert "needs at least two" in ensemble_line(store, ids[:1])


def test_what_changed_says_no_real_difference_within_the_test_sets_noise(store):
    from cnn_core.workspace import atomic_write_json

    a = finished(store, config(), "before", 0.20, 10.0)
    b = finished(store, config(PRESETS["lenet"].replace(learning_rate=0.01)), "after", 0.22, 10.0)
    c = finished(store, config(PRESETS["lenet"].replace(learning_rate=0.003)), "much better", 0.60, 10.0)
    assert what_changed(store, a, b).noise_note == ""  # test set size unknown: nothing claimed
    for run_id in (a, b, c):
        atomic_write_json(store.run_dir(run_id) / "dataset.json", {"n_test": 400})
    small = what_changed(store, a, b)
    assert small.n_test_a == small.n_test_b == 400
    assert "no real difference" in small.noise_note and "no real difference" in small.summary()
    big = what_changed(store, a, c)
    assert big.noise_note == "" and "no real difference" not in big.summary()


def test_mlp_vs_cnn_defaults_to_shapes_with_an_equal_budget_passed_at_submission(store):
    queue = FakeQueue(store)
    mlp_id, cnn_id = mlp_vs_cnn(queue)
    mlp, cnn = (r.model for r in queue.requests)
    assert {r.dataset_id for r in queue.requests} == {"shapes"}
    for setting in ("epochs", "batch_size", "optimizer", "learning_rate", "lr_schedule"):
        assert getattr(mlp, setting) == getattr(cnn, setting), setting
    # the tags travel with the request: the queue stores them, nothing rewrites the config later
    assert queue.requests[0].extra_config["comparison"] == "mlp_vs_cnn"
    assert queue.requests[0].extra_config["comparison_id"] == queue.requests[1].extra_config["comparison_id"]
    budget = store.get(cnn_id).config["comparison_budget"]
    assert f"{cnn.epochs} epochs each" in budget and "learning rate" in budget
    # a CNN preset with another optimizer: the MLP follows it
    mlp_vs_cnn(queue, "shapes", epochs=2, cnn_preset="fast")
    fast_mlp, fast_cnn = (r.model for r in queue.requests[2:])
    assert (fast_mlp.optimizer, fast_mlp.learning_rate, fast_mlp.batch_size) == \
        (fast_cnn.optimizer, fast_cnn.learning_rate, fast_cnn.batch_size)
    assert fast_mlp.conv_blocks == 0


def test_what_changed_between_an_mlp_and_a_cnn_lists_only_settings_both_have(store):
    mlp = finished(store, config(PRESETS["mlp"], preset="mlp"), "mlp", 0.5, 5.0)
    cnn = finished(store, config(PRESETS["lenet"]), "cnn", 0.8, 9.0)
    changed = [c.setting for c in what_changed(store, mlp, cnn).changes]
    assert "model.conv_blocks" in changed and "model.dense_units" in changed
    for conv_only in ("filters", "kernel_size", "padding", "pooling", "filter_growth", "head"):
        assert f"model.{conv_only}" not in changed
    # Between two CNNs those settings are still listed.
    other = finished(store, config(PRESETS["lenet"].replace(kernel_size=3, padding="same")), "cnn2", 0.8, 9.0)
    changed = [c.setting for c in what_changed(store, cnn, other).changes]
    assert {"model.kernel_size", "model.padding"} <= set(changed)


def test_the_mlp_vs_cnn_pair_is_said_to_differ_in_convolutions_and_dense_layers():
    from cnn_core.comparison import mlp_vs_cnn_specs, network_differences

    mlp, cnn = mlp_vs_cnn_specs(3, "lenet")
    words = network_differences(mlp.to_dict(), cnn.to_dict())
    assert "2 convolution blocks, the MLP none" in words
    assert f"Units in the first dense layer: {mlp.dense_units} (MLP) vs {cnn.dense_units} (CNN)" in words
    assert "only the convolutions" not in words
    for budget_or_conv in ("Learning rate", "Epochs", "Filter size", "Padding"):
        assert budget_or_conv not in words
    mlp, fast = mlp_vs_cnn_specs(1, "fast")
    words = network_differences(mlp.to_dict(), fast.to_dict())
    assert "3 convolution blocks" in words and "Dense layers: 2 (MLP) vs 0 (CNN)" in words
    assert "Units in the first dense layer" not in words   # the fast CNN has no dense layer
    assert fast.time_limit == mlp.time_limit == 0 and fast.epochs == mlp.epochs == 1   # all epochs
    assert "Time limit" not in words
