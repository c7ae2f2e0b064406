"""Where a layer's feature-map cells sit over the input picture (receptive-field arithmetic).

Grad-CAM (:func:`cnn_core.explain.grad_cam`) lays a map back over the picture with
:func:`feature_grid`: a 'valid' convolution removes a border and a pooling doubles the step, so a
map is not simply stretched over the whole picture.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np


@dataclasses.dataclass(frozen=True)
class FeatureGrid:
    """Where a layer's map cells sit over the input picture (receptive-field arithmetic).

    Cell ``i`` along an axis is centred on input pixel ``start + i * step`` (pixel centres are
    whole numbers 0..H-1). A 'valid' convolution of kernel k moves the start (k - 1) / 2 pixels in
    (it removes a border), a 2x2 pooling doubles the step and moves the start half a step; so a
    map is not simply stretched over the whole picture.
    """

    input_size: tuple[int, int]
    sizes: tuple[int, int]
    starts: tuple[float, float]
    steps: tuple[float, float]

    def to_input(self, values: np.ndarray) -> np.ndarray:
        """``values`` (one per cell, shape ``sizes``) -> one per input pixel: bilinear between
        cell centres; pixels beyond the outermost centres take the nearest edge cell's value."""
        rows, cols = self._weights(0), self._weights(1)
        return (rows @ np.asarray(values, dtype=np.float64) @ cols.T).astype(np.float32)

    def _weights(self, axis: int) -> np.ndarray:
        """Interpolation matrix ``(input pixels, cells)`` along one axis."""
        n_input, cells = self.input_size[axis], self.sizes[axis]
        position = (np.arange(n_input, dtype=np.float64) - self.starts[axis]) / self.steps[axis]
        position = np.clip(position, 0.0, cells - 1)
        low = np.floor(position).astype(int)
        high = np.minimum(low + 1, cells - 1)
        frac = position - low
        weights = np.zeros((n_input, cells))
        np.add.at(weights, (np.arange(n_input), low), 1.0 - frac)
        np.add.at(weights, (np.arange(n_input), high), frac)
        return weights


def _pair(value) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def feature_grid(model: keras.Model, layer_name: str, input_size: tuple[int, int]
                 ) -> FeatureGrid | None:
    """The :class:`FeatureGrid` of ``layer_name``'s output for a picture of ``input_size``.

    Follows the model's layers in order up to that layer (CNN Lab's models are one chain):
    convolutions and poolings with their kernel, stride, dilation and padding; other layers
    (scaling, batch norm, activations, dropout) are taken to keep the size — the caller checks
    the result against the real map's size. None for a transposed convolution or an unknown name.
    """
    sizes = [int(input_size[0]), int(input_size[1])]
    starts, steps = [0.0, 0.0], [1.0, 1.0]
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2DTranspose):
            return None
        kernel = getattr(layer, "kernel_size", None) or getattr(layer, "pool_size", None)
        if kernel is not None and hasattr(layer, "strides") and hasattr(layer, "padding"):
            kernels, strides = _pair(kernel), _pair(layer.strides or kernel)
            dilations = _pair(getattr(layer, "dilation_rate", 1) or 1)
            for axis in (0, 1):
                k = (kernels[axis] - 1) * dilations[axis] + 1
                s, n = strides[axis], sizes[axis]
                if str(layer.padding).lower() == "same":
                    out = -(-n // s)
                    before = max((out - 1) * s + k - n, 0) // 2  # TensorFlow pads the end more
                else:
                    out, before = (n - k) // s + 1, 0
                starts[axis] += ((k - 1) / 2.0 - before) * steps[axis]
                steps[axis] *= s
                sizes[axis] = out
        if layer.name == layer_name:
            return FeatureGrid((int(input_size[0]), int(input_size[1])), tuple(sizes),
                               tuple(starts), tuple(steps))
    return None


__all__ = ["FeatureGrid", "feature_grid"]
