"""The shapes every data set source returns, and the steps they all share.

Holds :class:`Dataset` (uint8 images ``(N, H, W, C)``, int64 labels, class names),
:class:`DatasetInfo` (what the picker shows without loading anything), the progress callback
type, the image side limits, and the helpers every loader ends with: resizing / colour
conversion (:func:`convert_images`), the stratified train/test split and freezing the arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from cnn_core.class_names import check_class_names
from cnn_core.preprocessing import stratified_split_indices

ProgressFn = Callable[[float, str], None]

MIN_IMAGE_SIDE, MAX_IMAGE_SIDE = 4, 512


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



def report_progress(progress: ProgressFn | None, fraction: float, message: str) -> None:
    """Call ``progress(fraction, message)`` (fraction clipped to 0..1) unless it is None."""
    if progress is not None:
        progress(float(min(max(fraction, 0.0), 1.0)), message)


def _freeze(ds: Dataset) -> Dataset:
    for arr in (ds.x_train, ds.y_train, ds.x_test, ds.y_test):
        arr.flags.writeable = False
    return ds



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


def finish_dataset(ds_id: str, name: str, x_train, y_train, x_test, y_test, class_names, source,
                   image_size=None, color_mode=None, skipped=None) -> Dataset:
    """The read-only :class:`Dataset` of these arrays, converted to ``image_size``/``color_mode``.

    Every data set passes here, so the class names are checked here: at most
    :data:`~cnn_core.class_names.MAX_CLASSES`, and told apart on screen.
    """
    class_names = check_class_names(class_names, f"the data set '{name}'")
    x_train = convert_images(np.ascontiguousarray(x_train, dtype=np.uint8), image_size, color_mode)
    x_test = convert_images(np.ascontiguousarray(x_test, dtype=np.uint8), image_size, color_mode)
    ds = Dataset(id=ds_id, name=name, x_train=x_train,
                 y_train=np.asarray(y_train, np.int64).reshape(-1),
                 x_test=x_test, y_test=np.asarray(y_test, np.int64).reshape(-1),
                 class_names=[str(c) for c in class_names], source=source,
                 skipped=list(skipped or []))
    return _freeze(ds)


def split_dataset(x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int):
    """``(x_train, y_train, x_test, y_test)``: a stratified, seeded hold-out of ``test_fraction``."""
    keep, held = stratified_split_indices(y, test_fraction, seed)
    return x[keep], y[keep], x[held], y[held]

