"""Data sets: look at the pictures, count them per class, see their pixel values, add your own.

The data set is the one chosen in the sidebar. Appears without importing TensorFlow.
"""

from __future__ import annotations

import streamlit as st

from cnn_core.dataset_names import dataset_name
from cnn_core.datasets import dataset_info
from cnn_core.errors import CnnLabError
from cnn_core.i18n import N_, _, ngettext
from cnn_core.i18n_class_names import class_label
from cnn_core.image_stats import pixel_histogram, sample_indices
from cnn_core.stored_messages import message_text
from cnn_core.workspace import workspace_path
from components import state
from components.dataset_charts import class_counts_figure, pixel_histogram_figure
from components.dataset_loader import load_with_progress
from components.dataset_upload import add_images_form, share_form, skipped_files, zip_upload_form
from components.feedback import engine_errors
from components.image_grid import image_grid
from components.language import column_labels
from components.navigation import run_inside_app

ALL_CLASSES = "All classes"  # the option's value; shown as _("All classes") by class_label
SEED_KEY = "data_grid_seed"


def shuffle() -> None:
    st.session_state[SEED_KEY] = st.session_state.get(SEED_KEY, 0) + 1


def sample_grid(dataset) -> None:
    st.subheader(_("Sample pictures"))
    st.caption(_("A random handful of the training pictures, each labelled with its class: what the "
               "model will learn from."))
    names = [ALL_CLASSES, *dataset.class_names]
    if st.session_state.get("data_class") not in names:
        st.session_state["data_class"] = ALL_CLASSES
    c1, c2, c3, c4 = st.columns([2, 2, 3, 1.3], vertical_alignment="bottom")
    rows = c1.slider(_("Rows"), 1, 8, 3, key="data_rows", help=_("How many rows of pictures to show."))
    columns = c2.slider(_("Columns"), 2, 12, 8, key="data_columns", help=_("How many pictures per row."))
    chosen = c3.selectbox(_("Class"), names, key="data_class",
                          format_func=lambda n: _("All classes") if n == ALL_CLASSES else class_label(n),
                          help=_("Show only pictures of one class, or of all classes mixed."))
    c4.button(_("Shuffle"), key="data_shuffle", icon=":material/shuffle:", on_click=shuffle,
              help=_("Show a different random selection."))
    class_index = None if chosen == ALL_CLASSES else dataset.class_names.index(chosen)
    picked = sample_indices(dataset.y_train, rows * columns, class_index=class_index,
                            seed=st.session_state.get(SEED_KEY, 0))
    if len(picked) == 0:
        st.info(_("This class has no training pictures."))
        return
    captions = [class_label(dataset.class_names[int(dataset.y_train[i])]) for i in picked]
    image_grid(dataset.x_train[picked], captions, columns=columns)


def facts(dataset) -> None:
    h, w, c = dataset.image_shape
    cols = st.columns(5)
    cols[0].metric(_("Picture size"), _("{width}×{height} px", width=w, height=h),
                   help=_("Width × height of every picture, in pixels."))
    cols[1].metric(_("Colour channels"), c, help=_("1 = grayscale; 3 = colour (red, green, blue)."))
    cols[2].metric(_("Classes"), dataset.n_classes, help=_("How many different kinds of things to recognise."))
    cols[3].metric(_("Training pictures"), f"{len(dataset.y_train):,}",
                   help=_("Pictures the model learns from (a part is kept aside to check progress)."))
    cols[4].metric(_("Test pictures"), f"{len(dataset.y_test):,}",
                   help=_("Pictures kept apart to measure, at the end, how good the model really is."))


def charts(dataset) -> None:
    left, right = st.columns(2)
    with left:
        st.subheader(_("Pictures per class"))
        st.caption(_("How many pictures each class has. Very uneven bars mean the model sees some "
                   "classes much more often than others."))
        counts = {"train": dataset.class_counts("train"), "test": dataset.class_counts("test")}
        st.plotly_chart(class_counts_figure(counts), key="data_counts_chart")
    with right:
        st.subheader(_("Pixel values"))
        st.caption(_("How bright the pixels are, per colour channel. Models learn best when this is "
                   "rescaled to small numbers, which CNN Lab does for you."))
        hist = pixel_histogram(dataset.x_train)
        st.plotly_chart(pixel_histogram_figure(hist), key="data_pixels_chart")


run_inside_app()
st.title(_("Data sets"))
dataset_id = state.dataset_id()
try:
    description = dataset_info(dataset_id, workspace_path()).description
except CnnLabError:
    description = dataset_name(dataset_id)
st.caption(description + _("  \nChange the data set in the sidebar."))

dataset = None
with engine_errors(_("This data set cannot be shown: ")):
    dataset = load_with_progress(dataset_id)

if dataset is not None:
    facts(dataset)
    if len(dataset.y_train) == 0:
        st.info(_("This data set has no training pictures yet. Add some below."))
    else:
        sample_grid(dataset)
        charts(dataset)
    skipped = skipped_files(dataset)
    if skipped:
        with st.expander(ngettext("{count} file could not be used and was skipped",
                                  "{count} files could not be used and were skipped", len(skipped))):
            st.caption(_("These files are not in the data set. Usually they are not pictures, or are damaged."))
            st.dataframe([{"file": path, "reason": message_text(reason)} for path, reason in skipped],
                         hide_index=True, key="data_skipped", column_config=column_labels([N_("file"), N_("reason")]))

st.divider()
st.header(_("Your own pictures"))
st.caption(_("Teach the model your own classes: pictures of anything, sorted into one folder per class."))
left, right = st.columns(2)
with left, st.container(border=True):
    zip_upload_form()
with right, st.container(border=True):
    add_images_form()
share_form()
