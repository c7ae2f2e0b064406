"""Background training: the job queue, stop/pause/resume, divergence, failures, resumption.

Everything trains tiny models on the built-in generated ``shapes`` data set.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cnn_core import training
from cnn_core.augment import AugmentSpec
from cnn_core.model import ModelSpec, load_model
from cnn_core.preprocessing import PreprocessSpec
from cnn_core.runs import RunStore
from cnn_core.job_queue import get_job_queue
from cnn_core.training import JobControl, TrainingRequest, run_training
from run_fixtures import wait_until

ROOT = Path(__file__).resolve().parent.parent
DATASET = "shapes"
TINY = ModelSpec(conv_blocks=1, filters=4, kernel_size=3, pooling="max", dense_layers=0,
                 optimizer="adam", learning_rate=0.01, batch_size=64, epochs=2, seed=1)
#: Many small batches, so a stop or pause lands in the middle of an epoch.
SLOW = TINY.replace(batch_size=4, epochs=3)


wait_for = wait_until


def request(spec: ModelSpec = TINY, **kwargs) -> TrainingRequest:
    return TrainingRequest(DATASET, spec, **kwargs)


def test_request_config_round_trip():
    original = TrainingRequest(
        DATASET, TINY.replace(learning_rate=0.003), PreprocessSpec(validation_fraction=0.2),
        AugmentSpec(flip="horizontal"), dataset_options={"image_size": (16, 16)}, preset="fast",
        name="n", extra_config={"sweep": {"id": "s1"}})
    config = original.to_config()
    assert config["dataset"] == {"id": DATASET, "image_size": [16, 16]}
    assert config["model"]["learning_rate"] == 0.003 and config["preset"] == "fast"
    assert config["sweep"] == {"id": "s1"}
    again = TrainingRequest.from_config(config, name="n")
    assert again == original


def test_run_training_records_everything(workspace):
    import tensorflow as tf

    store = RunStore()
    seen = []
    record = run_training(request(preset="custom"), store,
                          on_epoch=lambda e, n, m: seen.append((e, n, m["loss"])))
    assert record.status == "finished", record.message
    assert [s[:2] for s in seen] == [(1, 2), (2, 2)]
    rows = store.epochs(record.id)
    assert [r["epoch"] for r in rows] == [1, 2]
    for row in rows:
        for key in ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds"):
            assert row[key] is not None and np.isfinite(row[key]), key
        assert row["learning_rate"] == pytest.approx(0.01)
    assert record.epochs_done == 2 and record.best_val_accuracy == max(r["val_accuracy"] for r in rows)
    assert record.train_seconds > 0 and 0 <= record.test_accuracy <= 1 and record.test_loss > 0
    assert record.progress["phase"] == "finished"

    probs, y_true = store.load_predictions(record.id)
    info = store.dataset_info(record.id)
    assert probs.dtype == np.float32 and probs.shape == (info["n_test"], len(info["class_names"]))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    assert record.test_accuracy == pytest.approx(float(np.mean(probs.argmax(1) == y_true)))

    # model.keras takes raw 0..255 pixels and reproduces the stored predictions
    from cnn_core.datasets import load_dataset

    dataset = load_dataset(DATASET, workspace=workspace)
    model = load_model(store.model_path(record.id))
    again = model.predict(dataset.x_test[:16].astype("float32"), verbose=0)
    np.testing.assert_allclose(again, probs[:16], atol=1e-4)
    run_dir = store.run_dir(record.id)
    assert (run_dir / "checkpoint.keras").exists() and record.checkpoint_epoch == 2
    events = list((run_dir / "logs").rglob("events.out.tfevents.*"))
    assert {p.parent.name for p in events} >= {"train", "validation"}
    tags = {}   # TensorBoard scalars, one point per epoch
    for path in (run_dir / "logs" / "train").glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                tags.setdefault(value.tag, []).append(event.step)
    assert tags["epoch_loss"] == [0, 1] and "epoch_accuracy" in tags
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".")]   # no temp files left


def test_a_time_limit_keeps_the_epochs_that_fit_and_ends_the_schedule_with_them(workspace,
                                                                               monkeypatch):
    import math

    from cnn_core import time_limit

    timed = []
    real = time_limit.measure_speed

    def slow_computer(model, dataset, **kwargs):
        timed.append(real(model, dataset, **kwargs))         # the real timing runs...
        return time_limit.Speed(0.1, 0.1, 0.0)               # ...on a computer this slow
    monkeypatch.setattr(time_limit, "measure_speed", slow_computer)
    store = RunStore()
    spec = TINY.replace(epochs=40, time_limit=1, optimizer="sgd", learning_rate=0.05,
                        lr_schedule="triangle")
    record = run_training(request(spec), store)
    assert record.status == "finished", record.message
    fit = record.config["time_limit_fit"]
    kept = math.floor(60 / fit["epoch_seconds"])
    assert 1 <= kept < 40 and fit["asked_epochs"] == 40 and fit["minutes"] == 1
    cut_short = "last_epoch_steps" in fit     # plus one more cut short, when a part of it fits
    assert fit["epochs"] == kept + cut_short
    assert record.epochs_done == record.epochs_planned == record.config["model"]["epochs"] \
        == fit["epochs"]
    assert timed and timed[0].step_seconds > 0
    rows = store.epochs(record.id)
    assert rows[-1]["learning_rate"] == pytest.approx(0.0, abs=1e-6)   # cooled down at the end
    assert max(r["learning_rate"] for r in rows) == pytest.approx(0.05, rel=0.35)


#: A run whose schedule ends at zero and whose epochs a one-minute limit cuts.
CUT_SHORT = TINY.replace(epochs=40, time_limit=1, optimizer="sgd", learning_rate=0.05,
                         lr_schedule="triangle")


def two_and_a_half_epochs_a_minute(steps_per_epoch: int, epochs: float = 2.5):
    """The timing of a computer where 2.5 (``epochs``) epochs of ``steps_per_epoch`` batches
    fill a minute."""
    from cnn_core import time_limit

    step = 60.0 / (epochs * steps_per_epoch * time_limit.EPOCH_OVERHEAD)
    return time_limit.Speed(step, step, 0.0)


def time_runs_at_two_and_a_half_epochs_a_minute(store, monkeypatch,
                                                epochs: float = 2.5) -> list[int]:
    """Every run's timing says 2.5 (``epochs``) of its epochs fit into a minute; returns the
    batches per epoch each timing saw (from ``dataset.json``, written before the timing)."""
    import math

    from cnn_core import time_limit

    steps = []

    def computer(model, dataset, **kwargs):
        info = store.dataset_info(store.list_runs()[0].id)
        steps.append(math.ceil(info["n_train"] / TINY.batch_size))
        return two_and_a_half_epochs_a_minute(steps[-1], epochs)
    monkeypatch.setattr(time_limit, "measure_speed", computer)
    return steps


def test_a_time_limit_fills_what_the_whole_epochs_leave_with_one_more_cut_short(workspace,
                                                                             monkeypatch):
    """Two and a half epochs fit: the run trains two and half of a third, records all three,
    and its learning rate reaches zero with the cut epoch's last batch."""
    import math

    from cnn_core import time_limit

    store = RunStore()
    steps = time_runs_at_two_and_a_half_epochs_a_minute(store, monkeypatch)
    said = []
    record = run_training(request(CUT_SHORT), store, on_status=said.append)
    assert record.status == "finished", record.message
    fit, per_epoch = record.config["time_limit_fit"], steps[0]
    assert (f"The last epoch stops after {fit['last_epoch_steps']} of its {per_epoch} batches"
            in " ".join(said))
    assert fit["epochs"] == record.epochs_done == record.epochs_planned == 3
    assert fit["steps_per_epoch"] == per_epoch
    # what half an epoch leaves after the third epoch's validation, whole
    validation = math.ceil(store.dataset_info(record.id)["n_validation"] / TINY.batch_size)
    assert fit["last_epoch_steps"] == time_limit.last_epoch_steps(
        1, two_and_a_half_epochs_a_minute(per_epoch), 2, 40, per_epoch, validation)
    assert 0.2 * per_epoch <= fit["last_epoch_steps"] < 0.5 * per_epoch
    assert "2 of the 40 epochs fit, and" in time_limit.fit_words(fit)
    rows = store.epochs(record.id)
    assert [r["epoch"] for r in rows] == [1, 2, 3]                # the cut epoch is recorded too
    assert rows[-1]["learning_rate"] == pytest.approx(0.0, abs=1e-6)   # cooled down with it
    assert rows[1]["learning_rate"] > 0.01
    trained = load_model(store.model_path(record.id))
    assert int(trained.optimizer.iterations) == 2 * per_epoch + fit["last_epoch_steps"]
    progress = store.get(record.id).progress
    assert progress["batches"] == fit["last_epoch_steps"]


