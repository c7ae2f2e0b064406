"""Pixel scaling, label encoding and the train/validation split.

Everything here is plain NumPy (scikit-learn for the split), so the data set pages can use it
without loading TensorFlow. The scaling is *fitted on the training split only* and then applied
inside the model as its first layer (:meth:`FittedScaling.as_layer`, a Keras ``Rescaling``
layer), so a saved ``model.keras`` takes raw 0..255 pixels.

Example:

>>> import numpy as np
>>> x = np.zeros((4, 8, 8, 3), np.uint8); x[:2] = 200
>>> s = fit_scaling("standardize_channel", x)
>>> s.apply(x).mean().round(6)
0.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from cnn_core.errors import SpecError
from cnn_core.i18n import N_
from cnn_core.settings import check_fields, setting, spec_from_dict

SCALINGS = ("divide_255", "minmax_global", "minmax_channel", "standardize_channel", "none")
LABEL_ENCODINGS = ("integer", "onehot")

SCALING_DESCRIPTIONS = {
    "divide_255": "Divide every pixel by 255, so values run from 0 to 1.",
    "minmax_global": "Stretch the darkest..brightest pixel of the training images to 0..1.",
    "minmax_channel": "Stretch each colour channel separately to 0..1 (training images' range).",
    "standardize_channel": "Subtract each channel's mean and divide by its spread (mean 0, std 1).",
    "none": "Feed the raw 0..255 pixel values.",
}
LABEL_ENCODING_DESCRIPTIONS = {
    "integer": "Each label is one whole number (class 3 -> 3).",
    "onehot": "Each label is a row of zeros with a single 1 (class 3 -> 0,0,0,1,0...).",
}

MAX_VALIDATION_FRACTION = 0.5


# --------------------------------------------------------------------------- spec

@dataclass(frozen=True)
class PreprocessSpec:
    """How images and labels are prepared before training.

    Label smoothing forces one-hot labels whatever ``label_encoding`` says (see
    :func:`effective_encoding`); ``validation_fraction`` 0 means no validation set. Ranges,
    labels and help are in each field's declaration (:func:`cnn_core.settings.setting`).
    """

    scaling: str = setting(
        "divide_255", kind="choice", choices=SCALINGS, label=N_("Pixel scaling"),
        help=N_("How pixel values are scaled before the network sees them."))
    label_encoding: str = setting(
        "integer", kind="choice", choices=LABEL_ENCODINGS, label=N_("Label encoding"),
        help=N_("How each picture's class is written for the network."))
    validation_fraction: float = setting(
        0.1, kind="float", low=0.0, high=MAX_VALIDATION_FRACTION, show="percent",
        label=N_("Validation share"),
        help=N_("Share of the training images held out to check the model while it trains."),
        hint=N_("0.1 holds out 10%; 0 means no validation set."))
    seed: int = setting(
        0, kind="int", low=0, high=2**31 - 1, label=N_("Split seed"),
        help=N_("Makes the validation split repeatable."))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> PreprocessSpec:
        """Spec from a dict: missing settings get defaults; values are coerced, then validated."""
        return spec_from_dict(cls, d, what="preprocessing setting")

    def validate(self) -> PreprocessSpec:
        """Raise :class:`SpecError` naming the first setting out of range; return self if fine."""
        check_fields(self)
        return self

    def replace(self, **changes: Any) -> PreprocessSpec:
        return PreprocessSpec.from_dict({**self.to_dict(), **changes})


# --------------------------------------------------------------------------- scaling

@dataclass(frozen=True)
class FittedScaling:
    """A per-channel affine pixel transform ``y = x * scale + offset`` fitted on training images.

    ``scale`` and ``offset`` hold one float per channel (1 for grayscale, 3 for RGB).
    """

    mode: str
    scale: tuple[float, ...]
    offset: tuple[float, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "scale", tuple(float(v) for v in self.scale))
        object.__setattr__(self, "offset", tuple(float(v) for v in self.offset))
        if len(self.scale) != len(self.offset) or not self.scale:
            raise ValueError("scale and offset need one value per channel, the same count")

    @property
    def channels(self) -> int:
        return len(self.scale)

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Scale images ``(..., C)`` (any numeric dtype) and return float32."""
        x = np.asarray(x)
        if x.shape[-1] != self.channels:
            raise ValueError(f"images have {x.shape[-1]} channels, the scaling was fitted "
                             f"on {self.channels}")
        scale = np.asarray(self.scale, np.float32)
        offset = np.asarray(self.offset, np.float32)
        return x.astype(np.float32) * scale + offset

    def invert(self, y: np.ndarray) -> np.ndarray:
        """Back from scaled values to 0..255 pixels (float32), e.g. to show a saliency input."""
        scale = np.asarray(self.scale, np.float32)
        offset = np.asarray(self.offset, np.float32)
        return (np.asarray(y, np.float32) - offset) / scale

    def as_layer(self, name: str = "scaling"):
        """A ``keras.layers.Rescaling`` doing exactly :meth:`apply` (per channel, last axis)."""
        import keras  # lazy: keep this module TensorFlow-free

        if len(set(self.scale)) == 1 and len(set(self.offset)) == 1:
            scale: Any = self.scale[0]
            offset: Any = self.offset[0]
        else:
            scale, offset = list(self.scale), list(self.offset)
        return keras.layers.Rescaling(scale=scale, offset=offset, name=name)

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "scale": list(self.scale), "offset": list(self.offset)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FittedScaling:
        return cls(mode=str(d["mode"]), scale=tuple(d["scale"]), offset=tuple(d["offset"]))

    def describe(self) -> str:
        """One short line for the UI, e.g. ``standardize_channel: (x - 125.3) / 62.9 ...``."""
        parts = []
        for s, o in zip(self.scale, self.offset):
            parts.append(f"x * {s:.4g} {'+' if o >= 0 else '-'} {abs(o):.4g}")
        return f"{self.mode}: " + "; ".join(parts)


