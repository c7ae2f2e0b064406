"""The Try it page's inside views: why it said that, the convolution by hand, maps, filters, the path.

Each section is an expander a teacher opens one at a time; nothing is computed for a closed one
except what Streamlit needs to draw it (maps are cached per picture).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

from cnn_core.convolution_demo import (KERNEL_DESCRIPTIONS, KERNELS, convolve, pixel_arithmetic, strongest_pixel,
                                       to_display)
from cnn_core.i18n import _
from cnn_core.i18n_class_names import class_label
from cnn_core.image_stats import for_display
from cnn_core.predict import TrainedModel
from components.feedback import engine_errors
from components.image_grid import image_grid

LARGE = 224
MAPS_PER_LAYER = 8


@st.cache_data(show_spinner=False, max_entries=32)
def _heat(_trained: TrainedModel, stamp: tuple, pixels: np.ndarray, class_index: int) -> tuple[str, np.ndarray]:
    from cnn_core import explain

    if explain.conv_layers(_trained.model):
        return "grad_cam", explain.grad_cam(_trained.model, pixels, class_index=class_index)
    return "saliency", explain.saliency(_trained.model, pixels, class_index=class_index)


@st.cache_data(show_spinner=False, max_entries=16)
def _layers(_trained: TrainedModel, stamp: tuple, pixels: np.ndarray):
    from cnn_core.inside_view import layer_views

    return layer_views(_trained.model, pixels, max_maps=MAPS_PER_LAYER)


def why(trained: TrainedModel, pixels: np.ndarray, predicted: int, runner_up: int | None = None) -> None:
    """Grad-CAM (saliency for an MLP) for the predicted class and one the user picks (at first the
    runner-up)."""
    from cnn_core.explain import overlay

    names = list(trained.class_names)
    st.subheader(_("Why did it say that?"))
    other = st.selectbox(_("Also show the evidence for"), range(len(names)), format_func=lambda i: names[i],
                         index=runner_up if runner_up is not None else (predicted + 1) % len(names),
                         key="try_why_class",
                         help=_("Pick any class to see where the model found signs of it in this picture."))
    with engine_errors(_("The model cannot be looked inside: ")):
        stamp = (trained.run_id, trained.version)
        cells = st.columns(2, gap="medium")
        method = None
        for cell, index in zip(cells, (predicted, int(other))):
            method, heat = _heat(trained, stamp, pixels, index)
            what = _("Where it saw signs of") if method == "grad_cam" else _("Pixels that mattered most for")
            text = (f"{what} {class_label(names[index])}" if heat.max() > 0
                    else _("Nothing in this picture spoke for {name}", name=class_label(names[index])))
            cell.image(for_display(overlay(pixels, heat), LARGE), width="stretch",
                       caption=text + (_(" (its answer).") if index == predicted else "."))
        if method == "grad_cam":
            st.caption(_("Red and yellow show the parts of the picture that pushed the model towards a class; "
                       "blue parts hardly mattered (Grad-CAM)."))
        else:
            st.caption(_("This model has no convolution layers (it is an MLP), so it has no map of where it looked: "
                       "these show which pixels would change its answer most (a saliency map)."))


def convolution_by_hand(pixels: np.ndarray) -> None:
    """Pick or edit a 3x3 kernel; the picture before and after; one output pixel's arithmetic."""
    names = list(KERNELS)
    name = st.selectbox(_("Kernel"), names, index=names.index("sharpen"), key="try_kernel",
                        format_func=lambda n: f"{n}: {_(KERNEL_DESCRIPTIONS[n])}",
                        help=_("A classic 3x3 filter. Edit its nine numbers below to make your own."))
    st.caption(_("The nine numbers of the kernel (edit any):"))
    kernel = np.zeros((3, 3))
    for r in range(3):
        for c, cell in enumerate(st.columns(3)):
            kernel[r, c] = cell.number_input(f"k{r}{c}", value=float(KERNELS[name][r, c]), step=1.0, format="%g",
                                             key=f"try_k_{name}_{r}{c}", label_visibility="collapsed")
    out = convolve(pixels, kernel)
    row, col = strongest_pixel(pixels, kernel)
    before, after = st.columns(2)
    gray = np.clip(np.rint(pixels.astype(float).mean(axis=-1)), 0, 255).astype(np.uint8)
    before.image(for_display(gray, LARGE), caption=_("Before (in gray)"), width="stretch")
    after.image(for_display(to_display(out), LARGE), caption=_("After: every pixel replaced by the kernel's sum "
                "(values below 0 shown black, above 255 white)"), width="stretch")
    worked = pixel_arithmetic(pixels, kernel, row, col)
    st.markdown(_("**One output pixel, worked out** (row {row}, column {column}, where the kernel responds most): "
                  "each of the nine pixels around it times the kernel's number in the same place, all added up.",
                  row=row, column=col))
    st.code(worked.formula(), language=None, wrap_lines=True)
    patch, products = st.columns(2)
    patch.caption(_("The 3x3 patch of the picture"))
    patch.table([[f"{v:g}" for v in row] for row in worked.patch.round(1)])
    products.caption(_("Patch × kernel, number by number"))
    products.table([[f"{v:g}" for v in row] for row in worked.products.round(2)])


