"""The settings behind the fast preset: pooling position, patch-whitening stem, global-max head,
batch-norm scale, triangle schedule, whole-pixel crop, alternating flip and test-time
augmentation. Tiny inputs only."""

from __future__ import annotations

import numpy as np
import pytest

from cnn_core.augment import AugmentSpec, augment_images, build_augmenter
from cnn_core.augment_layers import RandomWholePixelCrop, alternating_flip, starts_mirrored
from cnn_core.errors import SpecError
from cnn_core.model import PRESET_AUGMENTS, PRESETS, ModelSpec, plan_summary
from cnn_core.settings import declared, format_text, parse_text

NEW_MODEL_SETTINGS = {
    "pool_position": "after_first_conv", "whitening_stem": True, "head": "global_max",
    "bn_scale": False, "lr_schedule": "triangle", "test_time_augmentation": "flip_shift",
    "precision": "bfloat16",
}
SMALL = dict(conv_blocks=2, filters=4, convs_per_block=2, batch_norm=True, dense_layers=0,
             epochs=2, batch_size=4)


def _rgb(n=6, size=8, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


# --- declarations: each new setting validates, round-trips and reads from text --------------


@pytest.mark.parametrize("name, value", NEW_MODEL_SETTINGS.items())
def test_each_new_model_setting_round_trips_through_dict_and_text(name, value):
    spec = ModelSpec(**SMALL).replace(**{name: value}).validate()
    assert ModelSpec.from_dict(spec.to_dict()) == spec
    assert parse_text(ModelSpec, name, format_text(value)) == value
    decl = declared(ModelSpec)[name]
    assert decl.help and decl.label and decl.sweepable


def test_defaults_keep_the_classic_layout():
    spec = ModelSpec()
    assert (spec.pool_position, spec.whitening_stem, spec.bn_scale, spec.test_time_augmentation) \
        == ("after_last_conv", False, True, "off")


@pytest.mark.parametrize("name, bad", [("pool_position", "sometimes"), ("head", "global_min"),
                                       ("lr_schedule", "zigzag"),
                                       ("test_time_augmentation", "rotate")])
def test_unknown_choices_are_refused_naming_the_setting(name, bad):
    with pytest.raises(SpecError) as info:
        ModelSpec.from_dict({name: bad})
    assert info.value.setting == name


def test_global_max_head_needs_conv_blocks():
    with pytest.raises(SpecError) as info:
        ModelSpec(conv_blocks=0, head="global_max").validate()
    assert info.value.setting == "head"


def test_new_augment_settings_round_trip_and_crop_is_checked():
    spec = AugmentSpec(flip="alternating", crop=2)
    assert AugmentSpec.from_dict(spec.to_dict()) == spec and spec.enabled
    assert "crop 2" in spec.describe()
    with pytest.raises(SpecError) as info:
        AugmentSpec.from_dict({"crop": 9})
    assert info.value.setting == "crop"
    with pytest.raises(SpecError):
        AugmentSpec.from_dict({"crop": 1.5})


# --- the shape walk and the built model agree ------------------------------------------------


def test_pooling_after_the_first_conv_shrinks_before_the_second():
    spec = ModelSpec(**SMALL, pool_position="after_first_conv")
    rows = [r.name for r in plan_summary(spec, (8, 8, 3), 3).rows]
    assert rows.index("block1_pool") < rows.index("block1_bn1") < rows.index("block1_conv2")
    classic = [r.name for r in plan_summary(ModelSpec(**SMALL), (8, 8, 3), 3).rows]
    assert classic.index("block1_pool") > classic.index("block1_act2")
    cheap = plan_summary(spec, (8, 8, 3), 3).flops_per_image
    assert cheap < plan_summary(ModelSpec(**SMALL), (8, 8, 3), 3).flops_per_image


def test_plan_matches_the_built_model_with_every_new_setting():
    from cnn_core.model import build_model, summarize

    spec = ModelSpec(**SMALL).replace(**{k: v for k, v in NEW_MODEL_SETTINGS.items()})
    plan = plan_summary(spec, (8, 8, 3), 3)
    built = summarize(build_model(spec, (8, 8, 3), 3, train_images=_rgb()))
    assert [(r.name, r.output_shape, r.params, r.flops) for r in plan.rows] == \
        [(r.name, r.output_shape, r.params, r.flops) for r in built.rows]
    assert (plan.total_params, plan.trainable_params) == (built.total_params, built.trainable_params)
    kinds = {r.name: r.type for r in built.rows}
    assert kinds["global_pool"] == "GlobalMaxPooling2D" and kinds["whitening"] == "Conv2D"


def test_batch_norm_without_scale_has_no_gamma():
    from cnn_core.model import build_model

    model = build_model(ModelSpec(**SMALL, bn_scale=False), (8, 8, 3), 3)
    bn = model.get_layer("block1_bn1")
    assert bn.gamma is None and bn.count_params() == 3 * 4


def test_fast_preset_is_airbench_sized():
    plan = plan_summary(PRESETS["fast"], (32, 32, 3), 10)
    assert 450_000 < plan.total_params < 550_000           # airbench93: 0.57M
    assert 80e6 < plan.flops_per_image < 108e6             # airbench93: ~108 MFLOPs per image
    assert PRESETS["fast"].precision == "auto"   # 16-bit where the computer has the units
    assert AugmentSpec.from_dict(PRESET_AUGMENTS["fast"]).flip == "alternating"


# --- the whitening stem ----------------------------------------------------------------------


def test_whitening_kernel_makes_patches_uncorrelated_with_unit_variance():
    from cnn_core.model.whitening import image_patches, whitening_kernel

    rng = np.random.default_rng(1)
    mix = rng.normal(size=(3, 3))
    images = rng.normal(size=(400, 6, 6, 3)) @ mix   # strongly correlated channels
    images = images + np.roll(images, 1, axis=2)      # and correlated neighbours
    kernel = whitening_kernel(images, eps=0.0)
    assert kernel.shape == (2, 2, 3, 24)
    outputs = image_patches(images) @ kernel.reshape(12, 24)[:, :12]
    covariance = outputs.T @ outputs / len(outputs)
    np.testing.assert_allclose(covariance, np.eye(12), atol=1e-6)
    np.testing.assert_allclose(kernel[..., 12:], -kernel[..., :12])


def test_whitening_layer_is_frozen_and_fitted_on_what_it_sees():
    import keras

    from cnn_core.model import build_model
    from cnn_core.model.whitening import image_patches

    images = _rgb(n=40, seed=3)
    spec = ModelSpec(**SMALL, whitening_stem=True)
    model = build_model(spec, (8, 8, 3), 3, train_images=images)
    layer = model.get_layer("whitening")
    assert not layer.trainable and not layer.trainable_weights
    seen = np.asarray(keras.Model(model.input, layer.output)(images.astype("float32")))
    # the layer's outputs (before the activation) over the training patches are white
    patches = np.asarray(keras.Model(model.input, layer.input)(images.astype("float32")))
    out = image_patches(patches) @ np.asarray(layer.kernel).reshape(12, 24)[:, :12]
    cov = out.T @ out / len(out)
    assert np.allclose(np.diag(cov), 1.0, atol=0.05) and abs(cov - np.diag(np.diag(cov))).max() < 0.05
    assert seen.shape == (40, 7, 7, 24)


# --- augmentation ----------------------------------------------------------------------------


def test_crop_moves_pictures_by_whole_pixels_only():
    images = np.arange(4 * 8 * 8, dtype="float32").reshape(4, 8, 8, 1) * 3.0
    layer = RandomWholePixelCrop(2, seed=5)
    out = np.asarray(layer(images, training=True))
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)), mode="reflect")
    for k in range(4):
        windows = [(dy, dx) for dy in range(5) for dx in range(5)
                   if np.array_equal(out[k], padded[k, dy:dy + 8, dx:dx + 8])]
        assert windows, "each output is an exact window of the reflect-padded picture"
    assert np.array_equal(np.asarray(layer(images, training=False)), images)
    many = np.asarray(RandomWholePixelCrop(2, seed=1)(np.repeat(images[:1], 64, 0)))
    assert len({m.tobytes() for m in many}) > 5   # offsets differ from picture to picture


