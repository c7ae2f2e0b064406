"""The learning-rate schedules of models saved before CNN Lab used Keras' own ``CosineDecay``.

Stored ``model.keras`` files name these classes by their registered names
``"cnn_core>OneCycleSchedule"`` and ``"cnn_core>CosineSchedule"`` (and the module
``cnn_core.models``, where they lived). They stay registered so old runs still load and resume;
new models get :func:`cnn_core.model.optimizers.build_schedule`'s Keras schedules, except the
``triangle`` schedule, which is :class:`OneCycleSchedule` with ``anneal="linear"`` (Keras has no
linear warm-up then linear decay; reusing the registered class keeps the allow-list unchanged).
"""

from __future__ import annotations

import math

import keras

#: The module stored model files name for these classes (their home before the split); keeping
#: it lets the import check of :mod:`cnn_core.exchange` recognise them as CNN Lab's own.
STORED_MODULE = "cnn_core.models"

def _one_cycle_value(step, peak, total, warmup_fraction, start_factor, final_factor, anneal):
    """Plain-Python one-cycle value (mirrors OneCycleSchedule.__call__)."""
    warmup = max(1.0, warmup_fraction * total)
    start, final = peak * start_factor, peak * final_factor
    if step < warmup:
        return start + (peak - start) * step / warmup
    t = min(1.0, (step - warmup) / max(1.0, total - warmup))
    if anneal == "linear":
        return peak + (final - peak) * t
    return final + (peak - final) * 0.5 * (1.0 + math.cos(math.pi * t))


@keras.saving.register_keras_serializable(package="cnn_core")
class OneCycleSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """One-cycle learning rate: linear warm-up to ``peak_learning_rate``, then anneal to ~0.

    Starts at ``peak * start_factor``, rises linearly for the first ``warmup_fraction`` of
    ``total_steps``, then falls to ``peak * final_factor`` by ``total_steps`` along a cosine
    (``anneal="cosine"``) or a straight line (``anneal="linear"``); stays there afterwards.

    Example:
        >>> s = OneCycleSchedule(0.01, total_steps=100)
        >>> round(float(s(30)), 4), round(float(s(100)), 6)
        (0.01, 1e-06)
    """

    def __init__(self, peak_learning_rate: float, total_steps: int, warmup_fraction: float = 0.3,
                 start_factor: float = 0.04, final_factor: float = 1e-4,
                 anneal: str = "cosine"):
        if anneal not in ("cosine", "linear"):
            raise ValueError(f"anneal must be 'cosine' or 'linear', not {anneal!r}")
        self.peak_learning_rate = float(peak_learning_rate)
        self.total_steps = int(max(1, total_steps))
        self.warmup_fraction = float(warmup_fraction)
        self.start_factor = float(start_factor)
        self.final_factor = float(final_factor)
        self.anneal = anneal

    def __call__(self, step):
        ops = keras.ops
        step = ops.cast(step, "float32")
        peak = self.peak_learning_rate
        total = float(self.total_steps)
        warmup = max(1.0, self.warmup_fraction * total)
        start, final = peak * self.start_factor, peak * self.final_factor
        rising = start + (peak - start) * step / warmup
        t = ops.clip((step - warmup) / max(1.0, total - warmup), 0.0, 1.0)
        if self.anneal == "linear":
            falling = peak + (final - peak) * t
        else:
            falling = final + (peak - final) * 0.5 * (1.0 + ops.cos(math.pi * t))
        return ops.where(step < warmup, rising, falling)

    def value_at(self, step: float) -> float:
        """The learning rate at ``step``, in plain Python (for charts)."""
        return _one_cycle_value(step, self.peak_learning_rate, self.total_steps,
                                self.warmup_fraction, self.start_factor, self.final_factor,
                                self.anneal)

    def get_config(self):
        return {
            "peak_learning_rate": self.peak_learning_rate, "total_steps": self.total_steps,
            "warmup_fraction": self.warmup_fraction, "start_factor": self.start_factor,
            "final_factor": self.final_factor, "anneal": self.anneal,
        }


@keras.saving.register_keras_serializable(package="cnn_core")
class CosineSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Cosine decay from ``initial_learning_rate`` to ``initial * final_factor`` over ``total_steps``.

    Example:
        >>> s = CosineSchedule(0.1, total_steps=10)
        >>> round(float(s(5)), 4)
        0.05
    """

    def __init__(self, initial_learning_rate: float, total_steps: int, final_factor: float = 0.0):
        self.initial_learning_rate = float(initial_learning_rate)
        self.total_steps = int(max(1, total_steps))
        self.final_factor = float(final_factor)

    def __call__(self, step):
        ops = keras.ops
        t = ops.clip(ops.cast(step, "float32") / float(self.total_steps), 0.0, 1.0)
        lr0 = self.initial_learning_rate
        final = lr0 * self.final_factor
        return final + (lr0 - final) * 0.5 * (1.0 + ops.cos(math.pi * t))

    def value_at(self, step: float) -> float:
        """The learning rate at ``step``, in plain Python (for charts)."""
        t = min(1.0, max(0.0, step / self.total_steps))
        final = self.initial_learning_rate * self.final_factor
        return final + (self.initial_learning_rate - final) * 0.5 * (1 + math.cos(math.pi * t))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "total_steps": self.total_steps, "final_factor": self.final_factor}


#: Pass to ``keras.models.load_model(custom_objects=...)`` if you prefer explicit objects.
CUSTOM_OBJECTS = {"cnn_core>OneCycleSchedule": OneCycleSchedule,
                  "cnn_core>CosineSchedule": CosineSchedule}


for _cls in (OneCycleSchedule, CosineSchedule):
    _cls.__module__ = STORED_MODULE
