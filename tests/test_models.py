"""ModelSpec, shape checks, model building, optimizers/schedules, summaries and time estimates."""

from __future__ import annotations

import math
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnn_core import model as models  # noqa: E402
from cnn_core.errors import CnnLabError, SpecError  # noqa: E402
from cnn_core.model import (  # noqa: E402
    DEFAULT_PRESET,
    PRESET_DESCRIPTIONS,
    PRESETS,
    ModelSpec,
    build_model,
    build_optimizer,
    check_spec,
    compile_model,
    estimate_epoch_seconds,
    needs_onehot,
    plan_summary,
    summarize,
)

# A tiny model whose cost is easy to count by hand (see test_summary_matches_hand_count).
TINY = ModelSpec(conv_blocks=1, filters=4, kernel_size=3, padding="same", pooling="max",
                 dense_layers=1, dense_units=8, batch_size=4, epochs=2)


# --- ModelSpec -------------------------------------------------------------------------------


def test_spec_dict_round_trip_and_defaults():
    spec = ModelSpec(conv_blocks=3, activation="gelu", batch_norm=True, learning_rate=0.01)
    assert ModelSpec.from_dict(spec.to_dict()) == spec
    assert ModelSpec.from_dict({}) == ModelSpec()
    partial = ModelSpec.from_dict({"filters": 16})
    assert partial.filters == 16 and partial.kernel_size == ModelSpec().kernel_size
    # JSON may turn whole numbers into floats and floats into ints
    assert ModelSpec.from_dict({"epochs": 5.0, "learning_rate": 1}).epochs == 5
    with pytest.raises(Exception):
        spec.filters = 3  # frozen


def test_from_dict_rejects_unknown_keys_and_wrong_types():
    with pytest.raises(SpecError) as info:
        ModelSpec.from_dict({"filters": 16, "dropout": 0.5})
    assert info.value.setting == "dropout"
    assert "not a known setting" in str(info.value)
    with pytest.raises(SpecError) as info:
        ModelSpec.from_dict({"epochs": 2.5})
    assert info.value.setting == "epochs"
    with pytest.raises(SpecError) as info:
        ModelSpec.from_dict({"learning_rate": "fast"})
    assert info.value.setting == "learning_rate"
    with pytest.raises(SpecError) as info:
        ModelSpec().replace(colour="red")
    assert info.value.setting == "colour"


@pytest.mark.parametrize("changes, setting, words", [
    ({"dense_dropout": 0.95}, "dense_dropout", "[0, 0.9]"),
    ({"conv_dropout": -0.1}, "conv_dropout", "[0, 0.9]"),
    ({"learning_rate": 0.0}, "learning_rate", "(0, 1]"),
    ({"learning_rate": 1.5}, "learning_rate", "(0, 1]"),
    ({"filters": 0}, "filters", "between 1 and 1024"),
    ({"filters": 2000}, "filters", "between 1 and 1024"),
    ({"kernel_size": 4}, "kernel_size", "odd"),
    ({"kernel_size": 13}, "kernel_size", "between 1 and 11"),
    ({"optimizer": "adagrad"}, "optimizer", "'adam', 'adamw', 'sgd', 'muon' or 'rmsprop'"),
    ({"activation": "softplus"}, "activation", "'leaky_relu'"),
    ({"padding": "full"}, "padding", "'same' or 'valid'"),
    ({"lr_schedule": "step"}, "lr_schedule", "'one_cycle'"),
    ({"batch_size": 0}, "batch_size", "between 1"),
    ({"conv_blocks": 0, "head": "global_average"}, "head", "flatten"),
    ({"conv_blocks": 8, "filters": 1024}, "filter_growth", "4,096"),
])
def test_validate_names_the_setting(changes, setting, words):
    with pytest.raises(SpecError) as info:
        ModelSpec(**changes).validate()
    assert info.value.setting == setting
    assert words in str(info.value)


def test_presets_are_valid_and_described():
    assert DEFAULT_PRESET in PRESETS
    assert set(PRESETS) == {"cifar10_tutorial", "fashion_mnist_tutorial", "lenet", "mlp", "fast",
                            "quick"}
    assert set(PRESET_DESCRIPTIONS) == set(PRESETS)
    for name, spec in PRESETS.items():
        spec.validate()
        for shape in [(28, 28, 1), (32, 32, 3)]:
            check_spec(spec, shape, 10)
        assert PRESET_DESCRIPTIONS[name].endswith(".")
    lenet = plan_summary(PRESETS["lenet"], (32, 32, 3), 10)
    shapes = {r.name: r.output_shape for r in lenet.rows}
    assert shapes["block1_conv1"] == "(28, 28, 6)" and shapes["block2_conv1"] == "(10, 10, 16)"
    assert shapes["flatten"] == "(400)" and shapes["dense1"] == "(120)" and shapes["dense2"] == "(84)"
    assert PRESETS["mlp"].conv_blocks == 0
    cifar = {r.name: r.output_shape for r in plan_summary(PRESETS["cifar10_tutorial"], (32, 32, 3), 10).rows}
    assert cifar["dense1"] == "(128)" and cifar["dense2"] == "(64)"
    assert PRESETS["fast"].batch_norm and PRESETS["fast"].lr_schedule == "triangle"
    assert PRESETS["fast"].whitening_stem and PRESETS["fast"].pool_position == "after_first_conv"


