"""Home: what CNN Lab does, the steps in order, and a one-click first model.

Appears without importing TensorFlow; it is imported only when "Train a first model" is clicked.
"""

from __future__ import annotations

import streamlit as st

from cnn_core.dataset_names import dataset_name
from cnn_core.datasets import DEFAULT_DATASET_ID, dataset_info
from cnn_core.i18n import _
from cnn_core.model.presets import DEFAULT_PRESET
from cnn_core.split_sizes import split_sizes
from components.dataset_upload import select_dataset
from components.feedback import engine_errors
from components.launch import FIRST_MODEL_EPOCHS
from components.navigation import run_inside_app
from components.narrow_screens import STEP_CARDS_KEY

STEPS = [
    ("pages/data.py", _("1. Look at the data"), ":material/photo_library:",
     _("Browse the pictures the computer will learn from, class by class, or upload your own.")),
    ("pages/model_builder.py", _("2. Build a model"), ":material/account_tree:",
     _("Stack layers with sliders and see how big and how fast the network will be.")),
    ("pages/training.py", _("3. Train it"), ":material/monitoring:",
     _("Watch the model improve, epoch by epoch, with live curves; stop or pause at any time.")),
    ("pages/evaluation.py", _("4. See how good it is"), ":material/grid_on:",
     _("Check which classes it gets right, which it confuses, and look at its mistakes.")),
]


def train_first_model() -> None:
    """Queue the one-click model on the offline default data set (chosen by the click), open training."""
    from components.launch import launch_first_model

    launch_first_model()
    st.switch_page("pages/training.py")


def first_model_caption() -> str:
    """What the one-click model trains on, with the numbers of the data set's own split."""
    from cnn_core.model.presets import preset_name

    info = dataset_info(DEFAULT_DATASET_ID)
    sizes = split_sizes(int(info.n_images), int(info.n_classes))
    return _("Trains {network} for {epochs} passes over {train} pictures of the {dataset} set, which comes "
             "with CNN Lab (no internet needed); {validation} more check it while it trains and {test} test "
             "it at the end. Takes about a minute on a laptop.",
             network=preset_name(DEFAULT_PRESET), epochs=FIRST_MODEL_EPOCHS, train=format(sizes.train, ","),
             dataset=dataset_name(DEFAULT_DATASET_ID), validation=format(sizes.validation, ","),
             test=format(sizes.test, ","))


run_inside_app()
st.title(_("CNN Lab"))
st.markdown(
    _("CNN Lab lets you teach a computer to recognise pictures, without writing code: pick a set of "
    "labelled images, build a convolutional neural network with sliders and watch it learn.  \n"
    "Then find out what it got right, what it confused, and why.")
)

st.subheader(_("Try it in one click"))
st.caption(first_model_caption())
if st.button(_("Train a first model"), key="home_train_first", type="primary", icon=":material/rocket_launch:",
             on_click=select_dataset, args=(DEFAULT_DATASET_ID,),
             help=_("Starts training right away with sensible settings; you can change everything later.")):
    with engine_errors(_("Could not start training: ")):
        train_first_model()

st.subheader(_("The steps"))
steps_row = st.container(key=STEP_CARDS_KEY).columns(len(STEPS))   # two a row on a narrow screen
for column, (page, label, icon, text) in zip(steps_row, STEPS):
    with column, st.container(border=True):
        st.page_link(page, label=label, icon=icon)
        st.caption(text)

st.caption(
    _("Optional extras: **Augmentation** shows how random flips, turns and zooms vary the training "
    "pictures; **Mistakes** shows the pictures the model got wrong. The data set is chosen in the "
    "sidebar on the left.")
)
