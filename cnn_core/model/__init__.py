"""Model settings -> Keras models, optimizers, summaries and cost estimates, one module per job.

=====================  ==========================================================================
``spec``               :class:`ModelSpec` (the settings) and their choices; no Keras
``presets``            named starting points (``PRESETS``) and what each is for
``plan``               the pure-Python shape walk: :func:`check_spec`, :func:`plan_summary`
``estimate``           seconds per epoch from the plan and a one-off timing (:func:`calibrate`)
``build``              :func:`build_model`: spec -> uncompiled Keras model
``fused_batch_norm``   Keras' batch norm through TensorFlow's fused kernel (half the fast step)
``optimizers``         schedules (Keras ``CosineDecay``), optimizers, loss, :func:`load_model`
``muon``               the ``muon`` optimizer: Muon steps for the filters, SGD for the rest
``legacy_schedules``   the schedule classes older ``model.keras`` files name, still loadable
                       (``OneCycleSchedule`` is also the ``triangle`` schedule)
``whitening``          the patch-whitening first layer's kernel, from the training pictures
``summary``            :func:`summarize`: layer table and totals of a built model
=====================  ==========================================================================

Importing this package does not import Keras: the names of ``build``, ``optimizers``,
``legacy_schedules``, ``summary`` and ``estimate`` load their module (and TensorFlow) on first
use, so the model builder's numbers and table come from the shape walk at once.

Example:
    >>> from cnn_core import model
    >>> spec = model.PRESETS["lenet"]
    >>> model.check_spec(spec, (28, 28, 1), 10)          # raises SpecError when it cannot work
    >>> keras_model = model.build_model(spec, (28, 28, 1), 10)
    >>> model.compile_model(keras_model, spec, steps_per_epoch=63, label_encoding="integer")
    >>> model.summarize(keras_model).total_params
    44426
"""

from __future__ import annotations

import importlib

from cnn_core.model.plan import (
    MAX_PARAMS, POOL_SIZE, LayerRow, ModelSummary, check_spec, plan_summary,
)
from cnn_core.model.presets import (
    DEFAULT_PRESET, PRESET_AUGMENTS, PRESET_DESCRIPTIONS, PRESETS,
)
from cnn_core.model.spec import (
    ACTIVATIONS, HEADS, LABEL_ENCODINGS, LR_SCHEDULES, OPTIMIZERS, PADDINGS, POOL_POSITIONS,
    POOLINGS, TEST_TIME_AUGMENTATIONS, ModelSpec, block_filters, dense_units_at,
)

#: Public names that need Keras, and the module that holds each (imported on first use).
_KERAS_NAMES = {
    "build_model": "build", "BN_MOMENTUM": "build",
    "build_schedule": "optimizers", "learning_rate_curve": "optimizers",
    "build_optimizer": "optimizers", "needs_onehot": "optimizers",
    "compile_model": "optimizers", "load_model": "optimizers",
    "CUSTOM_OBJECTS": "legacy_schedules", "OneCycleSchedule": "legacy_schedules",
    "CosineSchedule": "legacy_schedules",
    "summarize": "summary",
    "Throughput": "estimate", "calibrate": "estimate", "estimate_epoch_seconds": "estimate",
}

__all__ = [
    "ACTIVATIONS", "DEFAULT_PRESET", "HEADS", "LABEL_ENCODINGS", "LR_SCHEDULES", "MAX_PARAMS",
    "OPTIMIZERS", "PADDINGS", "POOLINGS", "POOL_POSITIONS", "POOL_SIZE", "PRESETS",
    "PRESET_AUGMENTS", "TEST_TIME_AUGMENTATIONS",
    "PRESET_DESCRIPTIONS", "LayerRow", "ModelSpec", "ModelSummary", "block_filters",
    "check_spec", "dense_units_at", "plan_summary", *_KERAS_NAMES,
]


def __getattr__(name: str):
    module = _KERAS_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'cnn_core.model' has no attribute {name!r}")
    return getattr(importlib.import_module(f"cnn_core.model.{module}"), name)


def __dir__():
    return sorted(set(globals()) | set(_KERAS_NAMES))