# --- check_spec ------------------------------------------------------------------------------


def test_too_many_pooling_steps_names_conv_blocks():
    spec = ModelSpec(conv_blocks=5, filters=8, filter_growth=1.0)
    with pytest.raises(SpecError) as info:
        check_spec(spec, (28, 28, 1), 10)
    message = str(info.value)
    assert info.value.setting == "conv_blocks"
    assert "after block 5" in message and "28x28" in message
    assert "at most 4 conv blocks" in message and "'none'" in message
    check_spec(spec.replace(conv_blocks=4), (28, 28, 1), 10)
    check_spec(spec.replace(pooling="none"), (28, 28, 1), 10)


def test_valid_padding_problems_name_kernel_or_padding():
    with pytest.raises(SpecError) as info:
        check_spec(ModelSpec(kernel_size=11, padding="valid"), (8, 8, 1), 10)
    assert info.value.setting == "kernel_size" and "larger than the 8x8" in str(info.value)
    # fits the image but not the feature map of a later block
    with pytest.raises(SpecError) as info:
        check_spec(ModelSpec(conv_blocks=3, kernel_size=5, padding="valid"), (28, 28, 1), 10)
    assert info.value.setting == "padding" and "block 3" in str(info.value)
    check_spec(ModelSpec(conv_blocks=3, kernel_size=5, padding="same"), (28, 28, 1), 10)


def test_stride_larger_than_feature_map_names_stride():
    with pytest.raises(SpecError) as info:
        check_spec(ModelSpec(conv_blocks=3, stride=4, pooling="none"), (8, 8, 1), 10)
    assert info.value.setting == "stride"


def test_huge_flatten_head_names_head():
    spec = ModelSpec(conv_blocks=1, filters=512, pooling="none", dense_units=1024)
    with pytest.raises(SpecError) as info:
        check_spec(spec, (128, 128, 3), 10)
    assert info.value.setting == "head" and "global_average" in str(info.value)
    check_spec(spec.replace(head="global_average"), (128, 128, 3), 10)


def test_bad_data_shapes_are_plain_errors():
    with pytest.raises(CnnLabError, match="at least 2 classes"):
        check_spec(ModelSpec(), (28, 28, 1), 1)
    with pytest.raises(CnnLabError, match="height, width and channel"):
        check_spec(ModelSpec(), (28, 28), 10)


# --- build_model and summarize ----------------------------------------------------------------


def test_summary_matches_hand_count():
    model = build_model(TINY, (6, 6, 1), 3)
    summary = summarize(model)
    rows = {r.name: r for r in summary.rows}
    assert [r.name for r in summary.rows] == [
        "image", "scaling", "block1_conv1", "block1_pool", "flatten", "dense1", "output"]
    assert rows["block1_conv1"].output_shape == "(6, 6, 4)"
    assert rows["block1_pool"].output_shape == "(3, 3, 4)"
    assert rows["flatten"].output_shape == "(36)"
    # params: conv 3*3*1*4 + 4, dense 36*8 + 8, output 8*3 + 3
    assert [rows[n].params for n in ("block1_conv1", "dense1", "output")] == [40, 296, 27]
    assert summary.total_params == summary.trainable_params == 363 == model.count_params()
    # FLOPs: scaling 2*36; conv 2*6*6*3*3*1*4 + bias 144 + relu 144; pool 4*36;
    # dense 2*36*8 + 8 + 8; output 2*8*3 + 3 + 3
    assert rows["block1_conv1"].flops == 2592 + 144 + 144
    expected = 72 + (2592 + 288) + 144 + (576 + 16) + (48 + 6)
    assert summary.flops_per_image == expected == 3742
    assert plan_summary(TINY, (6, 6, 1), 3) == summary


