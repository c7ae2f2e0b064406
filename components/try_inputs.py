"""Where the Try it page's pictures come from: uploads, the camera, a drawing, a random test picture.

:func:`picture_inputs` draws the chosen input and returns the pictures it gave, as
:class:`GivenPicture` (the raw source for ``cnn_core.predict.prepare_image``, a name, and for a test
picture its true class). Reading and checking the pictures is the engine's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from cnn_core.i18n import N_, _
from cnn_core.i18n_class_names import class_label
from cnn_core.image_formats import UPLOAD_TYPES, formats_text
from cnn_core.picture_input import FIT_MODES
from cnn_core.predict import TrainedModel
from components.drawing_pad import drawing_pad

SOURCES = {"upload": N_("Upload pictures"), "camera": N_("Take a photo"), "draw": N_("Draw"),
           "test": N_("A random test picture")}
#: How a picture is fitted to the model's frame, in words (marked here, translated where shown).
FIT_WORDS = {"crop": N_("crop"), "pad": N_("pad")}
MAX_UPLOADS = 500


@dataclass(frozen=True)
class GivenPicture:
    source: Any
    name: str
    true_index: int | None = None
    ready: bool = False          # already exactly the model's input (a test picture)


def sources_for(trained: TrainedModel) -> list[str]:
    """Drawing is offered for grayscale models (digits, letters, sketches) only."""
    return [s for s in SOURCES if s != "draw" or trained.grayscale]


def _uploads() -> list[GivenPicture]:
    files = st.file_uploader(
        _("Pictures"), type=list(UPLOAD_TYPES), accept_multiple_files=True, key="try_upload",
        help=_("One or many pictures ({formats}). Several at once give a table you can sort and download.",
               formats=formats_text())) or []
    if len(files) > MAX_UPLOADS:
        st.warning(_("{count} pictures: only the first {limit} are used.", count=len(files), limit=MAX_UPLOADS))
    return [GivenPicture(f, f.name) for f in files[:MAX_UPLOADS]]


def _camera() -> list[GivenPicture]:
    st.caption(_("Your browser asks before it shares the camera. If it refuses (or there is no camera), "
               "allow it in the address bar's camera icon, or upload a photo instead."))
    shot = st.camera_input(_("Photo"), key="try_camera",
                           help=_("Hold the object in the middle of the frame, on a plain background."))
    return [GivenPicture(shot, _("camera photo"))] if shot is not None else []


def _drawing() -> list[GivenPicture]:
    png = drawing_pad()
    if png is None:
        st.info(_("Nothing drawn yet: draw a digit (big, in the middle of the square)."), icon=":material/draw:")
        return []
    return [GivenPicture(png, _("your drawing"))]


def _test_picture(test_images: np.ndarray | None, y_true: np.ndarray | None, names) -> list[GivenPicture]:
    if test_images is None or not len(test_images):
        st.info(_("The test pictures of this run's data set are not available."))
        return []
    st.button(_("Another one"), key="try_next_test", icon=":material/shuffle:",
              on_click=lambda: st.session_state.update(try_test_seed=st.session_state.get("try_test_seed", 0) + 1),
              help=_("Picks another random picture the model was tested on (never trained on)."))
    rng = np.random.default_rng(st.session_state.get("try_test_seed", 0))
    index = int(rng.integers(len(test_images)))
    true = int(y_true[index]) if y_true is not None and index < len(y_true) else None
    label = _(" (really: {name})", name=class_label(names[true])) if true is not None else ""
    return [GivenPicture(test_images[index], _("test picture {number}", number=index) + label, true, ready=True)]


def controls_for(source: str, trained: TrainedModel, digit: bool) -> set[str]:
    """Which preparation controls change anything for pictures from ``source``:

    - ``"digit"`` (make it look like the training digits): digit models, for pictures the user
      gives; a test picture already is a training-style digit.
    - ``"fit"`` (crop or pad): pictures of any shape. Not a test picture (already the model's
      size), nor a square drawing for a square model, nor a digit-style picture (already square).
    """
    if source == "test":
        return set()
    shown = {"digit"} if trained.digits else set()
    height, width = trained.image_shape[:2]
    square_model = int(height) == int(width)
    if not ((source == "draw" or digit) and square_model):
        shown.add("fit")
    return shown


def picture_inputs(trained: TrainedModel, test_images: np.ndarray | None, y_true: np.ndarray | None
                   ) -> tuple[list[GivenPicture], str, bool]:
    """Draw the input choice and the chosen input. Returns ``(pictures, fit, digit)``."""
    choices = sources_for(trained)
    if st.session_state.get("try_source") not in choices:
        st.session_state["try_source"] = "draw" if trained.digits else "upload"
    left, right = st.columns([2, 1])
    source = left.radio(_("Picture from"), choices, format_func=lambda s: _(SOURCES[s]), key="try_source", horizontal=True,
                        help=_("Where the new picture comes from. A random test picture needs nothing from you."))
    # Only the controls that change something for this source are shown (a test picture is
    # already exactly what the model takes in); a hidden control is back at its default later.
    fit = st.session_state.get("try_fit", "crop")
    digit = bool(trained.digits and st.session_state.get("try_digit", True))
    shown = controls_for(source, trained, digit)
    with right:
        if "digit" in shown:
            digit = st.toggle(
                _("Make it look like the training digits"), value=True, key="try_digit",
                help=_("Turns a drawing or photo into the training digits' style: light on black, the digit "
                       "scaled to 20x20 and centred in 28x28, as in MNIST."))
            shown = controls_for(source, trained, digit)
        if "fit" in shown:
            fit = st.radio(_("Fit to the model's frame"), list(FIT_MODES), key="try_fit", horizontal=True,
                           format_func=lambda mode: _(FIT_WORDS.get(mode, mode)),
                           help=_("The model only takes pictures of one size and shape. Crop cuts the picture "
                                  "to fill its frame (edges may be lost); pad keeps the whole picture and fills "
                                  "the gaps."))
        if source == "test":
            st.caption(_("A test picture is already exactly what the model takes in: nothing to adjust."))
    if source == "upload":
        return _uploads(), fit, digit
    if source == "camera":
        return _camera(), fit, digit
    if source == "draw":
        return _drawing(), fit, digit
    return _test_picture(test_images, y_true, trained.class_names), fit, digit


def prepare_given(trained: TrainedModel, given: list[GivenPicture], fit: str, digit: bool):
    """``(prepared pictures, their true classes, messages of the ones that could not be used)``.

    One bad picture does not stop the others: its plain message is returned instead.
    """
    from cnn_core.errors import CnnLabError
    from cnn_core.predict import PreparedImage, prepare_image

    prepared, truths, problems = [], [], []
    for picture in given:
        try:
            if picture.ready:
                pixels = np.asarray(picture.source)
                prepared.append(PreparedImage(pixels, picture.name, pixels))
            else:
                prepared.append(prepare_image(trained, picture.source, fit=fit, digit=digit, name=picture.name))
            truths.append(picture.true_index)
        except CnnLabError as error:
            problems.append(str(error))
    return prepared, truths, problems