def test_when_not_even_one_epoch_fits_the_time_limit_cuts_the_first(workspace, monkeypatch):
    """Half an epoch fits into the minute (a slow computer): the run trains about half of one
    epoch, not a whole one twice as long as its limit, and still cools down to zero."""
    from cnn_core import time_limit

    store = RunStore()
    steps = time_runs_at_two_and_a_half_epochs_a_minute(store, monkeypatch, epochs=0.5)
    said = []
    record = run_training(request(CUT_SHORT), store, on_status=said.append)
    assert record.status == "finished", record.message
    fit, per_epoch = record.config["time_limit_fit"], steps[0]
    assert fit["epochs"] == record.epochs_done == record.epochs_planned == 1
    assert 0.2 * per_epoch <= fit["last_epoch_steps"] < 0.5 * per_epoch   # validation whole
    assert f"The epoch stops after {fit['last_epoch_steps']} of its {per_epoch} batches" \
        in " ".join(said)
    assert "not even one whole epoch fits" in time_limit.fit_words(fit)
    trained = load_model(store.model_path(record.id))
    assert int(trained.optimizer.iterations) == fit["last_epoch_steps"]
    rows = store.epochs(record.id)
    assert [r["epoch"] for r in rows] == [1]
    assert rows[-1]["learning_rate"] == pytest.approx(0.0, abs=1e-6)
    assert store.get(record.id).progress["batches"] == fit["last_epoch_steps"]


