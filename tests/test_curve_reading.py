"""Plain-language reading of training curves (pure Python, no TensorFlow)."""

from __future__ import annotations

import math

import pytest

from cnn_core.curve_reading import LEVELS, VERDICTS, read_curves


def rows(loss, acc=None, val_loss=None, val_acc=None):
    n = len(loss)
    acc = acc or [None] * n
    val_loss = val_loss or [None] * n
    val_acc = val_acc or [None] * n
    return [{"epoch": i + 1, "loss": loss[i], "accuracy": acc[i], "val_loss": val_loss[i],
             "val_accuracy": val_acc[i]} for i in range(n)]


HEALTHY = rows([1.5, 0.9, 0.6, 0.45, 0.35], [0.5, 0.7, 0.8, 0.85, 0.88],
               [1.3, 0.85, 0.62, 0.5, 0.42], [0.55, 0.7, 0.78, 0.83, 0.86])
FLAT_END = rows([1.5, 0.8, 0.5, 0.45, 0.449, 0.448, 0.448], [0.5, 0.7, 0.85, 0.86, 0.86, 0.86, 0.86],
                [1.4, 0.8, 0.55, 0.5, 0.499, 0.4985, 0.498], [0.5, 0.7, 0.83, 0.84, 0.84, 0.84, 0.84])
OVERFIT = rows([1.2, 0.7, 0.4, 0.2, 0.1, 0.05], [0.6, 0.78, 0.88, 0.95, 0.98, 0.99],
               [1.1, 0.8, 0.75, 0.85, 1.0, 1.2], [0.62, 0.72, 0.75, 0.74, 0.73, 0.72])


def check(reading):
    assert reading.verdict in VERDICTS and reading.level in LEVELS
    assert reading.headline and reading.text.startswith(reading.headline)
    return reading


def test_still_improving_while_running_and_too_few_epochs_when_finished():
    live = check(read_curves(HEALTHY, status="running", epochs_planned=10))
    assert live.verdict == "still_improving" and live.level == "info"
    assert "86%" in live.headline  # latest validation accuracy
    done = check(read_curves(HEALTHY, status="finished", epochs_planned=5))
    assert done.verdict == "too_few_epochs" and "more epochs" in done.headline
    assert done.best_epoch == 5


def test_stopped_early_while_improving_suggests_resuming():
    reading = check(read_curves(HEALTHY, status="stopped", epochs_planned=10))
    assert reading.verdict == "still_improving" and "5 of 10" in reading.headline
    assert "Resum" in reading.text


def test_overfitting_names_the_best_epoch_and_suggests_remedies():
    reading = check(read_curves(OVERFIT, status="finished", epochs_planned=6))
    assert reading.verdict == "overfitting" and reading.level == "warning"
    assert "epoch 3" in reading.text and "dropout" in reading.text
    assert "99%" in reading.text and "72%" in reading.text
    assert reading.best_epoch == 3


def test_starting_to_overfit():
    data = rows([1.0, 0.6, 0.4, 0.3], [0.6, 0.8, 0.88, 0.92], [0.9, 0.7, 0.65, 0.67],
                [0.65, 0.76, 0.8, 0.8])
    assert check(read_curves(data, status="finished")).verdict == "starting_to_overfit"


def test_plateau_once_the_curves_are_flat():
    reading = check(read_curves(FLAT_END, status="finished", epochs_planned=7))
    assert reading.verdict == "plateaued" and reading.level == "success"
    assert check(read_curves(FLAT_END, status="running")).level == "info"


def test_diverged_by_status_or_by_non_finite_loss():
    by_status = check(read_curves(HEALTHY[:2], status="diverged"))
    assert by_status.verdict == "diverged" and by_status.level == "error"
    assert "learning rate" in by_status.text
    nan_rows = rows([1.0, float("nan")], [0.5, None])
    assert check(read_curves(nan_rows, status="running")).verdict == "diverged"
    inf_rows = rows([1.0, 0.9], val_loss=[1.0, math.inf])
    assert check(read_curves(inf_rows)).verdict == "diverged"


