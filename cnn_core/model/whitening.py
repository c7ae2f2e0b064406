"""The patch-whitening first layer: a frozen 2x2 convolution computed from the training pictures.

Each 2x2 patch of a picture (with its channels: 12 numbers for colour) is projected on the
eigenvectors of the patch covariance of the training pictures, each divided by the square root
of its eigenvalue, so the layer's outputs are uncorrelated with equal variance ("whitened").
Every eigenvector is used twice, as is and negated, so a following ReLU/GELU keeps both signs
(airbench, Keller Jordan's ``cifar10-airbench``: ``init_whitening_conv``).

The weights live in an ordinary ``Conv2D`` kernel (shape ``(2, 2, C, 2 * 4 * C)``), so a saved
``model.keras`` stays self-contained and loads with ``safe_mode``.

Example:
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(50, 8, 8, 3)).astype("float32")
    >>> whitening_kernel(x).shape
    (2, 2, 3, 24)
"""

from __future__ import annotations

import numpy as np

from cnn_core.model.plan import WHITENING_PATCH

#: Added to each eigenvalue before its square root, so flat directions are not blown up.
WHITENING_EPS = 5e-4
#: Pictures used to estimate the covariance (more adds time and little precision).
WHITENING_SAMPLE = 5000


def image_patches(images: np.ndarray, patch: int = WHITENING_PATCH) -> np.ndarray:
    """Every ``patch x patch`` window of each image (stride 1, no padding), flattened in the
    order of a Keras ``Conv2D`` kernel (rows, columns, channels): ``(count, patch*patch*C)``."""
    x = np.asarray(images, dtype=np.float64)
    n, h, w, c = x.shape
    windows = np.lib.stride_tricks.sliding_window_view(x, (patch, patch), axis=(1, 2))
    # windows: (n, h-p+1, w-p+1, c, p, p) -> (…, p, p, c)
    windows = np.moveaxis(windows, 3, -1)
    return windows.reshape(-1, patch * patch * c)


def whitening_kernel(images: np.ndarray, patch: int = WHITENING_PATCH,
                     eps: float = WHITENING_EPS) -> np.ndarray:
    """The ``Conv2D`` kernel ``(patch, patch, C, 2 * patch * patch * C)`` that whitens patches.

    ``images`` are pictures as the layer sees them (after the model's scaling layer). Filters
    come in order of falling eigenvalue, first the eigenvectors then their negatives.
    """
    patches = image_patches(images, patch)
    covariance = patches.T @ patches / max(1, len(patches))
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)   # ascending
    order = np.argsort(eigenvalues)[::-1]
    eigenvalues, eigenvectors = eigenvalues[order], eigenvectors[:, order]
    scaled = eigenvectors / np.sqrt(np.clip(eigenvalues, 0.0, None) + eps)   # columns
    c = np.asarray(images).shape[-1]
    kernel = scaled.reshape(patch, patch, c, patch * patch * c)
    return np.concatenate([kernel, -kernel], axis=-1).astype(np.float32)


def fit_whitening_layer(model, images: np.ndarray, *, layer_name: str = "whitening",
                        sample: int = WHITENING_SAMPLE, seed: int = 0) -> bool:
    """Set the whitening layer of ``model`` from ``images`` (raw 0..255 training pictures).

    The pictures go through the layers before it (the scaling layer) first, so the covariance
    is that of what the layer will see. At most ``sample`` pictures are used, drawn with
    ``seed``. Returns False when the model has no such layer.
    """
    try:
        layer = model.get_layer(layer_name)
    except ValueError:
        return False
    images = np.asarray(images)
    if len(images) > sample:
        pick = np.random.default_rng(seed).choice(len(images), sample, replace=False)
        images = images[np.sort(pick)]
    import keras

    before = keras.Model(model.input, layer.input)
    seen = np.concatenate([np.asarray(before(images[i:i + 500].astype("float32")))
                           for i in range(0, len(images), 500)])
    layer.kernel.assign(whitening_kernel(seen))
    return True
