"""A picture's path through a network, layer by layer, for the "Look inside" sections.

Built on :mod:`cnn_core.explain` (feature maps, filters): per convolution layer its output shape
and its most active maps for one picture, and the strip "input -> each layer's strongest map ->
probabilities".

Example:
    >>> views = layer_views(model, picture, max_maps=8)
    >>> [(v.name, v.shape) for v in views]
    [('block1_conv1', (28, 28, 6)), ('block2_conv1', (14, 14, 16))]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnn_core.i18n import gettext


@dataclass(frozen=True)
class LayerView:
    """One convolution layer seen on one picture.

    Attributes:
        name: the layer's name.
        shape: its output ``(height, width, maps)``.
        maps: float32 ``(k, h, w)`` in 0..1, the most active first (at most ``max_maps``).
    """

    name: str
    shape: tuple[int, ...]
    maps: np.ndarray

    def describe(self) -> str:
        h, w, k = (self.shape + (None, None, None))[:3]
        return gettext("{name}: {count} maps of {height}x{width} pixels", name=self.name, count=k, height=h, width=w)


def layer_views(model, picture, max_maps: int = 16) -> list[LayerView]:
    """Every convolution layer's maps for ``picture`` (uint8, the model's input shape), input side
    first. Empty for a model without convolutions (an MLP)."""
    from cnn_core import explain

    views = []
    for name in explain.conv_layers(model):
        shape = tuple(int(v) for v in model.get_layer(name).output.shape[1:])
        views.append(LayerView(name, shape, explain.feature_maps(model, picture, layer_name=name,
                                                                 max_maps=max_maps)))
    return views


def map_picture(values: np.ndarray) -> np.ndarray:
    """A 0..1 map -> uint8 ``(h, w, 1)`` picture (bright = strong response)."""
    return np.clip(np.rint(np.asarray(values) * 255), 0, 255).astype(np.uint8)[..., None]


def filter_pictures(model) -> list[np.ndarray]:
    """The first convolution layer's learned filters as small uint8 pictures ``(kh, kw, 1 or 3)``
    (one shared scale: black the most negative weight, white the most positive)."""
    from cnn_core import explain

    weights = explain.filter_weights(model)  # (n, kh, kw, c) in 0..1
    pictures = []
    for kernel in weights:
        if kernel.shape[-1] not in (1, 3):
            kernel = kernel.mean(axis=-1, keepdims=True)
        pictures.append(np.clip(np.rint(kernel * 255), 0, 255).astype(np.uint8))
    return pictures


__all__ = ["LayerView", "filter_pictures", "layer_views", "map_picture"]
