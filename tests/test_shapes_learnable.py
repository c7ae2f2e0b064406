"""The Shapes demo set is learnable in a few epochs, and it shows what convolutions add: the
small CNN preset learns it, the MLP with the same budget does not (issue 10 items 2 and 3).

Trains for real (lenet and mlp, 3 epochs each on 4,000 pictures of 32x32): a few seconds each.
"""

from __future__ import annotations

from cnn_core.accuracy_noise import is_real_difference
from cnn_core.curve_reading import chance_level


def train(workspace, preset: str, epochs: int = 3):
    from cnn_core.model import PRESETS
    from cnn_core.runs import RunStore
    from cnn_core.training import TrainingRequest, run_training

    store = RunStore(workspace)
    record = run_training(TrainingRequest(dataset_id="shapes", model=PRESETS[preset].replace(epochs=epochs),
                                          preset=preset), store)
    assert record.status == "finished", record.message
    return record, store


def test_lenet_learns_shapes_in_three_epochs_and_beats_the_mlp_for_real(workspace):
    from cnn_core.accuracy_noise import n_test_of

    cnn, store = train(workspace, "lenet")
    chance = chance_level(5)
    curve = [row["val_accuracy"] for row in store.epochs(cnn.id)]
    assert curve[-1] > curve[0]                      # it visibly learns, epoch by epoch
    assert cnn.test_accuracy >= 3 * chance           # 60%+ where guessing gets 20%
    mlp, _ = train(workspace, "mlp")
    assert cnn.test_accuracy > mlp.test_accuracy
    assert is_real_difference(mlp.test_accuracy, cnn.test_accuracy, n_test_of(store, cnn.id))
