"""Pixel scalings, label encodings and the stratified validation split."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from cnn_core.errors import SpecError
from cnn_core.preprocessing import (
    LABEL_ENCODINGS,
    SCALINGS,
    FittedScaling,
    PreprocessSpec,
    effective_encoding,
    encode_labels,
    fit_scaling,
    loss_name,
    stratified_split_indices,
    train_validation_split,
)


def _images(n=40, h=6, w=5, c=3, lo=10, hi=240, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(lo, hi + 1, size=(n, h, w, c), dtype=np.uint8)


# --------------------------------------------------------------------------- spec

def test_spec_defaults_round_trip_and_json():
    spec = PreprocessSpec()
    assert (spec.scaling, spec.label_encoding, spec.validation_fraction, spec.seed) == \
        ("divide_255", "integer", 0.1, 0)
    d = json.loads(json.dumps(spec.to_dict()))
    assert PreprocessSpec.from_dict(d) == spec
    assert PreprocessSpec.from_dict({"scaling": "none"}) == PreprocessSpec(scaling="none")
    assert spec.replace(seed=3).seed == 3


@pytest.mark.parametrize("d, setting", [
    ({"scalling": "none"}, "scalling"),
    ({"scaling": "zscore"}, "scaling"),
    ({"label_encoding": "binary"}, "label_encoding"),
    ({"validation_fraction": 0.8}, "validation_fraction"),
    ({"validation_fraction": -0.1}, "validation_fraction"),
    ({"seed": -1}, "seed"),
])
def test_spec_rejects_bad_settings_naming_them(d, setting):
    with pytest.raises(SpecError) as err:
        PreprocessSpec.from_dict(d)
    assert err.value.setting == setting
    assert setting.split("_")[0] in str(err.value).lower() or setting in str(err.value)


# --------------------------------------------------------------------------- scaling

def test_divide_255_and_none():
    x = _images()
    np.testing.assert_allclose(fit_scaling("divide_255", x).apply(x), x / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(fit_scaling("none", x).apply(x), x.astype(np.float32))
    assert fit_scaling("none", x).apply(x).dtype == np.float32


def test_minmax_global_maps_training_range_to_0_1():
    x = _images(lo=20, hi=200)
    x[..., 0] = np.clip(x[..., 0], 50, 100)   # channels differ; global uses the overall range
    y = fit_scaling("minmax_global", x).apply(x)
    assert y.min() == pytest.approx(0.0, abs=1e-6) and y.max() == pytest.approx(1.0, abs=1e-6)
    assert y[..., 0].max() < 0.6                # channel 0 not stretched on its own


def test_minmax_channel_maps_each_channel_to_0_1():
    x = _images(lo=20, hi=200)
    x[..., 0] = np.clip(x[..., 0], 50, 100)
    y = fit_scaling("minmax_channel", x).apply(x)
    np.testing.assert_allclose(y.min(axis=(0, 1, 2)), 0.0, atol=1e-6)
    np.testing.assert_allclose(y.max(axis=(0, 1, 2)), 1.0, atol=1e-6)


@pytest.mark.parametrize("channels", [1, 3])
def test_standardize_channel_gives_mean_0_std_1(channels):
    x = _images(c=channels)
    x[..., 0] //= 3
    s = fit_scaling("standardize_channel", x)
    y = s.apply(x).astype(np.float64)
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.std(axis=(0, 1, 2)), 1.0, atol=1e-5)
    # exact against a direct float computation
    xf = x.astype(np.float64)
    np.testing.assert_allclose(s.scale, 1 / xf.std(axis=(0, 1, 2)), rtol=1e-9)
    np.testing.assert_allclose(s.offset, -xf.mean(axis=(0, 1, 2)) / xf.std(axis=(0, 1, 2)), rtol=1e-9)


def test_float_input_fits_like_uint8():
    x = _images()
    for mode in SCALINGS:
        a, b = fit_scaling(mode, x), fit_scaling(mode, x.astype(np.float32))
        np.testing.assert_allclose(a.scale, b.scale, rtol=1e-6)
        np.testing.assert_allclose(a.offset, b.offset, rtol=1e-6, atol=1e-9)


def test_constant_images_do_not_divide_by_zero():
    x = np.full((5, 4, 4, 3), 7, np.uint8)
    for mode in SCALINGS:
        y = fit_scaling(mode, x).apply(x)
        assert np.isfinite(y).all(), mode


def test_scaling_is_fitted_on_training_data_only():
    x_train = _images(lo=50, hi=150, seed=1)
    x_test = _images(lo=0, hi=255, seed=2)
    s = fit_scaling("minmax_global", x_train)
    assert s.apply(x_train).min() == pytest.approx(0.0, abs=1e-6)
    # the test images' wider range is NOT squeezed into 0..1: the fit saw only train data
    y_test = s.apply(x_test)
    assert y_test.min() < -0.3 and y_test.max() > 1.3
    # and changing the test data does not change the fit
    x_test[:] = 255
    assert fit_scaling("minmax_global", x_train) == s


def test_fitted_scaling_round_trip_and_invert():
    x = _images()
    s = fit_scaling("standardize_channel", x)
    s2 = FittedScaling.from_dict(json.loads(json.dumps(s.to_dict())))
    assert s2 == s
    np.testing.assert_allclose(s.invert(s.apply(x)), x, atol=1e-3)
    with pytest.raises(ValueError):
        s.apply(x[..., :1])
    assert "standardize_channel" in s.describe()


def test_fit_scaling_rejects_unknown_mode():
    with pytest.raises(SpecError) as err:
        fit_scaling("zscore", _images())
    assert err.value.setting == "scaling"


@pytest.mark.parametrize("mode, channels", [("standardize_channel", 3), ("minmax_channel", 3),
                                            ("divide_255", 1), ("minmax_global", 3)])
def test_keras_layer_matches_apply(mode, channels):
    keras = pytest.importorskip("keras")
    x = _images(n=6, c=channels, seed=4)
    x[..., 0] //= 2
    s = fit_scaling(mode, x)
    layer = s.as_layer()
    out = np.asarray(layer(x.astype(np.float32)))
    np.testing.assert_allclose(out, s.apply(x), rtol=1e-5, atol=1e-5)
    # survives keras serialization (what model.keras stores)
    clone = keras.layers.Rescaling.from_config(layer.get_config())
    np.testing.assert_allclose(np.asarray(clone(x.astype(np.float32))), s.apply(x), rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------- labels

def test_encode_labels_integer_and_onehot():
    y = np.array([2, 0, 1, 2], np.uint8)
    ints = encode_labels(y, 3, "integer")
    assert ints.dtype == np.int64 and ints.tolist() == [2, 0, 1, 2]
    hot = encode_labels(y, 3, "onehot")
    assert hot.dtype == np.float32 and hot.shape == (4, 3)
    np.testing.assert_array_equal(hot.argmax(1), y)
    assert (hot.sum(1) == 1).all()
    with pytest.raises(ValueError):
        encode_labels(np.array([3]), 3, "integer")
    with pytest.raises(SpecError):
        encode_labels(y, 3, "binary")


def test_loss_and_effective_encoding():
    assert loss_name("integer", 0.0) == "sparse_categorical_crossentropy"
    assert loss_name("onehot", 0.0) == "categorical_crossentropy"
    assert loss_name("integer", 0.1) == "categorical_crossentropy"   # smoothing needs one-hot
    assert effective_encoding("integer", 0.1) == "onehot"
    assert effective_encoding("integer", 0.0) == "integer"
    assert effective_encoding("onehot", 0.0) == "onehot"
    assert set(LABEL_ENCODINGS) == {"integer", "onehot"}


# --------------------------------------------------------------------------- split

def test_validation_split_is_stratified_and_seeded():
    y = np.repeat(np.arange(3), [600, 300, 100])
    x = np.arange(len(y))[:, None, None, None].astype(np.int64)   # image "content" = its index
    x_tr, y_tr, x_val, y_val = train_validation_split(x, y, 0.1, seed=5)
    assert len(y_val) == 100 and len(y_tr) == 900
    assert np.bincount(y_val).tolist() == [60, 30, 10]
    ids_tr, ids_val = x_tr.ravel(), x_val.ravel()
    assert not set(ids_tr) & set(ids_val)                       # no image in both
    np.testing.assert_array_equal(y[ids_val], y_val)            # images keep their labels
    again = train_validation_split(x, y, 0.1, seed=5)
    np.testing.assert_array_equal(again[2], x_val)
    other = train_validation_split(x, y, 0.1, seed=6)
    assert not np.array_equal(other[2], x_val)


def test_validation_fraction_zero_gives_empty_validation():
    x, y = _images(n=10), np.arange(10) % 2
    x_tr, y_tr, x_val, y_val = train_validation_split(x, y, 0.0, 0)
    assert len(x_tr) == 10 and x_val.shape == (0,) + x.shape[1:] and len(y_val) == 0


def test_tiny_classes_split_without_error():
    y = np.array([0] * 12 + [1] + [2, 2])
    x = np.arange(len(y))[:, None, None, None]
    x_tr, y_tr, x_val, y_val = train_validation_split(x, y, 0.3, 0)
    assert len(y_val) == round(0.3 * len(y))
    assert 1 in y_tr and 1 not in y_val            # a single-image class stays in training
    assert set(np.unique(y_tr)) == {0, 1, 2}       # every class keeps a training image
    # more classes than validation slots: still works, sizes add up
    y2 = np.repeat(np.arange(10), 2)
    keep, held = stratified_split_indices(y2, 0.2, 0)
    assert len(held) == 4 and len(keep) == 16 and len(set(keep) | set(held)) == 20


def test_split_rejects_mismatched_lengths():
    with pytest.raises(ValueError):
        train_validation_split(_images(n=3), np.zeros(4), 0.5, 0)
