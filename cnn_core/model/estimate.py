"""The cost estimate: seconds per training epoch from the shape walk and a one-off timing."""

from __future__ import annotations

import functools
import math
import threading
import time
from dataclasses import dataclass

import numpy as np

from cnn_core.hard_examples import passes_per_picture, scoring_batch
from cnn_core.model.plan import plan_summary
from cnn_core.model.spec import ModelSpec

@dataclass(frozen=True)
class Throughput:
    """What this machine managed in a short timed training step (see :func:`calibrate`)."""

    flops_per_second: float  # training FLOPs (3 x forward) per second, big-batch rate
    seconds_per_step: float  # fixed cost of one training step, whatever the batch size


_CALIBRATION: Throughput | None = None
_CALIBRATION_LOCK = threading.Lock()
_CALIBRATION_SHAPE = (32, 32, 3)


def _calibration_model():
    import keras

    init = functools.partial(keras.initializers.GlorotUniform, seed=0)
    layers = keras.layers
    inputs = keras.Input(_CALIBRATION_SHAPE)
    x = layers.Conv2D(32, 3, padding="same", activation="relu", kernel_initializer=init())(inputs)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(64, 3, padding="same", activation="relu", kernel_initializer=init())(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(10, activation="softmax", kernel_initializer=init())(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    return model


def calibrate(force: bool = False) -> Throughput:
    """Time a few training steps of a small conv net once per process (cached; ~1 s).

    Uses seeded initializers and its own random numbers, so the global random state that
    training seeds is not touched.
    """
    global _CALIBRATION
    with _CALIBRATION_LOCK:
        if _CALIBRATION is not None and not force:
            return _CALIBRATION
        from cnn_core.model.summary import summarize

        model = _calibration_model()
        flops = summarize(model).flops_per_image * 3
        rng = np.random.default_rng(0)
        big, small = 64, 2
        xb = rng.uniform(0, 1, (big, *_CALIBRATION_SHAPE)).astype("float32")
        yb = rng.integers(0, 10, big)
        model.train_on_batch(xb, yb)  # traces the step function
        model.train_on_batch(xb[:small], yb[:small])  # traces the small-batch shape

        def timed(x, y, repeats):
            start = time.perf_counter()
            for _ in range(repeats):
                model.train_on_batch(x, y)
            return (time.perf_counter() - start) / repeats

        t_small = min(timed(xb[:small], yb[:small], 3) for _ in range(2))
        t_big = min(timed(xb, yb, 2) for _ in range(2))
        per_image = max((t_big - t_small) / (big - small), 1e-7)
        overhead = max(t_small - small * per_image, 0.0)
        _CALIBRATION = Throughput(flops_per_second=flops / per_image, seconds_per_step=overhead)
        return _CALIBRATION


def estimate_epoch_seconds(spec: ModelSpec, input_shape, n_classes: int, n_train: int) -> float:
    """Rough seconds one training epoch takes on this machine: an estimate, not a promise.

    ``forward FLOPs x 3 (forward + backward) x n_train / measured FLOP rate`` plus a fixed cost
    per batch, both from :func:`calibrate` (one small timed conv net per process); with
    ``hard_share`` below 1 every picture costs a forward pass and that share of them the
    training step (:func:`cnn_core.hard_examples.passes_per_picture`). Real times
    vary with layer kinds (the calibration is a conv net), augmentation, other work on the
    machine and, for the first epoch, graph tracing.
    """
    flops = plan_summary(spec, input_shape, n_classes).flops_per_image
    rate = calibrate()
    n_train = max(0, int(n_train))
    steps = math.ceil(n_train / scoring_batch(spec.batch_size, spec.hard_share))
    passes = passes_per_picture(spec.hard_share)
    return steps * rate.seconds_per_step + passes * flops * n_train / rate.flops_per_second
