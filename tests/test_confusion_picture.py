"""confusion_picture: counts from scikit-learn, a bounded picture whatever the class count."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from cnn_core.confusion_picture import (
    MAX_DRAWN_CLASSES,
    confusion_counts,
    most_confused_classes,
    render_confusion_png,
)


def test_counts_rows_are_true_classes():
    probs = np.array([[0.9, 0.1, 0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0, 0, 1]])
    assert confusion_counts(probs, [0, 1, 1, 2], 3).tolist() == [[1, 0, 0], [1, 1, 0], [0, 0, 1]]
    assert confusion_counts(np.zeros((0, 3)), [], 3).tolist() == [[0] * 3] * 3


def test_most_confused_classes_are_those_in_the_biggest_mix_ups():
    confusion = np.eye(6, dtype=np.int64) * 10
    confusion[4, 1] = 7
    confusion[2, 5] = 3
    assert most_confused_classes(confusion, 2) == [1, 4]
    assert most_confused_classes(confusion, 4) == [1, 2, 4, 5]


def test_a_thousand_classes_make_a_picture_of_the_most_confused_only():
    confusion = np.eye(1000, dtype=np.int64)
    confusion[10, 990] = 9
    small = Image.open(io.BytesIO(render_confusion_png(confusion[:MAX_DRAWN_CLASSES, :MAX_DRAWN_CLASSES],
                                                       [str(i) for i in range(MAX_DRAWN_CLASSES)])))
    big = Image.open(io.BytesIO(render_confusion_png(confusion, [f"class {i}" for i in range(1000)], "t")))
    assert big.size[0] <= small.size[0] * 1.5 and big.size[1] <= small.size[1] * 1.5
