"""Test-time augmentation: score each test picture as the average answer over a few views of it.

The run setting :attr:`ModelSpec.test_time_augmentation <cnn_core.model.ModelSpec>` chooses the
views; :func:`predict_probabilities` is what training calls for the stored test predictions, so
every page that reads them (evaluation, mistakes, compare) sees the same averaged answers.

=============  ==============================================================================
``off``        the picture as it is
``flip``       the picture and its mirror image, averaged (half each)
``flip_shift`` half from ``flip``, half from the picture moved 1 pixel up-left and 1 pixel
               down-right (edges mirrored), each with its mirror image (airbench's multi-crop)
=============  ==============================================================================

Example:
    >>> import numpy as np
    >>> [w for w, _ in views(np.zeros((1, 4, 4, 1)), "flip_shift")]
    [0.25, 0.25, 0.125, 0.125, 0.125, 0.125]
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from cnn_core.errors import SpecError
from cnn_core.i18n import N_, _
from cnn_core.model.spec import TEST_TIME_AUGMENTATIONS

#: One line per setting, for the run's settings and the evaluation page.
EXPLANATIONS = {
    "off": N_("Each test picture scored once, as it is."),
    "flip": N_("Each test picture scored as the average of it and its mirror image."),
    "flip_shift": N_("Each test picture scored as the average over it, its mirror image and "
                     "both moved by 1 pixel (6 views)."),
}


def explain(mode: str) -> str:
    """The one-line explanation of a test-time augmentation setting, in the user's language."""
    return _(EXPLANATIONS[_check(mode)])


def _check(mode: str) -> str:
    if mode not in TEST_TIME_AUGMENTATIONS:
        raise SpecError("test_time_augmentation",
                        _("Unknown test-time augmentation {mode!r}. Choose 'off', 'flip' or "
                          "'flip_shift'.", mode=mode))
    return mode


def mirror(images: np.ndarray) -> np.ndarray:
    """Left-right mirror images of a ``(N, H, W, C)`` batch."""
    return np.asarray(images)[:, :, ::-1, :]


def shift(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """The batch moved by whole pixels (``dy`` down, ``dx`` right), edges mirrored in."""
    images = np.asarray(images)
    p = max(abs(dy), abs(dx))
    if p == 0:
        return images
    padded = np.pad(images, ((0, 0), (p, p), (p, p), (0, 0)), mode="reflect")
    h, w = images.shape[1:3]
    return padded[:, p - dy:p - dy + h, p - dx:p - dx + w, :]


def views(images: np.ndarray, mode: str) -> list[tuple[float, np.ndarray]]:
    """``(weight, images)`` pairs whose weighted average answer is the test-time answer."""
    _check(mode)
    images = np.asarray(images)
    if mode == "off":
        return [(1.0, images)]
    out = [(0.5, images), (0.5, mirror(images))]
    if mode == "flip_shift":
        out = [(w / 2, v) for w, v in out]
        for dy, dx in ((-1, -1), (1, 1)):
            moved = shift(images, dy, dx)
            out += [(0.125, moved), (0.125, mirror(moved))]
    return out


def average_answers(predict: Callable[[np.ndarray], np.ndarray], images: np.ndarray,
                    mode: str) -> np.ndarray:
    """Weighted average over :func:`views` of ``predict(view)`` (class probabilities)."""
    total = None
    for weight, view in views(images, mode):
        answer = weight * np.asarray(predict(view), dtype=np.float64)
        total = answer if total is None else total + answer
    return total.astype(np.float32)


def predict_probabilities(model, images: np.ndarray, mode: str = "off",
                          batch_size: int = 256) -> np.ndarray:
    """Class probabilities of a Keras ``model`` for raw ``images``, averaged over the views."""
    from cnn_core.training_data import make_dataset, probabilities

    def predict(view):
        return probabilities(model.predict(make_dataset(view, None, batch_size), verbose=0))

    return average_answers(predict, images, mode)


__all__ = ["EXPLANATIONS", "average_answers", "explain", "mirror", "predict_probabilities",
           "shift", "views"]
