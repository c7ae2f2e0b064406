"""Fitting a run's epochs to its time limit: time a few real batches, keep the epochs that fit.

The same preset runs at very different speeds on different computers (the fast preset's epoch
of 50,000 pictures: ~19 s on a Xeon with AMX units, ~41 s on an AMD EPYC with the same two
cores). A model setting ``time_limit`` (minutes, 0 = none) makes "10 minutes" true everywhere:
before training, :func:`measure_speed` trains a few batches of the real data through the real
``fit`` and puts the weights back; :func:`epochs_within` then keeps as many of the planned
epochs as fit into the limit, and training builds its learning-rate schedule for those epochs
(a schedule cut off halfway would never cool down). When the whole epochs leave a good part
of the limit unused, :func:`last_epoch_steps` fills it with one more epoch cut short: on a
slow computer a 2-minute demo of 42-second epochs would otherwise stop after 85 s. When not
even one epoch fits, :func:`first_epoch_steps` cuts the first one short instead: a 2-minute
demo stays a 2-minute demo on a computer where an epoch takes 145 s.

Example:
    >>> speed = Speed(step_seconds=0.2, first_step_seconds=3.0, probe_seconds=5.0)
    >>> epochs_within(10, speed, planned=28, steps_per_epoch=196)
    14
    >>> epochs_within(0, speed, planned=28, steps_per_epoch=196)
    28
    >>> last_epoch_steps(10, speed, epochs=14, planned=28, steps_per_epoch=196)   # 27 s left
    130
"""

from __future__ import annotations

import statistics
import time
from typing import Callable, NamedTuple

from cnn_core.hard_examples import chooses, epoch_costs

#: Batches timed after the first (which also traces the training step and is timed apart);
#: their median is the step time, so one slow batch does not cost the run an epoch.
PROBE_STEPS = 12
#: An epoch costs a little more than its batches (callbacks, the end-of-epoch bookkeeping).
EPOCH_OVERHEAD = 1.03
#: A validation batch (forward pass only) costs about this share of a training batch.
VALIDATION_SHARE = 0.35
#: One more epoch cut short is trained only when at least this share of its batches fits: a
#: sliver of an epoch is not worth its validation and bookkeeping.
MIN_CUT_EPOCH_SHARE = 0.2


class Speed(NamedTuple):
    """What the probe measured: seconds per training batch, the first batch (tracing included),
    and the whole probe."""

    step_seconds: float
    first_step_seconds: float
    probe_seconds: float


def epoch_seconds(speed: Speed, steps_per_epoch: int, validation_steps: int = 0) -> float:
    """Expected seconds of one epoch: its batches, its validation batches, a little overhead."""
    steps = steps_per_epoch + VALIDATION_SHARE * validation_steps
    return speed.step_seconds * steps * EPOCH_OVERHEAD


def _training_seconds(minutes: float, speed: Speed) -> float:
    """What ``minutes`` leave for epochs: the probe's own seconds and the training step's tracing
    (paid again when training starts) count against the limit."""
    return minutes * 60.0 - speed.probe_seconds - max(0.0, speed.first_step_seconds
                                                       - speed.step_seconds)


def epochs_within(minutes: float, speed: Speed, planned: int, steps_per_epoch: int,
                  validation_steps: int = 0,
                  run_cost: Callable[[int], float] | None = None) -> int:
    """How many of ``planned`` epochs fit into ``minutes`` (0: no limit, all of them).

    The probe's own seconds and the training step's tracing (paid again when training starts)
    count against the limit. At least one epoch is always kept (cut short by
    :func:`first_epoch_steps` when not even that one fits). ``run_cost(epochs)``: what a
    run of that many epochs costs in epochs like the timed one, when its epochs differ
    (:func:`cnn_core.hard_examples.epoch_costs`); by default ``epochs``.
    """
    planned = max(1, int(planned))
    if not minutes or minutes <= 0:
        return planned
    left = _training_seconds(minutes, speed)
    per_epoch = epoch_seconds(speed, steps_per_epoch, validation_steps)
    if per_epoch <= 0:
        return planned
    cost = run_cost or float
    return next((e for e in range(planned, 1, -1) if cost(e) * per_epoch <= left), 1)