def test_failed_repeats_the_message():
    reading = check(read_curves([], status="failed", message="Too much pooling for 8x8 images."))
    assert reading.verdict == "failed" and reading.level == "error"
    assert "Too much pooling" in reading.text


def test_unstable_when_training_loss_climbs_back():
    data = rows([1.0, 0.5, 0.9, 1.2], [0.5, 0.8, 0.6, 0.4])
    reading = check(read_curves(data, status="finished"))
    assert reading.verdict == "unstable" and "learning rate" in reading.text


def test_not_learning_when_loss_is_flat_from_the_start():
    data = rows([2.30, 2.301, 2.299, 2.30], [0.1, 0.1, 0.11, 0.1], [2.3, 2.3, 2.3, 2.3], [0.1] * 4)
    reading = check(read_curves(data, status="finished"))
    assert reading.verdict == "not_learning" and "10%" in reading.text


@pytest.mark.parametrize("status, verdict, level", [
    ("running", "waiting", "info"), ("queued", "waiting", "info"), ("finished", "too_few_epochs", "warning"),
])
def test_one_epoch(status, verdict, level):
    reading = check(read_curves(HEALTHY[:1], status=status))
    assert (reading.verdict, reading.level) == (verdict, level)


def test_no_epochs_yet():
    assert check(read_curves([], status="running")).verdict == "waiting"
    assert check(read_curves([], status="stopped")).verdict == "waiting"


def test_without_validation_reads_the_training_curves():
    data = rows([1.5, 0.9, 0.6, 0.45], [0.5, 0.7, 0.8, 0.85])
    reading = check(read_curves(data, status="running"))
    assert reading.verdict == "still_improving" and "training loss" in reading.headline
    assert "85%" in reading.headline


def test_validation_above_training_is_explained_as_normal():
    data = rows([1.5, 0.9, 0.6, 0.45], [0.4, 0.6, 0.7, 0.75], [1.2, 0.7, 0.5, 0.38],
                [0.55, 0.72, 0.8, 0.86])
    assert "normal with dropout" in check(read_curves(data, status="running")).text


def test_last_epoch_worse_than_the_best_is_not_still_improving():
    """Validation loss fell over the last epochs overall but the last epoch went up again."""
    data = rows([1.5, 0.5, 0.35, 0.28, 0.22, 0.19, 0.16, 0.15, 0.12, 0.11],
                [0.58, 0.85, 0.9, 0.92, 0.94, 0.945, 0.955, 0.96, 0.963, 0.965],
                [0.65, 0.44, 0.32, 0.29, 0.24, 0.25, 0.24, 0.18, 0.18, 0.21],
                [0.82, 0.89, 0.92, 0.925, 0.935, 0.94, 0.94, 0.955, 0.96, 0.947])
    reading = check(read_curves(data, status="finished", epochs_planned=10))
    assert reading.verdict == "plateaued" and "epoch 8" in reading.text


# --------------------------------------------------------------------------- chance level

# The case: MNIST sample, lenet, SGD with momentum, learning rate 1, 3 epochs. The loss
# fell from a huge first-epoch average to the even-guess loss (ln 10 = 2.30) and stayed there.
AT_CHANCE = rows([14.2, 2.305, 2.303], [0.102, 0.100, 0.100], [2.31, 2.304, 2.303], [0.10, 0.10, 0.10])
LR_ONE_SGD = {"model": {"optimizer": "sgd", "momentum": 0.9, "learning_rate": 1.0},
              "preprocess": {"scaling": "divide_255"}}


def test_chance_level_is_one_over_the_number_of_classes():
    from cnn_core.curve_reading import chance_level, near_chance

    assert chance_level(10) == pytest.approx(0.1) and chance_level(4) == pytest.approx(0.25)
    assert chance_level(None) is None and chance_level(1) is None
    assert near_chance(0.11, 10) and not near_chance(0.2, 10)
    assert near_chance(0.55, 2) and not near_chance(0.7, 2)


