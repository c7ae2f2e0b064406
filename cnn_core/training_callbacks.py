"""Training callbacks, one job each, in the style of Keras' ``EarlyStopping``/``TerminateOnNaN``.

What :func:`cnn_core.training.run_training` hands to ``model.fit`` besides the data:

* :class:`JobControl`: thread-safe stop/pause flags shared by the job queue (or the command
  line) and :class:`StopAndPause`;
* :class:`StopAndPause`: a stop ends training after the current batch, a pause blocks before
  the next batch until resumed or stopped;
* :class:`DivergenceGuard`: stops a run whose loss became NaN/infinite or exploded;
* :class:`UserAwareEarlyStopping`: Keras' early stopping, ignoring an epoch cut short;
* :class:`EpochSummaryWriter`: TensorBoard scalars per epoch through ``tf.summary``;
* in :mod:`cnn_core.run_recording`: the progress points with the time-left estimate, one row
  per epoch, and checkpoints.

The callbacks of one fit share a :class:`FitState` (an epoch cut short, time spent paused, the
seconds each callback spent in its hooks for overhead accounting).

TensorFlow, Keras and NumPy are imported here at module level (see :mod:`cnn_core.job_queue`
for why no worker thread may be their first importer).

Example:
    >>> control = JobControl()
    >>> state = FitState()
    >>> callbacks = [StopAndPause(control, state), DivergenceGuard(state, n_classes=10)]
    >>> # model.fit(train_ds, epochs=3, callbacks=callbacks)
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import functools  # noqa: E402
import math  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable  # noqa: E402

import numpy as np  # noqa: E402,F401  (imported before any worker thread starts)
import tensorflow as tf  # noqa: E402

import keras  # noqa: E402

from cnn_core.run_status import RunStatus  # noqa: E402
from cnn_core.workspace import temporary_sibling  # noqa: E402
from cnn_core.stored_messages import Message, stored_message  # noqa: E402

EpochHook = Callable[[int, int, dict], None]   # (epoch 1-based, epochs planned, metrics)


# =========================================================================== shared state

class JobControl:
    """Thread-safe stop/pause flags shared by the queue (or CLI) and :class:`StopAndPause`."""

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

    def obey(self, status: RunStatus | str | None) -> None:
        """Follow a request another process wrote to the store (``stopping`` / ``paused``)."""
        if status == RunStatus.STOPPING and not self.stop_requested:
            self.request_stop()
        elif status == RunStatus.PAUSED and not self.paused:
            self.pause()


@dataclass
class FitState:
    """What the callbacks of one ``fit`` share."""

    cut_epoch: bool = False            # the current epoch was cut short (stop or divergence)
    paused_seconds: float = 0.0        # time spent paused in this fit
    epoch_paused_seconds: float = 0.0  # ... in the current epoch
    diverged_epoch: int | None = None  # 1-based epoch in which the loss diverged
    divergence: str = ""               # "nan" or "exploding"
    own_seconds: dict = field(default_factory=dict)   # callback class name -> seconds in hooks

    @property
    def diverged(self) -> bool:
        return self.diverged_epoch is not None

    @property
    def callback_seconds(self) -> float:
        return sum(self.own_seconds.values())


def timed(hook):
    """Add the time spent in a callback hook to its ``FitState.own_seconds`` entry."""
    @functools.wraps(hook)
    def timed_hook(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return hook(self, *args, **kwargs)
        finally:
            name = type(self).__name__
            self.state.own_seconds[name] = (self.state.own_seconds.get(name, 0.0)
                                            + time.perf_counter() - start)
    return timed_hook


def finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return True


def current_learning_rate(model: keras.Model) -> float | None:
    """The optimizer's learning rate now (schedules evaluated at the current step)."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    try:
        return float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    except Exception:  # noqa: BLE001 - display only
        return None


# =========================================================================== stop and pause

