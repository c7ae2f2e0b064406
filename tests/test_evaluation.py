"""Scores from known probabilities, hand-computed; runs and ensembles through a fake store."""

from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from cnn_core.errors import CnnLabError, RunNotFoundError, RunStateError
from cnn_core.evaluation import (
    PredictionMismatchError,
    ensemble_predictions,
    evaluate_ensemble,
    evaluate_predictions,
    evaluate_run,
    mistakes,
    most_confident_mistakes,
    top_confused_pairs,
)

NAMES = ["cat", "dog", "fox"]
Y_TRUE = np.array([0, 0, 1, 1, 2, 2])
PROBS = np.array([
    [0.7, 0.2, 0.1],  # cat -> cat
    [0.4, 0.5, 0.1],  # cat -> dog (mistake, confidence 0.5)
    [0.1, 0.8, 0.1],  # dog -> dog
    [0.1, 0.3, 0.6],  # dog -> fox (mistake, confidence 0.6)
    [0.1, 0.1, 0.8],  # fox -> fox
    [0.3, 0.1, 0.6],  # fox -> fox
])


def test_accuracy_loss_confusion_and_report_by_hand():
    ev = evaluate_predictions(PROBS, Y_TRUE, NAMES)
    assert ev.accuracy == pytest.approx(4 / 6)
    expected_loss = -np.mean(np.log([0.7, 0.4, 0.8, 0.3, 0.8, 0.6]))
    assert ev.loss == pytest.approx(expected_loss)
    assert ev.y_pred.tolist() == [0, 1, 1, 2, 2, 2]
    assert ev.confusion.tolist() == [[1, 1, 0], [0, 1, 1], [0, 0, 2]]
    np.testing.assert_allclose(ev.confusion_normalized, [[0.5, 0.5, 0], [0, 0.5, 0.5], [0, 0, 1]])
    report = ev.report.set_index("class")
    assert list(ev.report.columns) == ["class", "precision", "recall", "f1", "support"]
    # cat: P 1/1, R 1/2; dog: P 1/2, R 1/2; fox: P 2/3, R 2/2
    np.testing.assert_allclose(report["precision"], [1.0, 0.5, 2 / 3])
    np.testing.assert_allclose(report["recall"], [0.5, 0.5, 1.0])
    np.testing.assert_allclose(report["f1"], [2 / 3, 0.5, 0.8])
    assert report["support"].tolist() == [2, 2, 2]
    np.testing.assert_allclose(ev.confidence, [0.7, 0.5, 0.8, 0.6, 0.8, 0.6])


def test_loss_clips_zero_probabilities():
    ev = evaluate_predictions(np.array([[1.0, 0.0]]), np.array([1]), ["a", "b"])
    assert math.isfinite(ev.loss) and ev.loss == pytest.approx(-math.log(1e-7))


def test_absent_class_gets_zero_row_without_nan():
    probs = np.array([[0.9, 0.05, 0.05, 0.0], [0.1, 0.2, 0.7, 0.0], [0.2, 0.7, 0.1, 0.0]])
    ev = evaluate_predictions(probs, np.array([0, 1, 2]), ["a", "b", "c", "d"])
    assert ev.confusion.shape == (4, 4)
    assert ev.confusion[3].tolist() == [0, 0, 0, 0]
    assert not np.isnan(ev.confusion_normalized).any()
    assert ev.confusion_normalized[3].tolist() == [0, 0, 0, 0]
    row = ev.report.set_index("class").loc["d"]
    assert (row["precision"], row["recall"], row["f1"], row["support"]) == (0, 0, 0, 0)
    assert not ev.report[["precision", "recall", "f1"]].isna().any().any()


def test_mistakes_tables():
    ev = evaluate_predictions(PROBS, Y_TRUE, NAMES)
    table = mistakes(ev)
    assert list(table.columns)[:4] == ["index", "true", "predicted", "confidence"]
    assert table["index"].tolist() == [1, 3]
    assert table["true_name"].tolist() == ["cat", "dog"]
    assert table["predicted_name"].tolist() == ["dog", "fox"]
    np.testing.assert_allclose(table["confidence"], [0.5, 0.6])
    np.testing.assert_allclose(table["true_probability"], [0.4, 0.3])
    top = most_confident_mistakes(ev, 1)
    assert top["index"].tolist() == [3]
    assert most_confident_mistakes(ev, 10)["index"].tolist() == [3, 1]
    perfect = evaluate_predictions(np.eye(3), np.arange(3), NAMES)
    assert mistakes(perfect).empty and top_confused_pairs(perfect, 5).empty


def test_top_confused_pairs_sorted_by_count():
    # fox->cat x3, cat->dog x2, dog->fox x1, plus correct ones
    y_true = np.array([2, 2, 2, 0, 0, 1, 0, 1, 2])
    y_pred = np.array([0, 0, 0, 1, 1, 2, 0, 1, 2])
    ev = evaluate_predictions(np.eye(3)[y_pred], y_true, NAMES)
    pairs = top_confused_pairs(ev, 2)
    assert pairs[["true_name", "predicted_name", "count"]].values.tolist() == [
        ["fox", "cat", 3], ["cat", "dog", 2]]
    assert pairs["share"].tolist() == pytest.approx([3 / 4, 2 / 3])
    assert len(top_confused_pairs(ev, 10)) == 3


