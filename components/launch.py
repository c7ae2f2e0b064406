"""Queue a training run from what the user chose in this session."""

from __future__ import annotations

import streamlit as st

from components import state


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
        preset=preset if preset is not None else st.session_state.get(state.PRESET_KEY),
        name=name,
    )
    from components.session_identity import starter

    run_id = state.job_queue().submit(request, starter=starter())   # the teacher's limits apply
    state.set_active_run(run_id)
    return run_id
