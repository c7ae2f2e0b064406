"""What to train: :class:`TrainingRequest` (data set, model, preprocessing, augmentation).

A request is what a page, the command line or a sweep hands to the job queue
(:mod:`cnn_core.job_queue`) or to :func:`cnn_core.training.run_training`; its
:meth:`~TrainingRequest.to_config` is the ``config.json`` stored with the run, and
:meth:`~TrainingRequest.from_config` rebuilds it (a run is reproducible from its config).

This module does not import TensorFlow.

Example:
    >>> from cnn_core.model import PRESETS
    >>> request = TrainingRequest("shapes", PRESETS["fast"].replace(epochs=2), preset="fast")
    >>> TrainingRequest.from_config(request.to_config()) == request
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cnn_core.augment import AugmentSpec
from cnn_core.errors import SpecError
from cnn_core.model import ModelSpec
from cnn_core.preprocessing import PreprocessSpec

DATASET_OPTION_KEYS = ("image_size", "color_mode", "test_fraction", "seed")
_CONFIG_KEYS = ("dataset", "model", "preprocess", "augment", "preset")


@dataclass
class TrainingRequest:
    """Everything needed to train one run: data set, model, preprocessing and augmentation.

    Args:
        dataset_id: a data set id (``"mnist_sample"``, ``"user:flowers"``) or a folder path.
        model: the model and training settings (:class:`~cnn_core.model.ModelSpec`).
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
                raise SpecError(key, "'{key}' is a standard part of a run's settings; it cannot be given again as an "
                                     "extra "
                                     "setting.",
                                     key=key)
        for key in self.dataset_options:
            if key not in DATASET_OPTION_KEYS:
                raise SpecError(key, "Unknown data set option '{key}'. Use one of: {dataset_option_keys}.",
                                     key=key, dataset_option_keys=', '.join(DATASET_OPTION_KEYS))
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


__all__ = ["DATASET_OPTION_KEYS", "TrainingRequest"]