def test_ensemble_beats_its_members_in_a_designed_case():
    y = np.array([0, 1])
    a = np.array([[0.9, 0.1], [0.6, 0.4]])  # right and sure, wrong and unsure
    b = np.array([[0.4, 0.6], [0.1, 0.9]])  # wrong and unsure, right and sure
    for member in (a, b):
        assert evaluate_predictions(member, y, ["x", "y"]).accuracy == 0.5
    combined = ensemble_predictions([a, b])
    np.testing.assert_allclose(combined, [[0.65, 0.35], [0.35, 0.65]])
    assert evaluate_predictions(combined, y, ["x", "y"]).accuracy == 1.0
    np.testing.assert_allclose(ensemble_predictions([a, b], weights=[3, 0]), a)
    np.testing.assert_allclose(ensemble_predictions([a, b], weights=[1, 3]),
                               0.25 * a + 0.75 * b)


def test_ensemble_input_errors():
    with pytest.raises(PredictionMismatchError) as info:
        ensemble_predictions([np.zeros((4, 3)), np.zeros((5, 3))])
    assert isinstance(info.value, CnnLabError) and isinstance(info.value, ValueError)
    assert isinstance(info.value, RunStateError)
    assert "cannot be combined" in str(info.value)
    with pytest.raises(PredictionMismatchError):
        ensemble_predictions([])
    with pytest.raises(PredictionMismatchError):
        ensemble_predictions([np.zeros((2, 2))] * 2, weights=[1.0])
    with pytest.raises(PredictionMismatchError):
        evaluate_predictions(np.zeros((3, 2)), np.array([0, 1]), ["a", "b"])
    with pytest.raises(PredictionMismatchError):
        evaluate_predictions(np.full((2, 3), 1 / 3), np.array([0, 1]), ["a", "b"])


# --- runs in a store ----------------------------------------------------------------------------


@dataclass
class FakeRecord:
    id: str
    name: str
    config: dict = field(default_factory=dict)


class FakeStore:
    """The two RunStore methods evaluation uses."""

    def __init__(self):
        self.records: dict[str, FakeRecord] = {}
        self.predictions: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def add(self, run_id, dataset, probs=None, y_true=None):
        self.records[run_id] = FakeRecord(run_id, f"run {run_id}", {"dataset": dataset})
        if probs is not None:
            self.predictions[run_id] = (np.asarray(probs), np.asarray(y_true))

    def get(self, run_id):
        if run_id not in self.records:
            raise RunNotFoundError(f"No run {run_id}.")
        return self.records[run_id]

    def load_predictions(self, run_id):
        self.get(run_id)
        if run_id not in self.predictions:
            raise FileNotFoundError(run_id)
        return self.predictions[run_id]


SHAPES = {"id": "shapes", "image_size": None, "color_mode": None, "class_names": NAMES}


def test_evaluate_run_uses_stored_predictions_and_class_names():
    store = FakeStore()
    store.add("r1", SHAPES, PROBS, Y_TRUE)
    ev = evaluate_run(store, "r1")
    assert ev.accuracy == pytest.approx(4 / 6) and ev.class_names == NAMES
    store.add("r2", {"id": "shapes"}, PROBS, Y_TRUE)  # no names stored -> numbers
    assert evaluate_run(store, "r2").class_names == ["0", "1", "2"]
    assert evaluate_run(store, "r2", class_names=NAMES).class_names == NAMES
    store.add("queued", SHAPES)
    with pytest.raises(RunStateError, match="no saved test predictions"):
        evaluate_run(store, "queued")
    with pytest.raises(RunNotFoundError):
        evaluate_run(store, "missing")


def test_evaluate_ensemble_of_runs():
    y = np.array([0, 1])
    store = FakeStore()
    store.add("a", {"id": "pair", "image_size": [8, 8]}, [[0.9, 0.1], [0.6, 0.4]], y)
    store.add("b", {"id": "pair", "image_size": (8, 8), "color_mode": None},
              [[0.4, 0.6], [0.1, 0.9]], y)
    ev = evaluate_ensemble(store, ["a", "b"])
    assert ev.accuracy == 1.0 and evaluate_run(store, "a").accuracy == 0.5
    assert evaluate_ensemble(store, ["a", "b"], weights=[1, 0]).accuracy == 0.5

    store.add("other", {"id": "digits", "image_size": [8, 8]}, [[0.5, 0.5], [0.5, 0.5]], y)
    with pytest.raises(CnnLabError, match="different data sets") as info:
        evaluate_ensemble(store, ["a", "other"])
    assert "pair" in str(info.value) and "digits" in str(info.value)
    store.add("shuffled", {"id": "pair", "image_size": [8, 8]}, [[0.5, 0.5], [0.5, 0.5]],
              y[::-1])
    with pytest.raises(CnnLabError, match="different images"):
        evaluate_ensemble(store, ["a", "shuffled"])
    with pytest.raises(CnnLabError):
        evaluate_ensemble(store, [])


def test_module_works_without_tensorflow():
    root = Path(__file__).resolve().parent.parent
    code = ("import sys; import cnn_core.evaluation; "
            "assert not {'tensorflow', 'keras', 'sklearn'} & set(sys.modules)")
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True, timeout=120)
