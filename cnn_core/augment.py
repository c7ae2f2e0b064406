"""Data augmentation: :class:`AugmentSpec` -> one Keras preprocessing pipeline.

The preview page (:func:`augment_images`) and training's ``tf.data`` pipeline (:func:`augment_fn`)
both go through :func:`build_augmenter`, so what the user previews is what the model sees.
Images are 0..255 pixel values (uint8 or float), grayscale (1 channel) or RGB (3 channels).

Example:
    >>> spec = AugmentSpec(flip="horizontal", rotation=0.05, seed=1)
    >>> images = np.zeros((2, 28, 28, 1), dtype="uint8")
    >>> augment_images(spec, images, variants=4).shape
    (8, 28, 28, 1)
    >>> fn = augment_fn(spec)          # dataset.map(lambda x, y: (fn(x), y))
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from cnn_core.errors import CnnLabError
from cnn_core.i18n import N_
from cnn_core.settings import check_fields, replace_checked, setting, spec_from_dict

FLIPS = ("none", "horizontal", "vertical", "horizontal_and_vertical", "alternating")
#: Flips done by a Keras random layer (``"alternating"`` is done where the image's index is
#: known: :func:`alternating_flip`).
RANDOM_FLIPS = ("horizontal", "vertical", "horizontal_and_vertical")
VALUE_RANGE = (0.0, 255.0)

# Each layer's seed is spec.seed + this offset, so switching one augmentation on or off does not
# change the random draws of the others.
_SEED_OFFSETS = {"flip": 0, "rotation": 1, "translation": 2, "zoom": 3, "contrast": 4,
                 "brightness": 5, "crop": 6}


@dataclass(frozen=True)
class AugmentSpec:
    """Random changes applied to training images (each off at 0 / ``"none"``).

    ``rotation`` is a fraction of a full turn (0.05 = up to 18 degrees); ``translation`` and
    ``zoom`` fractions of the image size; ``contrast`` a factor change (0.2 = 80% to 120%);
    ``brightness`` a fraction of the 0..255 range. Ranges, labels and help are in each field's
    declaration (:func:`cnn_core.settings.setting`).
    """

    flip: str = setting(
        "none", kind="choice", choices=FLIPS, label=N_("Mirror"),
        words={"none": N_("off"), "horizontal": N_("left ↔ right"), "vertical": N_("up ↕ down"),
               "horizontal_and_vertical": N_("both"),
               "alternating": N_("left ↔ right, every other epoch")},
        help=N_("Flips some pictures like a mirror. Fine for cats; wrong for digits (a mirrored 3 "
                "is no 3). 'Every other epoch' shows each picture mirrored in one epoch and "
                "not in the next."), suggested="horizontal")
    rotation: float = setting(
        0.0, kind="float", low=0.0, high=0.5, label=N_("Turn"), show="turn",
        help=N_("Turns each picture by a random angle, up to the strength."),
        hint=N_("0.5 is half a turn either way; 0.05 to 0.1 is usual."), suggested=0.04,
        ladder=(0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.25, 0.35, 0.5))
    translation: float = setting(
        0.0, kind="float", low=0.0, high=0.5, label=N_("Shift"), show="plus_minus_percent",
        help=N_("Slides each picture sideways and up or down, by up to this share of its size."),
        hint=N_("0.1 shifts by up to a tenth of the image."), suggested=0.1,
        ladder=(0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5))
    zoom: float = setting(
        0.0, kind="float", low=0.0, high=0.9, label=N_("Zoom"), show="plus_minus_percent",
        help=N_("Zooms in or out at random, by up to this much."),
        hint=N_("0.1 zooms by up to 10% in or out."), suggested=0.1,
        ladder=(0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9))
    contrast: float = setting(
        0.0, kind="float", low=0.0, high=1.0, label=N_("Contrast"), show="plus_minus_percent",
        help=N_("Makes the difference between dark and light parts randomly stronger or weaker."),
        hint=N_("0.2 is usual."), suggested=0.2, ladder=(0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0))
    brightness: float = setting(
        0.0, kind="float", low=0.0, high=1.0, label=N_("Brightness"), show="plus_minus_percent",
        help=N_("Makes each picture randomly darker or brighter."), hint=N_("0.2 is usual."),
        suggested=0.2, ladder=(0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0))
    crop: int = setting(
        0, kind="int", low=0, high=8, unit="pixels", label=N_("Crop"),
        help=N_("Pads each picture by this many pixels (mirroring its edge) and cuts a random "
                "window of the original size back out: a whole-pixel shift, no blur."),
        hint=N_("2 pixels is usual for 32x32 pictures."), suggested=2,
        ladder=(1, 2, 3, 4, 6, 8))
    seed: int = setting(
        0, kind="int", low=0, high=2**31 - 9, label=N_("Augmentation seed"),
        help=N_("Makes the random changes repeatable."))

    @property
    def enabled(self) -> bool:
        """Whether any augmentation is on."""
        return self.flip != "none" or any(
            getattr(self, name) > 0
            for name in ("rotation", "translation", "zoom", "contrast", "brightness", "crop")
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> "AugmentSpec":
        """Spec from a dict: missing settings get defaults; values are coerced, then validated."""
        return spec_from_dict(cls, d, what="augmentation setting")

    def replace(self, **changes: Any) -> "AugmentSpec":
        return replace_checked(self, changes, what="augmentation setting")

    def validate(self) -> "AugmentSpec":
        """Raise :class:`SpecError` naming the first setting out of range; return self if fine."""
        check_fields(self)
        return self

    def describe(self) -> str:
        """One plain line such as ``"flip horizontal, rotation 0.1"`` or ``"none"``."""
        parts = [f"flip {self.flip.replace('_', ' ')}"] if self.flip != "none" else []
        parts += [f"{name} {getattr(self, name):g}"
                  for name in ("rotation", "translation", "zoom", "contrast", "brightness",
                               "crop")
                  if getattr(self, name) > 0]
        return ", ".join(parts) or "none"


def build_augmenter(spec: AugmentSpec) -> keras.Sequential | None:
    """A ``keras.Sequential`` of the enabled random layers, or ``None`` when nothing is on.

    Layers (in this order, each seeded from ``spec.seed``): RandomFlip, RandomRotation,
    RandomTranslation, RandomZoom, RandomContrast, RandomBrightness, RandomWholePixelCrop;
    pixel values 0..255. The ``"alternating"`` flip is not a layer: it needs each picture's
    index and the epoch (:func:`alternating_flip`, applied by the training pipeline and by
    :func:`augment_images`); with nothing else on, the augmenter is ``None``.
    Call it with ``training=True`` to augment (Keras layers pass images through unchanged
    otherwise). Geometric layers fill uncovered pixels by reflecting the image.
    """
    import keras  # here, not at the top: the spec alone (links, forms) needs no TensorFlow

    from cnn_core.augment_layers import RandomWholePixelCrop

    spec.validate()
    if not spec.enabled:
        return None
    L = keras.layers
    seed = {name: spec.seed + offset for name, offset in _SEED_OFFSETS.items()}
    layers = []
    if spec.flip in RANDOM_FLIPS:
        layers.append(L.RandomFlip(spec.flip, seed=seed["flip"], name="flip"))
    if spec.rotation > 0:
        layers.append(L.RandomRotation(spec.rotation, seed=seed["rotation"], name="rotation"))
    if spec.translation > 0:
        layers.append(L.RandomTranslation(spec.translation, spec.translation,
                                          seed=seed["translation"], name="translation"))
    if spec.zoom > 0:
        layers.append(L.RandomZoom(spec.zoom, spec.zoom, seed=seed["zoom"], name="zoom"))
    if spec.contrast > 0:
        layers.append(L.RandomContrast(spec.contrast, value_range=VALUE_RANGE,
                                       seed=seed["contrast"], name="contrast"))
    if spec.brightness > 0:
        layers.append(L.RandomBrightness(spec.brightness, value_range=VALUE_RANGE,
                                         seed=seed["brightness"], name="brightness"))
    if spec.crop > 0:
        layers.append(RandomWholePixelCrop(spec.crop, seed=seed["crop"], name="crop"))
    return keras.Sequential(layers, name="augmenter") if layers else None


def _reseed(augmenter: keras.Sequential, seed: int) -> None:
    """Restart every layer's random stream as if built with ``AugmentSpec(seed=seed)``."""
    for layer in augmenter.layers:
        generator = getattr(layer, "generator", None)
        if generator is None:
            continue
        offset = _SEED_OFFSETS.get(layer.name, 0)
        generator.state.assign(np.array([seed + offset, 0], dtype=generator.state.dtype))


