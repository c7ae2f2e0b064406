"""Callbacks that write a training run to the run store, one job each.

* :class:`ProgressReporter`: a progress point (:class:`~cnn_core.run_status.RunProgress`) at
  most every ``progress_interval`` seconds, with the engine's time-left estimate
  (:class:`~cnn_core.time_left.TimeLeftEstimator`); it reads the run's status back with every
  point, so stop/pause requests made by another process reach the :class:`JobControl`;
* :class:`EpochRecorder`: one row per finished epoch (loss, accuracy, validation, learning rate,
  seconds without pauses);
* :class:`CheckpointSaver`: ``checkpoint.keras`` (model + optimizer state) after an epoch, at
  most ~1% of training time, and always after the first epoch that ends.

An epoch cut short (a stop, or divergence; see :class:`~cnn_core.training_callbacks.FitState`)
is neither recorded nor checkpointed. Place them after ``StopAndPause`` and ``DivergenceGuard``
and in this order: the row first, then the checkpoint, then the progress point.

Example:
    >>> state = FitState()
    >>> callbacks = [EpochRecorder(store, run_id, state, epochs=3),
    ...              CheckpointSaver(store, run_id, state, store.checkpoint_path(run_id)),
    ...              ProgressReporter(store, run_id, control, state, epochs=3, batches=20)]
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

import keras

from cnn_core.run_status import Phase
from cnn_core.runs import RunStore
from cnn_core.time_left import TimeLeftEstimator
from cnn_core.training_callbacks import (
    EpochHook,
    FitState,
    JobControl,
    current_learning_rate,
    save_model_atomic,
    timed,
)

#: Write time assumed before the first checkpoint of a session is measured (seconds).
CHECKPOINT_SECONDS_GUESS = 0.1


class ProgressReporter(keras.callbacks.Callback):
    """Progress points with the time left, throttled to one per ``progress_interval`` seconds.

    Args:
        store, run_id: where to write. control: flags told about requests made in the store.
        state: the fit's :class:`FitState`. epochs, batches: planned epochs, batches per epoch.
        progress_interval: minimum seconds between two points.
        estimator: the time-left estimate (default: a new :class:`TimeLeftEstimator`); the
            batches of each epoch are its (a last epoch cut short by a time limit has fewer).
    """

    def __init__(self, store: RunStore, run_id: str, control: JobControl, state: FitState, *,
                 epochs: int, batches: int, progress_interval: float = 0.5,
                 estimator: TimeLeftEstimator | None = None):
        super().__init__()
        self.store, self.run_id, self.control, self.state = store, run_id, control, state
        self.epochs = int(epochs)
        self.progress_interval = float(progress_interval)
        self.estimator = estimator or TimeLeftEstimator(self.epochs, int(batches))
        self.first_batch_at: float | None = None   # monotonic time the fit's first batch ended
        self._epoch = 0
        self._batch = 0
        self._logs: dict = {}
        self._train_start = 0.0
        self._last_write = 0.0
        self._pause_started: float | None = None

    def write(self, phase: Phase = Phase.TRAINING) -> None:
        """Write a progress point now and obey the status read back."""
        self._last_write = time.monotonic()
        left = self.estimator.seconds_left(self._last_write)
        status = self.store.set_progress(
            self.run_id, phase=phase, epoch=self._epoch + 1, epochs=self.epochs,
            batch=self._batch, batches=self.batches, loss=self._logs.get("loss"),
            accuracy=self._logs.get("accuracy"),
            seconds=self._last_write - self._train_start - self.state.paused_seconds,
            seconds_left=left, seconds_per_batch=self.estimator.seconds_per_batch,
            epoch_overhead=self.estimator.epoch_overhead)
        self.control.obey(status)

    @property
    def batches(self) -> int:
        """Training batches of the epoch under way."""
        return self.estimator.batches_in(self._epoch)

    def paused(self, starting: bool) -> None:
        """``StopAndPause.on_pause``: a point saying paused, then training again."""
        if starting:
            self._pause_started = time.monotonic()
            self.write(Phase.PAUSED)
        else:
            if self._pause_started is not None:
                self.estimator.paused(time.monotonic() - self._pause_started)
            self._pause_started = None
            self.write()

    def on_train_begin(self, logs=None):
        self._train_start = time.monotonic()
        self._last_write = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._batch = int(epoch), 0

    @timed
    def on_train_batch_end(self, batch, logs=None):
        now = time.monotonic()
        self._batch = int(batch) + 1
        self.estimator.batch_done(self._epoch, int(batch), now)
        if self.first_batch_at is None:
            self.first_batch_at = now
        if logs:
            self._logs = logs
        if now - self._last_write >= self.progress_interval:
            self.write()

    def on_test_batch_end(self, batch, logs=None):
        self.estimator.test_batch_done(int(batch))

    @timed
    def on_epoch_end(self, epoch, logs=None):
        self.estimator.epoch_done(int(epoch))
        if self.state.cut_epoch:
            return
        self._batch = self.batches
        self._logs = dict(logs or {})
        self.write()


class EpochRecorder(keras.callbacks.Callback):
    """One row per finished epoch in the store; then ``on_epoch(epoch, epochs, metrics)``.

    Args:
        store, run_id: where to write. state: the fit's :class:`FitState`.
        epochs: epochs planned. on_epoch: called after each recorded epoch (CLI printing).
    """

    def __init__(self, store: RunStore, run_id: str, state: FitState, *, epochs: int,
                 on_epoch: EpochHook | None = None):
        super().__init__()
        self.store, self.run_id, self.state = store, run_id, state
        self.epochs = int(epochs)
        self.on_epoch = on_epoch
        self.epoch_seconds: list[float] = []
        self._epoch_start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.monotonic()

    @timed
    def on_epoch_end(self, epoch, logs=None):
        if self.state.cut_epoch or self.state.diverged:
            return
        logs = dict(logs or {})
        seconds = time.monotonic() - self._epoch_start - self.state.epoch_paused_seconds
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
        self.store.add_epoch(self.run_id, int(epoch) + 1, metrics)
        if self.on_epoch is not None:
            self.on_epoch(int(epoch) + 1, self.epochs, metrics)


class CheckpointSaver(keras.callbacks.Callback):
    """``checkpoint.keras`` after finished epochs, at most ~1% of training time.

    Writing one takes ~0.1 s whatever the epoch length. The first epoch that ends in a fit is
    always written (a run killed early loses at most the epoch it was in); after that a write
    waits until the last one is ``cost_factor`` times a write's duration old (with epochs of
    ~10 s or more every epoch is written). A skipped epoch's state (weights and optimizer) is
    kept in memory and :meth:`flush` writes it when training ends (finish, stop, error), so a
    stopped run resumes exactly after its last full epoch. ``RunRecord.checkpoint_epoch`` tells
    which epoch the file holds.

    Args:
        store, run_id: where to record the checkpoint's epoch. state: the fit's :class:`FitState`.
        path: the checkpoint file. cost_factor: see above (0: write after every epoch).
    """

    def __init__(self, store: RunStore, run_id: str, state: FitState, path: Path, *,
                 cost_factor: float = 100.0):
        super().__init__()
        self.store, self.run_id, self.state = store, run_id, state
        self.path = Path(path)
        self.cost_factor = float(cost_factor)
        self.checkpointed_epoch = 0   # the epoch the file holds (this fit)
        self.writes = 0
        self._last_at = time.monotonic()
        self._last_seconds = CHECKPOINT_SECONDS_GUESS
        self._snapshot: tuple[int, list[Any]] | None = None

    def _variables(self) -> list:
        optimizer = getattr(self.model, "optimizer", None)
        return list(self.model.weights) + (list(optimizer.variables) if optimizer is not None else [])

    def _due(self) -> bool:
        if self.writes == 0:
            return True
        return time.monotonic() - self._last_at >= self.cost_factor * self._last_seconds

    def _write(self, epoch: int) -> None:
        started = time.monotonic()
        save_model_atomic(self.model, self.path)
        self._last_at = time.monotonic()
        self._last_seconds = self._last_at - started
        self.checkpointed_epoch = epoch
        self.writes += 1
        self._snapshot = None
        self.store.set_checkpoint_epoch(self.run_id, epoch)

    def on_train_begin(self, logs=None):
        self._last_at = time.monotonic()

    @timed
    def on_epoch_end(self, epoch, logs=None):
        if self.state.cut_epoch or self.state.diverged:
            return
        if self._due():
            self._write(int(epoch) + 1)
        else:   # cheap: a copy of the values; written later by flush()
            self._snapshot = (int(epoch) + 1, [np.array(v.numpy()) for v in self._variables()])

    def flush(self) -> None:
        """Write the last finished epoch's state if it was kept in memory only.

        The model's current weights (mid-epoch after a stop, or restored best weights after
        early stopping) are put back afterwards.
        """
        if self._snapshot is None:
            return
        epoch, values = self._snapshot
        variables = self._variables()
        if len(variables) != len(values):   # pragma: no cover - optimizer built differently
            self._snapshot = None
            return
        current = [np.array(v.numpy()) for v in variables]
        try:
            for variable, value in zip(variables, values):
                variable.assign(value)
            self._write(epoch)
        finally:
            for variable, value in zip(variables, current):
                variable.assign(value)


__all__ = ["CHECKPOINT_SECONDS_GUESS", "CheckpointSaver", "EpochRecorder", "ProgressReporter"]