def feature_maps(trained: TrainedModel, pixels: np.ndarray) -> None:
    """Every convolution layer's strongest maps for this picture, with the layer's shape."""
    with engine_errors(_("The feature maps cannot be computed: ")):
        views = _layers(trained, (trained.run_id, trained.version), pixels)
        if not views:
            st.info(_("This model has no convolution layers (it is an MLP): it has no feature maps."))
            return
        from cnn_core.inside_view import map_picture

        for view in views:
            st.markdown(_("**{layer}** (the {count} strongest for this picture)", layer=view.describe(),
                          count=len(view.maps)))
            image_grid([map_picture(m) for m in view.maps], [_("map {number}", number=i + 1) for i in range(len(view.maps))],
                       columns=MAPS_PER_LAYER, min_side=48)


def learned_filters(trained: TrainedModel) -> None:
    """The first convolution layer's filters: the small patterns it looks for."""
    from cnn_core.errors import ExplainError
    from cnn_core.inside_view import filter_pictures

    try:
        pictures = filter_pictures(trained.model)
    except ExplainError as error:
        st.info(str(error))
        return
    st.caption(_("Each square is one learned 3x3 (or larger) filter, enlarged: white = a large positive weight, "
               "black = a large negative one. The first layer looks for these small patterns everywhere."))
    image_grid(pictures, [_("filter {number}", number=i + 1) for i in range(len(pictures))], columns=8, min_side=48)


def layer_strip(trained: TrainedModel, pixels: np.ndarray, probabilities: Sequence[float]) -> None:
    """Input -> each convolution layer's strongest map -> the final probabilities, in one row."""
    with engine_errors(_("The path through the network cannot be drawn: ")):
        views = _layers(trained, (trained.run_id, trained.version), pixels)
        from cnn_core.inside_view import map_picture

        best = int(np.argmax(probabilities))
        cells = st.columns(len(views) + 2)
        cells[0].image(for_display(pixels, 96), caption=_("input"), width="stretch")
        for cell, view in zip(cells[1:], views):
            cell.image(for_display(map_picture(view.maps[0]), 96), width="stretch",
                       caption=f"{view.name} {view.shape[0]}x{view.shape[1]}x{view.shape[2]}")
        cells[-1].metric(_("answer"), class_label(trained.class_names[best]))
        cells[-1].caption(_("{percent:.0f}% sure", percent=probabilities[best] * 100))
        st.caption(_("Left to right: the picture, then the strongest map of each convolution layer (smaller and "
                   "more abstract with depth), then the answer. The dense layers at the end turn the last maps "
                   "into one probability per class."))


def look_inside(trained: TrainedModel, pixels: np.ndarray, probabilities: Sequence[float]) -> None:
    """The four "Look inside" sections, one expander each."""
    st.subheader(_("Look inside"))
    with st.expander(_("The convolution itself")):
        convolution_by_hand(pixels)
    with st.expander(_("Feature maps of every convolution layer")):
        feature_maps(trained, pixels)
    with st.expander(_("The learned filters of the first layer")):
        learned_filters(trained)
    with st.expander(_("Layer by layer")):
        layer_strip(trained, pixels, probabilities)