class StopAndPause(keras.callbacks.Callback):
    """Obeys a :class:`JobControl`: stop after the current batch, pause before the next one.

    A stop skips the rest of validation of the cut epoch (its metrics would be partial). While
    paused, ``poll_status`` (e.g. reading the run's status from the store) is asked every half
    second, so another process can resume or stop the run.

    Args:
        control: the job's flags. state: the fit's shared :class:`FitState`.
        poll_status: returns the run's stored status (None: only this process steers).
        on_pause: called with True when a pause starts and False when it ends.
    """

    def __init__(self, control: JobControl, state: FitState, *,
                 poll_status: Callable[[], Any] | None = None,
                 on_pause: Callable[[bool], None] | None = None):
        super().__init__()
        self.control = control
        self.state = state
        self.poll_status = poll_status
        self.on_pause = on_pause

    def _stop_now(self) -> None:
        self.state.cut_epoch = True
        self.model.stop_training = True

    def on_epoch_begin(self, epoch, logs=None):
        self.state.cut_epoch = False
        self.state.epoch_paused_seconds = 0.0

    @timed
    def on_train_batch_begin(self, batch, logs=None):
        if self.control.paused:
            self._wait_while_paused()
        if self.control.stop_requested:   # Keras checks stop_training after the batch
            self._stop_now()

    def _wait_while_paused(self) -> None:
        control = self.control
        started = time.monotonic()
        if self.on_pause:
            self.on_pause(True)
        while control.paused and not control.stop_requested:
            if control.wait_until_resumed(0.5):
                break
            status = self.poll_status() if self.poll_status else None
            if status == RunStatus.RUNNING:
                control.resume()
            elif status in (RunStatus.STOPPING, RunStatus.STOPPED):
                control.request_stop()
        waited = time.monotonic() - started
        self.state.own_seconds[type(self).__name__] = (   # waiting for "resume" is not overhead
            self.state.own_seconds.get(type(self).__name__, 0.0) - waited)
        self.state.paused_seconds += waited
        self.state.epoch_paused_seconds += waited
        if self.on_pause:
            self.on_pause(False)

    @timed
    def on_train_batch_end(self, batch, logs=None):
        self.control.batches_done += 1
        if self.control.stop_requested:
            self._stop_now()

    def on_test_batch_end(self, batch, logs=None):
        if self.control.stop_requested or self.state.diverged:
            self.state.cut_epoch = True
            self.model.stop_evaluating = True

    def on_epoch_end(self, epoch, logs=None):
        if self.control.stop_requested:
            self.state.cut_epoch = True


# =========================================================================== divergence

class DivergenceGuard(keras.callbacks.Callback):
    """Stops training when the loss is NaN or infinite, or when it explodes.

    Like ``keras.callbacks.TerminateOnNaN``, plus a check for an exploding loss: with a far too
    high learning rate (e.g. 1 with Adam) the loss can climb to 1e4..1e21 and stay finite while
    the model learns nothing. The loss of the run's first batches (at least chance level's
    cross-entropy, ln(number of classes)) is the yardstick (Keras reports a batch's loss from
    before its update, so the first batch's loss is the untrained model's):

    * during an epoch, a running loss ``batch_factor`` times the yardstick stops at once;
    * at an epoch's end, a loss ``epoch_factor`` times the yardstick stops when it is not coming
      down (no lower than the epoch before) or accuracy is near chance.

    Args:
        state: the fit's :class:`FitState` (``diverged_epoch`` and ``divergence`` are set there).
        n_classes: the number of classes (chance level and its cross-entropy).
        reference_batches: how many first batches make the yardstick.
        epoch_factor, batch_factor: how far above the yardstick counts as exploding.
    """

    def __init__(self, state: FitState, *, n_classes: int = 2, reference_batches: int = 1,
                 epoch_factor: float = 50.0, batch_factor: float = 1000.0):
        super().__init__()
        self.state = state
        self.n_classes = max(2, int(n_classes))
        self.reference_batches = int(reference_batches)
        self.epoch_factor = float(epoch_factor)
        self.batch_factor = float(batch_factor)
        self._first_losses: list[float] = []
        self._previous_epoch_loss: float | None = None
        self._epoch = 0

    @property
    def reference_loss(self) -> float:
        """The yardstick: the first batches' loss, at least chance level's cross-entropy."""
        first = min(self._first_losses) if self._first_losses else 0.0
        return max(first, math.log(self.n_classes))

    def _diverge(self, epoch: int, kind: str) -> None:
        self.state.diverged_epoch = epoch
        self.state.divergence = kind
        self.state.cut_epoch = True
        self.model.stop_training = True

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = int(epoch)

    @timed
    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        if not finite(loss):
            self._diverge(self._epoch + 1, "nan")
            return
        loss = float(loss)
        if len(self._first_losses) < self.reference_batches:
            self._first_losses.append(loss)
        elif loss > self.batch_factor * self.reference_loss:
            self._diverge(self._epoch + 1, "exploding")

    @timed
    def on_epoch_end(self, epoch, logs=None):
        if self.state.diverged:
            return
        logs = logs or {}
        loss = logs.get("loss")
        if loss is None:
            return
        if not finite(loss):
            self._diverge(int(epoch) + 1, "nan")
            return
        loss = float(loss)
        if self.state.cut_epoch:   # a stopped epoch's loss is partial
            return
        previous, self._previous_epoch_loss = self._previous_epoch_loss, loss
        if loss > self.epoch_factor * self.reference_loss:
            accuracy = logs.get("accuracy")
            near_chance = accuracy is not None and float(accuracy) < 1.5 / self.n_classes
            not_falling = previous is not None and loss >= previous
            if near_chance or not_falling:
                self._diverge(int(epoch) + 1, "exploding")