def test_a_resumed_run_still_cuts_its_last_epoch_short(workspace, monkeypatch):
    """Stopped after 2 of its 2 whole epochs and the cut third, resumed: the third stops where
    the time limit said, with the learning rate at zero."""
    store, control = RunStore(), JobControl()
    time_runs_at_two_and_a_half_epochs_a_minute(store, monkeypatch)

    def stop_after_second(epoch, epochs, metrics):
        if epoch == 2:
            control.request_stop()
    record = run_training(request(CUT_SHORT), store, control, on_epoch=stop_after_second)
    assert record.status == "stopped" and record.checkpoint_epoch == 2
    fit = record.config["time_limit_fit"]
    assert fit["epochs"] == 3 and fit["last_epoch_steps"] < fit["steps_per_epoch"]
    training.prepare_resume(store, record.id)
    said = []
    resumed = run_training(record.id, store, on_status=said.append)
    assert resumed.status == "finished", resumed.message
    assert resumed.epochs_done == 3
    assert f"stops after {fit['last_epoch_steps']} of its" in " ".join(said)
    trained = load_model(store.model_path(record.id))
    assert int(trained.optimizer.iterations) == 2 * fit["steps_per_epoch"] + fit["last_epoch_steps"]
    assert store.epochs(record.id)[-1]["learning_rate"] == pytest.approx(0.0, abs=1e-6)


