"""CNN Lab's batch norm (TensorFlow's fused kernel) computes what Keras' layer computes."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnn_core.model import PRESETS, build_model, load_model, summarize  # noqa: E402
from cnn_core.model.fused_batch_norm import BatchNormalization  # noqa: E402
from cnn_core.model_file_check import inspect_keras_file, load_model_safely  # noqa: E402
from cnn_core.safe_archive import ArchiveLimits  # noqa: E402


def _pair(scale: bool, dtype: str):
    """The fused layer and Keras' own, built alike with the same (non-trivial) weights."""
    made = []
    for cls in (BatchNormalization, keras.layers.BatchNormalization):
        layer = cls(momentum=0.9, scale=scale, dtype=dtype)
        layer.build((None, 5, 5, 4))
        made.append(layer)
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=w.shape).astype("float32") for w in made[1].weights]
    weights = [np.abs(w) + 0.5 if "variance" in v.path else w for w, v in zip(weights, made[1].weights)]
    for layer in made:
        layer.set_weights(weights)
    return made


@pytest.mark.parametrize("scale", [True, False])
@pytest.mark.parametrize("dtype, tolerance", [("float32", 1e-4), ("mixed_bfloat16", 5e-2)])
def test_training_and_inference_match_keras(scale, dtype, tolerance):
    fused, plain = _pair(scale, dtype)
    x = np.random.default_rng(1).normal(2.0, 3.0, size=(8, 5, 5, 4)).astype("float32")
    for training in (True, False):
        a = keras.ops.convert_to_numpy(keras.ops.cast(fused(x, training=training), "float32"))
        b = keras.ops.convert_to_numpy(keras.ops.cast(plain(x, training=training), "float32"))
        assert np.allclose(a, b, atol=tolerance, rtol=tolerance), (training, np.abs(a - b).max())
    # one training call moved both layers' running averages the same way (biased variance)
    for name in ("moving_mean", "moving_variance"):
        assert np.allclose(getattr(fused, name).numpy(), getattr(plain, name).numpy(), atol=1e-4)
    assert not np.allclose(fused.moving_mean.numpy(), plain.moving_mean.numpy() * 0)


def test_inputs_the_kernel_does_not_take_use_keras_computation():
    layer = BatchNormalization()
    x = np.random.default_rng(2).normal(size=(6, 3)).astype("float32")
    out = keras.ops.convert_to_numpy(layer(x, training=True))
    assert np.allclose(out.mean(axis=0), 0.0, atol=1e-4)


def test_models_use_it_and_still_show_batch_normalization(tmp_path):
    spec = PRESETS["fast"].replace(filters=4, epochs=1)
    x = np.random.default_rng(3).integers(0, 255, (16, 32, 32, 3), dtype=np.uint8)
    model = build_model(spec, (32, 32, 3), 10, train_images=x)
    bn = model.get_layer("block1_bn1")
    assert isinstance(bn, BatchNormalization) and isinstance(bn, keras.layers.BatchNormalization)
    types = {row.name: row.type for row in summarize(model).rows}
    assert types["block1_bn1"] == "BatchNormalization"
    expected = model.predict(x, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    inspect_keras_file(path.read_bytes(), ArchiveLimits())     # passes the model-file allow-list
    load_model_safely(path)                                    # and loads with safe_mode
    again = load_model(path, compile=False)
    assert isinstance(again.get_layer("block1_bn1"), BatchNormalization)
    assert np.allclose(again.predict(x, verbose=0), expected, atol=1e-3)