def augment_images(spec_or_augmenter, images_uint8: np.ndarray, variants: int = 1,
                   seed: int | None = None, batch_size: int = 256) -> np.ndarray:
    """Augmented copies of ``images_uint8`` as uint8, ``variants`` per image.

    Returns ``(N * variants, H, W, C)`` ordered image 0's variants, then image 1's, ...;
    values rounded and clipped to 0..255; the channel count is kept. A single ``(H, W, C)``
    image is treated as ``N = 1``.

    Args:
        spec_or_augmenter: an :class:`AugmentSpec` (a fresh augmenter is built, seeded from
            ``seed`` or else ``spec.seed``, so the same call gives the same pictures), an
            augmenter from :func:`build_augmenter` (its random stream continues unless
            ``seed`` is given), or ``None`` (no augmentation).
        seed: restart the random stream from this seed ("shuffle" in the preview).

    With ``flip="alternating"`` variant ``v`` of each image is what training shows in epoch
    ``v``: every image mirrored in alternate variants.
    """
    images = np.asarray(images_uint8)
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4:
        raise CnnLabError(
            "Expected images shaped (count, height, width, channels); got shape {shape}.",
            shape=images.shape
        )
    variants = int(variants)
    if variants < 1:
        raise CnnLabError("Ask for at least one variant per image, not {variants}.",
                          variants=variants)
    if isinstance(spec_or_augmenter, AugmentSpec):
        spec = spec_or_augmenter if seed is None else spec_or_augmenter.replace(seed=int(seed))
        augmenter = build_augmenter(spec)
    else:
        augmenter = spec_or_augmenter
        if augmenter is not None and seed is not None:
            _reseed(augmenter, int(seed))
    repeated = np.repeat(images, variants, axis=0)
    if isinstance(spec_or_augmenter, AugmentSpec) and spec_or_augmenter.flip == "alternating":
        # Variant v is what epoch v shows: each picture mirrored in every other variant.
        indices = np.repeat(np.arange(len(images)), variants)
        epochs = np.tile(np.arange(variants), len(images))
        from cnn_core.augment_layers import alternating_flip   # TensorFlow: only when pictures change

        repeated = np.asarray(alternating_flip(repeated, indices, epochs, seed=spec.seed))
    if augmenter is None or len(repeated) == 0:
        return np.clip(np.rint(repeated), 0, 255).astype(np.uint8) \
            if repeated.dtype != np.uint8 else repeated.copy()
    import keras

    out = np.empty(repeated.shape, dtype=np.uint8)
    for start in range(0, len(repeated), batch_size):
        batch = repeated[start:start + batch_size].astype("float32")
        result = keras.ops.convert_to_numpy(augmenter(batch, training=True))
        out[start:start + batch_size] = np.clip(np.rint(result), 0, 255).astype(np.uint8)
    return out


def augment_fn(spec: AugmentSpec) -> Callable:
    """A function for ``tf.data``: ``dataset.map(lambda x, y: (fn(x), y))``.

    Takes one image ``(H, W, C)`` or a batch ``(N, H, W, C)`` of 0..255 pixels (any numeric
    dtype) and returns float32 pixels in 0..255 through the same augmenter as the preview
    (:func:`build_augmenter`, called with ``training=True``). With nothing enabled it only
    casts to float32. The returned function has ``.augmenter`` (the Keras model or ``None``).
    """
    import keras

    augmenter = build_augmenter(spec)

    def fn(images):
        x = keras.ops.cast(images, "float32")
        if augmenter is None:
            return x
        return keras.ops.clip(augmenter(x, training=True), VALUE_RANGE[0], VALUE_RANGE[1])

    fn.augmenter = augmenter
    return fn