def test_a_time_limit_times_the_choosing_steps_too_and_keeps_the_epochs_they_allow(workspace,
                                                                                  monkeypatch):
    import math

    from cnn_core import hard_examples, time_limit

    installed, timed = [], []
    real_install = hard_examples.install

    def spy_install(model, spec):
        installed.append(real_install(model, spec))
        return installed[-1]
    monkeypatch.setattr(hard_examples, "install", spy_install)

    def computer(model, dataset, **kwargs):   # a choosing step costs 1.5 warm-up steps here
        timed.append(bool(installed[-1].choosing.numpy()))
        return time_limit.Speed(0.12 if timed[-1] else 0.08, 0.08, 0.0)
    monkeypatch.setattr(time_limit, "measure_speed", computer)
    store = RunStore()
    spec = TINY.replace(epochs=60, time_limit=1, hard_share=0.5)
    record = run_training(request(spec, preprocess=PreprocessSpec(validation_fraction=0.2)), store)
    assert record.status == "finished", record.message
    assert timed == [False, True]                       # the warm-up steps, then the choosing ones
    fit = record.config["time_limit_fit"]
    assert fit["choosing_cost"] == pytest.approx(1.5)
    info = store.dataset_info(record.id)
    steps = math.ceil(info["n_train"] / (2 * TINY.batch_size))
    val_steps = math.ceil(info["n_validation"] / TINY.batch_size)
    speed = time_limit.Speed(0.08, 0.08, 0.0)

    def kept(cost):
        return time_limit.epochs_within(1, speed, 60, steps, val_steps, run_cost=lambda e: sum(
            hard_examples.epoch_costs(0.5, e, cost)))
    cut_short = "last_epoch_steps" in fit     # one more cut short, when a part of it fits
    assert fit["epochs"] == record.epochs_done == kept(1.5) + cut_short
    assert kept(1.5) > kept(None) >= hard_examples.MIN_CHOOSING_RUN   # more than the estimate
    assert installed[-1].choosing_cost == pytest.approx(1.5)
    assert bool(installed[-1].choosing.numpy())         # the last epochs chose the hardest


def test_a_resumed_run_keeps_the_choosing_cost_its_time_limit_timed(workspace, monkeypatch):
    from cnn_core import hard_examples, time_limit

    installed = []
    real_install = hard_examples.install

    def spy_install(model, spec):
        installed.append(real_install(model, spec))
        return installed[-1]
    monkeypatch.setattr(hard_examples, "install", spy_install)
    monkeypatch.setattr(training, "CHECKPOINT_COST_FACTOR", 1e9)

    def computer(model, dataset, **kwargs):   # a choosing step costs 1.25 warm-up steps here
        return time_limit.Speed(0.1 if installed[-1].choosing.numpy() else 0.08, 0.08, 0.0)
    monkeypatch.setattr(time_limit, "measure_speed", computer)
    store, control = RunStore(), JobControl()

    def stop_after_first(epoch, epochs, metrics):
        if epoch == 1:
            control.request_stop()
    spec = TINY.replace(epochs=60, time_limit=1, hard_share=0.5)
    record = run_training(request(spec), store, control, on_epoch=stop_after_first)
    assert record.status == "stopped" and record.config["time_limit_fit"]["choosing_cost"] == 1.25
    queue = get_job_queue()
    assert queue.resume_interrupted(record.id) == record.id
    wait_for(lambda: len(installed) == 2, timeout=60)
    queue.stop(record.id)                      # only its start matters here
    queue.wait(record.id, timeout=120)
    assert installed[-1].choosing_cost == pytest.approx(1.25)