def last_epoch_steps(minutes: float, speed: Speed, epochs: int, planned: int,
                     steps_per_epoch: int, validation_steps: int = 0,
                     run_cost: Callable[[int], float] | None = None) -> int | None:
    """Batches of one more epoch, cut short, that fit into what ``epochs`` whole ones leave of
    ``minutes`` (its validation counted whole); None when all ``planned`` epochs fit, there is no
    limit, or less than :data:`MIN_CUT_EPOCH_SHARE` of an epoch fits.

    ``run_cost`` as for :func:`epochs_within`: the extra epoch costs what a run of ``epochs + 1``
    costs more than one of ``epochs`` (a run learning from the hardest pictures plans its
    warm-up by its length).
    """
    epochs, steps = int(epochs), max(1, int(steps_per_epoch))
    if not minutes or minutes <= 0 or epochs >= int(planned):
        return None
    batches = _batches_after(minutes, speed, epochs, steps, validation_steps, run_cost or float)
    if batches is None:
        return None
    fitting = min(steps - 1, int(batches))
    return fitting if fitting >= MIN_CUT_EPOCH_SHARE * steps else None


def first_epoch_steps(minutes: float, speed: Speed, steps_per_epoch: int,
                      validation_steps: int = 0,
                      run_cost: Callable[[int], float] | None = None) -> int | None:
    """Batches of the first epoch that fit into ``minutes`` when not even that one fits whole
    (its validation counted whole; at least one batch); None when it fits or there is no limit.

    ``run_cost`` as for :func:`epochs_within`.

    >>> speed = Speed(step_seconds=1.0, first_step_seconds=1.0, probe_seconds=13.0)
    >>> first_epoch_steps(2, speed, steps_per_epoch=196)   # 107 s left, 196 s an epoch
    103
    >>> first_epoch_steps(10, speed, steps_per_epoch=196) is None
    True
    """
    steps, cost = max(1, int(steps_per_epoch)), run_cost or float
    if not minutes or minutes <= 0 \
            or cost(1) * epoch_seconds(speed, steps, validation_steps) \
            <= _training_seconds(minutes, speed):
        return None
    batches = _batches_after(minutes, speed, 0, steps, validation_steps, cost)
    return None if batches is None else max(1, min(steps - 1, int(batches)))


def _batches_after(minutes: float, speed: Speed, epochs: int, steps: int, validation_steps: int,
                   cost: Callable[[int], float]) -> float | None:
    """Batches of epoch ``epochs + 1`` that fit into what ``epochs`` whole ones leave of
    ``minutes``, its validation counted whole (may be negative); None when a batch costs
    nothing. The extra epoch costs what a run of ``epochs + 1`` costs more than one of
    ``epochs`` (a run learning from the hardest pictures plans its warm-up by its length)."""
    left = _training_seconds(minutes, speed) - cost(epochs) * epoch_seconds(
        speed, steps, validation_steps)
    marginal = cost(epochs + 1) - cost(epochs)    # the extra epoch, in epochs like the timed one
    if speed.step_seconds <= 0 or marginal <= 0:
        return None
    return left / (marginal * speed.step_seconds * EPOCH_OVERHEAD) \
        - VALIDATION_SHARE * validation_steps


