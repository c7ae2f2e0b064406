"""The ``muon`` optimizer: orthogonalised filter steps at a fixed filter norm, SGD for the rest."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cnn_core.model import ModelSpec, build_model, build_optimizer, compile_model, load_model
from cnn_core.model.muon import MuonFilters, orthogonalise
from cnn_core.model.setting_use import is_used
from cnn_core.model_file_check import inspect_keras_file
from cnn_core.safe_archive import ArchiveLimits

SPEC = ModelSpec(conv_blocks=2, filters=4, convs_per_block=1, kernel_size=3, batch_norm=True,
                 head="global_average", dense_layers=1, dense_units=8, optimizer="muon",
                 momentum=0.85, nesterov=True, learning_rate=0.1, muon_rate=0.05,
                 lr_schedule="constant", epochs=2, batch_size=8)


def _data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 8, 8, 1)).astype("float32")
    y = (x[:, :4].mean(axis=(1, 2, 3)) > x[:, 4:].mean(axis=(1, 2, 3))).astype("int64")
    return x, y


def _singular_values(matrix):
    return np.linalg.svd(np.asarray(matrix, dtype="float64"), compute_uv=False)


@pytest.mark.parametrize("shape", [(36, 8), (8, 36), (27, 27)])
def test_orthogonalise_evens_out_the_directions_and_keeps_them(shape):
    rng = np.random.default_rng(1)
    # directions of very different sizes (singular values 1 .. 1/50)
    u, _ = np.linalg.qr(rng.normal(size=(shape[0], shape[0])))
    v, _ = np.linalg.qr(rng.normal(size=(shape[1], shape[1])))
    k = min(shape)
    sizes = np.geomspace(1.0, 1 / 50, k)
    matrix = (u[:, :k] * sizes) @ v[:, :k].T
    out = np.asarray(orthogonalise(keras.ops.convert_to_tensor(matrix.astype("float32")),
                                   steps=5))
    values = _singular_values(out)
    assert out.shape == shape
    assert values.max() < 1.3 and values.min() > 0.3      # raw spread 50x, now within ~4x
    # the same directions: U^T out V is (nearly) diagonal
    core = u[:, :k].T @ out @ v[:, :k]
    off = core - np.diag(np.diag(core))
    assert np.abs(off).max() < 0.05 * np.abs(np.diag(core)).min()


def test_build_optimizer_muon_scales_the_filter_rate_by_the_schedule():
    opt = build_optimizer(SPEC.replace(lr_schedule="triangle"), 10)
    assert isinstance(opt, MuonFilters) and opt.nesterov and opt.momentum == pytest.approx(0.85)
    assert opt.filter_rate_scale == pytest.approx(0.05 / 0.1)


def test_muon_without_momentum_still_keeps_its_own_for_the_filters():
    """SGD keeps no momentum at 0; the filters' Muon momentum (0.6) needs its buffers anyway."""
    spec = SPEC.replace(momentum=0.0, nesterov=False)
    model = build_model(spec, (8, 8, 1), 2)
    compile_model(model, spec, steps_per_epoch=4, label_encoding="integer")
    x, y = _data(16)
    first = [np.asarray(w) for w in model.trainable_weights]
    model.train_on_batch(x[:8], y[:8])
    model.train_on_batch(x[8:], y[8:])
    assert all(not np.allclose(a, np.asarray(w)) for a, w in zip(first, model.trainable_weights))


def test_a_step_keeps_filter_norm_and_moves_other_weights_like_sgd():
    keras.utils.set_random_seed(0)
    x, y = _data()
    model = build_model(SPEC, (8, 8, 1), 2)
    twin = build_model(SPEC, (8, 8, 1), 2)
    twin.set_weights(model.get_weights())
    compile_model(model, SPEC, steps_per_epoch=4, label_encoding="integer")
    sgd_spec = SPEC.replace(optimizer="sgd")
    compile_model(twin, sgd_spec, steps_per_epoch=4, label_encoding="integer")
    before = {w.path: np.asarray(w) for w in model.trainable_weights}
    model.train_on_batch(x[:8], y[:8])
    twin.train_on_batch(x[:8], y[:8])
    after_sgd = {w.path: np.asarray(w) for w in twin.trainable_weights}

    filters = [w for w in model.trainable_weights if len(w.shape) == 4]
    others = [w for w in model.trainable_weights if len(w.shape) != 4]
    assert len(filters) == 2 and others
    for w in filters:
        new = np.asarray(w)
        out = w.shape[-1]
        old = before[w.path] * np.sqrt(out) / np.linalg.norm(before[w.path])
        # each step starts from the filters at norm sqrt(filters) and moves them by a step
        # whose directions are evened out, of size muon_rate
        step = (old - new).reshape(-1, out)
        values = _singular_values(step) / SPEC.muon_rate
        assert 0.2 < values.min() and values.max() < 1.6
        assert np.linalg.norm(new) == pytest.approx(
            np.linalg.norm(old - step.reshape(old.shape)), rel=1e-5)
    for w in others:   # same gradient, same SGD step as the plain SGD twin
        np.testing.assert_allclose(np.asarray(w), after_sgd[w.path], rtol=1e-4, atol=1e-6)
        assert not np.allclose(np.asarray(w), before[w.path])


