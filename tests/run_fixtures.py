"""Finished runs made directly in the run store (no training), for the page tests.

The run uses the built-in ``shapes`` data set so its test images exist; the stored probabilities
are chosen so every number a page shows can be computed here.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np

DATASET = "shapes"
MISTAKE_CONFIDENCES = (0.45, 0.7, 0.95)   # cycled over the mistakes, in test-set order
CURVE = [  # loss, accuracy, val_loss, val_accuracy per epoch
    (1.4, 0.45, 1.2, 0.55), (0.9, 0.70, 0.85, 0.72), (0.6, 0.80, 0.62, 0.79),
]


def shapes_test_set():
    from cnn_core.datasets import load_dataset

    ds = load_dataset(DATASET)
    return ds.y_test.astype(np.int64), list(ds.class_names)


def known_probabilities(y_true: np.ndarray, n_classes: int, every: int = 8) -> np.ndarray:
    """Every ``every``-th test image is wrong: predicted as the next class, with a confidence from
    MISTAKE_CONFIDENCES in turn (the true class gets 60% of the rest). Right ones get 0.8."""
    probs = np.full((len(y_true), n_classes), 0.2 / (n_classes - 1), dtype=np.float64)
    probs[np.arange(len(y_true)), y_true] = 0.8
    for k, i in enumerate(range(0, len(y_true), every)):
        conf = MISTAKE_CONFIDENCES[k % len(MISTAKE_CONFIDENCES)]
        pred, true = (y_true[i] + 1) % n_classes, y_true[i]
        rest = 1.0 - conf
        probs[i, :] = rest * 0.4 / (n_classes - 2)
        probs[i, pred], probs[i, true] = conf, rest * 0.6
    return probs


def make_finished_run(workspace: Path, *, name: str = "test run", epochs=CURVE, status: str = "finished",
                      predictions: bool = True, every: int = 8) -> str:
    """A run of ``shapes`` with ``epochs`` recorded and (optionally) known test predictions."""
    from cnn_core.runs import RunStore

    store = RunStore(workspace)
    config = {"dataset": {"id": DATASET}, "preset": "fast",
              "model": {"epochs": len(epochs), "batch_size": 32, "learning_rate": 0.001}}
    run_id = store.create_run(config, name=name)
    store.set_status(run_id, "running")
    for number, (loss, acc, val_loss, val_acc) in enumerate(epochs, start=1):
        store.add_epoch(run_id, number, {"loss": loss, "accuracy": acc, "val_loss": val_loss,
                                         "val_accuracy": val_acc, "seconds": 2.0})
    if predictions:
        y_true, names = shapes_test_set()
        probs = known_probabilities(y_true, len(names), every)
        store.save_predictions(run_id, probs, y_true, class_names=names)
        accuracy = float(np.mean(probs.argmax(1) == y_true))
        store.set_result(run_id, test_accuracy=accuracy, test_loss=0.5, train_seconds=6.0)
    store.set_status(run_id, status, f"Trained {len(epochs)} epochs.")
    return run_id


def figure(element) -> dict:
    """The Plotly figure (as a dict) of an AppTest ``plotly_chart`` element."""
    return json.loads(element.proto.spec)


def image_count(at) -> int:
    """Images drawn in the main area of an AppTest."""
    return sum(len(element.value) for element in at.main.image)


def image_captions(at) -> list[str]:
    return [caption for element in at.main.image for caption in element.captions]


def wait_until(condition, timeout: float = 60.0, interval: float = 0.01):
    """``condition()``'s first true value, asked every ``interval`` s; fails after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {condition}")


def hold_trainings(monkeypatch) -> threading.Event:
    """The job queue's runs stay "training" (no Keras) until the returned event is set or the
    run is stopped; then they end as stopped."""
    from cnn_core import job_queue

    release = threading.Event()

    def held_training(run_id, store, control):
        store.set_status(run_id, "running")
        while not (release.is_set() or control.stop_requested):
            release.wait(0.01)
        store.set_status(run_id, "stopped")

    monkeypatch.setattr(job_queue, "run_training", held_training)
    return release


def end_held_trainings(workspace, release: threading.Event) -> None:
    """Stop every live run of ``workspace`` held by :func:`hold_trainings` and wait for each."""
    from cnn_core.job_queue import get_job_queue
    from cnn_core.runs import RunStore

    store, queue = RunStore(workspace), get_job_queue(workspace)
    for run in store.list_runs():
        if run.is_active:
            queue.stop(run.id)
    release.set()
    for run in store.list_runs():
        queue.wait(run.id, timeout=60)