def test_build_full_featured_model():
    spec = ModelSpec(conv_blocks=2, filters=4, filter_growth=1.5, convs_per_block=2, stride=2,
                     batch_norm=True, activation="leaky_relu", pooling="average",
                     conv_dropout=0.1, head="global_average", dense_layers=2, dense_units=16,
                     dense_shrink=0.5, dense_dropout=0.2)
    model = build_model(spec, (32, 32, 3), 5)
    assert isinstance(model, keras.Model) and not isinstance(model, keras.Sequential)
    assert not model.compiled  # uncompiled
    layer = {l.name: l for l in model.layers}
    assert isinstance(model.layers[1], keras.layers.Rescaling)
    assert layer["block1_conv1"].strides == (2, 2) and layer["block1_conv2"].strides == (1, 1)
    assert layer["block1_conv1"].filters == 4 and layer["block2_conv1"].filters == 6
    assert not layer["block1_conv1"].use_bias
    assert isinstance(layer["block2_bn2"], keras.layers.BatchNormalization)
    assert layer["block1_act1"].activation.__name__ == "leaky_relu"
    assert isinstance(layer["block2_pool"], keras.layers.AveragePooling2D)
    assert isinstance(layer["block1_dropout"], keras.layers.Dropout)
    assert isinstance(layer["global_pool"], keras.layers.GlobalAveragePooling2D)
    assert layer["dense1"].units == 16 and layer["dense2"].units == 8
    assert "dense2_dropout" in layer and layer["output"].units == 5
    # 32 -> stride 2 -> 16 -> pool 8 -> stride 2 -> 4 -> pool 2
    assert layer["block2_pool"].output.shape[1:] == (2, 2, 6)
    out = model(np.random.default_rng(0).uniform(0, 255, (3, 32, 32, 3)).astype("float32"))
    np.testing.assert_allclose(np.sum(np.asarray(out), axis=1), 1.0, rtol=1e-5)
    # the pure-Python plan agrees with the built model, batch-norm statistics included
    planned, built = plan_summary(spec, (32, 32, 3), 5), summarize(model)
    assert (planned.total_params, planned.trainable_params, planned.flops_per_image) == (
        built.total_params, built.trainable_params, built.flops_per_image)
    assert built.trainable_params < built.total_params


def test_mlp_and_scaling_layer_from_preprocessing():
    class FakeScaling:  # duck-typed stand-in for preprocessing.FittedScaling
        def as_layer(self):
            return keras.layers.Rescaling(scale=2.0, offset=-1.0, name="fitted_scaling")

    model = build_model(PRESETS["mlp"], (8, 8, 1), 4, scaling=FakeScaling())
    assert model.layers[1].name == "fitted_scaling"
    assert not any(isinstance(l, keras.layers.Conv2D) for l in model.layers)
    assert [l.name for l in model.layers][2:] == [
        "flatten", "dense1", "dense1_dropout", "dense2", "dense2_dropout", "output"]
    with pytest.raises(SpecError):
        build_model(ModelSpec(conv_blocks=6), (8, 8, 1), 4)  # checked before building


# --- optimizers, schedules, compile ------------------------------------------------------------


def test_build_optimizer_kinds():
    adam = build_optimizer(ModelSpec(optimizer="adam"), 10)
    assert isinstance(adam, keras.optimizers.Adam) and adam.weight_decay is None
    assert float(adam.learning_rate) == pytest.approx(1e-3)
    adamw = build_optimizer(ModelSpec(optimizer="adamw", weight_decay=0.01), 10)
    assert isinstance(adamw, keras.optimizers.AdamW) and adamw.weight_decay == pytest.approx(0.01)
    sgd = build_optimizer(ModelSpec(optimizer="sgd", momentum=0.8, nesterov=True,
                                    weight_decay=1e-4), 10)
    assert isinstance(sgd, keras.optimizers.SGD)
    assert sgd.momentum == pytest.approx(0.8) and sgd.nesterov
    assert sgd.weight_decay == pytest.approx(1e-4)
    assert isinstance(build_optimizer(ModelSpec(optimizer="rmsprop"), 10), keras.optimizers.RMSprop)


def test_schedules_shape():
    spec = ModelSpec(learning_rate=0.01, epochs=10, lr_schedule="one_cycle")
    one = build_optimizer(spec, 10)._learning_rate
    assert isinstance(one, keras.optimizers.schedules.CosineDecay)
    values = [float(one(s)) for s in range(0, 101)]
    peak = int(np.argmax(values))
    assert 25 <= peak <= 30 and values[peak] == pytest.approx(0.01, rel=1e-4)
    assert values[0] < 0.001 and values[100] < 1e-5 and values[-1] < values[50] < values[peak]
    assert all(a <= b + 1e-9 for a, b in zip(values[:peak], values[1:peak + 1]))  # rising
    assert all(a >= b - 1e-9 for a, b in zip(values[peak:], values[peak + 1:]))  # falling
    assert float(one(500)) == pytest.approx(values[100], rel=1e-4)  # stays low after the end

    cos = build_optimizer(spec.replace(lr_schedule="cosine"), 10)._learning_rate
    assert isinstance(cos, keras.optimizers.schedules.CosineDecay)
    assert [round(float(cos(s)), 6) for s in (0, 50, 100)] == [0.01, 0.005, 0.0]
    # the curve the UI draws matches the schedule the optimizer uses
    curve = models.learning_rate_curve(spec, 10)
    np.testing.assert_allclose(curve, [values[e * 10] for e in range(11)], rtol=1e-4, atol=1e-9)
    assert np.all(models.learning_rate_curve(spec.replace(lr_schedule="constant"), 10) == 0.01)


