"""What a run trained with, in the widgets' words: a one-line summary and every setting.

Read from the run's stored config (what the worker really trained), never from the session's
current settings, so a run always shows its own settings. Labels, words and units come from the
settings' declarations through :mod:`cnn_core.setting_words`.
"""

from __future__ import annotations

import streamlit as st

from cnn_core.dataset_names import dataset_name
from cnn_core.i18n import N_, _, ngettext
from cnn_core.model.presets import preset_name
from cnn_core.run_record import RunRecord
from cnn_core.setting_words import config_sections, describe_augment, setting_text

SETTINGS_TITLE = N_("Every setting this run trained with")


def run_summary(run: RunRecord) -> str:
    """One line: data set, preset, epochs, batch size, learning rate and the augmentation."""
    config = run.config or {}
    model = config.get("model") or {}
    dataset = config.get("dataset") or {}
    dataset_id = dataset.get("id") if isinstance(dataset, dict) else dataset
    return ngettext("Data set **{dataset}** · preset **{preset}** · {count} epoch of batches of {batch} pictures · "
                    "learning rate {rate} · augmentation: {augment}",
                    "Data set **{dataset}** · preset **{preset}** · {count} epochs of batches of {batch} pictures · "
                    "learning rate {rate} · augmentation: {augment}",
                    run.epochs_planned,
                    dataset=dataset_name(dataset_id) if isinstance(dataset_id, str) else _("unknown data set"),
                    preset=preset_name(config.get("preset")), batch=model.get("batch_size", "?"),
                    rate=setting_text("model.learning_rate", model["learning_rate"]) if "learning_rate" in model else "?",
                    augment=describe_augment(config.get("augment")))


def next_run_summary(dataset_id: str, model_spec: dict, preset: str | None, augment_spec: dict | None) -> str:
    """What the next "Start training" trains: the setup on screen (sidebar, model builder, augmentation)."""
    epochs = model_spec.get("epochs")
    return ngettext("Next run: data set **{dataset}** · {preset} · {count} epoch · augmentation: {augment}.",
                    "Next run: data set **{dataset}** · {preset} · {count} epochs · augmentation: {augment}.",
                    epochs if isinstance(epochs, int) else 2, dataset=dataset_name(dataset_id),
                    preset=_("preset {name}", name=preset_name(preset)) if preset else _("custom model"),
                    augment=describe_augment(augment_spec))


def settings_expander(run: RunRecord) -> None:
    """An expander with every setting of the run, by section (data set, model, augmentation,
    preprocessing)."""
    with st.expander(_(SETTINGS_TITLE), icon=":material/tune:"):
        sections = config_sections(run.config)
        left, right = st.columns(2, gap="large")
        for index, (title, rows) in enumerate(sections):
            column = left if index == 1 else right   # the long model list alone on the left
            column.markdown(f"**{title}**\n\n" + "\n".join(f"- {label}: {text}" for label, text in rows))


__all__ = ["SETTINGS_TITLE", "next_run_summary", "run_summary", "settings_expander"]
