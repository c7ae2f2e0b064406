"""Feature maps, filters, saliency and Grad-CAM on tiny models trained for one epoch on toy tasks.

Two toy tasks, 16x16 grayscale pictures on a noisy dark background, where we know which region
decides the class, so the maps can be checked against it (random maps would score about 0.5):

- "left decides": class 1 has a bright square in the left half, class 0 has none; every picture
  also has a bright square somewhere in the right half, which says nothing about the class.
  The saliency of class 1 must lie mostly in the left half.
- "shapes": a filled square (class 0) or a cross (class 1) in the left or the right half.
  Grad-CAM of the true class must lie mostly in the half holding the shape.

(Grad-CAM weighs whole feature maps, so a detector of squares lights up the distractor square of
the first task as much as the deciding one: that task checks saliency, the second Grad-CAM.)
"""

from __future__ import annotations

import math
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnn_core import explain  # noqa: E402
from cnn_core.errors import CnnLabError, ExplainError, RunStateError  # noqa: E402
from cnn_core.model import ModelSpec, build_model, compile_model  # noqa: E402
from cnn_core.runs import RunStore  # noqa: E402
from cnn_core.training import make_dataset, save_model_atomic  # noqa: E402

SIDE = 16
CNN = ModelSpec(conv_blocks=2, filters=8, kernel_size=3, dense_layers=1, dense_units=16,
                batch_size=16, epochs=1, learning_rate=0.01, seed=0)
MLP = ModelSpec(conv_blocks=0, dense_layers=1, dense_units=32, batch_size=16, epochs=1,
                learning_rate=0.01, seed=0)


def noisy(rng, n: int) -> np.ndarray:
    return rng.integers(0, 41, (n, SIDE, SIDE, 1)).astype(np.uint8)


def left_decides(n: int, seed: int):
    """Class 1: a bright 4x4 square in the left half. Every picture: one in the right half too."""
    rng = np.random.default_rng(seed)
    x, y = noisy(rng, n), np.arange(n) % 2
    for image, label in zip(x, y):
        r, c = rng.integers(0, SIDE - 3), SIDE // 2 + rng.integers(0, SIDE // 2 - 3)
        image[r:r + 4, c:c + 4] = rng.integers(200, 256)
        if label:
            r, c = rng.integers(0, SIDE - 3), rng.integers(0, SIDE // 2 - 3)
            image[r:r + 4, c:c + 4] = rng.integers(200, 256)
    return x, y


def shapes(n: int, seed: int):
    """A filled 5x5 square (class 0) or a 5x5 cross (class 1), in the left or right half."""
    rng = np.random.default_rng(seed)
    x, y, side = noisy(rng, n), np.arange(n) % 2, rng.integers(0, 2, n)
    for image, label, s in zip(x, y, side):
        r, c, v = rng.integers(0, SIDE - 4), rng.integers(0, 3) + SIDE // 2 * s, rng.integers(200, 256)
        if label == 0:
            image[r:r + 5, c:c + 5] = v
        else:
            image[r + 2, c:c + 5] = v
            image[r:r + 5, c + 2] = v
    return x, y, side


def train(spec: ModelSpec, x: np.ndarray, y: np.ndarray) -> keras.Model:
    """One epoch, fed exactly as CNN Lab trains (uint8 pictures -> float32 0..255 batches)."""
    keras.utils.set_random_seed(spec.seed)
    model = build_model(spec, x.shape[1:], int(y.max()) + 1)
    compile_model(model, spec, math.ceil(len(x) / spec.batch_size), "integer")
    model.fit(make_dataset(x, y, spec.batch_size, shuffle=True, seed=0), epochs=1, shuffle=False,
              verbose=0)
    return model


def accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(model.predict(make_dataset(x, None, 64), verbose=0).argmax(1) == y))


