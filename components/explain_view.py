""""Why did it say that?": heatmaps of where a run's model looked in one picture, and its feature maps.

The run's saved ``model.keras`` is loaded once per file version and kept
(:func:`cnn_core.predict.load_trained_model`) and the maps of one picture are cached too, so reruns are fast.
TensorFlow is imported only when this part is drawn.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnn_core.i18n import _
from cnn_core.i18n_class_names import class_label
from cnn_core.image_stats import for_display
from cnn_core.run_record import RunRecord
from components import state
from components.feedback import engine_errors
from components.image_grid import image_grid

LARGE = 224          # pixels of the smaller side of each heatmap picture
FEATURE_MAPS = 16    # feature maps shown in the first-layer grid


def _model(workspace: str, run_id: str, stamp: float):
    """The run's model, loaded once and kept by the engine (shared with the Try it page and the CLI)."""
    from cnn_core.predict import load_trained_model
    from cnn_core.runs import RunStore
    return load_trained_model(RunStore(workspace), run_id).model


@st.cache_data(show_spinner=False, max_entries=32)
def _maps(workspace: str, run_id: str, stamp: float, image: np.ndarray, classes: tuple[int, ...]) -> dict:
    from cnn_core import explain

    model = _model(workspace, run_id, stamp)
    convs = explain.conv_layers(model)
    if convs:
        return {"method": "grad_cam",
                "heats": [explain.grad_cam(model, image, class_index=c) for c in classes],
                "features": explain.feature_maps(model, image, max_maps=FEATURE_MAPS),
                "layer": convs[0]}
    return {"method": "saliency", "heats": [explain.saliency(model, image, class_index=c) for c in classes]}


def _heat_caption(method: str, heat: np.ndarray, name: str, predicted: bool) -> str:
    if not heat.max() > 0:
        return _("Nothing in this picture spoke for {name}.", name=class_label(name))
    if method == "grad_cam":
        return (_("Where it saw signs of {name}, what it said.", name=class_label(name)) if predicted
                else _("Where it saw signs of {name}, the right answer.", name=class_label(name)))
    return (_("Pixels that mattered most for its answer, {name}.", name=class_label(name)) if predicted
            else _("Pixels that mattered most for {name}, the right answer.", name=class_label(name)))


def explain_picture(run: RunRecord, image: np.ndarray, true_index: int, predicted_index: int,
                    class_names: list[str]) -> None:
    """Draw "Why did it say that?" for one test picture of ``run`` (uint8 ``(H, W, C)``).

    A CNN gets two Grad-CAM overlays (the predicted class and the true class) and, in an expander,
    the feature maps of its first convolution layer; a model without convolutions (an MLP) gets
    two saliency overlays instead. Problems are shown with ``st.error``; the page goes on.
    """
    from cnn_core.explain import overlay

    st.subheader(_("Why did it say that?"))
    store = state.run_store()
    path = store.model_path(run.id)
    if not path.exists():
        st.info(_("This run kept no trained model (it may have been stopped before the end, or imported "
                "without one), so there is nothing to look inside. Train it again to see where it looks."),
                icon=":material/visibility_off:")
        return
    with engine_errors(_("The model of this run cannot be looked inside: ")):
        stamp = path.stat().st_mtime
        with st.spinner(_("Looking inside the model…")):
            found = _maps(str(store.workspace), run.id, stamp, np.ascontiguousarray(image),
                          (int(predicted_index), int(true_index)))
        method = found["method"]
        if method == "grad_cam":
            st.caption(_("Red and yellow show the parts of the picture that pushed the model towards a class; "
                       "blue parts hardly mattered (a method called Grad-CAM)."))
        else:
            st.info(_("This model has no convolution layers (it is an MLP), so it has no map of where it "
                    "looked. Instead, the pictures show which pixels would change its answer most "
                    "(a saliency map)."), icon=":material/info:")
        names = [class_names[predicted_index], class_names[true_index]]
        cells = st.columns(2, gap="medium")
        for cell, heat, name, predicted in zip(cells, found["heats"], names, (True, False)):
            cell.image(for_display(overlay(image, heat), LARGE), width="stretch",
                       caption=_heat_caption(method, heat, name, predicted))
        if method == "grad_cam":
            with st.expander(_("What the first layer sees")):
                features = found["features"]
                st.caption(_("Each small picture is what one filter of the first layer ({layer}) picked out of this "
                             "picture: bright means a strong response. Strongest first.", layer=found["layer"]))
                tiles = [(f * 255).round().astype(np.uint8)[..., None] for f in features]
                image_grid(tiles, [_("filter response {number}", number=i + 1) for i in range(len(tiles))], columns=8,
                           min_side=64)
