"""The kernel demo (cnn_core/convolution_demo.py) computes what scipy and Keras compute."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import correlate2d

from cnn_core.convolution_demo import (KERNELS, KernelError, as_kernel, convolve, pixel_arithmetic,
                                       strongest_pixel)


def picture(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (13, 17)).astype(np.uint8)


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_every_kernel_equals_scipy_correlation_with_zero_padding(name):
    x = picture()
    expected = correlate2d(x.astype(float), KERNELS[name], mode="same", boundary="fill", fillvalue=0)
    assert np.allclose(convolve(x, KERNELS[name]), expected)


def test_an_edited_kernel_equals_a_keras_conv2d_with_same_padding():
    import keras

    kernel = as_kernel([[1, -2, 0.5], [3, 0, -1], [0, 2, -4]])
    x = picture(1)
    layer = keras.layers.Conv2D(1, 3, padding="same", use_bias=False)
    layer.build((1, 13, 17, 1))
    layer.set_weights([kernel[:, :, None, None]])
    out = np.asarray(layer(x[None, ..., None].astype("float32")))[0, ..., 0]
    assert np.allclose(convolve(x, kernel), out, atol=1e-3)


def test_one_pixels_arithmetic_adds_up_to_the_output_pixel():
    x = picture(2)
    k = KERNELS["sharpen"]
    out = convolve(x, k)
    for row, col in [(0, 0), (6, 8), (12, 16), strongest_pixel(x, k)]:
        worked = pixel_arithmetic(x, k, row, col)
        assert worked.total == pytest.approx(out[row, col])
        assert worked.formula().endswith(f"= {worked.total:g}") and worked.formula().count("×") == 9
    assert pixel_arithmetic(x, k, 0, 0).patch[0].tolist() == [0, 0, 0]   # zeros past the border


def test_a_kernel_that_is_not_nine_numbers_is_refused():
    with pytest.raises(KernelError, match="3 rows of 3"):
        as_kernel([1, 2, 3])
    with pytest.raises(KernelError, match="ordinary number"):
        as_kernel([[1, 2, 3], [4, float("nan"), 6], [7, 8, 9]])
