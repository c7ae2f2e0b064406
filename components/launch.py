"""Queue a training run from what the user chose in this session."""

from __future__ import annotations

import streamlit as st

from cnn_core.i18n import _
from components import state

#: The one-click first model (Home's "Train a first model", the guided demo's Train step): the
#: default preset for this many epochs.
FIRST_MODEL_EPOCHS = 3


def current_model_spec():
    """The model builder's spec (the default preset until the user touches it)."""
    from cnn_core.model import DEFAULT_PRESET, PRESETS, ModelSpec

    stored = st.session_state.get(state.MODEL_SPEC_KEY)
    return ModelSpec.from_dict(stored) if stored else PRESETS[DEFAULT_PRESET]


def current_augment_spec():
    """The spec chosen on the augmentation page with "use for training" (none by default)."""
    from cnn_core.augment import AugmentSpec

    stored = st.session_state.get(state.AUGMENT_SPEC_KEY)
    return AugmentSpec.from_dict(stored) if stored else AugmentSpec()


def preset_of(spec) -> str | None:
    """The preset the run's settings came from: the one picked in the model builder, else the
    preset the settings equal (the default preset when the builder was never opened); None for
    settings changed by hand."""
    from cnn_core.model.presets import PRESETS

    chosen = st.session_state.get(state.PRESET_KEY)
    if chosen in PRESETS and PRESETS[chosen] == spec:
        return chosen
    return next((name for name, preset in PRESETS.items() if preset == spec), None)


def launch_run(model_spec=None, *, preset: str | None = None, name: str | None = None) -> str:
    """Submit a run on the sidebar's data set to the job queue; it becomes the active run.

    Raises CnnLabError (e.g. SpecError) for settings that cannot work, before anything is queued,
    and QueueLimitError when this session has as many runs waiting as the teacher allows.
    """
    from cnn_core import engine_warmup

    engine_warmup.wait()   # the background warm-up may be importing TensorFlow right now
    from cnn_core.training import TrainingRequest

    spec = model_spec if model_spec is not None else current_model_spec()
    request = TrainingRequest(
        dataset_id=state.dataset_id(),
        model=spec,
        augment=current_augment_spec(),
        preset=preset if preset is not None else preset_of(spec),
        name=name,
    )
    from components.session_identity import starter

    run_id = state.job_queue().submit(request, starter=starter())   # the teacher's limits apply
    state.set_active_run(run_id)
    return run_id


def launch_first_model() -> str:
    """Queue the one-click first model (the default preset, :data:`FIRST_MODEL_EPOCHS` epochs) on
    the sidebar's data set; it becomes the active run."""
    from cnn_core.model import DEFAULT_PRESET, PRESETS  # imports TensorFlow: only on click

    spec = PRESETS[DEFAULT_PRESET].replace(epochs=FIRST_MODEL_EPOCHS)
    return launch_run(spec, preset=DEFAULT_PRESET, name=_("my first model"))