def half_mass(heat: np.ndarray, side: int) -> float:
    half = heat[:, :SIDE // 2] if side == 0 else heat[:, SIDE // 2:]
    return float(half.sum() / heat.sum())


@pytest.fixture(scope="module")
def left_task():
    x, y = left_decides(512, seed=0)
    model = train(CNN, x, y)
    x_test, y_test = left_decides(40, seed=100)
    assert accuracy(model, x_test, y_test) >= 0.9   # the model must have learned the task
    return model, x_test, y_test


@pytest.fixture(scope="module")
def shapes_task():
    x, y, _ = shapes(512, seed=0)
    model = train(CNN, x, y)
    x_test, y_test, side = shapes(24, seed=100)
    assert accuracy(model, x_test, y_test) >= 0.9
    return model, x_test, y_test, side


@pytest.fixture(scope="module")
def mlp():
    x, y = left_decides(256, seed=1)
    return train(MLP, x, y), x[:4]


# --------------------------------------------------------------------------- layers, maps, filters

def test_conv_layers_in_order_and_empty_for_an_mlp(left_task, mlp):
    assert explain.conv_layers(left_task[0]) == ["block1_conv1", "block2_conv1"]
    deep = build_model(ModelSpec(conv_blocks=2, filters=4, convs_per_block=2, batch_norm=True,
                                 dense_layers=0), (16, 16, 3), 3)
    assert explain.conv_layers(deep) == ["block1_conv1", "block1_conv2", "block2_conv1",
                                         "block2_conv2"]
    assert explain.conv_layers(mlp[0]) == []


def test_feature_maps_shapes_ranges_order_and_layer_choice(left_task):
    model, x, _ = left_task
    maps = explain.feature_maps(model, x[1])
    assert maps.shape == (8, SIDE, SIDE) and maps.dtype == np.float32   # 8 filters < max_maps 16
    assert maps.min() == pytest.approx(0.0) and maps.max() == pytest.approx(1.0)
    # strongest first, the same order as the raw activations of the layer
    raw = np.asarray(keras.Model(model.input, model.get_layer("block1_conv1").output)(
        x[1:2].astype("float32")))[0]
    order = np.argsort(-raw.mean(axis=(0, 1)), kind="stable")
    np.testing.assert_allclose(maps, explain._unit_scale(np.moveaxis(raw[..., order], -1, 0)),
                               atol=1e-5)
    assert np.all(np.diff(maps.mean(axis=(1, 2))) <= 1e-6)

    assert explain.feature_maps(model, x[1], max_maps=3).shape == (3, SIDE, SIDE)
    second = explain.feature_maps(model, x[1], layer_name="block2_conv1", max_maps=5)
    assert second.shape == (5, SIDE // 2, SIDE // 2)
    with pytest.raises(ExplainError, match="block1_conv1, block2_conv1"):
        explain.feature_maps(model, x[1], layer_name="dense1")
    with pytest.raises(ExplainError):
        explain.feature_maps(model, x[1], max_maps=0)


def test_feature_maps_after_batch_norm_are_read_after_the_activation():
    keras.utils.set_random_seed(0)
    model = build_model(ModelSpec(conv_blocks=1, filters=4, batch_norm=True, dense_layers=0),
                        (8, 8, 3), 2)
    image = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    act = np.asarray(keras.Model(model.input, model.get_layer("block1_act1").output)(
        image[None].astype("float32")))[0]
    order = np.argsort(-act.mean(axis=(0, 1)), kind="stable")
    np.testing.assert_allclose(explain.feature_maps(model, image),
                               explain._unit_scale(np.moveaxis(act[..., order], -1, 0)), atol=1e-5)


def test_filter_weights_are_the_first_kernels_scaled(left_task, mlp):
    model = left_task[0]
    filters = explain.filter_weights(model)
    assert filters.shape == (8, 3, 3, 1) and filters.dtype == np.float32
    assert filters.min() == pytest.approx(0.0) and filters.max() == pytest.approx(1.0)
    kernel = np.transpose(np.asarray(model.get_layer("block1_conv1").kernel), (3, 0, 1, 2))
    np.testing.assert_allclose(filters, explain._unit_scale(kernel), atol=1e-6)
    assert explain.filter_weights(model, "block2_conv1").shape == (16, 3, 3, 8)
    with pytest.raises(ExplainError, match="no convolution layers"):
        explain.filter_weights(mlp[0])


# --------------------------------------------------------------------------- saliency

def test_saliency_shape_range_and_default_class(left_task):
    model, x, _ = left_task
    heat = explain.saliency(model, x[0])
    assert heat.shape == (SIDE, SIDE) and heat.dtype == np.float32
    assert heat.min() >= 0.0 and heat.max() == pytest.approx(1.0)
    predicted = int(model.predict(x[:1].astype("float32"), verbose=0).argmax())
    np.testing.assert_allclose(heat, explain.saliency(model, x[0], class_index=predicted))
    # two classes: the evidence for one is the evidence against the other (centred logits)
    np.testing.assert_allclose(heat, explain.saliency(model, x[0], class_index=1 - predicted),
                               atol=1e-5)
    with pytest.raises(ExplainError, match="classes 0 to 1"):
        explain.saliency(model, x[0], class_index=2)
    with pytest.raises(ExplainError, match="16x16"):
        explain.saliency(model, np.zeros((28, 28, 1), np.uint8))
    assert explain.saliency(model, x[0][..., 0]).shape == (SIDE, SIDE)   # (H, W) grayscale too


def test_saliency_lies_on_the_region_that_decides(left_task):
    model, x, y = left_task
    squares = np.flatnonzero(y == 1)[:12]
    left = [half_mass(explain.saliency(model, x[i], class_index=1), 0) for i in squares]
    peaks_left = [np.unravel_index(explain.saliency(model, x[i], class_index=1).argmax(),
                                   (SIDE, SIDE))[1] < SIDE // 2 for i in squares]
    # the distractor square on the right is just as bright, but says nothing about the class
    assert np.mean(left) >= 0.6, left
    assert np.mean(peaks_left) >= 0.8, peaks_left


def test_saliency_works_for_an_mlp(mlp):
    model, x = mlp
    heat = explain.saliency(model, x[0])
    assert heat.shape == (SIDE, SIDE) and heat.max() == pytest.approx(1.0) and heat.min() >= 0


# --------------------------------------------------------------------------- Grad-CAM

def test_grad_cam_shape_range_defaults_and_layer_choice(shapes_task):
    model, x, _, _ = shapes_task
    heat = explain.grad_cam(model, x[0])
    assert heat.shape == (SIDE, SIDE) and heat.dtype == np.float32
    assert heat.min() >= 0.0 and heat.max() == pytest.approx(1.0)
    predicted = int(model.predict(x[:1].astype("float32"), verbose=0).argmax())
    np.testing.assert_allclose(heat, explain.grad_cam(model, x[0], class_index=predicted))
    np.testing.assert_allclose(heat, explain.grad_cam(model, x[0], layer_name="block2_conv1"))
    first = explain.grad_cam(model, x[0], layer_name="block1_conv1")
    assert first.shape == (SIDE, SIDE) and not np.allclose(first, heat)
    with pytest.raises(ExplainError, match="no convolution layer called 'output'"):
        explain.grad_cam(model, x[0], layer_name="output")


def test_grad_cam_lies_on_the_shape(shapes_task):
    model, x, y, side = shapes_task
    heats = [explain.grad_cam(model, x[i], class_index=int(y[i])) for i in range(len(x))]
    mass = [half_mass(h, s) for h, s in zip(heats, side)]
    peaks = [(np.unravel_index(h.argmax(), h.shape)[1] >= SIDE // 2) == bool(s)
             for h, s in zip(heats, side)]
    assert np.mean(mass) >= 0.65, mass
    assert np.mean(peaks) >= 0.8, peaks


def test_grad_cam_of_an_mlp_says_to_try_saliency(mlp):
    with pytest.raises(ExplainError) as error:
        explain.grad_cam(mlp[0], mlp[1][0])
    assert isinstance(error.value, CnnLabError)
    message = str(error.value)
    assert "no convolution layers (it is an MLP)" in message and "saliency" in message
    with pytest.raises(ExplainError, match="no convolution layers"):
        explain.feature_maps(mlp[0], mlp[1][0])


def test_a_sequential_model_gives_the_same_maps(shapes_task):
    model, x, _, _ = shapes_task
    sequential = keras.Sequential([keras.Input((SIDE, SIDE, 1))] + model.layers[1:])
    assert explain.conv_layers(sequential) == explain.conv_layers(model)
    for function in (explain.grad_cam, explain.saliency, explain.feature_maps):
        np.testing.assert_allclose(function(sequential, x[3]), function(model, x[3]), atol=1e-5)


# --------------------------------------------------------------------------- overlay, loading

def test_overlay_makes_an_rgb_picture():
    gray = np.full((6, 5, 1), 100, np.uint8)
    heat = np.zeros((6, 5), np.float32)
    heat[:, 3:] = 1.0
    out = explain.overlay(gray, heat)
    assert out.shape == (6, 5, 3) and out.dtype == np.uint8
    hot, cold = out[0, 4].astype(int), out[0, 0].astype(int)
    assert hot[0] > hot[2] and cold[2] > cold[0]                  # red where hot, blue where cold
    np.testing.assert_array_equal(explain.overlay(gray, heat, alpha=0.0), np.repeat(gray, 3, -1))
    assert explain.overlay(gray[..., 0], heat).shape == (6, 5, 3)  # (H, W) pictures too
    rgb = np.random.default_rng(0).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    assert explain.overlay(rgb, np.ones((3, 2))).shape == (6, 5, 3)  # heat resized to the picture
    with pytest.raises(ValueError):
        explain.overlay(gray, heat, alpha=1.5)


def test_load_run_model_reads_a_saved_run_and_refuses_bad_files(workspace, shapes_task):
    model, x, _, _ = shapes_task
    store = RunStore(workspace)
    run_id = store.create_run({"model": {"epochs": 1}}, name="explained")
    with pytest.raises(RunStateError, match="no trained model"):
        explain.load_run_model(store, run_id)
    save_model_atomic(model, store.model_path(run_id))
    loaded = explain.load_run_model(store, run_id)
    np.testing.assert_allclose(explain.grad_cam(loaded, x[0]), explain.grad_cam(model, x[0]),
                               atol=1e-5)
    store.model_path(run_id).write_bytes(b"not a model")
    with pytest.raises(RunStateError, match="cannot be read"):
        explain.load_run_model(store, run_id)