def test_learning_from_the_hardest_half_takes_half_the_steps_and_survives_a_resume(workspace,
                                                                                  monkeypatch):
    import math

    from cnn_core import hard_examples

    monkeypatch.setattr(training, "CHECKPOINT_COST_FACTOR", 1e9)
    traced = []
    real = hard_examples.selective_train_step

    def spy(model, batch_size, choosing):
        step = real(model, batch_size, choosing)

        def train_step(data):
            traced.append(batch_size)        # once per tracing of the training step
            return step(data)
        return train_step
    monkeypatch.setattr(hard_examples, "selective_train_step", spy)
    store, control = RunStore(), JobControl()

    def stop_after_first(epoch, epochs, metrics):
        if epoch == 1:
            control.request_stop()

    spec = TINY.replace(epochs=2, hard_share=0.5)
    record = run_training(request(spec), store, control, on_epoch=stop_after_first)
    assert record.status == "stopped" and record.epochs_done == 1
    assert traced and set(traced) == {TINY.batch_size}            # it trained 64 of each 128
    steps = math.ceil(store.dataset_info(record.id)["n_train"] / (2 * TINY.batch_size))
    assert int(load_model(store.checkpoint_path(record.id)).optimizer.iterations) == steps
    traced.clear()
    queue = get_job_queue()
    assert queue.resume_interrupted(record.id) == record.id
    done = queue.wait(record.id, timeout=60)
    assert done.status == "finished", done.message
    assert traced                                                  # resumed with it too
    final = load_model(store.model_path(record.id))               # an ordinary saved model
    assert int(final.optimizer.iterations) == 2 * steps
    assert "train_step" not in vars(final)


def test_without_a_time_limit_nothing_is_timed(workspace, monkeypatch):
    from cnn_core import time_limit

    def never(*args, **kwargs):
        raise AssertionError("timed without a time limit")
    monkeypatch.setattr(time_limit, "measure_speed", never)
    record = run_training(request(TINY), RunStore())
    assert record.status == "finished" and record.epochs_planned == TINY.epochs
    assert "time_limit_fit" not in record.config


def test_schedule_smoothing_augmentation_and_early_stopping(workspace):
    store = RunStore()
    spec = TINY.replace(epochs=3, lr_schedule="cosine", label_smoothing=0.1,
                        early_stopping_patience=5)
    record = run_training(request(spec, augment=AugmentSpec(flip="horizontal", seed=3)), store)
    assert record.status == "finished", record.message
    rates = [r["learning_rate"] for r in store.epochs(record.id)]
    assert rates[0] > rates[1] > rates[2]          # the schedule's value is read each epoch
    assert store.dataset_info(record.id)["label_encoding"] == "onehot"   # smoothing needs one-hot


def test_impossible_spec_fails_naming_the_setting_without_training(workspace):
    store = RunStore()
    spec = TINY.replace(conv_blocks=8, pooling="max", padding="valid", kernel_size=5)
    record = run_training(request(spec), store)
    assert record.status == "failed"
    assert "conv_blocks" in record.shown_message or "pooling" in record.shown_message or "kernel" in record.shown_message
    assert store.epochs(record.id) == []
    run_dir = store.run_dir(record.id)
    assert not (run_dir / "checkpoint.keras").exists() and not (run_dir / "logs").exists()
    assert record.progress.get("user_error") is True


def test_nan_loss_ends_as_diverged(workspace):
    store = RunStore()
    # raw 0..255 pixels, two leaky-ReLU layers and SGD at learning rate 1: overflows at once
    spec = ModelSpec(conv_blocks=0, dense_layers=2, dense_units=64, activation="leaky_relu",
                     optimizer="sgd", learning_rate=1.0, momentum=0.9, batch_size=32, epochs=3,
                     seed=0)
    record = run_training(request(spec, preprocess=PreprocessSpec(scaling="none")), store)
    assert record.status == "diverged", (record.status, record.message)
    assert "learning rate" in record.shown_message and "10x lower" in record.shown_message
    assert record.epochs_done < 3
    assert not store.model_path(record.id).exists()