def _channel_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-channel min, max, mean, std of ``(N, H, W, C)`` images without big float copies."""
    c = x.shape[-1]
    mins, maxs, means, stds = (np.zeros(c, np.float64) for _ in range(4))
    for ch in range(c):
        plane = x[..., ch]
        if x.dtype == np.uint8:
            counts = np.bincount(plane.reshape(-1), minlength=256).astype(np.float64)
            values = np.arange(256, dtype=np.float64)
            nz = np.nonzero(counts)[0]
            n = counts.sum()
            mins[ch], maxs[ch] = nz[0], nz[-1]
            mean = (counts * values).sum() / n
            means[ch] = mean
            stds[ch] = math.sqrt(max((counts * (values - mean) ** 2).sum() / n, 0.0))
        else:
            flat = plane.reshape(-1)
            mins[ch], maxs[ch] = float(flat.min()), float(flat.max())
            total, total_sq, n = 0.0, 0.0, flat.size
            for start in range(0, n, 1 << 22):
                part = flat[start:start + (1 << 22)].astype(np.float64)
                total += part.sum()
            mean = total / n
            for start in range(0, n, 1 << 22):
                part = flat[start:start + (1 << 22)].astype(np.float64) - mean
                total_sq += (part * part).sum()
            means[ch] = mean
            stds[ch] = math.sqrt(total_sq / n)
    return mins, maxs, means, stds


def fit_scaling(mode: str, x_train: np.ndarray) -> FittedScaling:
    """Fit a pixel scaling on the *training* images ``(N, H, W, C)`` only.

    Modes: ``divide_255`` (x/255), ``minmax_global`` (whole range to 0..1), ``minmax_channel``
    (each channel to 0..1), ``standardize_channel`` (each channel to mean 0, std 1), ``none``.
    A constant channel (max == min or std == 0) keeps scale 1 so nothing divides by zero.
    """
    if mode not in SCALINGS:
        raise SpecError("scaling", "Unknown pixel scaling '{mode}'. Choose one of: {scalings}.",
                                   mode=mode, scalings=', '.join(SCALINGS))
    x = np.asarray(x_train)
    if x.ndim != 4 or x.shape[0] == 0:
        raise ValueError(f"need a non-empty (N, H, W, C) image array, got shape {x.shape}")
    c = x.shape[-1]
    if mode == "divide_255":
        return FittedScaling(mode, (1.0 / 255.0,) * c, (0.0,) * c)
    if mode == "none":
        return FittedScaling(mode, (1.0,) * c, (0.0,) * c)
    mins, maxs, means, stds = _channel_stats(x)
    if mode == "minmax_global":
        lo, hi = float(mins.min()), float(maxs.max())
        scale = 1.0 / (hi - lo) if hi > lo else 1.0
        return FittedScaling(mode, (scale,) * c, (-lo * scale,) * c)
    if mode == "minmax_channel":
        scales = [1.0 / (hi - lo) if hi > lo else 1.0 for lo, hi in zip(mins, maxs)]
        return FittedScaling(mode, tuple(scales), tuple(-lo * s for lo, s in zip(mins, scales)))
    # standardize_channel
    scales = [1.0 / s if s > 1e-12 else 1.0 for s in stds]
    return FittedScaling(mode, tuple(scales), tuple(-m * s for m, s in zip(means, scales)))


# --------------------------------------------------------------------------- labels

def effective_encoding(encoding: str, label_smoothing: float = 0.0) -> str:
    """The label encoding training really uses: label smoothing needs one-hot labels."""
    if encoding not in LABEL_ENCODINGS:
        raise SpecError("label_encoding", "Unknown label encoding '{encoding}'. Choose 'integer' or 'onehot'.",
                                          encoding=encoding)
    return "onehot" if label_smoothing and label_smoothing > 0 else encoding


def loss_name(encoding: str, label_smoothing: float = 0.0) -> str:
    """The Keras loss for these labels: sparse for integer labels without smoothing."""
    if effective_encoding(encoding, label_smoothing) == "integer":
        return "sparse_categorical_crossentropy"
    return "categorical_crossentropy"


def encode_labels(y: np.ndarray, n_classes: int, encoding: str) -> np.ndarray:
    """Integer labels ``(N,)`` -> int64 ``(N,)`` (integer) or float32 ``(N, n_classes)`` (onehot)."""
    if encoding not in LABEL_ENCODINGS:
        raise SpecError("label_encoding", "Unknown label encoding '{encoding}'. Choose 'integer' or 'onehot'.",
                                          encoding=encoding)
    y = np.asarray(y).reshape(-1).astype(np.int64)
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"labels must be 0..{n_classes - 1}, found {y.min()}..{y.max()}")
    if encoding == "integer":
        return y
    out = np.zeros((y.size, n_classes), np.float32)
    out[np.arange(y.size), y] = 1.0
    return out


# --------------------------------------------------------------------------- splits

def stratified_split_indices(y: np.ndarray, fraction: float, seed: int = 0
                             ) -> tuple[np.ndarray, np.ndarray]:
    """Seeded stratified split of ``range(len(y))`` into sorted (keep, held_out) index arrays.

    Same idea as scikit-learn's ``train_test_split(stratify=y)``, in plain NumPy (no SciPy
    import on the data set page) and without its failures on small classes: the held-out part
    has ``round(fraction * len(y))`` items, each class contributes in proportion to its size
    (largest remainders get the rounding, ties broken by the seed), and every class keeps at
    least one item in the kept part (a class with a single image is never held out).
    """
    y = np.asarray(y).reshape(-1)
    n = y.size
    idx = np.arange(n, dtype=np.int64)
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"fraction must be from 0 to below 1, got {fraction}")
    n_out = int(round(fraction * n))
    if n_out == 0:
        return idx, idx[:0]
    rng = np.random.default_rng(seed)
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    capacity = counts - 1                      # keep at least one per class
    n_out = min(n_out, int(capacity.sum()))
    ideal = counts * (n_out / n)
    take = np.minimum(np.floor(ideal).astype(np.int64), capacity)
    left = n_out - int(take.sum())
    if left > 0:
        remainder = ideal - take
        tiebreak = rng.random(len(counts))
        order = np.lexsort((tiebreak, -remainder))   # largest remainder first
        for c in order:
            if left == 0:
                break
            if take[c] < capacity[c]:
                take[c] += 1
                left -= 1
        # Still short (remainders exhausted on full classes): fill wherever there is room.
        for c in order:
            if left == 0:
                break
            extra = min(capacity[c] - take[c], left)
            take[c] += extra
            left -= extra
    held = []
    for c in range(len(classes)):
        members = idx[inverse == c]
        held.append(rng.permutation(members)[:take[c]])
    held_idx = np.sort(np.concatenate(held)) if held else idx[:0]
    mask = np.ones(n, bool)
    mask[held_idx] = False
    return idx[mask], held_idx


def train_validation_split(x: np.ndarray, y: np.ndarray, fraction: float, seed: int = 0
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Seeded stratified split into ``(x_tr, y_tr, x_val, y_val)``; fraction 0 -> empty val.

    Both parts keep the original order (training shuffles anyway); see
    :func:`stratified_split_indices` for how small classes are handled.
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"{len(x)} images but {len(y)} labels")
    if fraction <= 0:
        return x, y, x[:0], y[:0]
    keep, held = stratified_split_indices(y, fraction, seed)
    return x[keep], y[keep], x[held], y[held]
