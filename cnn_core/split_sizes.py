"""How many pictures a data set trains, validates and tests on, from its facts alone.

The hold-outs (:func:`cnn_core.dataset_types.split_dataset` for the test set,
:func:`cnn_core.preprocessing.train_validation_split` for validation) take ``round(fraction * n)``
pictures, but always leave at least one picture of each class behind; so the sizes follow from the
number of pictures and classes without loading anything (the home page says them before a
single picture is read).

Example:
    >>> split_sizes(5000, 10)
    SplitSizes(train=3600, validation=400, test=1000)
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass


@dataclass(frozen=True)
class SplitSizes:
    train: int
    validation: int
    test: int

    @property
    def total(self) -> int:
        return self.train + self.validation + self.test


def held_out_count(n: int, n_classes: int, fraction: float) -> int:
    """Pictures a stratified hold-out of ``fraction`` takes from ``n`` pictures of ``n_classes``."""
    if fraction <= 0 or n <= 0:
        return 0
    return max(0, min(int(round(fraction * n)), n - n_classes))


def default_test_fraction() -> float:
    """The share a data set without its own test split holds out (``load_dataset``'s default)."""
    from cnn_core.datasets import load_dataset

    return float(inspect.signature(load_dataset).parameters["test_fraction"].default)


def default_validation_fraction() -> float:
    from cnn_core.preprocessing import PreprocessSpec

    return float(PreprocessSpec().validation_fraction)


def split_sizes(n_images: int, n_classes: int, test_fraction: float | None = None,
                validation_fraction: float | None = None, n_test: int | None = None) -> SplitSizes:
    """Train / validation / test sizes of a data set of ``n_images`` pictures in ``n_classes``.

    Args:
        test_fraction, validation_fraction: default: what training uses by default.
        n_test: a data set's own fixed test set size (Keras downloads), instead of a hold-out.
    """
    test_fraction = default_test_fraction() if test_fraction is None else float(test_fraction)
    validation_fraction = (default_validation_fraction() if validation_fraction is None
                           else float(validation_fraction))
    test = int(n_test) if n_test is not None else held_out_count(n_images, n_classes, test_fraction)
    trainable = int(n_images) - test
    validation = held_out_count(trainable, n_classes, validation_fraction)
    return SplitSizes(trainable - validation, validation, test)


__all__ = ["SplitSizes", "default_test_fraction", "default_validation_fraction", "held_out_count",
           "split_sizes"]