def test_unexpected_error_fails_with_log_and_worker_survives(workspace, monkeypatch):
    queue = get_job_queue()

    def broken_build(*args, **kwargs):
        raise RuntimeError("boom in build")

    monkeypatch.setattr(training.models_module, "build_model", broken_build)
    run_id = queue.submit(request())
    record = queue.wait(run_id, timeout=60)
    assert record.status == "failed" and "boom in build" in record.shown_message
    assert "boom in build" in (queue.store.run_dir(run_id) / "error.log").read_text()
    monkeypatch.undo()
    second = queue.submit(request(TINY.replace(epochs=1)))
    assert queue.wait(second, timeout=60).status == "finished"


def test_stop_ends_a_job_within_one_batch(workspace):
    queue = get_job_queue()
    run_id = queue.submit(request(SLOW))
    control = wait_for(lambda: queue.control(run_id))
    wait_for(lambda: control.batches_done >= 5)
    asked = time.monotonic()
    queue.stop(run_id)
    at_stop = control.batches_done
    record = queue.wait(run_id, timeout=60)
    assert record.status == "stopped", record.message
    assert control.batches_done - at_stop <= 1
    assert time.monotonic() - asked < 10
    assert record.epochs_done == 0 and queue.store.epochs(run_id) == []   # the cut epoch is not kept
    assert "resumed" in record.shown_message
    assert queue.store.model_path(run_id).exists() and queue.store.has_predictions(run_id)
    assert queue.position(run_id) == -1


def test_pause_then_resume_continues(workspace):
    queue = get_job_queue()
    submitted = time.monotonic()
    run_id = queue.submit(request(SLOW.replace(epochs=1)))
    control = wait_for(lambda: queue.control(run_id))
    wait_for(lambda: control.batches_done >= 3)
    queue.pause(run_id)
    assert queue.store.status(run_id) == "paused"
    time.sleep(0.3)
    held = control.batches_done
    time.sleep(0.8)
    assert control.batches_done == held                 # nothing trains while paused
    assert queue.store.get(run_id).progress["phase"] == "paused"
    queue.resume_paused(run_id)
    wait_for(lambda: control.batches_done > held)
    record = queue.wait(run_id, timeout=60)
    assert record.status == "finished", record.message
    assert record.epochs_done == 1
    assert record.train_seconds <= time.monotonic() - submitted - 1.0   # pauses are not training
    with pytest.raises(training.RunStateError):
        queue.pause(run_id)                               # finished runs cannot pause


def test_queue_is_fifo_with_positions_and_stop_of_waiting_runs(workspace):
    queue = get_job_queue()
    assert get_job_queue() is queue
    first = queue.submit(request(SLOW, name="first"))
    second = queue.submit(request(TINY.replace(epochs=1), name="second"))
    third = queue.submit(request(TINY.replace(epochs=1), name="third"))
    wait_for(lambda: queue.position(first) == 0)
    assert (queue.position(second), queue.position(third)) == (1, 2)
    assert queue.active_run_id() == first

    queue.stop(third)                                     # a waiting run just leaves the queue
    assert queue.position(third) == -1 and queue.position(second) == 1
    third_record = queue.store.get(third)
    assert third_record.status == "stopped" and third_record.started_at is None

    queue.stop(first)
    assert queue.wait(second, timeout=60).status == "finished"
    first_record, second_record = queue.store.get(first), queue.store.get(second)
    assert first_record.status == "stopped"
    assert second_record.started_at >= first_record.started_at
    assert queue.store.get(third).status == "stopped"
    with pytest.raises(training.RunStateError):
        queue.stop(second)                                # nothing to stop any more


