"""Comparing runs: a table of runs, the settings that differ, what one change did.

This module does not import TensorFlow (only :func:`mlp_vs_cnn`, which queues training, needs it).

Example:
    >>> store = RunStore()
    >>> table = runs_table(store)                    # one row per run, newest first
    >>> change = what_changed(store, "run-a", "run-b")
    >>> print(change.summary())
    Learning rate: 0.001 -> 0.01; test accuracy +3.1 points; training 4.2 s longer
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cnn_core.accuracy_noise import n_test_of, noise_words
from cnn_core.classroom import visible_runs
from cnn_core.errors import SpecError
from cnn_core.run_record import RunRecord, Starter, new_run_id
from cnn_core.runs import RunStore
from cnn_core.setting_words import (  # noqa: F401 - setting_label, short_setting_name: importers' names
    labelled_change, plain_value, setting_declaration, setting_label, short_setting_name,
)

#: Model settings shown as columns of :func:`runs_table`.
KEY_MODEL_SETTINGS = (
    "conv_blocks", "filters", "conv_dropout", "dense_dropout", "learning_rate", "optimizer",
    "epochs", "batch_size",
)
RUNS_TABLE_COLUMNS = (
    "run_id", "name", "dataset", "preset", *KEY_MODEL_SETTINGS, "augmentation",
    "best_val_accuracy", "test_accuracy", "train_seconds", "status", "created_at", "sweep_id",
)
#: Config keys that describe where a run came from, not how it was trained (``time_limit_fit``:
#: what the time limit measured; the epochs it kept are in the model settings).
BOOKKEEPING_KEYS = ("sweep", "comparison", "comparison_id", "comparison_budget", "imported", "name", "class_names",
                    "time_limit_fit")
MLP_VS_CNN = "mlp_vs_cnn"


def _augmentation_on(augment: Mapping | None) -> bool:
    """Whether an augment spec dict changes images: any setting but the seed off its default
    (flip ``"none"``, amounts 0). Judged from the values, so no TensorFlow import is needed."""
    if not augment:
        return False
    return any(
        value not in (None, 0, 0.0, "none", False, "")
        for key, value in augment.items() if key != "seed"
    )


def run_row(run: RunRecord) -> dict[str, Any]:
    """One run as a row of :func:`runs_table`."""
    config = run.config or {}
    model = config.get("model") or {}
    dataset = config.get("dataset") or {}
    row: dict[str, Any] = {
        "run_id": run.id,
        "name": run.name,
        "dataset": dataset.get("id") if isinstance(dataset, Mapping) else dataset,
        "preset": config.get("preset"),
    }
    for setting in KEY_MODEL_SETTINGS:
        row[setting] = model.get(setting)
    row.update(
        augmentation=_augmentation_on(config.get("augment")),
        best_val_accuracy=run.best_val_accuracy,
        test_accuracy=run.test_accuracy,
        train_seconds=run.train_seconds,
        status=run.status,
        created_at=run.created_at,
        sweep_id=run.sweep_id or (config.get("sweep") or {}).get("id"),
    )
    return row


def runs_table(store: RunStore, run_ids: Sequence[str] | None = None):
    """A pandas DataFrame with one row per run (newest first, or in ``run_ids`` order).

    Columns: :data:`RUNS_TABLE_COLUMNS` (``created_at`` as a local-time pandas timestamp;
    ``augmentation`` True when the run trained on augmented images).

    Raises:
        RunNotFoundError: one of ``run_ids`` is not in the store.
    """
    import pandas as pd

    runs = store.list_runs() if run_ids is None else [store.get(run_id) for run_id in run_ids]
    table = pd.DataFrame([run_row(run) for run in runs], columns=list(RUNS_TABLE_COLUMNS))
    table["created_at"] = pd.to_datetime(
        [datetime.datetime.fromtimestamp(t) if t is not None else None for t in table["created_at"]]
    )
    return table


def flatten_config(config: Mapping, prefix: str = "") -> dict[str, Any]:
    """``{"model": {"learning_rate": 0.01}}`` -> ``{"model.learning_rate": 0.01}``.

    Lists become tuples so values can be compared and hashed.
    """
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):  # an empty section has no settings
            flat.update(flatten_config(value, name + "."))
        elif isinstance(value, list):
            flat[name] = tuple(value)
        else:
            flat[name] = value
    return flat


def _is_bookkeeping(name: str) -> bool:
    return name.split(".", 1)[0] in BOOKKEEPING_KEYS


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b and type(a) is type(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return a == b


def differing_settings(configs: Iterable[Mapping], include_bookkeeping: bool = False) -> list[str]:
    """Flattened names (``"model.learning_rate"``, ``"augment.flip"``, ``"preset"``) of the
    settings whose values are not the same in all ``configs``, in order of first appearance.

    A setting missing from some configs counts as differing. Where a run came from (its sweep,
    an import) is left out unless ``include_bookkeeping``.
    """
    flats = [flatten_config(c or {}) for c in configs]
    if len(flats) < 2:
        return []
    names: list[str] = []
    for flat in flats:
        names.extend(n for n in flat if n not in names)
    missing = object()
    out = []
    for name in names:
        if not include_bookkeeping and _is_bookkeeping(name):
            continue
        values = [flat.get(name, missing) for flat in flats]
        first = values[0]
        if any(v is missing for v in values) or not all(_same(first, v) for v in values[1:]):
            out.append(name)
    return out


@dataclass(frozen=True)
class SettingChange:
    setting: str       # flattened name, e.g. "model.learning_rate"
    old: Any
    new: Any

    def describe(self) -> str:
        """``"Learning rate: 0.001 -> 0.01"``, ``"Turn: off -> up to ±36°"``: the widgets' labels,
        words and units (from the settings' declarations, :mod:`cnn_core.setting_words`)."""
        return labelled_change(self.setting, self.old, self.new)


#: A setting's value as people read it when it has no declaration: on/off, 0.001, 32x32, (none).
format_setting_value = plain_value


def _delta(new: float | None, old: float | None) -> float | None:
    return None if new is None or old is None else float(new) - float(old)


@dataclass
class WhatChanged:
    """The difference between run ``run_a`` (before) and ``run_b`` (after).

    ``*_delta`` are ``b - a`` (accuracies as fractions, seconds), None when a run lacks the figure.
    ``n_test_*``: test pictures behind each accuracy (None when unknown).
    """

    run_a: str
    run_b: str
    changes: list[SettingChange] = field(default_factory=list)
    test_accuracy_a: float | None = None
    test_accuracy_b: float | None = None
    test_accuracy_delta: float | None = None
    best_val_accuracy_delta: float | None = None
    train_seconds_a: float | None = None
    train_seconds_b: float | None = None
    train_seconds_delta: float | None = None
    n_test_a: int | None = None
    n_test_b: int | None = None

    @property
    def noise_note(self) -> str:
        """``"no real difference (within the test set's noise of ±2.9 points)"`` when the test
        accuracies differ by less than the test set's noise, else ``""`` (also when unknown)."""
        if None in (self.test_accuracy_a, self.test_accuracy_b, self.n_test_a, self.n_test_b):
            return ""
        return noise_words(self.test_accuracy_a, self.test_accuracy_b, self.n_test_a, self.n_test_b)

    def summary(self) -> str:
        """One plain line, e.g. ``Learning rate: 0.001 -> 0.01; test accuracy +3.1 points; ...``."""
        parts = [c.describe() for c in self.changes] or ["same settings"]
        if self.test_accuracy_delta is not None:
            note = self.noise_note
            parts.append(f"test accuracy {self.test_accuracy_delta * 100:+.1f} points" + (f", {note}" if note else ""))
        if self.train_seconds_delta is not None:
            seconds = self.train_seconds_delta
            parts.append(f"training {abs(seconds):.1f} s {'longer' if seconds >= 0 else 'shorter'}")
        return "; ".join(parts)


def applies_to_both(name: str, model_a: Mapping, model_b: Mapping) -> bool:
    """Whether flattened setting ``name`` has an effect in both models (settings outside
    ``model.`` always do): an MLP has no filter size to change, so a change of it is no change."""
    from cnn_core.model.setting_use import is_used

    section, _, field_name = name.partition(".")
    if section != "model" or not field_name:
        return True
    return is_used(field_name, model_a) and is_used(field_name, model_b)


def what_changed(store: RunStore, run_a: str, run_b: str) -> WhatChanged:
    """The settings that differ between two runs (old -> new) and the effect on test accuracy and
    training time. Only settings that apply to both runs are listed: between an MLP and a CNN,
    "Convolution blocks: 0 -> 2" says it, not the CNN's filters and padding. Raises
    RunNotFoundError for an unknown id."""
    a, b = store.get(run_a), store.get(run_b)
    flat_a, flat_b = flatten_config(a.config or {}), flatten_config(b.config or {})
    models = [(a.config or {}).get("model") or {}, (b.config or {}).get("model") or {}]
    changes = [
        SettingChange(name, flat_a.get(name), flat_b.get(name))
        for name in differing_settings([a.config or {}, b.config or {}])
        if applies_to_both(name, *models)
    ]
    return WhatChanged(
        run_a=a.id, run_b=b.id, changes=changes,
        test_accuracy_a=a.test_accuracy, test_accuracy_b=b.test_accuracy,
        test_accuracy_delta=_delta(b.test_accuracy, a.test_accuracy),
        best_val_accuracy_delta=_delta(b.best_val_accuracy, a.best_val_accuracy),
        train_seconds_a=a.train_seconds, train_seconds_b=b.train_seconds,
        train_seconds_delta=_delta(b.train_seconds, a.train_seconds),
        n_test_a=n_test_of(store, a.id), n_test_b=n_test_of(store, b.id),
    )


#: The data set the one-click MLP-vs-CNN comparison trains on unless told otherwise: colour shapes
#: at random places, sizes and angles, where looking for local patterns anywhere (convolution)
#: beats looking at each pixel position on its own (bench/shapes_curves.py: lenet 0.80, mlp 0.31
#: test accuracy after 5 epochs).
MLP_VS_CNN_DATASET = "shapes"
MLP_VS_CNN_EPOCHS = 5


def equal_budget(mlp_spec, cnn_spec) -> str:
    """What the two runs of a comparison share, in plain words, e.g. ``"5 epochs each, same pictures,
    Adam with learning rate 0.001, batches of 64"``; raises SpecError if their budgets differ."""
    for setting in ("epochs", "batch_size", "optimizer", "learning_rate", "lr_schedule"):
        if getattr(mlp_spec, setting) != getattr(cnn_spec, setting):
            raise SpecError(setting, "The MLP and the CNN must train with the same {setting_} for a fair comparison "
                                     "({setting_2} vs {setting_3}).",
                                     setting_=setting, setting_2=getattr(mlp_spec, setting), setting_3=getattr(cnn_spec, setting))
    optimizer = {"sgd": "SGD", "muon": "Muon + SGD", "adam": "Adam", "adamw": "AdamW",
                 "rmsprop": "RMSprop"}.get(cnn_spec.optimizer, cnn_spec.optimizer)
    from cnn_core.i18n import ngettext

    return ngettext("{count} epoch each, same pictures, {optimizer} with learning rate {rate}, "
                    "batches of {batch}",
                    "{count} epochs each, same pictures, {optimizer} with learning rate {rate}, "
                    "batches of {batch}", int(cnn_spec.epochs), optimizer=optimizer,
                    rate=format(cnn_spec.learning_rate, "g"), batch=cnn_spec.batch_size)


#: What the MLP and the CNN of a comparison share: their training budget.
BUDGET_SETTINGS = ("epochs", "optimizer", "learning_rate", "batch_size", "lr_schedule", "momentum",
                   "nesterov", "weight_decay", "label_smoothing")


def mlp_vs_cnn_specs(epochs: int = MLP_VS_CNN_EPOCHS, cnn_preset: str = "lenet"):
    """``(mlp_spec, cnn_spec)`` of a comparison: the ``mlp`` preset and ``cnn_preset``, with the
    CNN's training budget (:data:`BUDGET_SETTINGS`) for both. Neither has a time limit: both
    train all their epochs, however fast each is."""
    from cnn_core.model import PRESETS

    cnn_spec = PRESETS[cnn_preset].replace(epochs=epochs, time_limit=0).validate()
    shared = {s: getattr(cnn_spec, s) for s in BUDGET_SETTINGS}
    return PRESETS["mlp"].replace(**shared).validate(), cnn_spec


def network_differences(mlp_model: Mapping, cnn_model: Mapping) -> str:
    """What really differs between the MLP and the CNN of a pair, in plain words.

    The CNN has convolution blocks and the MLP none; and their dense layers differ too (the
    ``mlp`` preset has its own sizes). Only settings that apply to both are compared: the
    convolutions' settings are not listed one by one (the MLP has none of them), nor the shared
    training budget.

    Example:
        >>> network_differences(PRESETS["mlp"].to_dict(), PRESETS["lenet"].to_dict())
        'The CNN has 2 convolution blocks, the MLP none. They also differ in: Units in the first
        dense layer: 256 (MLP) vs 120 (CNN); ...'
    """
    from cnn_core.i18n import _, ngettext
    from cnn_core.model.setting_use import is_used
    from cnn_core.settings import declared, show_value
    from cnn_core.model.spec import ModelSpec

    blocks = int(cnn_model.get("conv_blocks", 0) or 0)
    text = ngettext("The CNN has {count} convolution block, the MLP none.",
                    "The CNN has {count} convolution blocks, the MLP none.", blocks)
    others = []
    for name, decl in declared(ModelSpec).items():
        if name == "conv_blocks" or name in BUDGET_SETTINGS:
            continue
        if not (is_used(name, mlp_model) and is_used(name, cnn_model)):
            continue
        old, new = mlp_model.get(name), cnn_model.get(name)
        if old is None or new is None or _same(old, new):
            continue
        others.append(_("{label}: {mlp} (MLP) vs {cnn} (CNN)", label=_(decl.label),
                        mlp=show_value(decl, old), cnn=show_value(decl, new)))
    if others:
        text += " " + _("They also differ in: {differences}.", differences="; ".join(others))
    return text


def _mlp_vs_cnn_run_name(preset: str, epochs: int) -> str:
    from cnn_core.i18n import ngettext
    from cnn_core.model.presets import preset_name

    return ngettext("MLP vs CNN · {preset} · {count} epoch", "MLP vs CNN · {preset} · {count} epochs",
                    epochs, preset=preset_name(preset))


def mlp_vs_cnn(queue, dataset_id: str = MLP_VS_CNN_DATASET, epochs: int = MLP_VS_CNN_EPOCHS,
               cnn_preset: str = "lenet", augment=None, starter: Starter | None = None) -> tuple[str, str]:
    """Queue the ``mlp`` preset and a CNN preset on one data set with an equal budget: the same
    epochs, optimizer, learning rate and batch size (the CNN's). The networks differ: the CNN's
    convolutions, and each preset's dense layers (:func:`network_differences`).

    Both runs are submitted with ``config["comparison"] = "mlp_vs_cnn"``, a shared
    ``config["comparison_id"]`` and ``config["comparison_budget"]`` (the shared budget in words)
    through ``TrainingRequest.extra_config``, so a page finds the pair with :func:`mlp_vs_cnn_pairs`.

    ``starter``: the browser session queueing the pair: both runs are that session's, and the
    teacher's limits apply as to one run (the pair is one request waiting, see
    :func:`cnn_core.classroom.launch_key`). None for the command line and scripts.

    Returns:
        ``(mlp_run_id, cnn_run_id)``.

    Raises:
        SpecError: ``cnn_preset`` is not a CNN preset, ``epochs`` is below 1, or more epochs than
            the teacher allows.
        QueueLimitError: ``starter`` already has as many runs waiting as allowed; nothing is queued.
    """
    from cnn_core.model import PRESETS
    from cnn_core.training import TrainingRequest

    if cnn_preset not in PRESETS or int(PRESETS[cnn_preset].conv_blocks) == 0:
        cnn = sorted(p for p in PRESETS if int(PRESETS[p].conv_blocks) > 0)
        raise SpecError("preset", "'{cnn_preset}' is not a CNN preset. Choose one of: {cnn}.",
                                  cnn_preset=cnn_preset, cnn=', '.join(cnn))
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise SpecError("epochs", "Train for at least 1 epoch, not {epochs!r}.",
                                  epochs=epochs)
    mlp_spec, cnn_spec = mlp_vs_cnn_specs(epochs, cnn_preset)
    tags = {"comparison": MLP_VS_CNN, "comparison_id": "pair-" + new_run_id(),
            "comparison_budget": equal_budget(mlp_spec, cnn_spec)}
    requests = []
    for spec, preset in ((mlp_spec, "mlp"), (cnn_spec, cnn_preset)):
        kwargs = {} if augment is None else {"augment": augment}
        request = TrainingRequest(dataset_id=dataset_id, model=spec, preset=preset, extra_config=dict(tags),
                                  name=_mlp_vs_cnn_run_name(preset, epochs), **kwargs)
        request.validate()
        requests.append(request)
    mlp_id = queue.submit(requests[0], starter=starter)   # refused whole: nothing of the pair queued
    try:
        cnn_id = queue.submit(requests[1], starter=starter)
    except BaseException:
        queue.stop(mlp_id, starter=starter)                # never half a pair in the line
        raise
    return mlp_id, cnn_id


def mlp_vs_cnn_pairs(store: RunStore, viewer: Starter | None = None) -> list[tuple[RunRecord, RunRecord]]:
    """``(mlp_run, cnn_run)`` pairs queued by :func:`mlp_vs_cnn`, newest first (pairs with a
    deleted run are left out); with a ``viewer`` (a browser session) only pairs it may see."""
    groups: dict[str, dict[str, RunRecord]] = {}
    runs = store.list_runs() if viewer is None else sorted(
        visible_runs(store.list_runs(), viewer), key=lambda r: (r.created_at, r.id), reverse=True)
    for run in runs:  # newest first, so groups come out newest first too
        config = run.config or {}
        if config.get("comparison") != MLP_VS_CNN:
            continue
        is_mlp = int((config.get("model") or {}).get("conv_blocks", 1) or 0) == 0
        groups.setdefault(config.get("comparison_id") or run.id, {})["mlp" if is_mlp else "cnn"] = run
    return [(g["mlp"], g["cnn"]) for g in groups.values() if {"mlp", "cnn"} <= set(g)]
