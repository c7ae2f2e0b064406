"""Training callbacks: live metrics, checkpoints, TensorBoard logs, stop/pause flags.

What :func:`cnn_core.training.run_training` hands to ``model.fit`` besides the data:

* :class:`JobControl`: thread-safe stop/pause flags shared by the job queue (or the command
  line) and the callback;
* :class:`LiveMetricsCallback`: streams progress points and one row per epoch to the
  :class:`~cnn_core.runs.RunStore`, writes checkpoints (:func:`save_model_atomic`), obeys stop and
  pause requests (from this process or, through the store, another one) and notices divergence;
* :class:`EpochSummaryWriter` (:func:`tensorboard_callback`): TensorBoard scalars per epoch;
* ``_UserAwareEarlyStopping``: early stopping that ignores an epoch cut short by the user.

TensorFlow, Keras and NumPy are imported here at module level (see :mod:`cnn_core.job_queue`
for why no worker thread may be their first importer).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import functools  # noqa: E402
import math  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.core.framework import summary_pb2, types_pb2  # noqa: E402
from tensorflow.core.util import event_pb2  # noqa: E402

import keras  # noqa: E402

from cnn_core.runs import RunStore, temporary_sibling  # noqa: E402

EpochHook = Callable[[int, int, dict], None]   # (epoch 1-based, epochs planned, metrics)

#: Write time assumed before the first checkpoint of a session is measured (seconds).
CHECKPOINT_SECONDS_GUESS = 0.1


# =========================================================================== control

class JobControl:
    """Thread-safe stop/pause flags shared by the queue (or CLI) and the training callback."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self.batches_done = 0     # training batches finished in this process (for tests/benchmarks)

    def request_stop(self) -> None:
        self._stop.set()
        self._running.set()       # a paused job wakes up to stop

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def pause(self) -> None:
        if not self._stop.is_set():
            self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_until_resumed(self, timeout: float | None = None) -> bool:
        return self._running.wait(timeout)


# =========================================================================== callback