def test_needs_onehot_and_loss_choice():
    plain, smooth = ModelSpec(), ModelSpec(label_smoothing=0.1)
    assert not needs_onehot(plain, "integer") and needs_onehot(plain, "onehot")
    assert needs_onehot(smooth, "integer")
    with pytest.raises(SpecError) as info:
        needs_onehot(plain, "ordinal")
    assert info.value.setting == "label_encoding"
    model = build_model(TINY, (6, 6, 1), 3)
    compile_model(model, smooth, 5, "integer")
    assert isinstance(model.loss, keras.losses.CategoricalCrossentropy)
    assert model.loss.get_config()["label_smoothing"] == pytest.approx(0.1)
    compile_model(model, plain, 5, "integer")
    assert isinstance(model.loss, keras.losses.SparseCategoricalCrossentropy)


def test_saved_model_reloads_with_optimizer_and_schedule(tmp_path):
    keras.utils.set_random_seed(0)
    spec = TINY.replace(optimizer="sgd", lr_schedule="one_cycle", label_smoothing=0.1,
                        batch_norm=True)
    model = build_model(spec, (6, 6, 1), 3)
    compile_model(model, spec, steps_per_epoch=3, label_encoding="integer")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (12, 6, 6, 1)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 3, 12), 3)  # needs_onehot -> caller encodes
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)

    loaded = keras.models.load_model(path)
    assert int(loaded.optimizer.iterations) == 3
    schedule = loaded.optimizer._learning_rate
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)
    assert schedule.get_config() == model.optimizer._learning_rate.get_config()
    assert float(loaded.optimizer.learning_rate) == pytest.approx(
        float(model.optimizer.learning_rate))
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), rtol=1e-5, atol=1e-6)
    assert isinstance(models.load_model(path).optimizer._learning_rate,
                      keras.optimizers.schedules.CosineDecay)


@pytest.mark.parametrize("schedule, values", [
    # learning rates at steps 0, 2, 5 and 10 of the stored 10-step schedules
    ("one_cycle", [0.0004, 0.0068, 0.0081176, 1e-6]),
    ("cosine", [0.01, 0.0090451, 0.005, 0.0]),
])
def test_models_saved_before_the_split_still_load(schedule, values):
    """tests/data/legacy_*_model.keras were saved by the pre-package ``cnn_core/models.py``
    (optimizer sgd, learning rate 0.01, schedule over 2 epochs x 5 steps, trained 2 steps); their optimizer
    names ``cnn_core>OneCycleSchedule`` / ``cnn_core>CosineSchedule`` from ``cnn_core.models``."""
    from pathlib import Path

    from cnn_core.exchange import inspect_keras_file
    from cnn_core.model import load_model

    path = Path(__file__).parent / "data" / f"legacy_{schedule}_model.keras"
    inspect_keras_file(path.read_bytes())  # the run import's safety check accepts it
    loaded = load_model(path)
    lr = loaded.optimizer._learning_rate
    assert lr.get_config()["total_steps"] == 10
    assert [float(lr(s)) for s in (0, 2, 5, 10)] == pytest.approx(values, rel=1e-4, abs=1e-9)
    assert int(loaded.optimizer.iterations) == 2  # 8 pictures, batches of 4
    assert loaded(np.zeros((1, 4, 4, 1), "float32")).shape == (1, 3)


# --- time estimate ---------------------------------------------------------------------------


def test_estimate_epoch_seconds_scales_with_work():
    rate = models.calibrate()
    assert models.calibrate() is rate  # measured once per process
    assert rate.flops_per_second > 1e8 and 0 <= rate.seconds_per_step < 1
    small = estimate_epoch_seconds(PRESETS["lenet"], (28, 28, 1), 10, 4000)
    double = estimate_epoch_seconds(PRESETS["lenet"], (28, 28, 1), 10, 8000)
    big = estimate_epoch_seconds(PRESETS["fast"], (32, 32, 3), 10, 4000)
    assert 0 < small < 60
    assert double == pytest.approx(2 * small, rel=0.05)
    assert big > small
    steps = math.ceil(4000 / PRESETS["lenet"].batch_size)
    flops = plan_summary(PRESETS["lenet"], (28, 28, 1), 10).flops_per_image
    assert small == pytest.approx(
        steps * rate.seconds_per_step + 3 * flops * 4000 / rate.flops_per_second)
