"""Augmentation preview: random variations of the training pictures, exactly as training makes them.

The preview runs the same Keras augmentation pipeline training uses (cnn_core.augment), so
what you see here is what the model sees.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnn_core.augment import AugmentSpec, augment_images
from cnn_core.i18n import _
from cnn_core.i18n_class_names import class_label
from cnn_core.image_stats import sample_indices
from components import augment_form, state
from components.dataset_loader import load_with_progress
from components.feedback import engine_errors
from components.image_grid import image_rows
from components.navigation import run_inside_app

run_inside_app()
st.title(_("Augmentation"))
st.caption(_("While training, each picture can be changed a little at random every time the model sees "
           "it: turned, shifted, zoomed, mirrored. The model then learns the thing itself, not one exact "
           "picture of it, and usually does better on new pictures."))

with st.container(border=True):
    st.markdown(_("**Random changes**"))
    st.caption(_("Switch a change on, then choose how strong it may be. Each picture gets a different random "
               "amount, up to that strength."))
    draft = augment_form.augment_controls(augment_form.draft())

spec = None
with engine_errors(_("These settings cannot be used: ")):
    spec = AugmentSpec.from_dict(draft)
    spec.validate()

used = st.session_state.get(state.AUGMENT_SPEC_KEY)
b1, b2, b3 = st.columns([1, 1.3, 3], vertical_alignment="center")
b1.button(_("Re-roll"), key="aug_reroll", icon=":material/casino:", on_click=augment_form.reroll,
          help=_("Draw new random changes for the same pictures."))
if b2.button(_("Use for training"), key="aug_use", type="primary", icon=":material/check:",
             disabled=spec is None, help=_("The next training run will change its pictures exactly like this.")):
    augment_form.use_for_training(spec.to_dict())
    used = st.session_state[state.AUGMENT_SPEC_KEY]
with b3:
    if used is not None and spec is not None and AugmentSpec.from_dict(used) == spec:
        st.success(_("The next training run uses these settings: {settings}.", settings=augment_form.describe(spec.to_dict())),
                   icon=":material/check_circle:")
    else:
        current = augment_form.describe(used) if used else _("no augmentation")
        st.info(_("The next training run uses: {current}. Press “Use for training” to use what you see here.",
                  current=current))

dataset = None
with engine_errors(_("This data set cannot be shown: ")):
    dataset = load_with_progress(state.dataset_id())

if dataset is not None and spec is not None:
    st.subheader(_("Preview"))
    st.caption(_("Left: the original picture. Right: random variants made with the settings above."))
    c1, c2 = st.columns(2)
    n_images = c1.slider(_("Pictures"), 1, 8, 4, key="aug_n_images", help=_("How many different pictures to show."))
    n_variants = c2.slider(_("Variants per picture"), 1, 8, 5, key="aug_n_variants",
                           help=_("How many random versions of each picture to make."))
    picked = sample_indices(dataset.y_train, n_images, seed=1234)
    if not spec.enabled:
        st.info(_("All changes are switched off, so every variant equals its original. Switch one on above."),
                icon=":material/toggle_off:")
    if len(picked) == 0:
        st.info(_("This data set has no training pictures to preview."))
    else:
        originals = dataset.x_train[picked]
        with engine_errors(_("The preview could not be made: ")):
            variants = augment_images(spec, originals, variants=n_variants,
                                      seed=st.session_state.get(augment_form.SEED_KEY, 0))
            variants = np.asarray(variants).reshape(len(picked), n_variants, *originals.shape[1:])
            rows = [[original, *row] for original, row in zip(originals, variants)]
            names = [class_label(dataset.class_names[int(dataset.y_train[i])]) for i in picked]
            captions = [[_("{name} (original)", name=name), *[_("variant {number}", number=v + 1) for v in range(n_variants)]]
                        for name in names]
            image_rows(rows, captions)
