"""Learning from the hardest pictures: each step trains on the ones the model gets most wrong."""

from __future__ import annotations

import numpy as np
import pytest

from cnn_core import hard_examples
from cnn_core.errors import SpecError
from cnn_core.model import ModelSpec


def _model(seed: int = 0):
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((4,))
    outputs = keras.layers.Dense(3, activation="softmax")(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _choosing(model, spec):
    """Install the step and switch it to choosing the hardest, as after the warm-up."""
    switch = hard_examples.install(model, spec)
    switch.on_epoch_begin(switch.first_choosing_epoch)
    assert bool(switch.choosing.numpy())
    return switch


def _batch():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(12, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 12)]
    return x, y


def test_a_step_learns_exactly_what_an_ordinary_step_on_the_hardest_pictures_learns():
    x, y = _batch()
    chooser = _model()
    losses = -np.log(np.sum(chooser.predict(x, verbose=0) * y, axis=1))
    hardest = np.argsort(losses)[-4:]

    plain = _model()
    plain.train_on_batch(x[hardest], y[hardest])
    selective = _model()
    _choosing(selective, ModelSpec(batch_size=4, hard_share=1 / 3))
    logs = selective.train_on_batch(x, y, return_dict=True)   # 12 pictures scored, 4 trained
    for a, b in zip(plain.get_weights(), selective.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # the loss and accuracy it reports are over all 12 pictures it looked at, not the 4 hardest
    answers = chooser.predict(x, verbose=0)
    assert logs["loss"] == pytest.approx(float(np.mean(losses)), rel=1e-4)
    assert logs["accuracy"] == pytest.approx(float(np.mean(answers.argmax(1) == y.argmax(1))))

    everything = _model()
    everything.train_on_batch(x, y)                    # all 12: a different step
    assert not np.allclose(everything.get_weights()[0], selective.get_weights()[0])


def test_class_number_labels_pick_the_same_pictures_as_one_hot_ones():
    import keras

    x, y = _batch()
    onehot = _model()
    _choosing(onehot, ModelSpec(batch_size=4, hard_share=1 / 3))
    onehot.train_on_batch(x, y)
    numbers = _model()
    numbers.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
    _choosing(numbers, ModelSpec(batch_size=4, hard_share=1 / 3))
    numbers.train_on_batch(x, np.argmax(y, axis=1))
    for a, b in zip(onehot.get_weights(), numbers.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_the_warm_up_epochs_learn_from_the_first_pictures_of_each_shuffled_draw():
    x, y = _batch()
    y[4:] = np.eye(3, dtype="float32")[0]     # the skipped pictures: all of class 0
    model = _model()
    switch = hard_examples.install(model, ModelSpec(batch_size=4, hard_share=1 / 3, epochs=20))
    assert switch.first_choosing_epoch == 8                       # 40% of the 20 epochs
    switch.plan(5)                                                # a time limit kept 5:
    assert switch.first_choosing_epoch == 5                       # too few to choose
    switch.plan(10)
    assert switch.first_choosing_epoch == 4
    switch.on_epoch_begin(3)
    assert not bool(switch.choosing.numpy())
    logs = model.train_on_batch(x, y, return_dict=True)
    plain = _model()
    plain_logs = plain.train_on_batch(x[:4], y[:4], return_dict=True)
    for a, b in zip(plain.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert np.isfinite(logs["loss"])                  # the 8 pictures not scored count nothing
    assert logs["loss"] == pytest.approx(plain_logs["loss"], rel=1e-5)
    assert logs["accuracy"] == pytest.approx(plain_logs["accuracy"]) and logs["accuracy"] < 1
    switch.on_epoch_begin(4)
    assert bool(switch.choosing.numpy())


def test_switching_it_off_gives_the_ordinary_step_back():
    x, y = _batch()
    model = _model()
    assert hard_examples.install(model, ModelSpec(batch_size=4, hard_share=0.25)) is not None
    assert hard_examples.install(model, ModelSpec(batch_size=4, hard_share=1.0)) is None
    model.train_on_batch(x, y)
    plain = _model()
    plain.train_on_batch(x, y)
    for a, b in zip(plain.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_batches_grow_by_the_share_and_an_epoch_costs_fewer_passes():
    assert hard_examples.scoring_batch(256, 1.0) == 256
    assert hard_examples.scoring_batch(256, 0.5) == 512
    assert hard_examples.scoring_batch(100, 0.33) == 303
    assert hard_examples.passes_per_picture(1.0) == 3.0
    assert hard_examples.passes_per_picture(0.33) < 2.0
    costs = hard_examples.epoch_costs(0.5, 10)                    # 4 warm-up epochs, 6 choosing
    assert costs[:4] == [1.0] * 4 and costs[4:] == [pytest.approx(5 / 3)] * 6
    assert hard_examples.epoch_costs(1.0, 3) == [1.0, 1.0, 1.0]
    # a measured cost replaces the estimate for the choosing epochs only
    assert hard_examples.epoch_costs(0.5, 10, 1.4) == [1.0] * 4 + [1.4] * 6
    assert hard_examples.epoch_costs(1.0, 10, 1.4) == [1.0] * 10     # off: no dearer epochs
    assert hard_examples.chooses(0.5, 10) and not hard_examples.chooses(0.5, 9)
    assert not hard_examples.chooses(1.0, 28)


def test_the_setting_takes_a_share_and_refuses_zero_or_more_than_all():
    assert ModelSpec(hard_share=0.33).validate().hard_share == 0.33
    for bad in (0.0, 1.5, -0.2):
        with pytest.raises(SpecError) as err:
            ModelSpec(hard_share=bad).validate()
        assert err.value.setting == "hard_share"


def test_the_epoch_estimate_shrinks_with_the_share():
    from cnn_core.model.estimate import estimate_epoch_seconds

    spec = ModelSpec(conv_blocks=2, filters=16, batch_size=64)
    every = estimate_epoch_seconds(spec, (32, 32, 3), 10, 6400)
    third = estimate_epoch_seconds(spec.replace(hard_share=0.33), (32, 32, 3), 10, 6400)
    assert 0.4 * every < third < 0.7 * every
