"""A run's time limit: a few timed batches decide how many of its epochs fit."""

from __future__ import annotations

import numpy as np

from cnn_core.time_limit import (
    Speed,
    epoch_seconds,
    epochs_within,
    first_epoch_steps,
    fit_words,
    last_epoch_steps,
    measure_speed,
)


def test_only_the_epochs_that_fit_are_kept_and_no_limit_keeps_them_all():
    speed = Speed(step_seconds=0.1, first_step_seconds=0.1, probe_seconds=0.0)
    assert epoch_seconds(speed, 100) > 10.0                       # the batches and a little more
    assert epochs_within(1, speed, planned=50, steps_per_epoch=100) == 5      # 60 s / ~10.3 s
    assert epochs_within(2, speed, planned=50, steps_per_epoch=100) == 11
    assert epochs_within(10, speed, planned=50, steps_per_epoch=100) == 50    # all fit
    assert epochs_within(0, speed, planned=50, steps_per_epoch=100) == 50     # no limit


def test_epochs_of_different_cost_are_counted_at_their_cost():
    from cnn_core.hard_examples import epoch_costs

    speed = Speed(step_seconds=0.1, first_step_seconds=0.1, probe_seconds=0.0)
    assert epochs_within(1, speed, 50, 100, run_cost=lambda e: 2.0 * e) == 2   # 60 s / 20.6 s
    # learning from the hardest half: 40% cheap warm-up epochs, the rest 5/3 as dear (runs of
    # 10 epochs or more; shorter ones are all warm-up)
    kept = epochs_within(3, speed, 50, 100, run_cost=lambda e: sum(epoch_costs(0.5, e)))
    assert sum(epoch_costs(0.5, kept)) * epoch_seconds(speed, 100) <= 180
    assert sum(epoch_costs(0.5, kept + 1)) * epoch_seconds(speed, 100) > 180
    assert kept == 12                                     # where 17 plain ones would fit
    assert epochs_within(2, speed, 50, 100, run_cost=lambda e: sum(epoch_costs(0.5, e))) == 9


def test_one_more_epoch_cut_short_fills_what_the_whole_epochs_leave():
    speed = Speed(step_seconds=0.1, first_step_seconds=0.1, probe_seconds=0.0)
    batch = 0.1 * 1.03                                    # a batch with the epoch's overhead
    assert epochs_within(1, speed, 50, 100) == 5                 # 51.5 s of the 60
    cut = last_epoch_steps(1, speed, 5, 50, 100)
    assert cut == 82                                              # 8.5 s: 82 batches of a sixth
    assert 5 * epoch_seconds(speed, 100) + cut * batch <= 60
    assert 5 * epoch_seconds(speed, 100) + (cut + 1) * batch > 60
    # its validation counts whole: 20 validation batches cost 7 training ones
    assert epochs_within(1, speed, 50, 100, validation_steps=20) == 5
    assert last_epoch_steps(1, speed, 5, 50, 100, validation_steps=20) == 40
    # an extra epoch costing twice as much gets half the batches
    assert epochs_within(1, speed, 50, 100, run_cost=lambda e: 2.0 * e) == 2
    assert last_epoch_steps(1, speed, 2, 50, 100, run_cost=lambda e: 2.0 * e) == 91


def test_no_epoch_is_cut_when_all_fit_or_only_a_sliver_would():
    speed = Speed(step_seconds=0.1, first_step_seconds=0.1, probe_seconds=0.0)
    assert last_epoch_steps(10, speed, 50, 50, 100) is None      # all planned epochs fit
    assert last_epoch_steps(0, speed, 50, 50, 100) is None       # no limit
    timed_long = Speed(step_seconds=0.1, first_step_seconds=0.1, probe_seconds=7.0)
    assert epochs_within(1, timed_long, 50, 100) == 5            # 1.5 s left: 14 batches,
    assert last_epoch_steps(1, timed_long, 5, 50, 100) is None   # under a fifth of an epoch
    assert last_epoch_steps(1, Speed(10.0, 10.0, 0.0), 1, 50, 100) is None   # none left


def test_when_not_even_one_epoch_fits_the_first_is_cut_to_the_limit():
    speed = Speed(step_seconds=1.0, first_step_seconds=1.0, probe_seconds=0.0)
    # 196 batches of 1 s: ~202 s an epoch, a 2-minute limit holds 116 of them
    assert epochs_within(2, speed, planned=6, steps_per_epoch=196) == 1   # one is always kept
    cut = first_epoch_steps(2, speed, 196)
    assert cut == 116 and cut * 1.03 <= 120 < (cut + 1) * 1.03
    assert first_epoch_steps(2, speed, 196, validation_steps=20) == 109   # its validation, whole
    assert first_epoch_steps(2, speed, 196, run_cost=lambda e: 2.0 * e) == 58   # dearer epochs
    assert first_epoch_steps(1, Speed(100.0, 100.0, 0.0), 196) == 1      # at least one batch
    assert first_epoch_steps(4, speed, 196) is None                       # 240 s: it fits whole
    assert first_epoch_steps(0, speed, 196) is None                       # no limit
    assert last_epoch_steps(2, speed, 1, 6, 196) is None    # nothing left after the whole one
    words = fit_words({"minutes": 2, "asked_epochs": 6, "epochs": 1, "epoch_seconds": 202.0,
                       "last_epoch_steps": cut, "steps_per_epoch": 196})
    assert "not even one whole epoch fits" in words and "116 of the 196 batches" in words


