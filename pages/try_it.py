"""Try it: show a finished model new pictures (upload, camera, drawing, a test picture) and look inside.

The pictures are prepared and predicted by ``cnn_core.predict``; the model is loaded once and kept.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnn_core.i18n import _, ngettext
from cnn_core.i18n_class_names import class_label
from cnn_core.predict import TrainingLook, load_trained_model, picture_warnings, predict_images
from components import state
from components.feedback import engine_errors
from components.navigation import run_inside_app
from components.network_inside import look_inside, why
from components.prediction_view import many_answers, one_answer
from components.run_picker import dataset_of, default_finished_run, pick_run
from components.run_results import finished_runs, run_test_images
from components.try_inputs import picture_inputs, prepare_given


@st.cache_data(show_spinner=False, max_entries=8)
def training_look(run_id: str, _images: np.ndarray) -> TrainingLook:
    return TrainingLook.of(_images)


def default_run(runs) -> str | None:
    """The latest finished run of the sidebar's data set, else the active (or newest) one."""
    chosen = state.dataset_id()
    same = [run.id for run in runs if dataset_of(run) == chosen]
    return same[0] if same else default_finished_run(runs, state.active_run_id())


run_inside_app()
st.title(_("Try it"))
st.caption(_("Show a trained model a new picture, yours, and see what it answers and why. Upload photos, take one "
           "with the camera, draw a digit, or let it pick a test picture."))

store = state.run_store()
runs = finished_runs(store)
if not runs:
    st.info(_("No model has finished training yet, so there is nothing to try. Train one first: the one-click "
            "model on the home page takes about a minute."), icon=":material/school:")
    st.page_link("pages/home.py", label=_("Train a first model in one click"), icon=":material/rocket_launch:")
    st.page_link("pages/model_builder.py", label=_("Build and train a model"), icon=":material/account_tree:")
    st.stop()

run = pick_run(runs, key="try_run", default_id=default_run(runs), memory="try_run_choice",
               help=_("Which trained model to show pictures to. The latest of the sidebar's data set comes first."))
trained = None
with engine_errors(_("This run's model cannot be used: ")):
    trained = load_trained_model(store, run.id)
if trained is None:
    st.stop()

y_true = test_images = None
with engine_errors(_("The test pictures of this run cannot be read: ")):
    _predictions, y_true = store.load_predictions(run.id)
    test_images = run_test_images(run, len(y_true))
given, fit, digit = picture_inputs(trained, test_images, y_true)
prepared, truths, problems = prepare_given(trained, given, fit, digit)
for problem in problems:
    st.error(problem, icon=":material/broken_image:")
if not prepared:
    st.stop()

predictions = predict_images(trained, [p.pixels for p in prepared], top=min(5, len(trained.class_names)))
look = training_look(run.id, test_images) if test_images is not None else None
names = list(trained.class_names)
chosen = 0
if len(prepared) > 1:
    st.subheader(ngettext("{count} picture", "{count} pictures", len(prepared)))
    many_answers(prepared, predictions)
    chosen = st.selectbox(_("Look closer at"), range(len(prepared)), key="try_pick",
                          format_func=lambda i: f"{prepared[i].name}: {class_label(predictions[i].best[1])}",
                          help=_("Pick one picture to see its answer, why, and the inside of the network."))
picture, prediction = prepared[chosen], predictions[chosen]
one_answer(picture, prediction, names, picture_warnings(trained, picture, prediction, look), truths[chosen])
why(trained, picture.pixels, prediction.best[0], prediction.ranked[1][0] if len(prediction.ranked) > 1 else None)
look_inside(trained, picture.pixels, prediction.probabilities)