def divergence_message(kind: str, epoch: int | None, learning_rate: float) -> Message:
    """The advice given when a run diverged (NaN or exploding loss): what happened, what to try
    (stored with the run, shown in the reader's language)."""
    if kind == "nan":
        what = stored_message("The loss became NaN or infinite in epoch {epoch}, so training stopped.", epoch=epoch)
    else:
        what = stored_message("The loss exploded in epoch {epoch} (it grew far above where it started and did not "
                              "come down), so training stopped.", epoch=epoch)
    return what + stored_message(
        "This usually means the learning rate ({rate}) is too high: try 10x lower ({lower}). If that does not help, "
        "turn off batch normalization or check the data and its scaling.",
        rate=format(learning_rate, "g"), lower=format(learning_rate / 10, "g"))


# =========================================================================== time limit

class LastEpochCut(keras.callbacks.Callback):
    """Ends the fit after ``batches`` batches of epoch ``epoch`` (0-based, the last): the run's
    time limit left room for only that part of it (:func:`cnn_core.time_limit.last_epoch_steps`).

    Unlike a stop by the user, the cut epoch is validated and recorded like the others: it is
    planned, and the learning-rate schedule ends with its last batch.
    """

    def __init__(self, epoch: int, batches: int):
        super().__init__()
        self.epoch, self.batches = int(epoch), int(batches)
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = int(epoch)

    def on_train_batch_end(self, batch, logs=None):
        if self._epoch == self.epoch and int(batch) + 1 >= self.batches:
            self.model.stop_training = True   # Keras checks it after each batch


# =========================================================================== early stopping

class UserAwareEarlyStopping(keras.callbacks.EarlyStopping):
    """``keras.callbacks.EarlyStopping`` that ignores an epoch cut short by the user."""

    def __init__(self, state: FitState, **kwargs):
        super().__init__(**kwargs)
        self.state = state

    def on_epoch_end(self, epoch, logs=None):
        if self.state.cut_epoch:
            return
        super().on_epoch_end(epoch, logs)


# =========================================================================== TensorBoard

class EpochSummaryWriter(keras.callbacks.Callback):
    """TensorBoard logs with one point per epoch: ``tensorboard --logdir <workspace>``.

    The layout and tags of ``keras.callbacks.TensorBoard(update_freq="epoch")``:
    ``<log_dir>/train`` gets ``epoch_loss``, ``epoch_accuracy``, ``epoch_learning_rate``...,
    ``<log_dir>/validation`` gets the ``val_`` metrics without the prefix, written with
    ``tf.summary.scalar`` and the epoch as step. An epoch cut short (its metrics are partial) is
    not written.
    """

    def __init__(self, log_dir: str | Path, state: FitState):
        super().__init__()
        self.log_dir = Path(log_dir)
        self.state = state
        self._writers: dict[str, Any] = {}

    def _writer(self, name: str):
        writer = self._writers.get(name)
        if writer is None:
            writer = self._writers[name] = tf.summary.create_file_writer(str(self.log_dir / name))
        return writer

    def write_scalars(self, name: str, step: int, values: dict[str, float]) -> None:
        """Write ``epoch_<key>`` scalars at ``step`` to the ``name`` folder (train/validation)."""
        writer = self._writer(name)
        with writer.as_default():
            for key, value in values.items():
                tf.summary.scalar(f"epoch_{key}", float(value), step=int(step))
        writer.flush()

    @timed
    def on_epoch_end(self, epoch, logs=None):
        if self.state.cut_epoch:
            return
        logs = dict(logs or {})
        lr = current_learning_rate(self.model)
        if lr is not None:
            logs.setdefault("learning_rate", lr)
        groups: dict[str, dict[str, float]] = {"train": {}, "validation": {}}
        for key, value in logs.items():
            if not isinstance(value, (int, float, np.floating)) or not finite(value):
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
        """Close the event files (safe to call more than once; never raises)."""
        for writer in self._writers.values():
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - closing logs must not hide the real outcome
                pass
        self._writers = {}


# =========================================================================== saving

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
    "DivergenceGuard", "EpochHook", "EpochSummaryWriter", "FitState", "JobControl",
    "LastEpochCut", "StopAndPause", "UserAwareEarlyStopping", "current_learning_rate", "divergence_message",
    "save_model_atomic",
]
