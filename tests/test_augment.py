"""AugmentSpec, the augmenter, the preview helper and the tf.data function share one pipeline."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from cnn_core.augment import AugmentSpec, augment_fn, augment_images, build_augmenter  # noqa: E402
from cnn_core.errors import SpecError  # noqa: E402

FULL = AugmentSpec(flip="horizontal_and_vertical", rotation=0.1, translation=0.1, zoom=0.2,
                   contrast=0.3, brightness=0.2, seed=1)
FLIP = AugmentSpec(flip="horizontal", seed=3)


def _images(n=6, size=12, channels=1, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, channels)).astype(np.uint8)


def _is_input_or_mirror(out, image):
    return np.array_equal(out, image), np.array_equal(out, image[:, ::-1])


def test_spec_round_trip_validate_and_enabled():
    assert AugmentSpec.from_dict(FULL.to_dict()) == FULL
    assert AugmentSpec.from_dict({"zoom": 0.1}) == AugmentSpec(zoom=0.1)
    assert not AugmentSpec().enabled and FLIP.enabled and AugmentSpec(brightness=0.1).enabled
    with pytest.raises(SpecError) as info:
        AugmentSpec.from_dict({"shear": 0.2})
    assert info.value.setting == "shear"
    for changes, setting in [({"rotation": 0.6}, "rotation"), ({"zoom": 0.95}, "zoom"),
                             ({"flip": "diagonal"}, "flip"), ({"contrast": -0.1}, "contrast"),
                             ({"brightness": 1.5}, "brightness"),
                             ({"translation": 0.7}, "translation")]:
        with pytest.raises(SpecError) as info:
            AugmentSpec(**changes).validate()
        assert info.value.setting == setting
    assert AugmentSpec().describe() == "none"
    assert FLIP.describe() == "flip horizontal"


def test_build_augmenter_has_only_enabled_layers():
    assert build_augmenter(AugmentSpec()) is None
    augmenter = build_augmenter(AugmentSpec(flip="vertical", zoom=0.1, seed=5))
    assert isinstance(augmenter, keras.Sequential)
    assert [type(l).__name__ for l in augmenter.layers] == ["RandomFlip", "RandomZoom"]
    full = build_augmenter(FULL)
    assert [l.name for l in full.layers] == [
        "flip", "rotation", "translation", "zoom", "contrast", "brightness"]
    assert tuple(full.get_layer("brightness").value_range) == (0.0, 255.0)
    assert tuple(full.get_layer("contrast").value_range) == (0.0, 255.0)
    assert full.get_layer("rotation").seed == 2  # seeded from spec.seed


def test_zero_strength_returns_the_input():
    images = _images()
    out = augment_images(AugmentSpec(seed=9), images, variants=3)
    assert out.dtype == np.uint8 and out.shape == (18, 12, 12, 1)
    np.testing.assert_array_equal(out, np.repeat(images, 3, axis=0))


def test_flip_gives_exact_mirrors_in_variant_order():
    images = _images()
    out = augment_images(FLIP, images, variants=4)
    kinds = set()
    for i, image in enumerate(images):
        for v in range(4):
            same, mirror = _is_input_or_mirror(out[i * 4 + v], image)
            assert same or mirror  # image i's variants come before image i+1's
            kinds.add((same, mirror))
    assert kinds == {(True, False), (False, True)}  # both kinds happen
    # same spec -> same pictures; another seed -> other pictures
    np.testing.assert_array_equal(augment_images(FLIP, images, variants=4), out)
    assert not np.array_equal(augment_images(FLIP, images, variants=4, seed=4), out)


def test_variants_differ_and_values_stay_in_range():
    images = _images(n=3, size=16)
    out = augment_images(FULL, images, variants=4)
    assert out.shape == (12, 16, 16, 1) and out.dtype == np.uint8  # grayscale stays 1 channel
    for i in range(3):
        variants = out[i * 4:(i + 1) * 4].astype(int)
        assert all(not np.array_equal(variants[a], variants[b])
                   for a in range(4) for b in range(a + 1, 4))
    rgb = _images(n=2, size=10, channels=3)
    bright = augment_images(AugmentSpec(brightness=1.0, contrast=1.0, seed=2), rgb, variants=8)
    assert bright.shape == (16, 10, 10, 3)
    assert bright.min() == 0 and bright.max() == 255  # strong changes are clipped, not wrapped
    single = augment_images(FULL, rgb[0], variants=2)  # one (H, W, C) image
    assert single.shape == (2, 10, 10, 3)


def test_augmenter_object_can_be_reseeded():
    images = _images()
    augmenter = build_augmenter(FULL)
    first = augment_images(augmenter, images, seed=7)
    np.testing.assert_array_equal(augment_images(augmenter, images, seed=7), first)
    np.testing.assert_array_equal(augment_images(FULL.replace(seed=7), images), first)
    assert not np.array_equal(augment_images(augmenter, images), first)  # stream continues


def test_preview_and_training_function_draw_the_same_changes():
    images = _images(n=5)
    fn = augment_fn(FULL)
    trained = np.rint(np.asarray(fn(images))).astype(np.uint8)
    np.testing.assert_array_equal(trained, augment_images(FULL, images))


def test_augment_fn_in_tf_data_keeps_the_flip_distribution():
    images = _images(n=8)
    fn = augment_fn(FLIP)
    dataset = tf.data.Dataset.from_tensor_slices((images, np.arange(8))).map(
        lambda x, y: (fn(x), y))
    kinds = set()
    for _ in range(2):
        for x, i in dataset:
            assert x.dtype == tf.float32 and x.shape == (12, 12, 1)
            same, mirror = _is_input_or_mirror(x.numpy().astype(np.uint8), images[int(i)])
            assert same or mirror
            kinds.add((same, mirror))
    assert kinds == {(True, False), (False, True)}

    full_fn = augment_fn(FULL)
    batched = tf.data.Dataset.from_tensor_slices(images).batch(4).map(full_fn)
    for x in batched:
        x = x.numpy()
        assert x.shape == (4, 12, 12, 1) and x.min() >= 0 and x.max() <= 255

    identity = augment_fn(AugmentSpec())
    assert identity.augmenter is None
    np.testing.assert_array_equal(np.asarray(identity(images)), images.astype(np.float32))