def measure_speed(model, dataset, steps: int = PROBE_STEPS,
                  clock: Callable[[], float] = time.perf_counter) -> Speed:
    """Train ``steps + 1`` batches of ``dataset`` through ``model.fit`` and time them: the
    first apart, the rest by their median.

    The model's weights (batch norm's moving statistics included) are put back afterwards; its
    optimizer has moved, so the caller compiles the model again before training.
    """
    import keras

    stamps: list[float] = []

    class _Stamps(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            stamps.append(clock())

    weights = model.get_weights()
    started = clock()
    try:
        model.fit(dataset.take(steps + 1), epochs=1, verbose=0, callbacks=[_Stamps()])
    finally:
        model.set_weights(weights)
    if not stamps:
        return Speed(0.0, 0.0, clock() - started)
    first = stamps[0] - started
    steps_timed = [b - a for a, b in zip(stamps, stamps[1:])]
    step = statistics.median(steps_timed) if steps_timed else first
    return Speed(step_seconds=step, first_step_seconds=first, probe_seconds=clock() - started)


def time_choosing(model, dataset, hardest, warm_up: Speed) -> tuple[float, Speed]:
    """Time the steps that choose the hardest pictures (``hardest``: the callback of
    :func:`cnn_core.hard_examples.install`) after ``warm_up`` timed the warm-up ones. Returns
    a choosing step's cost in warm-up steps and ``warm_up`` with both timings' seconds."""
    hardest.choosing.assign(True)
    try:
        chosen = measure_speed(model, dataset)
    finally:
        hardest.choosing.assign(False)
    cost = chosen.step_seconds / warm_up.step_seconds if warm_up.step_seconds > 0 else 1.0
    return cost, warm_up._replace(probe_seconds=warm_up.probe_seconds + chosen.probe_seconds)


def fit_to_time_limit(store, run_id: str, model, train_ds, spec, steps_per_epoch: int,
                      validation_steps: int, label_encoding: str, say: Callable[[str], None],
                      hardest=None):
    """The training engine's step before a new run's ``fit``: time a few batches, keep the
    epochs that fit into ``spec.time_limit`` minutes, record them in the run
    (``RunStore.set_planned_epochs``, config entry ``time_limit_fit``), and compile the model
    afresh for them (its schedule spans the kept epochs; the timed batches' optimizer steps are
    dropped, their weights were put back). Returns the spec to train.

    A run learning from the hardest pictures (``hardest``: its callback) times its warm-up
    steps first and, when the epochs that fit include choosing ones, its choosing steps too:
    how much dearer they are differs from computer to computer (1.86 warm-up steps on 2 AMD EPYC
    cores where :func:`cnn_core.hard_examples.choosing_step_cost` estimates 2.0). The measured
    ratio is kept on ``hardest.choosing_cost`` for the time-left estimate."""
    from cnn_core import model as models_module
    from cnn_core.run_status import Phase

    store.set_progress(run_id, phase=Phase.TIMING)
    speed = measure_speed(model, train_ds)   # a warm-up step, when learning from the hardest
    choosing_cost = None

    def run_cost(epochs: int) -> float:
        return sum(epoch_costs(spec.hard_share, epochs, choosing_cost))

    def fitting() -> int:
        return epochs_within(spec.time_limit, speed, spec.epochs, steps_per_epoch,
                             validation_steps, run_cost=run_cost)
    epochs = fitting()
    if hardest is not None and chooses(spec.hard_share, epochs):
        choosing_cost, speed = time_choosing(model, train_ds, hardest, speed)
        hardest.choosing_cost = choosing_cost
        epochs = fitting()
    average = epoch_seconds(speed, steps_per_epoch, validation_steps) * run_cost(epochs) / epochs
    fitted = {"asked_epochs": int(spec.epochs), "epochs": int(epochs),
              "epoch_seconds": round(average, 2), "minutes": int(spec.time_limit)}
    cut = last_epoch_steps(spec.time_limit, speed, epochs, spec.epochs, steps_per_epoch,
                           validation_steps, run_cost=run_cost)
    if cut is not None:   # one more epoch, cut short after this many batches
        fitted.update(epochs=int(epochs) + 1, last_epoch_steps=int(cut),
                      steps_per_epoch=int(steps_per_epoch))
    elif epochs == 1 and (first := first_epoch_steps(spec.time_limit, speed, steps_per_epoch,
                                                     validation_steps, run_cost=run_cost)):
        # not even one epoch fits: the only one is cut short
        fitted.update(last_epoch_steps=int(first), steps_per_epoch=int(steps_per_epoch))
    if choosing_cost is not None:
        fitted["choosing_cost"] = round(choosing_cost, 3)
    spec = spec.replace(epochs=fitted["epochs"])
    store.set_planned_epochs(run_id, spec.epochs, time_limit_fit=fitted)
    say(fit_words(fitted))
    models_module.compile_model(model, spec, steps_per_epoch, label_encoding,
                                total_steps=planned_steps(fitted, steps_per_epoch))
    return spec


def planned_steps(fit: dict | None, steps_per_epoch: int) -> int | None:
    """The training steps of a run whose time limit cut its last epoch short (its config's
    ``time_limit_fit``), for the learning-rate schedule to end with them; None for whole epochs.

    >>> planned_steps({"epochs": 3, "last_epoch_steps": 120}, 196)
    512
    >>> planned_steps({"epochs": 3}, 196) is None
    True
    """
    cut = last_epoch_cut(fit)
    return None if cut is None else (int(fit["epochs"]) - 1) * int(steps_per_epoch) + cut


def last_epoch_cut(fit: dict | None) -> int | None:
    """The batches a run's last epoch stops after (its time limit cut it short), or None."""
    cut = (fit or {}).get("last_epoch_steps")
    return None if cut is None else int(cut)


def measured_choosing_cost(config: dict | None) -> float | None:
    """The choosing step's cost a run's time limit timed (its config's ``time_limit_fit``), or
    None when it timed none."""
    return ((config or {}).get("time_limit_fit") or {}).get("choosing_cost")


def fit_words(fit: dict) -> str:
    """What the time limit kept, in the session's language, from a run's ``time_limit_fit``
    config entry (``minutes``, ``asked_epochs``, ``epochs``, ``epoch_seconds``; with a last
    epoch cut short also ``last_epoch_steps`` and ``steps_per_epoch``).

    >>> fit_words({"minutes": 10, "asked_epochs": 28, "epochs": 14, "epoch_seconds": 41.2})
    'Time limit 10 min: 14 of the 28 epochs fit (about 41 s an epoch on this computer).'
    >>> fit_words({"minutes": 2, "asked_epochs": 6, "epochs": 3, "epoch_seconds": 42.0,
    ...            "last_epoch_steps": 120, "steps_per_epoch": 196})
    'Time limit 2 min: 2 of the 6 epochs fit, and 120 of the 196 batches of one more (about 42 s an epoch on this computer).'
    >>> fit_words({"minutes": 2, "asked_epochs": 6, "epochs": 1, "epoch_seconds": 145.0,
    ...            "last_epoch_steps": 150, "steps_per_epoch": 196})
    'Time limit 2 min: not even one whole epoch fits, so training stops after 150 of the 196 batches of the first (about 145 s an epoch on this computer).'
    """
    from cnn_core.i18n import _

    values = dict(minutes=fit.get("minutes"), asked=fit.get("asked_epochs"),
                  seconds=round(float(fit.get("epoch_seconds") or 0)))
    cut = last_epoch_cut(fit)
    if cut is not None and int(fit.get("epochs") or 1) <= 1:
        return _("Time limit {minutes} min: not even one whole epoch fits, so training stops "
                 "after {cut} of the {batches} batches of the first (about {seconds} s an epoch "
                 "on this computer).", cut=cut, batches=fit.get("steps_per_epoch") or cut,
                 **values)
    if cut is not None:
        return _("Time limit {minutes} min: {epochs} of the {asked} epochs fit, and {cut} of the "
                 "{batches} batches of one more (about {seconds} s an epoch on this computer).",
                 epochs=int(fit.get("epochs") or 1) - 1, cut=cut,
                 batches=fit.get("steps_per_epoch") or cut, **values)
    if int(fit.get("epochs") or 0) < int(fit.get("asked_epochs") or 0):
        return _("Time limit {minutes} min: {epochs} of the {asked} epochs fit (about {seconds} s an "
                 "epoch on this computer).", epochs=fit.get("epochs"), **values)
    return _("Time limit {minutes} min: all {asked} epochs fit (about {seconds} s an epoch on this "
             "computer).", **values)


__all__ = ["EPOCH_OVERHEAD", "MIN_CUT_EPOCH_SHARE", "PROBE_STEPS", "Speed", "epoch_seconds",
           "epochs_within", "first_epoch_steps", "fit_to_time_limit", "fit_words",
           "last_epoch_cut", "last_epoch_steps", "measure_speed", "measured_choosing_cost",
           "planned_steps", "time_choosing"]