def test_stopped_run_resumes_from_its_checkpoint_keeping_its_epochs(workspace, monkeypatch):
    import math

    # No checkpoint is written during these short epochs; the state after each epoch stays in
    # memory until training ends, when the last finished epoch (not the cut one) is written.
    monkeypatch.setattr(training, "CHECKPOINT_COST_FACTOR", 1e9)
    store = RunStore()
    control = JobControl()

    def stop_after_second(epoch, epochs, metrics):
        if epoch == 2:
            control.request_stop()

    record = run_training(request(TINY.replace(epochs=3)), store, control, on_epoch=stop_after_second)
    assert record.status == "stopped" and record.epochs_done == 2 and record.checkpoint_epoch == 2
    assert record.can_resume and "resumed" in record.shown_message
    steps = math.ceil(store.dataset_info(record.id)["n_train"] / TINY.batch_size)
    checkpoint = load_model(store.checkpoint_path(record.id))
    assert int(checkpoint.optimizer.iterations.numpy()) == 2 * steps      # exactly epoch 2's end
    final = load_model(store.model_path(record.id))
    assert int(final.optimizer.iterations.numpy()) > 2 * steps            # a bit into epoch 3
    kept = store.epochs(record.id)

    queue = get_job_queue()
    assert queue.resume_interrupted(record.id) == record.id
    done = queue.wait(record.id, timeout=60)
    assert done.status == "finished", done.message
    rows = store.epochs(record.id)
    assert [r["epoch"] for r in rows] == [1, 2, 3] and rows[:2] == kept
    assert int(load_model(store.model_path(record.id)).optimizer.iterations.numpy()) == 3 * steps
    with pytest.raises(training.RunStateError):
        queue.resume_interrupted(record.id)               # finished: nothing to resume