def test_crop_is_in_the_preview_augmenter():
    assert [layer.name for layer in build_augmenter(AugmentSpec(crop=2)).layers] == ["crop"]
    out = augment_images(AugmentSpec(crop=1, seed=2), _rgb(n=2), variants=3)
    assert out.shape == (6, 8, 8, 3) and out.dtype == np.uint8


def test_alternating_flip_mirrors_each_picture_every_other_epoch():
    images = _rgb(n=64)
    indices = np.arange(64)
    even = np.asarray(alternating_flip(images, indices, epoch=0, seed=0))
    odd = np.asarray(alternating_flip(images, indices, epoch=1, seed=0))
    mirrored_even = [np.array_equal(e, i[:, ::-1]) for e, i in zip(even, images)]
    for k in range(64):   # whatever epoch 0 did, epoch 1 does the opposite
        if mirrored_even[k]:
            assert np.array_equal(odd[k], images[k])
        else:
            assert np.array_equal(even[k], images[k])
            assert np.array_equal(odd[k], images[k][:, ::-1])
    assert 16 < sum(mirrored_even) < 48    # about half start mirrored
    assert np.array_equal(np.asarray(alternating_flip(images, indices, 2, 0)), even)
    assert list(np.asarray(starts_mirrored(indices, 0))) == mirrored_even


