"""The test set's noise: when a difference in test accuracy is only luck."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cnn_core.accuracy_noise import (
    difference_noise,
    is_real_difference,
    n_test_of,
    noise_words,
    standard_error,
)


def test_standard_error_is_the_binomial_one_and_never_zero():
    assert standard_error(0.2, 400) == pytest.approx(math.sqrt(0.2 * 0.8 / 400))
    assert standard_error(0.5, 100) == pytest.approx(0.05)
    assert standard_error(1.0, 100) > 0 and standard_error(0.0, 100) > 0
    assert standard_error(0.9, 10_000) < standard_error(0.9, 100)
    with pytest.raises(ValueError):
        standard_error(0.5, 0)


def test_the_issues_twenty_versus_twenty_two_on_400_pictures_is_no_real_difference():
    assert not is_real_difference(0.20, 0.22, 400)
    assert "no real difference" in noise_words(0.20, 0.22, 400)
    noise = 2 * math.sqrt(0.2 * 0.8 / 400 + 0.22 * 0.78 / 400)  # two standard errors of the difference
    assert f"±{noise * 100:.1f} points" in noise_words(0.20, 0.22, 400)


def test_a_clear_gap_or_a_big_test_set_makes_it_real():
    assert is_real_difference(0.31, 0.80, 1000) and noise_words(0.31, 0.80, 1000) == ""
    assert not is_real_difference(0.90, 0.92, 200)
    assert is_real_difference(0.90, 0.92, 20_000)
    assert difference_noise(0.9, 0.92, 200) > difference_noise(0.9, 0.92, 2000)


def test_n_test_comes_from_the_run_or_its_predictions(workspace):
    from cnn_core.runs import RunStore
    from cnn_core.workspace import atomic_write_json

    store = RunStore(workspace)
    with_info = store.create_run({"dataset": {"id": "shapes"}})
    atomic_write_json(store.run_dir(with_info) / "dataset.json", {"n_test": 1000})
    with_predictions = store.create_run({"dataset": {"id": "shapes"}})
    store.save_predictions(with_predictions, np.full((37, 5), 0.2), np.zeros(37, dtype=np.int64))
    unknown = store.create_run({"dataset": {"id": "shapes"}})
    assert (n_test_of(store, with_info), n_test_of(store, with_predictions), n_test_of(store, unknown)) == (1000, 37, None)
