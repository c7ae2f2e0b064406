"""A drawn or photographed digit, made to look like an MNIST digit.

MNIST's digits are light strokes on black; each digit's bounding box was scaled to fit 20x20
pixels (keeping its proportions) and placed in a 28x28 frame so that its centre of mass sits in
the middle. A digit drawn with the mouse (dark on light, thick, anywhere on a big canvas) looks
nothing like that until it gets the same treatment, which :func:`mnist_like_digit` gives it.

Example:
    >>> import numpy as np
    >>> canvas = np.full((200, 200), 255, np.uint8)
    >>> canvas[20:60, 20:30] = 0                     # a short dark stroke, top left
    >>> digit = mnist_like_digit(canvas)
    >>> digit.shape, digit.dtype
    ((28, 28), dtype('uint8'))
"""

from __future__ import annotations

import numpy as np

from cnn_core.errors import ImageInputError

FRAME = 28       # MNIST pictures are 28x28
BOX = 20         # the digit's bounding box is scaled to fit 20x20
INK = 0.15       # share of the full ink range above which a pixel counts as part of the stroke


def _gray(image) -> np.ndarray:
    x = np.asarray(image, dtype=np.float64)
    if x.ndim == 3:
        x = x[..., :3].mean(axis=-1) if x.shape[-1] >= 3 else x[..., 0]
    if x.ndim != 2:
        raise ImageInputError("A drawing is a picture (height x width), not an array of shape {shape}.",
                              shape=x.shape)
    return x


def ink(image) -> np.ndarray:
    """How much ink each pixel holds, 0..1, whatever the colours: the background is the colour of
    the picture's border (light paper or a dark screen), ink is what differs from it."""
    gray = _gray(image)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    background = float(np.median(border))
    amount = np.abs(gray - background)
    top = float(amount.max()) if amount.size else 0.0
    return amount / top if top > 0 else np.zeros_like(amount)


def center_of_mass(weights: np.ndarray) -> tuple[float, float]:
    """``(row, column)`` of the weighted centre of a 2-D array (the middle if it is all 0)."""
    w = np.asarray(weights, dtype=np.float64)
    total = w.sum()
    if total <= 0:
        return (w.shape[0] - 1) / 2, (w.shape[1] - 1) / 2
    rows, cols = np.indices(w.shape)
    return float((rows * w).sum() / total), float((cols * w).sum() / total)


def is_blank(image, threshold: float = INK) -> bool:
    """True when the picture holds no stroke at all (an empty drawing)."""
    gray = _gray(image)
    return float(gray.max() - gray.min()) < 255.0 * threshold / 2


def mnist_like_digit(image, frame: int = FRAME, box: int = BOX) -> np.ndarray:
    """A drawing in MNIST's convention: uint8 ``(frame, frame)``, light digit on black, its
    bounding box scaled to fit ``box`` x ``box`` and its centre of mass in the middle.

    Args:
        image: the drawing, any size, grayscale ``(H, W)`` or colour ``(H, W, C)``; dark strokes
            on light or light strokes on dark both work.

    Raises:
        ImageInputError: the drawing is empty.
    """
    from PIL import Image

    if is_blank(image):
        raise ImageInputError("The picture is empty: it is all one colour, with no stroke to read as a digit. "
                              "Draw a digit first (big, in the middle), or photograph one on plain paper.")
    amount = ink(image)
    rows = np.flatnonzero((amount > INK).any(axis=1))
    cols = np.flatnonzero((amount > INK).any(axis=0))
    crop = amount[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = crop.shape
    scale = box / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    small = Image.fromarray(np.rint(crop * 255).astype(np.uint8), "L").resize(
        (new_w, new_h), Image.Resampling.LANCZOS)
    canvas = np.zeros((frame, frame), np.float64)
    top, left = (frame - new_h) // 2, (frame - new_w) // 2
    canvas[top:top + new_h, left:left + new_w] = np.asarray(small, dtype=np.float64)
    row, col = center_of_mass(canvas)
    middle = (frame - 1) / 2
    shift_r, shift_c = int(round(middle - row)), int(round(middle - col))
    shifted = np.zeros_like(canvas)
    src_r = slice(max(0, -shift_r), frame - max(0, shift_r))
    dst_r = slice(max(0, shift_r), frame - max(0, -shift_r))
    src_c = slice(max(0, -shift_c), frame - max(0, shift_c))
    dst_c = slice(max(0, shift_c), frame - max(0, -shift_c))
    shifted[dst_r, dst_c] = canvas[src_r, src_c]
    return np.clip(np.rint(shifted), 0, 255).astype(np.uint8)


__all__ = ["BOX", "FRAME", "center_of_mass", "ink", "is_blank", "mnist_like_digit"]
