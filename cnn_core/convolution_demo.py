"""The convolution itself, by hand: a 3x3 kernel slid over a grayscale picture.

What a convolution layer does before it learns anything: each output pixel is the sum of the
nine pixels around it, each times one number of the kernel. :data:`KERNELS` holds the classic
ones (sharpen, as in the tutorials, edges, blur, emboss); :func:`convolve` applies one the way a
Keras ``Conv2D`` with ``padding="same"`` does (zeros around the border, no kernel flip, strictly
speaking a cross-correlation); :func:`pixel_arithmetic` spells out one output pixel.

Example:
    >>> import numpy as np
    >>> picture = np.arange(25, dtype=np.uint8).reshape(5, 5)
    >>> convolve(picture, KERNELS["identity"]).astype(int)[2, 2]
    12
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnn_core.errors import CnnLabError
from cnn_core.i18n import N_

KERNELS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], np.float64),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], np.float64),
    "edges": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], np.float64),
    "vertical edges": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float64),
    "horizontal edges": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], np.float64),
    "blur": np.full((3, 3), 1 / 9, np.float64),
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], np.float64),
}

KERNEL_DESCRIPTIONS = {
    "identity": N_("changes nothing: the middle pixel times 1"),
    "sharpen": N_("the pixel counted 5 times, its four neighbours taken away: edges stand out"),
    "edges": N_("bright where a pixel differs from its neighbours, black on even areas"),
    "vertical edges": N_("responds to changes from left to right (a Sobel filter)"),
    "horizontal edges": N_("responds to changes from top to bottom (a Sobel filter)"),
    "blur": N_("the average of the nine pixels: softens everything"),
    "emboss": N_("lights the picture from one corner, like a relief"),
}


class KernelError(CnnLabError):
    """A kernel that cannot be used (not 3x3 numbers)."""


def as_kernel(values) -> np.ndarray:
    """Nine numbers (any nesting) -> float64 ``(3, 3)``; raises :class:`KernelError` otherwise."""
    try:
        kernel = np.asarray(values, dtype=np.float64).reshape(3, 3)
    except (TypeError, ValueError):
        raise KernelError("A kernel is 3 rows of 3 numbers; fill in all nine boxes with numbers.") from None
    if not np.all(np.isfinite(kernel)):
        raise KernelError("Every number of the kernel must be an ordinary number (not empty or infinite).")
    return kernel


def gray(picture) -> np.ndarray:
    """A picture as float64 grayscale ``(H, W)`` 0..255 (colour pictures: the mean of R, G, B)."""
    x = np.asarray(picture, dtype=np.float64)
    if x.ndim == 3:
        x = x.mean(axis=-1)
    if x.ndim != 2:
        raise KernelError("Expected one picture, got an array of shape {shape}.",
                          shape=x.shape)
    return x


def convolve(picture, kernel) -> np.ndarray:
    """The kernel slid over the picture: float64 ``(H, W)``, zero padding, as ``Conv2D`` computes.

    ``out[i, j] = sum over a, b of kernel[a, b] * picture[i + a - 1, j + b - 1]``.
    """
    x = gray(picture)
    k = as_kernel(kernel)
    padded = np.pad(x, 1)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3))
    return np.einsum("ijab,ab->ij", windows, k)


def to_display(values: np.ndarray) -> np.ndarray:
    """Convolution output -> uint8 for showing: values clipped to 0..255, as a picture would be."""
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class PixelArithmetic:
    """One output pixel, worked out: the 3x3 patch around it, the kernel, their products, the sum."""

    row: int
    col: int
    patch: np.ndarray
    kernel: np.ndarray
    products: np.ndarray
    total: float

    def formula(self) -> str:
        """``"0×12 + (-1)×40 + ... = 85"`` (each product written out, row by row)."""
        terms = []
        for k, p in zip(self.kernel.ravel(), self.patch.ravel()):
            kk = f"{k:g}" if k >= 0 else f"({k:g})"
            terms.append(f"{kk}×{p:g}")
        return " + ".join(terms) + f" = {self.total:g}"


def pixel_arithmetic(picture, kernel, row: int, col: int) -> PixelArithmetic:
    """The arithmetic of output pixel ``(row, col)`` of :func:`convolve` (zeros past the border)."""
    x = gray(picture)
    k = as_kernel(kernel)
    if not (0 <= row < x.shape[0] and 0 <= col < x.shape[1]):
        raise KernelError("Pixel ({row}, {col}) is outside the {x}x{x2} picture.",
                          row=row, col=col, x=x.shape[0], x2=x.shape[1])
    patch = np.pad(x, 1)[row:row + 3, col:col + 3]
    products = patch * k
    return PixelArithmetic(int(row), int(col), patch, k, products, float(products.sum()))


def strongest_pixel(picture, kernel) -> tuple[int, int]:
    """Where the kernel responds most strongly (largest absolute output): a good pixel to explain."""
    out = np.abs(convolve(picture, kernel))
    row, col = np.unravel_index(int(np.argmax(out)), out.shape)
    return int(row), int(col)


__all__ = ["KERNELS", "KERNEL_DESCRIPTIONS", "KernelError", "PixelArithmetic", "as_kernel", "convolve", "gray",
           "pixel_arithmetic", "strongest_pixel", "to_display"]
