"""Grad-CAM lands on the right pixels when 'valid' convolutions trim the picture's border.

A hand-made model whose one convolution copies the pixel under its kernel's centre (a "delta"
kernel) and whose class 0 adds up the whole map: its Grad-CAM for class 0 is the picture's bright
spot, seen through the convolution. With 'valid' padding the map is smaller than the picture and
starts (k - 1) / 2 pixels in, so stretching it over the whole picture moves the spot.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnn_core import explain  # noqa: E402
from cnn_core.model import PRESETS, build_model  # noqa: E402

SIDE = 16


def delta_model(padding: str, kernel: int = 5, pool: bool = False) -> keras.Model:
    inputs = keras.Input((SIDE, SIDE, 1), name="image")
    conv = keras.layers.Conv2D(1, kernel, padding=padding, use_bias=False, activation="relu",
                               name="conv")
    x = conv(inputs)
    if pool:
        x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    head = keras.layers.Dense(2, activation="softmax", name="output")
    outputs = head(x)
    model = keras.Model(inputs, outputs)
    weights = np.zeros((kernel, kernel, 1, 1), np.float32)
    weights[kernel // 2, kernel // 2] = 1.0
    conv.set_weights([weights])
    cells = int(np.prod(x.shape[1:]))
    head.set_weights([np.stack([np.ones(cells), np.zeros(cells)], axis=1).astype(np.float32),
                      np.zeros(2, np.float32)])
    return model


def spot_picture(row: int, col: int) -> np.ndarray:
    picture = np.zeros((SIDE, SIDE, 1), np.uint8)
    picture[row, col] = 255
    return picture


def peak(heat: np.ndarray) -> tuple[int, int]:
    return tuple(int(v) for v in np.unravel_index(int(np.argmax(heat)), heat.shape))


@pytest.mark.parametrize("row, col", [(4, 4), (11, 3), (5, 12)])
def test_grad_cam_peak_is_on_the_bright_pixel_with_valid_padding(row, col):
    heat = explain.grad_cam(delta_model("valid"), spot_picture(row, col), class_index=0)
    assert heat.shape == (SIDE, SIDE)
    assert peak(heat) == (row, col)


@pytest.mark.parametrize("row, col", [(4, 4), (11, 3)])
def test_grad_cam_peak_is_on_the_bright_pixel_with_same_padding(row, col):
    heat = explain.grad_cam(delta_model("same"), spot_picture(row, col), class_index=0)
    assert peak(heat) == (row, col)


def test_grad_cam_after_valid_convolution_and_pooling_centres_on_the_spot():
    # A 2x2 bright square at rows/cols 4-5: after a 5x5 valid conv it is cells 2-3, one pooled
    # cell (1) whose centre is input pixel 2 + 0.5 + 1 * 2 = 4.5, the square's centre.
    picture = np.zeros((SIDE, SIDE, 1), np.uint8)
    picture[4:6, 4:6] = 255
    heat = explain.grad_cam(delta_model("valid", pool=True), picture, class_index=0)
    rows, cols = np.indices(heat.shape)
    weight = heat ** 4
    centre = (float((rows * weight).sum() / weight.sum()), float((cols * weight).sum() / weight.sum()))
    assert centre == pytest.approx((4.5, 4.5), abs=0.35)


def test_feature_grid_of_lenet_with_valid_padding_follows_the_trimmed_border():
    spec = PRESETS["lenet"]
    assert spec.padding == "valid"
    model = build_model(spec, (28, 28, 1), 10)
    first, last = explain.conv_layers(model)[0], explain.conv_layers(model)[-1]
    grid = explain.feature_grid(model, first, (28, 28))
    k = spec.kernel_size
    assert grid.sizes == (28 - k + 1, 28 - k + 1)
    assert grid.starts == ((k - 1) / 2, (k - 1) / 2) and grid.steps == (1.0, 1.0)
    grid = explain.feature_grid(model, last, (28, 28))
    # conv k -> pool 2 -> conv k: the start moves (k-1)/2, then half a pixel, then (k-1)/2 * 2.
    start = (k - 1) / 2 + 0.5 + (k - 1) / 2 * 2
    assert grid.starts == (start, start) and grid.steps == (2.0, 2.0)
    assert grid.sizes == tuple(model.get_layer(last).output.shape[1:3])


def test_feature_grid_with_same_padding_matches_a_plain_stretch():
    values = np.random.default_rng(0).random((8, 8)).astype(np.float32)
    grid = explain.FeatureGrid((16, 16), (8, 8), (0.5, 0.5), (2.0, 2.0))
    import tensorflow as tf
    stretched = tf.image.resize(values[None, ..., None], (16, 16), method="bilinear")[0, ..., 0]
    assert np.allclose(grid.to_input(values), np.asarray(stretched), atol=1e-5)