def test_alternating_flip_preview_shows_one_epoch_per_variant():
    images = _rgb(n=2)
    out = augment_images(AugmentSpec(flip="alternating"), images, variants=4)
    for k in range(2):
        variants = out[4 * k:4 * k + 4]
        flipped = [np.array_equal(v, images[k][:, ::-1]) for v in variants]
        plain = [np.array_equal(v, images[k]) for v in variants]
        assert all(f != p for f, p in zip(flipped, plain))
        assert flipped[0] != flipped[1] and flipped[0] == flipped[2] and flipped[1] == flipped[3]


def test_training_pipeline_alternates_the_flip_with_the_epoch_variable():
    from cnn_core.augment_layers import epoch_variable
    from cnn_core.training_data import make_dataset

    images = _rgb(n=8)
    labels = np.arange(8)
    epoch = epoch_variable()
    ds = make_dataset(images, labels, 8, shuffle=True, seed=0, flip_epoch=epoch, flip_seed=0)

    def one_pass():
        x, y = next(iter(ds))
        return {int(label): np.asarray(img) for img, label in zip(x, y)}

    first = one_pass()
    epoch.assign(1)
    second = one_pass()
    for k in range(8):
        assert np.array_equal(first[k][:, ::-1], second[k])


def test_training_pipelines_run_without_the_tf_data_tuner():
    """Deleting an autotuned pipeline's iterator (Keras does at the end of every fit) could wait
    up to a minute for the tuner's sleeping thread; every pipeline opts out of it."""
    from cnn_core.augment import AugmentSpec, augment_fn
    from cnn_core.training_data import make_dataset

    images, labels = _rgb(n=10), np.arange(10)
    augment = augment_fn(AugmentSpec(flip="horizontal"))
    for ds in (make_dataset(images, labels, 4, shuffle=True, endless_from_epoch=0, augment=augment),
               make_dataset(images, labels, 4)):
        assert ds.options().autotune.enabled is False
        assert len(list(ds.take(3))) == 3