def current_learning_rate(model: keras.Model) -> float | None:
    """The optimizer's learning rate now (schedules evaluated at the current step)."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    try:
        value = optimizer.learning_rate
        return float(keras.ops.convert_to_numpy(value))
    except Exception:  # noqa: BLE001 - display only
        return None


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return True


def _timed(hook):
    """Add the time spent in a callback hook to ``self.own_seconds`` (overhead accounting)."""
    @functools.wraps(hook)
    def timed_hook(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return hook(self, *args, **kwargs)
        finally:
            self.own_seconds += time.perf_counter() - start
    return timed_hook


class LiveMetricsCallback(keras.callbacks.Callback):
    """Streams training to the run store and obeys stop/pause requests.

    * one row per finished epoch: loss, accuracy, val_loss, val_accuracy, learning_rate, seconds;
    * a checkpoint (``checkpoint.keras``: model + optimizer state) at the end of each epoch,
      written atomically after the epoch row. Writing one takes ~0.1 s whatever the epoch
      length, so when epochs are short the write waits until the last one (or the start of
      training) is ``checkpoint_cost_factor`` times a write's duration old (at most ~1% of
      training goes to checkpoints; with epochs of ~10 s or more every epoch is written). A
      skipped epoch's state (weights and optimizer) is kept in memory instead and
      :meth:`flush_checkpoint` writes it when training ends (finish, stop, error), so a stopped
      run resumes exactly after its last full epoch; a process killed outright loses at most
      the epochs since the last write. ``RunRecord.checkpoint_epoch`` tells which epoch the
      file holds;
    * a progress point at most every ``progress_interval`` seconds (time-throttled, so the cost
      per batch is a few attribute reads);
    * a stop request ends training after the current batch (and skips validation of the cut
      epoch); a pause blocks before the next batch until resumed or stopped;
    * a NaN or infinite loss stops training and marks the run as diverged.

    Stop and pause can also come from another process through the store: the status is read
    back with every progress point (``"stopping"`` stops, ``"paused"`` pauses, ``"running"``
    resumes).

    Args:
        store: the run store. run_id: the run.
        control: the :class:`JobControl` of the job.
        epochs: epochs planned in total. batches: training batches per epoch.
        checkpoint_path: where to save the checkpoint (None: no checkpoint).
        on_epoch: called as ``on_epoch(epoch, epochs, metrics)`` after each recorded epoch.
        progress_interval: minimum seconds between two progress points.
        checkpoint_cost_factor: a checkpoint is written when the last one is at least this many
            times its write time old (0: after every epoch).
    """

    def __init__(self, store: RunStore, run_id: str, control: JobControl, *, epochs: int,
                 batches: int, checkpoint_path: Path | None = None,
                 on_epoch: EpochHook | None = None, progress_interval: float = 0.5,
                 checkpoint_cost_factor: float = 100.0):
        super().__init__()
        self.store = store
        self.run_id = run_id
        self.control = control
        self.epochs = int(epochs)
        self.batches = int(batches)
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path else None
        self.on_epoch = on_epoch
        self.progress_interval = float(progress_interval)
        self.diverged_epoch: int | None = None
        self.own_seconds = 0.0          # time spent in this callback's hooks (not pauses)
        self.paused_seconds = 0.0
        self.epoch_seconds: list[float] = []
        self.cut_epoch = False          # the current epoch was cut short by a stop or divergence
        self._epoch = 0
        self._batch = 0
        self._epoch_start = 0.0
        self._epoch_paused = 0.0
        self._train_start = 0.0
        self._last_progress = 0.0
        self._last_logs: dict = {}
        self.checkpoint_cost_factor = float(checkpoint_cost_factor)
        self.checkpointed_epoch = 0               # epoch held by checkpoint.keras (this session)
        self.checkpoint_writes = 0
        self._last_checkpoint_at = time.monotonic()
        self._last_checkpoint_seconds = CHECKPOINT_SECONDS_GUESS
        self._snapshot: tuple[int, list] | None = None   # (epoch, variable values) not yet written

    # ---------------------------------------------------------------- checkpoints
    def _state_variables(self) -> list:
        optimizer = getattr(self.model, "optimizer", None)
        return list(self.model.weights) + (list(optimizer.variables) if optimizer is not None else [])

    def _checkpoint_due(self) -> bool:
        age = time.monotonic() - self._last_checkpoint_at
        return age >= self.checkpoint_cost_factor * self._last_checkpoint_seconds

    def _write_checkpoint(self, epoch: int) -> None:
        started = time.monotonic()
        save_model_atomic(self.model, self.checkpoint_path)
        self._last_checkpoint_at = time.monotonic()
        self._last_checkpoint_seconds = self._last_checkpoint_at - started
        self.checkpointed_epoch = epoch
        self.checkpoint_writes += 1
        self._snapshot = None
        self.store.set_checkpoint_epoch(self.run_id, epoch)

    def _checkpoint_epoch_end(self, epoch: int) -> None:
        if self.checkpoint_path is None:
            return
        if self._checkpoint_due():
            self._write_checkpoint(epoch)
        else:   # cheap: a copy of the values; written later by flush_checkpoint
            self._snapshot = (epoch, [np.array(v.numpy()) for v in self._state_variables()])

    def flush_checkpoint(self) -> None:
        """Write the last finished epoch's state if it was kept in memory only.

        The model's current weights (mid-epoch after a stop, or restored best weights after
        early stopping) are put back afterwards.
        """
        if self._snapshot is None or self.checkpoint_path is None:
            return
        epoch, values = self._snapshot
        variables = self._state_variables()
        if len(variables) != len(values):   # pragma: no cover - optimizer built differently
            self._snapshot = None
            return
        current = [np.array(v.numpy()) for v in variables]
        try:
            for variable, value in zip(variables, values):
                variable.assign(value)
            self._write_checkpoint(epoch)
        finally:
            for variable, value in zip(variables, current):
                variable.assign(value)

    # ---------------------------------------------------------------- helpers
    @property
    def diverged(self) -> bool:
        return self.diverged_epoch is not None

    def _now_seconds(self) -> float:
        return time.monotonic() - self._train_start - self.paused_seconds

    def _seconds_left(self) -> float | None:
        done_in_epoch = self._batch / max(self.batches, 1)
        if self.epoch_seconds:
            per_epoch = sum(self.epoch_seconds[-3:]) / len(self.epoch_seconds[-3:])
        elif self._batch:
            elapsed = time.monotonic() - self._epoch_start - self._epoch_paused
            per_epoch = elapsed / done_in_epoch
        else:
            return None
        remaining_epochs = self.epochs - self._epoch - 1
        return max(0.0, (1.0 - done_in_epoch) * per_epoch + remaining_epochs * per_epoch)

    def _write_progress(self, phase: str = "training", **extra: Any) -> None:
        self._last_progress = time.monotonic()
        logs = self._last_logs
        status = self.store.set_progress(
            self.run_id, phase=phase, epoch=self._epoch + 1, epochs=self.epochs,
            batch=self._batch, batches=self.batches, loss=logs.get("loss"),
            accuracy=logs.get("accuracy"), seconds=self._now_seconds(),
            seconds_left=self._seconds_left(), **extra,
        )
        self._obey_store(status)

    def _obey_store(self, status: str | None) -> None:
        """Stop/pause requests made by another process arrive as a status in the store."""
        if status == "stopping" and not self.control.stop_requested:
            self.control.request_stop()
        elif status == "paused" and not self.control.paused:
            self.control.pause()

    def _stop_now(self) -> None:
        self.cut_epoch = True
        self.model.stop_training = True

    # ---------------------------------------------------------------- keras hooks
    def on_train_begin(self, logs=None):
        self._train_start = time.monotonic()
        self._last_progress = 0.0
        self._last_checkpoint_at = self._train_start

    @_timed
    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = int(epoch)
        self._batch = 0
        self._epoch_start = time.monotonic()
        self._epoch_paused = 0.0
        self.cut_epoch = False

    @_timed
    def on_train_batch_begin(self, batch, logs=None):
        control = self.control
        if control.paused:
            self._wait_while_paused()
        if control.stop_requested:
            # Keras checks stop_training after the batch: this batch is the last one.
            self._stop_now()

    def _wait_while_paused(self) -> None:
        control = self.control
        started = time.monotonic()
        self._write_progress(phase="paused")
        while control.paused and not control.stop_requested:
            if control.wait_until_resumed(0.5):
                break
            status = self.store.status(self.run_id)
            if status in ("running",):
                control.resume()
            elif status in ("stopping", "stopped"):
                control.request_stop()
        waited = time.monotonic() - started
        self.own_seconds -= waited      # waiting for "resume" is not overhead
        self.paused_seconds += waited
        self._epoch_paused += waited
        self._write_progress()

    @_timed
    def on_train_batch_end(self, batch, logs=None):
        self._batch = int(batch) + 1
        self.control.batches_done += 1
        if self.control.stop_requested:
            self._stop_now()
        if logs:
            self._last_logs = logs
            loss = logs.get("loss")
            if loss is not None and not _finite(loss):
                self.diverged_epoch = self._epoch + 1
                self._stop_now()
                return
        if time.monotonic() - self._last_progress >= self.progress_interval:
            self._write_progress()

    @_timed
    def on_test_batch_end(self, batch, logs=None):
        # A stop during validation: skip the rest of it; this epoch is not recorded.
        if self.control.stop_requested or self.diverged:
            self.cut_epoch = True
            self.model.stop_evaluating = True

    @_timed
    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        if self.cut_epoch or self.control.stop_requested or self.diverged:
            self.cut_epoch = True
            return
        if not _finite(logs.get("loss", 0.0)):
            self.diverged_epoch = int(epoch) + 1
            self._stop_now()
            return
        seconds = time.monotonic() - self._epoch_start - self._epoch_paused
        self.epoch_seconds.append(seconds)
        metrics = {
            "loss": logs.get("loss"),
            "accuracy": logs.get("accuracy", logs.get("compile_metrics")),
            "val_loss": logs.get("val_loss"),
            "val_accuracy": logs.get("val_accuracy"),
            "learning_rate": current_learning_rate(self.model),
            "seconds": seconds,
        }
        for key, value in logs.items():
            if key not in metrics and isinstance(value, (int, float)):
                metrics[key] = value
        # The row first, then the checkpoint: a checkpoint of epoch N always has rows 1..N (a run
        # killed in between has one row more than its checkpoint; resuming trains it again).
        self.store.add_epoch(self.run_id, int(epoch) + 1, metrics)
        self._checkpoint_epoch_end(int(epoch) + 1)
        self._batch = self.batches
        self._last_logs = logs
        self._write_progress()
        if self.on_epoch is not None:
            self.on_epoch(int(epoch) + 1, self.epochs, metrics)


class EpochSummaryWriter(keras.callbacks.Callback):
    """TensorBoard event files with one point per epoch: ``tensorboard --logdir <workspace>``.

    The layout and tags of ``keras.callbacks.TensorBoard(update_freq="epoch")``:
    ``<log_dir>/train`` gets ``epoch_loss``, ``epoch_accuracy``, ``epoch_learning_rate``...,
    ``<log_dir>/validation`` gets the ``val_`` metrics without the prefix, as scalars-plugin
    summaries with the epoch as step. Written as protocol buffers through ``tf.io.TFRecordWriter``
    (about 0.1 ms an epoch): Keras' callback needs the ``tensorboard`` package (not a dependency
    of CNN Lab) and spends ~40 ms an epoch in eager summary ops, a few percent of a short epoch.
    """

    def __init__(self, log_dir: str | Path, skip_epoch: Callable[[], bool] | None = None):
        super().__init__()
        self.log_dir = Path(log_dir)
        self.skip_epoch = skip_epoch   # e.g. an epoch cut short by a stop: its metrics are partial
        self.own_seconds = 0.0
        self._writers: dict[str, Any] = {}
        self._metadata = summary_pb2.SummaryMetadata()
        self._metadata.plugin_data.plugin_name = "scalars"

    def _writer(self, name: str):
        writer = self._writers.get(name)
        if writer is None:
            folder = self.log_dir / name
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / (f"events.out.tfevents.{time.time():.6f}.{socket.gethostname()}."
                             f"{os.getpid()}.{threading.get_ident()}.v2")
            writer = self._writers[name] = tf.io.TFRecordWriter(str(path))
            writer.write(event_pb2.Event(wall_time=time.time(),
                                         file_version="brain.Event:2").SerializeToString())
        return writer

    def write_scalars(self, name: str, step: int, values: dict[str, float]) -> None:
        """Write ``epoch_<key>`` scalars at ``step`` to the ``name`` folder (train/validation)."""
        summary = summary_pb2.Summary()
        for key, value in values.items():
            entry = summary.value.add(tag=f"epoch_{key}", metadata=self._metadata)
            entry.tensor.dtype = types_pb2.DT_FLOAT
            entry.tensor.float_val.append(float(value))
        writer = self._writer(name)
        writer.write(event_pb2.Event(wall_time=time.time(), step=int(step),
                                     summary=summary).SerializeToString())
        writer.flush()

    @_timed
    def on_epoch_end(self, epoch, logs=None):
        if self.skip_epoch is not None and self.skip_epoch():
            return
        logs = dict(logs or {})
        lr = current_learning_rate(self.model)
        if lr is not None:
            logs.setdefault("learning_rate", lr)
        groups: dict[str, dict[str, float]] = {"train": {}, "validation": {}}
        for key, value in logs.items():
            if not isinstance(value, (int, float)) or not _finite(value):
                continue
            if key.startswith("val_"):
                groups["validation"][key[4:]] = float(value)
            else:
                groups["train"][key] = float(value)
        for name, values in groups.items():
            if values:
                self.write_scalars(name, int(epoch), values)

    def on_train_end(self, logs=None):
        self.close()

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


def tensorboard_callback(log_dir: str | Path,
                         skip_epoch: Callable[[], bool] | None = None) -> keras.callbacks.Callback:
    """The callback writing a run's TensorBoard logs (:class:`EpochSummaryWriter`)."""
    return EpochSummaryWriter(log_dir, skip_epoch)


def _close_tensorboard(callback: keras.callbacks.Callback) -> None:
    try:
        callback.close()
    except Exception:  # noqa: BLE001 - closing logs must not hide the real outcome
        pass


class _UserAwareEarlyStopping(keras.callbacks.EarlyStopping):
    """EarlyStopping that ignores an epoch cut short by the user (its metrics are partial)."""

    def __init__(self, live: LiveMetricsCallback, **kwargs):
        super().__init__(**kwargs)
        self._live = live

    def on_epoch_end(self, epoch, logs=None):
        if self._live.cut_epoch:
            return
        super().on_epoch_end(epoch, logs)


def save_model_atomic(model: keras.Model, path: Path) -> None:
    """``model.save`` to a temporary ``.keras`` name next to ``path``, then ``os.replace``."""
    path = Path(path)
    tmp = temporary_sibling(path)
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


__all__ = [
    "CHECKPOINT_SECONDS_GUESS", "EpochHook", "EpochSummaryWriter", "JobControl",
    "LiveMetricsCallback", "current_learning_rate", "save_model_atomic", "tensorboard_callback",
]
