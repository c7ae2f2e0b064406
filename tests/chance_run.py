"""A run stored as the issue saw it (no training): MNIST sample, lenet, SGD with momentum,
learning rate 1, 3 epochs, accuracy flat at 10%. Shared by the AppTest and the browser test."""

from __future__ import annotations

import json
from pathlib import Path

# loss, accuracy, val_loss, val_accuracy per epoch: a huge first-epoch average, then the loss of
# an even guess among 10 classes (ln 10 = 2.30)
CHANCE_CURVE = [(14.2, 0.102, 2.31, 0.10), (2.305, 0.100, 2.304, 0.10), (2.303, 0.100, 2.303, 0.10)]


def make_chance_run(workspace: Path, name: str = "learning rate 1") -> str:
    from cnn_core.runs import RunStore

    store = RunStore(workspace)
    config = {"dataset": {"id": "mnist_sample"}, "preset": "lenet",
              "model": {"epochs": 3, "batch_size": 64, "optimizer": "sgd", "momentum": 0.9, "learning_rate": 1.0},
              "preprocess": {"scaling": "divide_255"}}
    run_id = store.create_run(config, name=name)
    store.run_dir(run_id).mkdir(parents=True, exist_ok=True)
    (store.run_dir(run_id) / "dataset.json").write_text(
        json.dumps({"class_names": [str(i) for i in range(10)], "image_shape": [28, 28, 1]}), encoding="utf-8")
    store.set_status(run_id, "running")
    for number, (loss, acc, val_loss, val_acc) in enumerate(CHANCE_CURVE, start=1):
        store.add_epoch(run_id, number, {"loss": loss, "accuracy": acc, "val_loss": val_loss,
                                         "val_accuracy": val_acc, "seconds": 1.0})
    store.set_result(run_id, test_accuracy=0.1, test_loss=2.303, train_seconds=3.0)
    store.set_status(run_id, "finished", "Trained 3 epochs.")
    return run_id
