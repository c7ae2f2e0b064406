"""Learning-rate schedules, optimizers, loss and compiling; loading a saved model.

The schedules are Keras' own ``CosineDecay`` (with a linear warm-up for one-cycle). Old model
files that name CNN Lab's former schedule classes load through
:mod:`cnn_core.model.legacy_schedules`.
"""

from __future__ import annotations

import keras
import numpy as np

from cnn_core.errors import SpecError
import cnn_core.model.fused_batch_norm  # noqa: F401 - registers the batch norm load_model meets
from cnn_core.model.legacy_schedules import CUSTOM_OBJECTS, OneCycleSchedule
from cnn_core.model.muon import MuonFilters
from cnn_core.model.spec import LABEL_ENCODINGS, ModelSpec
from cnn_core.settings import choice_list

#: One-cycle: the learning rate starts at this fraction of its peak...
ONE_CYCLE_START_FACTOR = 0.04
#: ...rises linearly to the peak over this fraction of all steps...
ONE_CYCLE_WARMUP_FRACTION = 0.3
#: ...then falls along a cosine to this fraction of the peak by the last step.
ONE_CYCLE_FINAL_FACTOR = 1e-4
#: Triangle (airbench): starts at this fraction of the peak...
TRIANGLE_START_FACTOR = 0.2
#: ...rises in a straight line to the peak over this fraction of all steps, then falls in a
#: straight line to zero at the last step.
TRIANGLE_WARMUP_FRACTION = 0.25


def build_schedule(spec: ModelSpec, steps_per_epoch: int, total_steps: int | None = None):
    """The learning rate the optimizer gets: a float (``constant``) or a Keras schedule.

    ``one_cycle``: Keras' ``CosineDecay`` with a linear warm-up from 4% of ``learning_rate``
    to ``learning_rate`` over the first 30% of the steps, then a cosine down to 0.01% of it.
    ``cosine``: ``CosineDecay`` from ``learning_rate`` to 0. ``triangle``: the registered
    :class:`~cnn_core.model.legacy_schedules.OneCycleSchedule` with straight lines, from 20% of
    ``learning_rate`` up to it over the first 25% of the steps, then down to 0. All span
    ``spec.epochs * steps_per_epoch`` steps, or ``total_steps`` when given (a time limit cut
    the last epoch short), and stay at their last value afterwards.
    """
    total = max(1, int(total_steps) if total_steps
                else int(spec.epochs) * max(1, int(steps_per_epoch)))
    lr = float(spec.learning_rate)
    schedules = keras.optimizers.schedules
    if spec.lr_schedule == "one_cycle":
        warmup = max(1, round(ONE_CYCLE_WARMUP_FRACTION * total))
        return schedules.CosineDecay(
            initial_learning_rate=lr * ONE_CYCLE_START_FACTOR, decay_steps=max(1, total - warmup),
            alpha=ONE_CYCLE_FINAL_FACTOR, warmup_target=lr, warmup_steps=warmup,
        )
    if spec.lr_schedule == "triangle":
        return OneCycleSchedule(lr, total_steps=total, warmup_fraction=TRIANGLE_WARMUP_FRACTION,
                                start_factor=TRIANGLE_START_FACTOR, final_factor=0.0,
                                anneal="linear")
    if spec.lr_schedule == "cosine":
        return schedules.CosineDecay(initial_learning_rate=lr, decay_steps=total, alpha=0.0)
    return lr


def learning_rate_curve(spec: ModelSpec, steps_per_epoch: int) -> np.ndarray:
    """Learning rate at the start of each epoch plus the end (``epochs + 1`` values), for charts.

    Read from the very schedule the optimizer gets, so the chart cannot disagree with training.
    """
    schedule = build_schedule(spec, steps_per_epoch)
    steps = [e * max(1, int(steps_per_epoch)) for e in range(spec.epochs + 1)]
    if isinstance(schedule, float):
        return np.full(len(steps), schedule)
    if hasattr(schedule, "value_at"):
        return np.array([schedule.value_at(s) for s in steps])
    return np.array([float(schedule(s)) for s in steps])


def build_optimizer(spec: ModelSpec, steps_per_epoch: int,
                    total_steps: int | None = None) -> keras.optimizers.Optimizer:
    """The Keras optimizer of the spec, with its learning-rate schedule.

    ``adam``; ``adamw`` (decoupled ``weight_decay``); ``sgd`` (``momentum``, ``nesterov``);
    ``muon`` (:class:`~cnn_core.model.muon.MuonFilters`: SGD as ``sgd``, the convolution
    filters by Muon steps of ``muon_rate`` at the schedule's peak); ``rmsprop``. For optimizers
    other than ``adamw`` a non-zero ``weight_decay`` is passed as
    Keras' ``weight_decay`` argument. Schedules span ``spec.epochs * steps_per_epoch`` steps
    (or ``total_steps``: :func:`build_schedule`).
    """
    spec.validate()
    lr = build_schedule(spec, steps_per_epoch, total_steps)
    wd = float(spec.weight_decay) or None
    opt = keras.optimizers
    if spec.optimizer == "adam":
        return opt.Adam(learning_rate=lr, weight_decay=wd)
    if spec.optimizer == "adamw":
        return opt.AdamW(learning_rate=lr, weight_decay=float(spec.weight_decay))
    if spec.optimizer in ("sgd", "muon"):
        sgd = dict(learning_rate=lr, momentum=float(spec.momentum),
                   nesterov=bool(spec.nesterov) and spec.momentum > 0, weight_decay=wd)
        if spec.optimizer == "muon":
            scale = float(spec.muon_rate) / float(spec.learning_rate)
            return MuonFilters(**sgd, filter_rate_scale=scale)
        return opt.SGD(**sgd)
    return opt.RMSprop(learning_rate=lr, weight_decay=wd)


def needs_onehot(spec: ModelSpec, encoding: str) -> bool:
    """Whether labels must be one-hot encoded: chosen so, or needed by label smoothing.

    Keras' sparse (integer-label) cross-entropy has no label smoothing, so with
    ``label_smoothing > 0`` the caller one-hot encodes the labels even when the preprocessing
    spec says ``"integer"``; :func:`compile_model` picks the matching loss.
    """
    if encoding not in LABEL_ENCODINGS:
        raise SpecError("label_encoding",
                        "Unknown label encoding {encoding!r}. Choose {label_encodings}.",
                        encoding=encoding, label_encodings=choice_list(LABEL_ENCODINGS))
    return encoding == "onehot" or spec.label_smoothing > 0


def compile_model(model: keras.Model, spec: ModelSpec, steps_per_epoch: int,
                  label_encoding: str, total_steps: int | None = None) -> None:
    """Compile with the spec's optimizer (its schedule over ``total_steps`` when given, see
    :func:`build_schedule`), a loss matching the labels, and ``accuracy``.

    One-hot labels (see :func:`needs_onehot`) -> ``CategoricalCrossentropy(label_smoothing)``;
    integer labels -> ``SparseCategoricalCrossentropy``.
    """
    if needs_onehot(spec, label_encoding):
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=float(spec.label_smoothing))
    else:
        loss = keras.losses.SparseCategoricalCrossentropy()
    model.compile(optimizer=build_optimizer(spec, steps_per_epoch, total_steps), loss=loss,
                  metrics=["accuracy"])


def load_model(path, compile: bool = True) -> keras.Model:
    """``keras.models.load_model`` with this module's schedules known (they are registered), in
    safe mode: a file whose layers would run stored Python code (a Lambda) is refused."""
    return keras.models.load_model(path, custom_objects=CUSTOM_OBJECTS, compile=compile, safe_mode=True)
