"""How much of a difference in test accuracy is only the luck of the test set.

A test set of ``n`` pictures measures an accuracy ``p`` with a binomial standard error of
``sqrt(p (1 - p) / n)``: on 400 pictures a model that is right 20% of the time scores anywhere
from about 16% to 24% depending on which pictures were drawn. Two runs differ for real only when
their accuracies are further apart than that noise allows. This module says how far that is, so
the compare views can mark smaller differences as "no real difference".

Pure Python (no numpy, no TensorFlow).

Example:
    >>> round(standard_error(0.2, 400), 3)
    0.02
    >>> is_real_difference(0.20, 0.22, 400)     # 2 points on 400 pictures: within the noise
    False
    >>> is_real_difference(0.60, 0.80, 400)
    True
"""

from __future__ import annotations

import math

from cnn_core.i18n import gettext

#: Standard errors of the difference that count as noise: about 95% of the differences between
#: two equally good models are smaller than this.
NOISE_STANDARD_ERRORS = 2.0


def standard_error(accuracy: float, n_test: int) -> float:
    """The binomial standard error of an accuracy (a fraction) measured on ``n_test`` pictures."""
    if n_test is None or int(n_test) < 1:
        raise ValueError(f"n_test must be 1 or more, not {n_test!r}")
    p = min(max(float(accuracy), 0.0), 1.0)
    # a score of 0% or 100% is not exact either: use half a picture's worth of doubt
    p = min(max(p, 0.5 / n_test), 1 - 0.5 / n_test)
    return math.sqrt(p * (1 - p) / int(n_test))


def difference_noise(accuracy_a: float, accuracy_b: float, n_test_a: int, n_test_b: int | None = None) -> float:
    """How far apart two accuracies can be by the luck of the test set alone (a fraction):
    :data:`NOISE_STANDARD_ERRORS` standard errors of their difference."""
    n_test_b = n_test_a if n_test_b is None else n_test_b
    return NOISE_STANDARD_ERRORS * math.hypot(standard_error(accuracy_a, n_test_a),
                                              standard_error(accuracy_b, n_test_b))


def is_real_difference(accuracy_a: float, accuracy_b: float, n_test_a: int, n_test_b: int | None = None) -> bool:
    """Whether two test accuracies differ by more than the test set's noise."""
    return abs(float(accuracy_a) - float(accuracy_b)) > difference_noise(accuracy_a, accuracy_b, n_test_a, n_test_b)


def noise_words(accuracy_a: float, accuracy_b: float, n_test_a: int, n_test_b: int | None = None) -> str:
    """``"no real difference (within the test set's noise of ±2.9 points)"`` or ``""`` when the
    difference is real."""
    noise = difference_noise(accuracy_a, accuracy_b, n_test_a, n_test_b)
    if abs(float(accuracy_a) - float(accuracy_b)) > noise:
        return ""
    return gettext("no real difference (within the test set's noise of ±{noise:.1f} points)", noise=noise * 100)


def n_test_of(store, run_id: str) -> int | None:
    """How many test pictures scored a stored run: from its ``dataset.json``, else from its stored
    predictions; None when unknown (e.g. before its data loaded)."""
    n = (store.dataset_info(run_id) or {}).get("n_test")
    if isinstance(n, int) and not isinstance(n, bool) and n > 0:
        return n
    if store.has_predictions(run_id):
        import numpy as np

        with np.load(store.run_dir(run_id) / "predictions.npz") as data:
            return int(len(data["y_true"])) or None
    return None


__all__ = ["NOISE_STANDARD_ERRORS", "difference_noise", "is_real_difference", "noise_words", "standard_error",
           "n_test_of"]