def test_flat_at_chance_is_never_praised_and_names_the_learning_rate():
    reading = check(read_curves(AT_CHANCE, status="finished", epochs_planned=3, n_classes=10, config=LR_ONE_SGD))
    assert reading.verdict == "at_chance" and reading.level == "error"
    assert "chance level" in reading.headline and "10%" in reading.headline
    assert "going well" not in reading.text
    assert "learning rate (1) is far too high" in reading.text and "0.01" in reading.text
    assert "2.30" in reading.text  # the loss of an even guess among 10 classes


def test_without_the_number_of_classes_the_old_reading_stays():
    """Chance is unknown without the classes; the reading then falls back to the curve shape."""
    assert read_curves(AT_CHANCE, status="finished", epochs_planned=3).verdict != "at_chance"


def test_chance_while_live_is_a_warning_and_says_what_to_do():
    reading = check(read_curves(AT_CHANCE, status="running", epochs_planned=10, n_classes=10, config=LR_ONE_SGD))
    assert reading.verdict == "at_chance" and reading.level == "warning"
    assert "stop the run" in reading.text


def test_right_on_training_pictures_but_guessing_on_new_ones_is_not_called_learning_nothing():
    """The fast preset's first epochs on Shapes (batch norm): training 62%, validation 20%."""
    data = rows([1.6, 1.1], [0.33, 0.62], [1.9, 2.2], [0.20, 0.20])
    reading = check(read_curves(data, status="running", epochs_planned=6, n_classes=5))
    assert reading.verdict == "at_chance" and reading.level == "warning"
    assert "62% of the training pictures" in reading.headline and "only guesses on new ones" in reading.headline
    assert "batch normalization" in reading.text and "learning rate" not in reading.text


@pytest.mark.parametrize("config, cause", [
    ({"model": {"optimizer": "adam", "learning_rate": 1e-7}}, "so low"),
    ({"model": {"optimizer": "adam", "learning_rate": 1e-3}, "preprocess": {"scaling": "none"}}, "not scaled"),
    ({"model": {"optimizer": "adam", "learning_rate": 1e-3}}, "too few"),
])
def test_chance_reading_names_the_likely_cause(config, cause):
    data = rows([1.4, 1.386], [0.25, 0.26], [1.39, 1.386], [0.24, 0.25])  # 4 classes: chance 25%
    reading = check(read_curves(data, status="finished", epochs_planned=2, n_classes=4, config=config))
    assert reading.verdict == "at_chance" and cause in reading.text


def test_falling_back_to_chance_after_learning_is_called_out():
    data = rows([1.5, 0.9, 2.4, 2.31], [0.5, 0.7, 0.2, 0.1], [1.3, 0.8, 2.4, 2.31], [0.55, 0.72, 0.12, 0.1])
    reading = check(read_curves(data, status="finished", n_classes=10, config=LR_ONE_SGD))
    assert reading.verdict == "at_chance" and "fell back" in reading.headline and "72%" in reading.text


def test_a_model_well_above_chance_is_read_as_before():
    assert check(read_curves(HEALTHY, status="finished", epochs_planned=5, n_classes=10)).verdict == "too_few_epochs"
    assert check(read_curves(FLAT_END, status="finished", epochs_planned=7, n_classes=2)).verdict == "plateaued"


def test_muon_learning_rate_is_read_as_sgds():
    """Muon moves all but the filters by SGD, so 0.1 is a usual rate there, far too high for Adam."""
    def cause(optimizer):
        config = {"model": {"optimizer": optimizer, "learning_rate": 0.1}}
        return check(read_curves(AT_CHANCE, status="finished", epochs_planned=3, n_classes=10,
                                 config=config)).text

    assert "far too high" in cause("adam")
    assert "far too high" not in cause("muon") and "far too high" not in cause("sgd")
