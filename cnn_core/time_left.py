"""The engine's one time-left estimate for a training run (the pages only show it).

Measured, never guessed from the first batch: TensorFlow traces and prepares the model during
the first batches of a fit (and of its first validation), which take many times longer than the
rest. So the first ``warmup_batches`` of a fit are left out; the time per batch is measured on
the batches after them. The time an epoch spends outside its training batches (validation,
epoch-end writes) is measured at the end of every epoch but the fit's first (whose validation
includes its own warm-up); until then it is the validation batches times their measured time
(or, before any was measured, a third of a training batch's) plus the first epoch's writes
after its validation (epoch row, checkpoint, progress). Until enough training batches
are measured the estimate is None ("estimating…").

:func:`estimate_run_seconds` gives the whole duration of a run not started yet (a queued run,
the rest of a sweep) from the same measurements plus the per-run start-up (loading data and
building the model until the first batch ends).

Before a run starts (the model builder, the sweep form), :func:`time_range_before_start` gives a
range: the pure cost estimate (:func:`cnn_core.model.estimate_epoch_seconds`, which leaves out
start-up, validation and TensorFlow's overheads and is often several times too low) calibrated
by runs that finished on this machine (:func:`calibrate_speed`), or, with none measured yet, a
wide range that covers those overheads. :func:`range_text` says it: "about 20–40 s".

Example:
    >>> clock = TimeLeftEstimator(epochs=2, batches=10, warmup_batches=1, min_batches=2)
    >>> for i in range(4):
    ...     clock.batch_done(epoch=0, batch=i, now=float(i))
    >>> clock.seconds_left(now=3.0)   # 6 batches of epoch 1 and 10 of epoch 2, 1 s each
    16.0
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class _Measure:
    seconds: float = 0.0
    count: int = 0

    def add(self, seconds: float) -> None:
        self.seconds += max(0.0, seconds)
        self.count += 1

    @property
    def mean(self) -> float | None:
        return self.seconds / self.count if self.count else None


class TimeLeftEstimator:
    """Seconds left in a fit, from measured batches after warm-up.

    Call :meth:`batch_done` after every training batch, :meth:`epoch_done` after every epoch
    (after validation), :meth:`paused` with the seconds a pause took.

    Args:
        epochs: the epoch the fit ends after (1-based count, as ``fit(epochs=...)``).
        batches: training batches per epoch.
        validation_batches: validation batches per epoch (for the guess before an epoch ended).
        warmup_batches: first batches of the fit left out of the measurement.
        min_batches: measured batches needed before there is an estimate.
        epoch_costs: each epoch's batch cost relative to the others, when they differ (a run
            learning from the hardest pictures: :func:`cnn_core.hard_examples.epoch_costs`);
            batches are measured in, and projected from, the cost of a 1.0 epoch's batch.
        last_batches: training batches of the last epoch, when a time limit cut it short.
    """

    #: Before a validation batch was measured, it is guessed at this share of a training one.
    VALIDATION_SHARE = 0.35

    def __init__(self, epochs: int, batches: int, *, validation_batches: int = 0,
                 warmup_batches: int = 2, min_batches: int = 3,
                 epoch_costs: Sequence[float] | None = None, last_batches: int | None = None):
        self.epochs = int(epochs)
        self.epoch_costs = list(epoch_costs or [])
        self.batches = max(1, int(batches))
        self.last_batches = None if last_batches is None else max(1, int(last_batches))
        self.validation_batches = int(validation_batches)
        self.warmup_batches = int(warmup_batches)
        self.min_batches = max(1, int(min_batches))
        self._batch_time = _Measure()
        self._test_batch_time = _Measure()
        self._epoch_overhead: float | None = None   # last epoch's time outside training batches
        self._epochs_ended = 0
        self._first_epoch_writes = 0.0
        self._tests_seen = 0
        self._last_test_end: float | None = None
        self._seen = 0
        self._last_batch_end: float | None = None
        self._epoch = 0
        self._batch = 0

    # ---------------------------------------------------------------- measuring
    def batch_done(self, epoch: int, batch: int, now: float | None = None) -> None:
        """Training batch ``batch`` (0-based) of epoch ``epoch`` (0-based) just ended."""
        now = time.monotonic() if now is None else now
        if (self._last_batch_end is not None and self._seen >= self.warmup_batches
                and epoch == self._epoch and batch > 0):
            self._batch_time.add((now - self._last_batch_end) / self._cost(epoch))
        self._seen += 1
        self._epoch, self._batch = int(epoch), int(batch) + 1
        self._last_batch_end = now

    def test_batch_done(self, batch: int, now: float | None = None) -> None:
        """Validation batch ``batch`` (0-based) just ended."""
        now = time.monotonic() if now is None else now
        if self._last_test_end is not None and batch > 0 and self._tests_seen >= self.warmup_batches:
            self._test_batch_time.add(now - self._last_test_end)
        self._tests_seen += 1
        self._last_test_end = now

    def epoch_done(self, epoch: int, now: float | None = None) -> None:
        """Epoch ``epoch`` (0-based) ended, validation included."""
        now = time.monotonic() if now is None else now
        self._epochs_ended += 1
        if self._last_batch_end is not None and self._epochs_ended > 1:
            self._epoch_overhead = max(0.0, now - self._last_batch_end)
        elif self._last_batch_end is not None:   # the first epoch's writes after its validation
            after = self._last_test_end if self._last_test_end is not None else self._last_batch_end
            self._first_epoch_writes = max(0.0, now - after)
        self._epoch, self._batch = int(epoch) + 1, 0
        self._last_batch_end = None   # the next epoch's first batch includes its set-up
        self._last_test_end = None

    def paused(self, seconds: float) -> None:
        """A pause of ``seconds`` happened since the last batch: not part of any batch."""
        if self._last_batch_end is not None:
            self._last_batch_end += seconds

    def batches_in(self, epoch: int) -> int:
        """Training batches of epoch ``epoch`` (0-based): fewer in a last epoch cut short."""
        if self.last_batches is not None and epoch == self.epochs - 1:
            return self.last_batches
        return self.batches

    def _cost(self, epoch: int) -> float:
        """Epoch ``epoch``'s (0-based) batch cost relative to a 1.0 epoch's."""
        return self.epoch_costs[epoch] if 0 <= epoch < len(self.epoch_costs) else 1.0

    # ---------------------------------------------------------------- reading
    @property
    def seconds_per_batch(self) -> float | None:
        """Measured seconds per training batch (None until ``min_batches`` were measured)."""
        if self._batch_time.count < self.min_batches:
            return None
        return self._batch_time.mean

    @property
    def epoch_overhead(self) -> float | None:
        """Seconds an epoch spends outside its training batches (validation, writes)."""
        if self._epoch_overhead is not None:
            return self._epoch_overhead
        per_batch = self.seconds_per_batch
        if per_batch is None:
            return None
        per_test_batch = self._test_batch_time.mean
        if per_test_batch is None:
            per_test_batch = per_batch * self.VALIDATION_SHARE
        return self.validation_batches * per_test_batch + self._first_epoch_writes

    @property
    def seconds_per_epoch(self) -> float | None:
        per_batch = self.seconds_per_batch
        if per_batch is None:
            return None
        return self.batches * per_batch + (self.epoch_overhead or 0.0)

    def seconds_left(self, now: float | None = None) -> float | None:
        """Seconds until the fit's last epoch ends; None while still estimating."""
        per_batch = self.seconds_per_batch
        per_epoch = self.seconds_per_epoch
        if per_batch is None or per_epoch is None:
            return None
        this_batch = per_batch * self._cost(self._epoch)
        batches = self.batches_in(self._epoch)
        left_in_epoch = (batches - min(self._batch, batches)) * this_batch
        left_in_epoch += self.epoch_overhead or 0.0
        if self._last_batch_end is not None and self._batch < batches:
            now = time.monotonic() if now is None else now
            left_in_epoch -= min(this_batch, max(0.0, now - self._last_batch_end))
        later = range(self._epoch + 1, self.epochs)
        later_batches = sum(self.batches_in(e) * per_batch * self._cost(e) for e in later)
        return max(0.0, left_in_epoch + later_batches + len(later) * (self.epoch_overhead or 0.0))