def test_killed_training_process_is_interrupted_and_resumable(workspace):
    """A CLI training killed with SIGKILL after its first epoch; this process resumes it."""
    cmd = [sys.executable, "-m", "cnn_core", "train", "--dataset", DATASET, "--preset", "fast",
           "--epochs", "3", "--workspace", str(workspace)]
    for key, value in TINY.replace(batch_size=32).to_dict().items():
        if key not in ("epochs",):
            cmd += ["--set", f"{key}={value}"]
    env = {**os.environ, "CNN_LAB_WORKSPACE": str(workspace),
           "CNN_LAB_CHECKPOINT_COST_FACTOR": "0"}         # a checkpoint after every epoch
    log = open(workspace.parent / "killed-train.log", "w")   # noqa: SIM115 - closed below
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        store = RunStore(workspace)
        run_id = wait_for(lambda: next((r.id for r in store.list_runs() if r.checkpoint_epoch >= 1),
                                       None), timeout=90, interval=0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    record = store.get(run_id)
    assert record.status == "running", "the training finished before it could be killed"
    kept = store.epochs(run_id)[: record.checkpoint_epoch]
    assert store.mark_interrupted() == [run_id]
    record = store.get(run_id)
    assert record.status == "interrupted" and "resumed" in record.shown_message and record.can_resume

    queue = get_job_queue(workspace)
    queue.resume_interrupted(run_id)
    done = queue.wait(run_id, timeout=90)
    assert done.status == "finished", done.message
    rows = store.epochs(run_id)
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert rows[: len(kept)] == kept                       # earlier epochs kept as recorded
    assert store.has_predictions(run_id) and store.model_path(run_id).exists()


def test_runs_trained_outside_the_queue_obey_pause_and_stop_through_the_store(workspace):
    """E.g. a command-line training while the app is open: requests travel through the store."""
    import threading

    store = RunStore()
    control = JobControl()
    result = {}
    run_request = request(SLOW.replace(epochs=1))
    thread = threading.Thread(target=lambda: result.update(record=run_training(
        run_request, store, control, progress_interval=0.1)))
    thread.start()
    try:
        run_id = wait_for(lambda: next((r.id for r in store.list_runs()
                                        if r.progress.get("batch", 0) >= 2), None))
        queue = get_job_queue()                # a queue that does not own the run
        queue.pause(run_id)
        wait_for(lambda: control.paused)
        time.sleep(0.3)
        held = control.batches_done
        time.sleep(0.5)
        assert control.batches_done == held
        queue.resume_paused(run_id)
        wait_for(lambda: control.batches_done > held)
        queue.stop(run_id)
        assert store.status(run_id) in ("stopping", "stopped")
    finally:
        thread.join(timeout=60)
    assert result["record"].status == "stopped"


def test_exploding_loss_ends_as_diverged_with_the_nan_advice(workspace):
    """Adam at learning rate 1: the loss climbs far above its start but stays finite."""
    from cnn_core.model import PRESETS

    store = RunStore()
    spec = PRESETS["lenet"].replace(optimizer="adam", learning_rate=1.0, epochs=3, batch_size=32)
    record = run_training(request(spec), store)
    assert record.status == "diverged", (record.status, record.message, store.epochs(record.id))
    assert "exploded" in record.shown_message
    assert "learning rate" in record.shown_message and "10x lower" in record.shown_message
    assert record.epochs_done < 3 and not store.model_path(record.id).exists()


def test_a_healthy_run_is_not_taken_for_an_explosion(workspace):
    record = run_training(request(TINY.replace(epochs=3)), RunStore())
    assert record.status == "finished", record.message


def test_first_finished_epoch_is_always_checkpointed(workspace, monkeypatch):
    """Even when the ~1% throttle would skip it, a run killed in epoch 2 keeps epoch 1."""
    monkeypatch.setattr(training, "CHECKPOINT_COST_FACTOR", 1e9)
    store = RunStore()
    seen = {}

    def look(epoch, epochs, metrics):
        if epoch == 2:   # epoch 2's row is written, its checkpoint not yet
            run_id = store.list_runs()[0].id
            seen["checkpoint_epoch"] = store.get(run_id).checkpoint_epoch
            seen["file"] = store.checkpoint_path(run_id).exists()

    record = run_training(request(TINY.replace(epochs=3)), store, on_epoch=look)
    assert record.status == "finished", record.message
    assert seen == {"checkpoint_epoch": 1, "file": True}


def test_resume_messages_say_which_epoch_training_continues_with(workspace):
    store = RunStore()
    control = JobControl()

    def stop_after_first(epoch, epochs, metrics):
        if epoch == 1:
            control.request_stop()

    record = run_training(request(TINY.replace(epochs=3)), store, control, on_epoch=stop_after_first)
    assert record.status == "stopped" and record.checkpoint_epoch == 1
    queued = training.prepare_resume(store, record.id)
    assert "continues with epoch 2 of 3" in queued.shown_message
    messages = []
    run_training(record.id, store, on_status=messages.append)
    assert any("continues with epoch 2 from the save after epoch 1" in line for line in messages), messages


def test_divergence_guard_needs_an_explosion_that_does_not_come_down():
    from types import SimpleNamespace

    from cnn_core.training_callbacks import DivergenceGuard, FitState

    def guard_after(epochs: list[tuple[float, float]]) -> FitState:
        state = FitState()
        guard = DivergenceGuard(state, n_classes=10)
        guard.set_model(SimpleNamespace(stop_training=False))
        guard.on_epoch_begin(0)
        guard.on_train_batch_end(0, {"loss": 2.3})              # the untrained model's loss
        for epoch, (loss, accuracy) in enumerate(epochs):
            guard.on_epoch_begin(epoch)
            guard.on_epoch_end(epoch, {"loss": loss, "accuracy": accuracy})
            if state.diverged:
                break
        return state

    assert guard_after([(2e4, 0.10)]).diverged_epoch == 1         # far above, at chance
    assert not guard_after([(2e4, 0.60)]).diverged                # far above but learning: wait
    assert guard_after([(2e4, 0.60), (3e4, 0.55)]).diverged_epoch == 2   # ... and not coming down
    assert not guard_after([(2e4, 0.60), (50.0, 0.70)]).diverged  # it came down
    assert not guard_after([(1.9, 0.30), (1.2, 0.55)]).diverged   # ordinary training
    assert guard_after([(float("nan"), 0.1)]).divergence == "nan"
