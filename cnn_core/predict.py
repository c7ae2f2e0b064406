"""Show a finished run's model new pictures: prepare them, predict, say the answer in words.

- :func:`load_trained_model`: the run's saved model (loaded once and kept, through the safe path
  of :func:`cnn_core.explain.load_run_model`), with its input shape and class names.
- :func:`prepare_images`: any user pictures -> exactly what the model takes in (its size and
  colour channels, by centre-crop or padding; see :mod:`cnn_core.picture_input`), optionally
  made to look like MNIST digits first (:mod:`cnn_core.digit_drawing`).
- :func:`predict_images`: per picture the classes ranked with their probabilities, computed as
  training computed the test set's (so a test picture gets the stored test prediction).
- :func:`answer_sentence`, :func:`picture_warnings`: the answer and its caveats in plain words.

Example:
    >>> trained = load_trained_model(store, run_id)
    >>> prepared = prepare_images(trained, ["seven.png"], fit="pad")
    >>> [answer_sentence(p) for p in predict_images(trained, [x.pixels for x in prepared])]
    ['It thinks this is a 7, 92% sure. Next best: 1, 5%.']
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnn_core.errors import ImageInputError, RunStateError
from cnn_core.i18n import N_, gettext
from cnn_core.i18n_class_names import class_label
from cnn_core.picture_input import FIT_MODES, UserPicture, fit_picture, read_picture

#: Below this top probability the model is called unsure.
UNSURE_BELOW = 0.5
#: Models kept loaded at once (one per run and model-file version).
KEPT_MODELS = 4
#: Pictures per model call.
BATCH = 256
#: Data set ids whose pictures are handwritten digits in MNIST's convention.
DIGIT_DATASETS = ("mnist", "mnist_sample")


@dataclass(frozen=True)
class TrainedModel:
    """A finished run's model, ready to predict.

    Attributes:
        run_id: the run it belongs to.
        model: the Keras model (takes raw 0..255 pixels: it scales them itself).
        image_shape: ``(height, width, channels)`` it takes in.
        class_names: one name per output.
        dataset_id: the data set it was trained on (``""`` when unknown).
        version: which model file version it is (changes when the run's model is saved again).
    """

    run_id: str
    model: Any
    image_shape: tuple[int, int, int]
    class_names: tuple[str, ...]
    dataset_id: str = ""
    version: str = ""

    @property
    def grayscale(self) -> bool:
        return self.image_shape[2] == 1

    @property
    def digits(self) -> bool:
        """True for a model of handwritten digits in MNIST's convention (28x28, light on black)."""
        return self.grayscale and (self.dataset_id in DIGIT_DATASETS
                                   or (self.image_shape[:2] == (28, 28)
                                       and list(self.class_names) == [str(d) for d in range(10)]))


@dataclass(frozen=True)
class PreparedImage:
    """A user's picture as the model will see it: uint8 ``(H, W, C)``, plus what was done to it."""

    pixels: np.ndarray
    name: str
    original: np.ndarray = field(repr=False)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Prediction:
    """One picture's answer: every class's probability, and the ``top`` best, best first."""

    probabilities: np.ndarray
    ranked: tuple[tuple[int, str, float], ...]

    @property
    def best(self) -> tuple[int, str, float]:
        return self.ranked[0]

    @property
    def unsure(self) -> bool:
        return self.best[2] < UNSURE_BELOW


# --------------------------------------------------------------------------- the kept models

_KEPT: OrderedDict[tuple, TrainedModel] = OrderedDict()
_KEPT_LOCK = threading.Lock()


def _file_stamp(path: Path) -> tuple:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def load_trained_model(store, run_id: str) -> TrainedModel:
    """The run's trained model, read from disk once per file version and then kept in memory.

    Raises:
        RunNotFoundError: no such run.
        RunStateError: the run is still training, kept no model (stopped early, interrupted), or
            its model file cannot be read safely.
    """
    from cnn_core.explain import load_run_model

    record = store.get(run_id)
    if record.is_active:
        raise RunStateError("Run '{record}' is still {status}. Wait until it has finished, or pick a finished run.",
                            record=record.name or run_id, status=record.status)
    path = store.model_path(run_id)
    if not path.exists():
        raise RunStateError("Run '{record}' ({status}) kept no trained model, so it cannot be shown new pictures. "
                            "Train it again, or pick another run.",
                            record=record.name or run_id, status=record.status)
    key = (str(Path(store.workspace).resolve()), run_id, *_file_stamp(path))
    with _KEPT_LOCK:
        if key in _KEPT:
            _KEPT.move_to_end(key)
            return _KEPT[key]
    model = load_run_model(store, run_id)
    shape = tuple(int(v) for v in model.input_shape[1:])
    if len(shape) != 3 or None in shape:
        raise RunStateError("The model of run '{record}' does not take pictures of a fixed size, so CNN Lab cannot "
                            "prepare pictures for it.",
                            record=record.name or run_id)
    n_out = int(model.output_shape[-1])
    names = store.class_names(run_id) or []
    if len(names) != n_out:
        names = [str(i) for i in range(n_out)]
    dataset_id = str((record.config.get("dataset") or {}).get("id") or "")
    trained = TrainedModel(run_id, model, shape, tuple(str(n) for n in names), dataset_id,
                           version="-".join(str(v) for v in key[2:]))
    with _KEPT_LOCK:
        _KEPT[key] = trained
        while len(_KEPT) > KEPT_MODELS:
            _KEPT.popitem(last=False)
    return trained


def forget_trained_models() -> None:
    """Drop every kept model (tests, or after runs were deleted)."""
    with _KEPT_LOCK:
        _KEPT.clear()


# --------------------------------------------------------------------------- preparing pictures

def prepare_image(trained: TrainedModel, source: Any, *, fit: str = "crop", digit: bool = False,
                  name: str | None = None) -> PreparedImage:
    """One user picture -> :class:`PreparedImage` of exactly ``trained.image_shape``.

    Args:
        source: anything :func:`cnn_core.picture_input.read_picture` reads (path, bytes, upload,
            array, or an already read :class:`~cnn_core.picture_input.UserPicture`).
        fit: ``"crop"`` or ``"pad"`` (see :data:`cnn_core.picture_input.FIT_MODES`).
        digit: first make it look like an MNIST digit (light, centred by mass, on black).

    Raises:
        ImageInputError: the picture cannot be read or (``digit``) holds no stroke.
    """
    if fit not in FIT_MODES:
        raise ImageInputError("Unknown way to fit a picture: '{fit}'. Choose crop or pad.",
                              fit=fit)
    picture = source if isinstance(source, UserPicture) else read_picture(source, name)
    pixels = picture.pixels
    notes = picture.notes
    if digit:
        from cnn_core.digit_drawing import mnist_like_digit

        pixels = np.repeat(mnist_like_digit(pixels)[..., None], 3, axis=-1)
        notes = notes + ("Made to look like the training digits: light on black, centred, 20x20.",)
    return PreparedImage(fit_picture(pixels, trained.image_shape, fit), picture.name, picture.pixels, notes)


def prepare_images(trained: TrainedModel, images: Iterable[Any], *, fit: str = "crop",
                   digit: bool = False) -> list[PreparedImage]:
    """:func:`prepare_image` for each picture; the first that cannot be used raises."""
    return [prepare_image(trained, image, fit=fit, digit=digit) for image in images]


# --------------------------------------------------------------------------- predicting

def _as_batch(trained: TrainedModel, arrays: Sequence[np.ndarray]) -> np.ndarray:
    batch = []
    for x in arrays:
        x = np.asarray(x)
        if x.ndim == 2:
            x = x[..., None]
        if tuple(x.shape) != trained.image_shape:
            h, w, c = trained.image_shape
            raise ImageInputError("A picture of shape {x} does not fit this model, which takes {h}x{w} pictures with "
                                  "{c} "
                                  "channel(s). Prepare it first.",
                                  x=tuple(x.shape), h=h, w=w, c=c)
        batch.append(x)
    return np.stack(batch).astype(np.float32) if batch else np.zeros((0, *trained.image_shape), np.float32)


def class_probabilities(trained: TrainedModel, arrays: Sequence[np.ndarray]) -> np.ndarray:
    """float32 ``(N, classes)``: what the model says of each uint8 picture, as training computed
    the test set's probabilities (raw pixels in, softmax applied if the model gave logits)."""
    from cnn_core.training import probabilities

    x = _as_batch(trained, arrays)
    if not len(x):
        return np.zeros((0, len(trained.class_names)), np.float32)
    outputs = [np.asarray(trained.model(x[i:i + BATCH], training=False)) for i in range(0, len(x), BATCH)]
    return probabilities(np.concatenate(outputs))


def rank(probs: np.ndarray, class_names: Sequence[str], top: int = 3) -> tuple[tuple[int, str, float], ...]:
    """The ``top`` classes of one probability vector, best first: ``(index, name, probability)``."""
    order = np.argsort(-np.asarray(probs), kind="stable")[: max(1, int(top))]
    return tuple((int(i), str(class_names[i]), float(probs[i])) for i in order)


def predict_images(trained: TrainedModel, arrays: Sequence[np.ndarray], top: int = 3) -> list[Prediction]:
    """Per prepared picture (uint8 ``trained.image_shape``) the ``top`` classes with probabilities.

    Raises:
        ImageInputError: a picture does not have the model's shape (use :func:`prepare_images`).
    """
    probs = class_probabilities(trained, arrays)
    return [Prediction(p, rank(p, trained.class_names, top)) for p in probs]


# --------------------------------------------------------------------------- in words

def percent(p: float) -> str:
    return f"{p * 100:.0f}%" if p >= 0.01 or p == 0 else gettext("under 1%")


def article(name: str) -> str:
    """``"a"`` or ``"an"`` before a class name as it is said: an apple, an 8, an 11, a 7, a cat."""
    word = name.strip().lower()
    digits = word.split(".")[0] if word[:1].isdigit() else ""
    if digits:
        eleven_or_eighteen = digits[:2] in ("11", "18") and len(digits) in (2, 5)  # 11, 18, 11000...
        return "an" if digits.startswith("8") or eleven_or_eighteen else "a"
    return "an" if word[:1] in tuple("aeiou") else "a"


def answer_sentence(prediction: Prediction) -> str:
    """``"It thinks this is a 7, 92% sure. Next best: 1, 5%."`` (``an 8``, ``an apple``)."""
    _, name, p = prediction.best
    text = gettext("It thinks this is {article} {name}, {percent} sure.", article=article(name),
                   name=class_label(name), percent=percent(p))
    if len(prediction.ranked) > 1:
        _, second, q = prediction.ranked[1]
        text += gettext(" Next best: {name}, {percent}.", name=class_label(second), percent=percent(q))
    return text


@dataclass(frozen=True)
class TrainingLook:
    """How a data set's pictures look on average, to notice a picture unlike them. The page measures
    the run's test pictures: they come from the same data set as the training pictures."""

    brightness: float        # mean pixel value 0..255 over the pictures
    brightness_spread: float  # standard deviation of the per-picture mean
    background: float        # median border pixel value (dark for MNIST)

    @classmethod
    def of(cls, images: np.ndarray, limit: int = 500) -> TrainingLook:
        x = np.asarray(images[:limit], dtype=np.float32)
        if x.ndim == 3:
            x = x[..., None]
        means = x.mean(axis=(1, 2, 3))
        border = np.concatenate([x[:, 0].reshape(len(x), -1), x[:, -1].reshape(len(x), -1)], axis=1)
        return cls(float(means.mean()), float(means.std()), float(np.median(border)))


def colourfulness(pixels: np.ndarray) -> float:
    """Mean spread between a pixel's colour channels, 0 (gray) .. 255."""
    x = np.asarray(pixels, dtype=np.float32)
    if x.ndim != 3 or x.shape[-1] < 3:
        return 0.0
    return float((x[..., :3].max(axis=-1) - x[..., :3].min(axis=-1)).mean())


def picture_warnings(trained: TrainedModel, prepared: PreparedImage, prediction: Prediction,
                     look: TrainingLook | None = None) -> list[str]:
    """Plain-word caveats: the model is unsure, or the picture looks unlike the training ones."""
    notes = []
    if prediction.unsure:
        notes.append(gettext("The model is unsure: its best guess gets only {percent}. The picture may show "
                             "something it was not trained on.", percent=percent(prediction.best[2])))
    if trained.grayscale and colourfulness(prepared.original) > 40:
        notes.append(gettext("This is a colour picture, but the model only ever saw gray ones; it sees this one "
                             "in gray, and may read it badly."))
    if look is not None:
        mean = float(prepared.pixels.mean())
        if abs(mean - look.brightness) > max(40.0, 3 * look.brightness_spread):
            text = (N_("This picture is much brighter than the training pictures (average brightness {mean:.0f} "
                       "against {usual:.0f} of 255), so the answer may be off.") if mean > look.brightness else
                    N_("This picture is much darker than the training pictures (average brightness {mean:.0f} "
                       "against {usual:.0f} of 255), so the answer may be off."))
            notes.append(gettext(text, mean=mean, usual=look.brightness))
        border = float(np.median(np.concatenate([prepared.pixels[0].ravel(), prepared.pixels[-1].ravel()])))
        if abs(border - look.background) > 128:
            notes.append(gettext("Its background is the opposite of the training pictures' (light instead of dark).")
                         if border > look.background else
                         gettext("Its background is the opposite of the training pictures' (dark instead of light)."))
    return notes


__all__ = ["BATCH", "DIGIT_DATASETS", "KEPT_MODELS", "PreparedImage", "Prediction", "TrainedModel",
           "TrainingLook", "UNSURE_BELOW", "answer_sentence", "article", "class_probabilities", "colourfulness",
           "forget_trained_models", "load_trained_model", "percent", "picture_warnings", "predict_images",
           "prepare_image", "prepare_images", "rank"]