def test_muon_learns_and_its_model_file_reloads_safely_and_resumes(tmp_path):
    keras.utils.set_random_seed(0)
    x, y = _data(64)
    model = build_model(SPEC, (8, 8, 1), 2)
    compile_model(model, SPEC, steps_per_epoch=8, label_encoding="integer")
    first = model.evaluate(x, y, verbose=0)[0]
    model.fit(x, y, batch_size=8, epochs=6, verbose=0)
    assert model.evaluate(x, y, verbose=0)[0] < first
    path = tmp_path / "model.keras"
    model.save(path)

    inspect_keras_file(path.read_bytes(), ArchiveLimits())   # CNN Lab's own optimizer passes the allow-list
    loaded = load_model(path)
    assert isinstance(loaded.optimizer, MuonFilters)
    assert loaded.optimizer.filter_rate_scale == pytest.approx(0.5)
    assert int(loaded.optimizer.iterations) == 48
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), rtol=1e-5, atol=1e-6)
    # resuming continues from the stored momentum: the same next step as the live model
    loaded.train_on_batch(x[:8], y[:8])
    model.train_on_batch(x[:8], y[:8])
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_which_settings_muon_uses():
    muon = {"optimizer": "muon", "conv_blocks": 2}
    assert is_used("muon_rate", muon) and is_used("momentum", muon) and is_used("nesterov", muon)
    assert not is_used("muon_rate", {"optimizer": "sgd", "conv_blocks": 2})
    assert not is_used("muon_rate", {"optimizer": "muon", "conv_blocks": 0})   # no filters
    assert not is_used("momentum", {"optimizer": "adam"})


def test_quick_preset_is_the_fast_network_for_short_runs():
    from cnn_core.augment import AugmentSpec
    from cnn_core.model import PRESET_AUGMENTS, PRESETS, plan_summary

    quick, fast = PRESETS["quick"], PRESETS["fast"]
    assert quick.optimizer == fast.optimizer == "muon" and quick.epochs < fast.epochs
    assert (quick.time_limit, fast.time_limit) == (2, 10)          # minutes, on any computer
    assert quick.hard_share == 1.0 and fast.hard_share < 1.0      # short runs never choose
    assert quick.replace(epochs=fast.epochs, time_limit=fast.time_limit,
                         hard_share=fast.hard_share) == fast
    assert plan_summary(quick, (32, 32, 3), 10) == plan_summary(fast, (32, 32, 3), 10)
    assert AugmentSpec.from_dict(PRESET_AUGMENTS["quick"]) == AugmentSpec.from_dict(
        PRESET_AUGMENTS["fast"])


def test_a_muon_run_trains_through_the_engine_and_continues_after_a_stop(workspace):
    import math

    from cnn_core.job_queue import get_job_queue
    from cnn_core.model import PRESETS
    from cnn_core.runs import RunStore
    from cnn_core.training import JobControl, TrainingRequest, run_training

    spec = PRESETS["quick"].replace(filters=4, epochs=2, batch_size=64, precision="float32")
    store, control = RunStore(), JobControl()

    def stop_after_first(epoch, epochs, metrics):
        if epoch == 1:
            control.request_stop()

    record = run_training(TrainingRequest("shapes", spec, preset="quick"), store, control,
                          on_epoch=stop_after_first)
    assert record.status == "stopped" and record.epochs_done == 1, record.message
    stopped = load_model(store.model_path(record.id))
    assert isinstance(stopped.optimizer, MuonFilters)
    for kernel in (w for w in stopped.trainable_weights if len(w.shape) == 4):
        assert float(np.linalg.norm(np.asarray(kernel))) == pytest.approx(
            math.sqrt(kernel.shape[-1]), rel=0.2)     # kept near sqrt(filters) by each step
    assert get_job_queue().resume_interrupted(record.id) == record.id
    done = get_job_queue().wait(record.id, timeout=120)
    assert done.status == "finished" and done.test_accuracy is not None, done.message
    assert isinstance(load_model(store.model_path(record.id)).optimizer, MuonFilters)