def estimate_run_seconds(*, epochs: int, batches: int, seconds_per_batch: float,
                         epoch_overhead: float = 0.0, startup_seconds: float = 0.0,
                         epoch_costs: Sequence[float] | None = None,
                         time_limit_seconds: float = 0.0) -> float:
    """The whole duration of a run not started yet: start-up plus its epochs.

    Args:
        epochs: epochs it will train. batches: training batches per epoch.
        seconds_per_batch, epoch_overhead: measured on a run of similar cost
            (:class:`TimeLeftEstimator`).
        startup_seconds: a run's start-up until its first batch ends (loading data, building
            the model, TensorFlow's first-batch preparation), measured on a run before.
        epoch_costs: each epoch's batch cost relative to a measured batch, when they differ
            (:func:`cnn_core.hard_examples.epoch_costs`).
        time_limit_seconds: the run's time limit (0: none): it keeps only the epochs that fit.
    """
    costs = list(epoch_costs or [])[:int(epochs)]
    costs += [1.0] * (int(epochs) - len(costs))
    training = sum(batches * seconds_per_batch * cost + epoch_overhead for cost in costs)
    if time_limit_seconds and time_limit_seconds > 0:
        training = min(training, float(time_limit_seconds))
    return startup_seconds + training


@dataclass(frozen=True)
class MeasuredRun:
    """A run that trained on this machine: the pure cost estimate of its epochs and what they took.

    Args:
        estimated_seconds: the pure cost estimate of the epochs it trained (seconds per epoch
            from :func:`cnn_core.model.estimate_epoch_seconds` times the epochs done).
        train_seconds: the seconds it really trained, pauses left out.
        startup_seconds: its start-up until the first batch ended, when measured.
    """

    estimated_seconds: float
    train_seconds: float
    startup_seconds: float | None = None