def test_an_endless_training_pipeline_reshuffles_each_pass_and_counts_the_flip_epoch_itself():
    """Training keeps one iterator for the whole fit (a fresh one each epoch stalled training);
    each pass is still every picture once, and the flip alternates with the pass, starting from
    the epoch a resumed run continues with."""
    from cnn_core.augment_layers import epoch_variable
    from cnn_core.training_data import make_dataset

    images = _rgb(n=10)
    labels = np.arange(10)
    ds = make_dataset(images, labels, 4, shuffle=True, seed=0, flip_epoch=epoch_variable(),
                      flip_seed=0, endless_from_epoch=3)
    batches = list(ds.take(9).as_numpy_iterator())            # 3 passes of 3 batches (4, 4, 2)
    assert [len(y) for _, y in batches] == [4, 4, 2] * 3
    passes = [{int(label): img for x, y in batches[p * 3:p * 3 + 3] for img, label in zip(x, y)}
              for p in range(3)]
    assert all(sorted(one) == list(range(10)) for one in passes)   # every picture once a pass
    orders = [[int(label) for _, y in batches[p * 3:p * 3 + 3] for label in y] for p in range(3)]
    assert len({tuple(o) for o in orders}) > 1                      # reshuffled
    for k in range(10):
        assert np.array_equal(passes[0][k][:, ::-1], passes[1][k])  # mirrored every other pass
        assert np.array_equal(passes[0][k], passes[2][k])
    third = epoch_variable()
    third.assign(3)
    finite = make_dataset(images, labels, 10, shuffle=True, seed=0, flip_epoch=third, flip_seed=0)
    x, y = next(iter(finite))
    for img, label in zip(x, y):                                    # pass 0 is epoch 3
        assert np.array_equal(np.asarray(img), passes[0][int(label)])


# --- triangle schedule -----------------------------------------------------------------------


def test_triangle_schedule_rises_then_falls_in_straight_lines_to_zero():
    from cnn_core.model import build_schedule, learning_rate_curve

    spec = ModelSpec(learning_rate=0.4, lr_schedule="triangle", epochs=4)
    schedule = build_schedule(spec, steps_per_epoch=25)   # 100 steps, peak at step 25
    values = [float(schedule(s)) for s in (0, 12.5, 25, 62.5, 100)]
    assert values == pytest.approx([0.08, 0.24, 0.4, 0.2, 0.0], abs=1e-6)
    curve = learning_rate_curve(spec, 25)
    assert curve[0] == pytest.approx(0.08) and curve[-1] == pytest.approx(0.0)
    assert type(schedule).__name__ == "OneCycleSchedule"   # a registered, loadable class


# --- test-time augmentation ------------------------------------------------------------------


def test_tta_averages_the_answers_of_the_views_with_their_weights():
    from cnn_core.test_time_augmentation import average_answers, explain, views

    images = np.zeros((1, 4, 4, 1), dtype=np.uint8)
    images[0, :, 0, 0] = 255              # a bright left edge

    def predict(batch):                    # class 0 if the left edge is bright, else class 1
        left = batch[:, :, 0, 0].mean(axis=1) > 100
        return np.stack([left, ~left], axis=1).astype(float)

    assert average_answers(predict, images, "off").tolist() == [[1.0, 0.0]]
    assert average_answers(predict, images, "flip").tolist() == [[0.5, 0.5]]
    weights = [w for w, _ in views(images, "flip_shift")]
    assert sum(weights) == pytest.approx(1.0) and len(weights) == 6
    shifted = average_answers(predict, images, "flip_shift")
    expected = sum(w * predict(v) for w, v in views(images, "flip_shift"))
    np.testing.assert_allclose(shifted, expected, rtol=1e-6)
    assert "mirror" in explain("flip")
    with pytest.raises(SpecError):
        views(images, "rotate")


