"""Model builder: every model setting as a widget; the network's layers, size and speed as you go.

The numbers and the layer table come from the pure-Python shape walk (no TensorFlow) on every
change; only the time estimate times a small Keras model, once per server process.
"""

from __future__ import annotations

import streamlit as st

from cnn_core.errors import CnnLabError
from cnn_core.i18n import _
from cnn_core.model import ModelSpec, check_spec
from components import spec_form, state
from components.feedback import engine_errors
from components.launch import launch_run
from components.model_diagram import model_diagram_figure
from components.model_summary import dataset_facts, human_count, show_layers_table, summarize_spec
from components.navigation import run_inside_app
from components.run_estimate import time_range_text
from components.spec_query import share_link_caption
from components.sweep_form import render_sweep_form

run_inside_app()
st.title(_("Model builder"))
st.caption(_("Design the network layer by layer. The picture, the table and the numbers on the right "
           "follow every change you make."))

facts = None
with engine_errors(_("The data set cannot be read, so the model cannot be sized for it: ")):
    facts = dataset_facts(state.dataset_id())

spec_form.preset_picker()
pending = spec_form.pending_spec()
spec, error = None, None
try:
    spec = ModelSpec.from_dict(pending)
    spec.validate()
    if facts is not None:
        check_spec(spec, facts.input_shape, facts.n_classes)
except CnnLabError as caught:  # SpecError names a setting; others show above
    error = caught

summary = None
if facts is not None and error is None:
    with engine_errors(_("The model could not be built: ")):
        summary = summarize_spec(spec.to_dict(), facts.input_shape, facts.n_classes)
if summary is not None:
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(_("Parameters"), human_count(summary["total_params"]),
              help=_("How many numbers the network learns. More can capture more, but needs more pictures and time."))
    m2.metric(_("Operations per picture"), human_count(summary["flops_per_image"]),
              help=_("Roughly how many multiplications and additions the network does to classify one picture "
                   "(FLOPs)."))
    m3.metric(_("Training time"), time_range_text([spec.to_dict()], state.dataset_id()),
              help=_("An estimate for all {epochs} epochs on this computer, start-up included; narrower once "
                     "a run on this data set has finished here.", epochs=spec.epochs))
    m4.metric(_("Layers"), len(summary["rows"]), help=_("How many layers the data flows through, input included."))
    st.caption(_("Sized for {name}: pictures of {shape}, {classes} classes.", name=facts.name,
                 shape=facts.shape_text, classes=facts.n_classes))

settings, summary_column = st.columns([1, 1.25], gap="large")
with settings:
    values = spec_form.spec_form(pending, error)
spec_form.save_spec(values)

with summary_column:
    if error is not None and spec_form.group_of(getattr(error, "setting", "")) is None:
        st.error(str(error), icon=":material/error:")
    if facts is None:
        st.info(_("Pick a data set in the sidebar that can be loaded to see the model's size."))
    elif error is not None:
        where = spec_form.label_of(getattr(error, "setting", ""))
        st.info(_("This combination of settings cannot work. Change the setting marked in red")
                + (_(" (“{where}”).", where=where) if where else "."), icon=":material/build:")
    if summary is not None:
        st.subheader(_("The layer stack"))
        st.caption(_("Data flows from top to bottom. Wider boxes have more channels (filters); taller boxes hold "
                   "bigger images. Point at a box for details."))
        st.plotly_chart(model_diagram_figure(summary["rows"], facts.input_shape), key="mb_diagram",
                        config={"displayModeBar": False})
        st.subheader(_("Layers"))
        st.caption(_("Each layer, the shape of what it outputs (height × width × channels) and how many "
                   "numbers it learns."))
        show_layers_table(summary["rows"])
    st.divider()
    clicked = st.button(_("Train this model"), key="mb_train", type="primary", icon=":material/play_arrow:",
                        disabled=error is not None or facts is None,
                        help=_("Queues training with these settings on the sidebar's data set and opens the "
                             "Training page."))
    if clicked:
        with engine_errors(_("Could not start training: ")):
            launch_run(ModelSpec.from_dict(values))
            st.switch_page("pages/training.py")
    share_link_caption()
    with st.expander(_("Sweep: try several values"), icon=":material/tune:"):
        render_sweep_form(values, state.dataset_id())