@dataclass(frozen=True)
class SpeedCalibration:
    """How far this machine is from the pure cost estimate: real seconds = ``startup_seconds``
    + ``factor`` x estimated seconds (medians over ``runs`` measured runs)."""

    factor: float
    startup_seconds: float
    runs: int


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def calibrate_speed(runs) -> SpeedCalibration | None:
    """The median ratio of measured to estimated training seconds and the median start-up, from
    runs measured on this machine (:class:`MeasuredRun`); None when none can be used.

    >>> calibrate_speed([MeasuredRun(1.0, 8.0, 4.0), MeasuredRun(2.0, 12.0, 6.0)])
    SpeedCalibration(factor=7.0, startup_seconds=5.0, runs=2)
    """
    usable = [r for r in runs if r.estimated_seconds > 0 and r.train_seconds > 0]
    if not usable:
        return None
    startups = [r.startup_seconds for r in usable if r.startup_seconds is not None and r.startup_seconds >= 0]
    return SpeedCalibration(factor=_median([r.train_seconds / r.estimated_seconds for r in usable]),
                            startup_seconds=_median(startups) if startups else UNMEASURED_STARTUP[0],
                            runs=len(usable))


#: With a calibration, the range around its figure (runs vary with the machine's other work).
CALIBRATED_SPREAD = (0.75, 1.35)
#: With none: the pure estimate is a lower bound; real runs took up to this many times longer.
UNMEASURED_FACTOR = (1.0, 6.0)
#: With none: a run's start-up (loading data, building the model, first batch) in seconds.
UNMEASURED_STARTUP = (2.0, 12.0)


def time_range_before_start(estimated_seconds, calibration: SpeedCalibration | None = None
                            ) -> tuple[float, float] | None:
    """(low, high) seconds the runs will take, one pure cost estimate per run (None: unknown).

    With a calibration: start-up plus calibrated training per run, widened by
    :data:`CALIBRATED_SPREAD`. Without: each run between its pure estimate plus a short
    start-up and :data:`UNMEASURED_FACTOR` times it plus a long one (wide on purpose: never
    "< 1 s" for runs that take 36 s).

    >>> time_range_before_start([1.0, 1.0], SpeedCalibration(factor=4.0, startup_seconds=3.0, runs=1))
    (10.5, 18.9)
    >>> time_range_before_start([0.2] * 4)
    (8.8, 52.8)
    """
    estimates = [float(e) for e in estimated_seconds]
    if not estimates or any(e is None or e != e or e < 0 for e in estimates):
        return None
    if calibration is not None:
        total = sum(calibration.startup_seconds + calibration.factor * e for e in estimates)
        low, high = total * CALIBRATED_SPREAD[0], total * CALIBRATED_SPREAD[1]
    else:
        low = sum(e * UNMEASURED_FACTOR[0] + UNMEASURED_STARTUP[0] for e in estimates)
        high = sum(e * UNMEASURED_FACTOR[1] + UNMEASURED_STARTUP[1] for e in estimates)
    return round(low, 6), round(high, 6)


def _rounded(seconds: float, up: bool) -> tuple[float, str]:
    """``seconds`` rounded outward to a readable step: (value in its unit, unit)."""
    import math

    step_round = math.ceil if up else math.floor
    if seconds < 60:
        return max(1, step_round(seconds / 5) * 5 if seconds >= 10 else step_round(seconds)), "s"
    if seconds < 5400:
        return max(1, step_round(seconds / 60)), "min"
    return max(1, step_round(seconds / 3600)), "h"


def range_text(seconds: tuple[float, float] | None) -> str:
    """A range in words, rounded outward: "about 20–40 s", "about 40 s – 3 min"; "estimating…"
    when unknown.

    >>> range_text((21.0, 38.0)), range_text((40.0, 150.0)), range_text(None)
    ('about 20–40 s', 'about 40 s – 3 min', 'estimating…')
    """
    from cnn_core.i18n import N_, _

    if seconds is None:
        return _("estimating…")
    units = {"s": N_("s"), "min": N_("min"), "h": N_("h")}   # the unit words, in the reader's language
    (low, low_unit), (high, high_unit) = _rounded(seconds[0], up=False), _rounded(seconds[1], up=True)
    low_unit, high_unit = _(units[low_unit]), _(units[high_unit])
    if low_unit == high_unit:
        if low >= high:
            return _("about {value} {unit}", value=high, unit=high_unit)
        return _("about {low}–{high} {unit}", low=low, high=high, unit=high_unit)
    return _("about {low} {low_unit} – {high} {high_unit}", low=low, low_unit=low_unit, high=high,
             high_unit=high_unit)


__all__ = ["CALIBRATED_SPREAD", "MeasuredRun", "SpeedCalibration", "TimeLeftEstimator", "UNMEASURED_FACTOR",
           "UNMEASURED_STARTUP", "calibrate_speed", "estimate_run_seconds", "range_text",
           "time_range_before_start"]
