"""What a trained model got right and wrong, from its stored test-set probabilities.

Plain numpy, pandas and scikit-learn (no TensorFlow; scikit-learn is imported on first use):
pages read the predictions a run saved and never retrain or re-predict to look at them.

Example:
    >>> import numpy as np
    >>> probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    >>> ev = evaluate_predictions(probs, np.array([0, 1, 1]), ["cat", "dog"])
    >>> round(ev.accuracy, 3), ev.confusion.tolist()
    (0.667, [[1, 0], [1, 1]])
    >>> mistakes(ev)[["index", "true_name", "predicted_name"]].values.tolist()
    [[2, 'dog', 'cat']]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from cnn_core.class_names import MAX_CLASSES, run_class_names, too_many_classes_message
from cnn_core.errors import CnnLabError, RunStateError

#: Probabilities are clipped to [EPSILON, 1 - EPSILON] before the log, as Keras does.
EPSILON = 1e-7


class PredictionMismatchError(RunStateError, ValueError):
    """Predictions that cannot be combined or evaluated together (shapes or test sets differ)."""


@dataclass(eq=False)
class Evaluation:
    """Scores of one model (or ensemble) on a test set.

    ``confusion[i, j]`` counts images of true class ``i`` predicted as ``j``;
    ``confusion_normalized`` divides each row by its total (rows of absent classes are zeros).
    ``report`` has one row per class: class, precision, recall, f1, support.
    """

    accuracy: float
    loss: float
    class_names: list[str]
    confusion: np.ndarray
    confusion_normalized: np.ndarray
    report: pd.DataFrame
    y_true: np.ndarray
    y_pred: np.ndarray
    probs: np.ndarray

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def confidence(self) -> np.ndarray:
        """Probability the model gave to its own prediction, per test image."""
        return self.probs[np.arange(len(self.y_pred)), self.y_pred]


def _check_predictions(probs, y_true, n_classes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    probs = np.asarray(probs, dtype=np.float64)
    y_true = np.asarray(y_true).reshape(-1)
    if probs.ndim != 2 or probs.shape[1] < 1:
        raise PredictionMismatchError(
            "Expected one row of class probabilities per test image; got an array of shape {shape}. "
            "The stored predictions look damaged: train the run again.",
            shape=probs.shape
        )
    if probs.shape[1] > MAX_CLASSES:
        raise PredictionMismatchError(
            too_many_classes_message(probs.shape[1], "The run") + " Its results cannot be shown.")
    if len(probs) != len(y_true):
        raise PredictionMismatchError(
            "There are {n_probs} predictions but {n_y_true} true labels. The stored predictions look "
            "damaged: train the run again.",
            n_probs=len(probs), n_y_true=len(y_true)
        )
    if n_classes is not None and probs.shape[1] != n_classes:
        raise PredictionMismatchError(
            "The predictions have {probs} classes but the data set has {n_classes}. The run was "
            "probably trained on a different version of the data set.",
            probs=probs.shape[1], n_classes=n_classes
        )
    if len(y_true) and (not np.issubdtype(y_true.dtype, np.integer)
                        or y_true.min() < 0 or y_true.max() >= probs.shape[1]):
        raise PredictionMismatchError(
            "The true labels must be class numbers from 0 to {probs}; found values from {y_true} to "
            "{y_true2}.",
            probs=probs.shape[1] - 1, y_true=y_true.min(), y_true2=y_true.max()
        )
    return probs, y_true.astype(np.int64)


def _row_normalize(confusion: np.ndarray) -> np.ndarray:
    totals = confusion.sum(axis=1, keepdims=True).astype(np.float64)
    return np.divide(confusion, totals, out=np.zeros(confusion.shape, dtype=np.float64),
                     where=totals > 0)


def evaluate_predictions(probs, y_true, class_names: Sequence[str]) -> Evaluation:
    """Accuracy, loss, confusion matrix and per-class report from class probabilities.

    Args:
        probs: ``(N, n_classes)`` probabilities (rows of a softmax).
        y_true: ``(N,)`` true class numbers.
        class_names: one name per class (its length is the number of classes).

    ``loss`` is the mean categorical cross-entropy of the probabilities (clipped to
    ``[1e-7, 1 - 1e-7]``); classes missing from the test set still get a confusion row.
    """
    # scikit-learn takes seconds to import: only when something is evaluated
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    class_names = [str(c) for c in class_names]
    probs, y_true = _check_predictions(probs, y_true, len(class_names))
    n = len(class_names)
    y_pred = probs.argmax(axis=1).astype(np.int64) if len(probs) else np.zeros(0, np.int64)
    if len(y_true):
        accuracy = float(np.mean(y_pred == y_true))
        p_true = np.clip(probs[np.arange(len(y_true)), y_true], EPSILON, 1 - EPSILON)
        loss = float(np.mean(-np.log(p_true)))
    else:
        accuracy, loss = float("nan"), float("nan")
    labels = list(range(n))
    confusion = confusion_matrix(y_true, y_pred, labels=labels) if len(y_true) \
        else np.zeros((n, n), dtype=np.int64)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    ) if len(y_true) else (np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n, dtype=int))
    report = pd.DataFrame({
        "class": class_names,
        "precision": np.asarray(precision, dtype=float),
        "recall": np.asarray(recall, dtype=float),
        "f1": np.asarray(f1, dtype=float),
        "support": np.asarray(support, dtype=np.int64),
    })
    return Evaluation(
        accuracy=accuracy, loss=loss, class_names=class_names,
        confusion=confusion.astype(np.int64), confusion_normalized=_row_normalize(confusion),
        report=report, y_true=y_true, y_pred=y_pred, probs=probs,
    )


def mistakes(ev: Evaluation) -> pd.DataFrame:
    """Every wrongly classified test image, in test-set order.

    Columns: ``index`` (position in the test set), ``true``, ``predicted`` (class numbers),
    ``confidence`` (probability of the predicted class), ``true_probability`` (probability the
    model gave the right class), ``true_name``, ``predicted_name``.
    """
    wrong = np.flatnonzero(ev.y_pred != ev.y_true)
    names = np.asarray(ev.class_names, dtype=object)
    true, pred = ev.y_true[wrong], ev.y_pred[wrong]
    return pd.DataFrame({
        "index": wrong.astype(np.int64),
        "true": true,
        "predicted": pred,
        "confidence": ev.probs[wrong, pred].astype(float),
        "true_probability": ev.probs[wrong, true].astype(float),
        "true_name": names[true].astype(str) if len(wrong) else np.array([], dtype=str),
        "predicted_name": names[pred].astype(str) if len(wrong) else np.array([], dtype=str),
    })


def most_confident_mistakes(ev: Evaluation, n: int = 20) -> pd.DataFrame:
    """The ``n`` mistakes the model was surest about (highest confidence first)."""
    table = mistakes(ev)
    return table.sort_values(["confidence", "index"], ascending=[False, True],
                             kind="stable").head(max(0, int(n))).reset_index(drop=True)


def top_confused_pairs(ev: Evaluation, n: int = 10) -> pd.DataFrame:
    """The ``n`` most frequent (true class, predicted class) mix-ups, largest count first.

    Columns: ``true``, ``predicted``, ``count``, ``true_name``, ``predicted_name``, and
    ``share`` (the fraction of that true class's test images that went to that prediction).
    Pairs that never happened are left out.
    """
    off = ev.confusion.copy()
    np.fill_diagonal(off, 0)
    true, pred = np.nonzero(off)
    counts = off[true, pred]
    order = np.lexsort((pred, true, -counts))[: max(0, int(n))]
    true, pred, counts = true[order], pred[order], counts[order]
    names = np.asarray(ev.class_names, dtype=object)
    return pd.DataFrame({
        "true": true.astype(np.int64),
        "predicted": pred.astype(np.int64),
        "count": counts.astype(np.int64),
        "true_name": [str(names[t]) for t in true],
        "predicted_name": [str(names[p]) for p in pred],
        "share": ev.confusion_normalized[true, pred].astype(float),
    })


def ensemble_predictions(list_of_probs: Sequence[Any], weights: Sequence[float] | None = None
                         ) -> np.ndarray:
    """Average class probabilities of several models (optionally weighted).

    Raises:
        PredictionMismatchError: (a :class:`RunStateError` and ``ValueError``) when there is
            nothing to combine, shapes differ, or the weights do not fit.
    """
    arrays = [np.asarray(p, dtype=np.float64) for p in list_of_probs]
    if not arrays:
        raise PredictionMismatchError("Pick at least one run to combine.")
    shape = arrays[0].shape
    for i, a in enumerate(arrays[1:], start=2):
        if a.shape != shape:
            raise PredictionMismatchError(
                "Run {i} has predictions of shape {shape} but run 1 has {shape2}: the runs were tested on "
                "different images or classes and cannot be combined.",
                i=i, shape=a.shape, shape2=shape
            )
    if weights is None:
        w = np.full(len(arrays), 1.0 / len(arrays))
    else:
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
        if len(w) != len(arrays):
            raise PredictionMismatchError(
                "Give one weight per run: {n_arrays} runs but {n_w} weights.",
                n_arrays=len(arrays), n_w=len(w)
            )
        if (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
            raise PredictionMismatchError("Weights must be zero or more, with a positive total.")
        w = w / w.sum()
    return np.tensordot(w, np.stack(arrays), axes=1)


# ---------------------------------------------------------------------------------------------
# Runs in the store
# ---------------------------------------------------------------------------------------------


def _load(store, run_id: str):
    record = store.get(run_id)
    try:
        probs, y_true = store.load_predictions(run_id)
    except (FileNotFoundError, KeyError) as error:
        raise RunStateError(
            "Run '{record}' has no saved test predictions yet. Wait for it to finish, or train it "
            "again.",
            record=getattr(record, 'name', None) or run_id
        ) from error
    return record, probs, y_true


def evaluate_run(store, run_id: str, class_names: Sequence[str] | None = None) -> Evaluation:
    """Evaluation of one run from its stored test predictions.

    Class names come from ``class_names`` when given, else from the run
    (:func:`cnn_core.class_names.run_class_names`), else ``"0"``, ``"1"``...

    Raises:
        RunNotFoundError: no such run (from the store).
        RunStateError: the run has no predictions yet.
    """
    record, probs, y_true = _load(store, run_id)
    probs, y_true = _check_predictions(probs, y_true)
    names = list(class_names) if class_names is not None \
        else run_class_names(store, run_id, probs.shape[1])
    return evaluate_predictions(probs, y_true, names)


def _plain(value):
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _dataset_key(record) -> dict:
    """The data set settings that must match to combine runs (unset values and names ignored)."""
    dataset = (getattr(record, "config", None) or {}).get("dataset") or {}
    return {k: _plain(v) for k, v in dataset.items() if v is not None and k != "class_names"}


def evaluate_ensemble(store, run_ids: Sequence[str], weights: Sequence[float] | None = None,
                      class_names: Sequence[str] | None = None) -> Evaluation:
    """Evaluation of the averaged probabilities of several runs on the same test set.

    Raises:
        CnnLabError: no runs given, or runs trained on different data sets / test images.
        RunStateError: a run has no predictions yet.
    """
    run_ids = list(run_ids)
    if not run_ids:
        raise CnnLabError("Pick at least one run to combine.")
    loaded = [_load(store, run_id) for run_id in run_ids]
    first_record, _, first_y = loaded[0]
    first_key = _dataset_key(first_record)
    label = lambda rec, rid: f"'{getattr(rec, 'name', None) or rid}'"  # noqa: E731
    for run_id, (record, _, y_true) in zip(run_ids[1:], loaded[1:]):
        key = _dataset_key(record)
        if key != first_key:
            raise CnnLabError(
                "Runs {run_ids} and {run_id} were trained on different data sets ({first_key} vs {key}), "
                "so their predictions cannot be combined. Pick runs that used the same data set and image "
                "settings.",
                run_ids=label(first_record, run_ids[0]), run_id=label(record, run_id), first_key=_describe(first_key), key=_describe(key)
            )
        if np.asarray(y_true).shape != np.asarray(first_y).shape \
                or not np.array_equal(y_true, first_y):
            raise PredictionMismatchError(
                "Runs {run_ids} and {run_id} were tested on different images, so their predictions cannot "
                "be combined. Pick runs with the same data set and split.",
                run_ids=label(first_record, run_ids[0]), run_id=label(record, run_id)
            )
    probs = ensemble_predictions([p for _, p, _ in loaded], weights)
    names = list(class_names) if class_names is not None \
        else run_class_names(store, run_ids[0], probs.shape[1])
    return evaluate_predictions(probs, first_y, names)


def _describe(dataset: dict) -> str:
    if not dataset:
        return "unknown"
    text = str(dataset.get("id", "unknown"))
    extras = [f"{k} {v}" for k, v in sorted(dataset.items()) if k != "id" and v is not None]
    return text + (f" with {', '.join(extras)}" if extras else "")