def test_the_timing_itself_and_the_first_batch_count_against_the_limit():
    plain = Speed(step_seconds=0.1, first_step_seconds=0.1, probe_seconds=0.0)
    slow_start = Speed(step_seconds=0.1, first_step_seconds=20.1, probe_seconds=25.0)
    # 60 s - 25 s of timing - 20 s of tracing again when training starts = 15 s: one epoch
    assert epochs_within(1, slow_start, planned=50, steps_per_epoch=100) == 1
    assert epochs_within(1, plain, planned=50, steps_per_epoch=100) == 5


def test_validation_batches_lengthen_an_epoch_and_one_epoch_always_stays():
    speed = Speed(step_seconds=0.1, first_step_seconds=0.1, probe_seconds=0.0)
    assert epoch_seconds(speed, 100, validation_steps=30) > epoch_seconds(speed, 100)
    assert epochs_within(1, speed, 50, 100, validation_steps=300) < epochs_within(1, speed, 50, 100)
    assert epochs_within(1, Speed(10.0, 10.0, 0.0), planned=50, steps_per_epoch=100) == 1


def test_timing_trains_real_batches_and_puts_every_weight_back():
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3)(inputs)
    x = keras.layers.BatchNormalization()(x)
    outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(x))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    data = tf.data.Dataset.from_tensor_slices(
        (rng.normal(size=(64, 8, 8, 3)).astype("float32"), rng.integers(0, 2, 64))).batch(8)
    before = [w.copy() for w in model.get_weights()]
    # the clock at the start, after each of the 5 batches (the 4th slow), and at the end
    ticks = iter([0.0, 2.0, 3.0, 4.0, 10.0, 11.0, 12.0])
    speed = measure_speed(model, data.repeat(), steps=4, clock=lambda: next(ticks))
    # the first batch apart (it traces), the others by their median: one slow batch is ignored
    assert speed == Speed(step_seconds=1.0, first_step_seconds=2.0, probe_seconds=12.0)
    assert int(model.optimizer.iterations) == 5                   # it did train...
    after = model.get_weights()
    assert len(after) == len(before)                               # ...moving statistics included,
    assert all(np.array_equal(a, b) for a, b in zip(before, after))   # and all came back


def test_timing_the_choosing_steps_adds_its_seconds_and_always_switches_choosing_off(monkeypatch):
    import types

    import pytest
    import tensorflow as tf

    from cnn_core import time_limit

    hardest = types.SimpleNamespace(choosing=tf.Variable(False))
    seen = []

    def choosing_steps(model, dataset):
        seen.append(bool(hardest.choosing.numpy()))
        return Speed(step_seconds=0.3, first_step_seconds=0.3, probe_seconds=4.0)
    monkeypatch.setattr(time_limit, "measure_speed", choosing_steps)
    warm_up = Speed(step_seconds=0.2, first_step_seconds=2.0, probe_seconds=5.0)
    cost, both = time_limit.time_choosing(None, None, hardest, warm_up)
    assert seen == [True] and not bool(hardest.choosing.numpy())
    assert cost == pytest.approx(1.5)
    assert both == Speed(step_seconds=0.2, first_step_seconds=2.0, probe_seconds=9.0)

    def broken(model, dataset):
        raise RuntimeError("out of memory")
    monkeypatch.setattr(time_limit, "measure_speed", broken)
    with pytest.raises(RuntimeError):
        time_limit.time_choosing(None, None, hardest, warm_up)
    assert not bool(hardest.choosing.numpy())


def test_the_fast_preset_fills_its_ten_minutes_on_a_computer_twice_as_fast_as_measured():
    """Its epochs are only a cap: on 2 AMD EPYC cores, and on a computer whose steps take half
    their seconds (a Xeon with AMX units), the run trains for nearly all of its 10 minutes, so
    extra speed buys epochs (twice the epochs: 90.0% held out against 89.2%; the old cap of 28
    used 53% of the limit there)."""
    from cnn_core.hard_examples import epoch_costs, scoring_batch
    from cnn_core.model import PRESETS

    fast = PRESETS["fast"]
    steps = -(-50_000 // scoring_batch(fast.batch_size, fast.hard_share))   # CIFAR-10's 50,000
    for step_seconds in (0.23, 0.115):      # a warm-up step there (15 s an epoch), and half
        speed = Speed(step_seconds=step_seconds, first_step_seconds=3.0, probe_seconds=12.0)

        def run_cost(epochs):
            return sum(epoch_costs(fast.hard_share, epochs, choosing_cost=1.8))
        kept = epochs_within(fast.time_limit, speed, fast.epochs, steps, run_cost=run_cost)
        used = run_cost(kept) * epoch_seconds(speed, steps)
        assert 0.9 * fast.time_limit * 60 < used <= fast.time_limit * 60   # nearly all of it
