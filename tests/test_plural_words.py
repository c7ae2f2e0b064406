"""Counts read as English: "1 epoch", "2 epochs" (ngettext), never "1 epochs"."""

from __future__ import annotations

from cnn_core.model import ModelSpec
from cnn_core.settings import declared, show_value


def test_early_stopping_after_one_epoch_is_singular():
    patience = declared(ModelSpec)["early_stopping_patience"]
    assert show_value(patience, 1) == "after 1 epoch"
    assert show_value(patience, 3) == "after 3 epochs"
    assert show_value(patience, 0) == "off"


def test_a_one_epoch_model_is_described_in_the_singular():
    assert ModelSpec(epochs=1).describe().endswith(", 1 epoch")
    assert ModelSpec(epochs=2).describe().endswith(", 2 epochs")


def test_the_mlp_vs_cnn_budget_and_run_names_use_the_singular_for_one_epoch():
    from cnn_core.comparison import _mlp_vs_cnn_run_name, equal_budget, mlp_vs_cnn_specs

    mlp, cnn = mlp_vs_cnn_specs(1)
    assert equal_budget(mlp, cnn).startswith("1 epoch each,")
    assert _mlp_vs_cnn_run_name("lenet", 1) == "MLP vs CNN · LeNet-5 · 1 epoch"
    assert _mlp_vs_cnn_run_name("lenet", 5).endswith("5 epochs")


def test_a_run_of_one_epoch_says_trained_1_epoch(workspace):
    from cnn_core.runs import RunStore
    from cnn_core.training import TrainingRequest, run_training

    spec = ModelSpec(conv_blocks=1, filters=4, dense_layers=0, batch_size=256, epochs=1, seed=1)
    record = run_training(TrainingRequest("digits", spec), RunStore(workspace))
    assert record.status == "finished", record.message
    assert record.shown_message == "Trained 1 epoch."
