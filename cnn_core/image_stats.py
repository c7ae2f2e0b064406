"""Looking at a data set: random samples, visible-size images and pixel-value histograms.

Plain numpy (no TensorFlow), so the data set page appears fast. Images are uint8 arrays shaped
``(N, H, W, C)`` with ``C`` = 1 (grayscale) or 3 (RGB), as :class:`cnn_core.datasets.Dataset` holds.

Example:
    >>> import numpy as np
    >>> labels = np.array([0, 1, 1, 2, 1])
    >>> sorted(sample_indices(labels, 10, class_index=1).tolist())
    [1, 2, 4]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GRAY_NAMES = ("gray",)
RGB_NAMES = ("red", "green", "blue")


def channel_names(channels: int) -> tuple[str, ...]:
    """Plain names of the colour channels: ``("gray",)`` or ``("red", "green", "blue")``."""
    if channels == 1:
        return GRAY_NAMES
    if channels == 3:
        return RGB_NAMES
    return tuple(f"channel {i + 1}" for i in range(channels))


def sample_indices(
    labels: np.ndarray, n: int, *, class_index: int | None = None, seed: int = 0
) -> np.ndarray:
    """Up to ``n`` distinct random positions into ``labels``, optionally only of one class.

    The same ``seed`` gives the same sample; a new seed gives a fresh one ("Shuffle").
    Returns fewer than ``n`` positions when the (filtered) data set is smaller.
    """
    labels = np.asarray(labels).reshape(-1)
    pool = np.arange(labels.shape[0]) if class_index is None else np.flatnonzero(labels == class_index)
    n = max(0, min(int(n), pool.shape[0]))
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng(seed)
    return rng.choice(pool, size=n, replace=False).astype(np.int64)  # random order: classes mixed


def upscale_factor(height: int, width: int, min_side: int = 96, max_factor: int = 16) -> int:
    """The whole-number factor that makes the smaller side at least ``min_side`` pixels."""
    side = max(1, min(height, width))
    return int(max(1, min(max_factor, -(-min_side // side))))


def upscale_nearest(images: np.ndarray, min_side: int = 96) -> np.ndarray:
    """Enlarge small images by repeating pixels (nearest neighbour), keeping them sharp.

    Works on one image ``(H, W, C)`` or a batch ``(N, H, W, C)``; images already large enough
    come back unchanged. A 28x28 digit becomes 112x112 with ``min_side=96``.
    """
    images = np.asarray(images)
    h_axis = images.ndim - 3
    factor = upscale_factor(images.shape[h_axis], images.shape[h_axis + 1], min_side)
    if factor == 1:
        return images
    return images.repeat(factor, axis=h_axis).repeat(factor, axis=h_axis + 1)


def for_display(image: np.ndarray, min_side: int = 96) -> np.ndarray:
    """One uint8 image ready for ``st.image``: upscaled, grayscale squeezed to ``(H, W)``."""
    image = upscale_nearest(np.asarray(image), min_side)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    return image.astype(np.uint8, copy=False)


@dataclass(frozen=True)
class PixelHistogram:
    """How often each pixel value occurs, per colour channel.

    Attributes:
        bin_edges: ``bins + 1`` edges spanning 0..256.
        counts: one array of ``bins`` counts per channel, in ``channels`` order.
        channels: channel names (see :func:`channel_names`).
        mean: mean pixel value per channel; std: its standard deviation.
        n_images: how many images were counted (a random sample of large sets).
    """

    bin_edges: np.ndarray
    counts: tuple[np.ndarray, ...]
    channels: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    n_images: int

    @property
    def bin_centers(self) -> np.ndarray:
        return (self.bin_edges[:-1] + self.bin_edges[1:]) / 2


def pixel_histogram(
    images: np.ndarray, bins: int = 32, max_images: int = 2000, seed: int = 0
) -> PixelHistogram:
    """Count pixel values 0..255 per channel over (a random sample of at most ``max_images``) images."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(f"expected images shaped (N, H, W, C), got shape {images.shape}")
    if images.shape[0] > max_images:
        rng = np.random.default_rng(seed)
        images = images[rng.choice(images.shape[0], size=max_images, replace=False)]
    edges = np.linspace(0, 256, bins + 1)
    n_channels = images.shape[-1]
    counts, means, stds = [], [], []
    for c in range(n_channels):
        values = images[..., c].reshape(-1)
        # bincount over 0..255 then regroup: exact and much faster than np.histogram on uint8
        per_value = np.bincount(values.astype(np.int64).clip(0, 255), minlength=256)
        groups = np.searchsorted(edges, np.arange(256), side="right") - 1
        counts.append(np.bincount(groups, weights=per_value, minlength=bins)[:bins].astype(np.int64))
        means.append(float(values.mean()) if values.size else 0.0)
        stds.append(float(values.std()) if values.size else 0.0)
    return PixelHistogram(
        bin_edges=edges,
        counts=tuple(counts),
        channels=channel_names(n_channels),
        mean=tuple(means),
        std=tuple(stds),
        n_images=int(images.shape[0]),
    )