def test_tta_shift_moves_by_one_whole_pixel_with_mirrored_edges():
    from cnn_core.test_time_augmentation import shift

    x = np.arange(16).reshape(1, 4, 4, 1)
    moved = shift(x, 1, 1)[0, :, :, 0]
    assert moved[1:, 1:].tolist() == x[0, :3, :3, 0].tolist()
    assert moved[0, 1:].tolist() == x[0, 1, :3, 0].tolist()   # the mirrored row above


# --- a saved fast model loads through the safe path ------------------------------------------


def test_a_saved_fast_model_passes_the_allow_list_and_loads_in_safe_mode(tmp_path):
    from cnn_core.model import build_model, compile_model, load_model
    from cnn_core.model_file_check import inspect_keras_file, load_model_safely
    from cnn_core.preprocessing import fit_scaling
    from cnn_core.safe_archive import ArchiveLimits

    images = _rgb(n=12)
    spec = PRESETS["fast"].replace(conv_blocks=2, filters=4, epochs=1)
    model = build_model(spec, (8, 8, 3), 3, scaling=fit_scaling("standardize_channel", images),
                        train_images=images)
    compile_model(model, spec, steps_per_epoch=3, label_encoding="onehot")
    path = tmp_path / "model.keras"
    model.save(path)
    inspect_keras_file(path.read_bytes(), ArchiveLimits())
    load_model_safely(path)
    loaded = load_model(path)
    np.testing.assert_allclose(np.asarray(loaded.get_layer("whitening").kernel),
                               np.asarray(model.get_layer("whitening").kernel))
    np.testing.assert_allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_a_bfloat16_model_computes_in_16_bits_keeps_32_bit_weights_and_loads_as_it_was(tmp_path):
    from cnn_core.model import build_model, compile_model, load_model

    images = _rgb(n=12)
    spec = PRESETS["fast"].replace(conv_blocks=2, filters=4, epochs=1, precision="bfloat16")
    model = build_model(spec, (8, 8, 3), 3, train_images=images)
    conv = model.get_layer("block1_conv1")
    assert conv.compute_dtype == "bfloat16" and conv.kernel.dtype == "float32"
    assert model.get_layer("output").compute_dtype == "float32"
    probs = model.predict(images, verbose=0)
    assert probs.dtype == np.float32 and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    compile_model(model, spec, steps_per_epoch=3, label_encoding="onehot")
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = load_model(path)
    assert loaded.get_layer("block1_conv1").compute_dtype == "bfloat16"
    np.testing.assert_allclose(loaded.predict(images, verbose=0), probs, atol=1e-6)
    plain = build_model(spec.replace(precision="float32"), (8, 8, 3), 3, train_images=images)
    assert plain.get_layer("block1_conv1").compute_dtype == "float32"


# --- through the engine: one tiny run with every new setting ---------------------------------


def test_a_run_with_the_fast_settings_stores_test_time_augmented_predictions(workspace):
    from cnn_core.datasets import load_dataset
    from cnn_core.model import load_model
    from cnn_core.runs import RunStore
    from cnn_core.test_time_augmentation import mirror
    from cnn_core.training import TrainingRequest, run_training

    spec = ModelSpec(**SMALL).replace(conv_blocks=1, batch_size=32, optimizer="sgd",
                                      nesterov=True, learning_rate=0.05, seed=1,
                                      **NEW_MODEL_SETTINGS).replace(test_time_augmentation="flip")
    store = RunStore()
    record = run_training(TrainingRequest("shapes", spec,
                                          augment=AugmentSpec(flip="alternating", crop=1)),
                          store)
    assert record.status == "finished", record.message
    assert "mirror" in record.shown_message                     # the setting explained in one line
    assert store.get(record.id).config["model"]["test_time_augmentation"] == "flip"
    probs, _ = store.load_predictions(record.id)
    x_test = load_dataset("shapes", workspace=workspace).x_test.astype("float32")
    model = load_model(store.model_path(record.id))
    expected = (model.predict(x_test, verbose=0) + model.predict(mirror(x_test), verbose=0)) / 2
    np.testing.assert_allclose(probs, expected, atol=1e-4)
