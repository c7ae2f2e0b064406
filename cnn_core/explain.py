"""What a trained model looks at: feature maps, first-layer filters, saliency and Grad-CAM.

Every function takes a Keras model as :func:`cnn_core.model.build_model` makes it (a flat
functional model whose first layer scales raw pixels; plain ``keras.Sequential`` models work too)
and one picture as the data set stores it: uint8 ``(H, W, C)`` (or ``(H, W)`` for grayscale).
The picture goes in exactly as training feeds it (:func:`cnn_core.training.make_dataset`): cast to
float32, still 0..255, because the model does its own scaling. Outputs are float32 arrays scaled
0..1, ready to draw; :func:`overlay` lays a heatmap over the picture.

- :func:`saliency`: how much each pixel would change the class score (gradient magnitude). Works
  for every model, MLPs included.
- :func:`grad_cam`: which regions of the picture the last convolution layer found evidence for a
  class in (Selvaraju et al., 2017). Needs a convolution layer.
- :func:`feature_maps` / :func:`filter_weights`: what one convolution layer computes, and the
  patterns the first one looks for.

Class scores are the logits (the output layer before its softmax) when the output layer is a
``Dense`` layer with a softmax, as in CNN Lab's models: the gradients of softmax probabilities
vanish once the model is sure. Gradients use TensorFlow (the Keras backend CNN Lab runs on).

Example:
    >>> model = load_run_model(store, run_id)
    >>> heat = grad_cam(model, image)            # the predicted class, last conv layer
    >>> picture = overlay(image, heat)           # uint8 (H, W, 3)
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from cnn_core import model as models_module
from cnn_core.errors import ExplainError, RunStateError
from cnn_core.i18n import ngettext
from cnn_core.receptive_field import FeatureGrid, feature_grid  # noqa: F401 - part of this module's interface

#: Layer kinds that count as convolution layers (slide a small filter over the picture).
CONV_LAYER_TYPES = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D,
                    keras.layers.SeparableConv2D, keras.layers.Conv2DTranspose)
#: Layers right after a convolution that belong to it (batch norm, then its activation): feature
#: maps and Grad-CAM read the convolution's output after them, as the next layer sees it.
_FOLLOWERS = (keras.layers.BatchNormalization, keras.layers.Activation, keras.layers.ReLU,
              keras.layers.LeakyReLU, keras.layers.ELU)


def _no_conv_message(what: str) -> str:
    return (f"This model has no convolution layers (it is an MLP), so there is nothing to {what}. "
            "It looks at all pixels at once through dense layers; try saliency instead, which "
            "shows the pixels that would change its answer most.")


# --------------------------------------------------------------------------- loading

def load_run_model(store, run_id: str) -> keras.Model:
    """The trained model a run saved (``model.keras``), without its optimizer.

    Loaded with :func:`cnn_core.model.load_model`, which keeps Keras' safe mode on: a model
    file that would run code when loaded (for example a ``Lambda`` layer) is refused.

    Raises:
        RunStateError: the run has no saved model, or it cannot be read.
    """
    path = store.model_path(run_id)
    if not path.exists():
        raise RunStateError("This run kept no trained model (it may have stopped before the end of "
                            "training), so there is nothing to look inside. Train it again to see.")
    try:
        return models_module.load_model(path, compile=False)
    except Exception as error:  # noqa: BLE001 - any unreadable file is the same problem to a user
        raise RunStateError("The saved model of this run cannot be read ({name__}: {error}). Train the run again.",
                            name__=type(error).__name__, error=error) from None


# --------------------------------------------------------------------------- layers and graphs

def conv_layers(model: keras.Model) -> list[str]:
    """Names of the model's convolution layers, input side first (empty for an MLP).

    Only the model's own layers are searched; a whole model nested inside counts as one layer.

    Example:
        >>> conv_layers(build_model(PRESETS["lenet"], (28, 28, 1), 10))
        ['block1_conv1', 'block2_conv1']
    """
    return [layer.name for layer in model.layers if isinstance(layer, CONV_LAYER_TYPES)]


def _pick_conv(model: keras.Model, layer_name: str | None, what: str, last: bool = False) -> str:
    names = conv_layers(model)
    if not names:
        raise ExplainError(_no_conv_message(what))
    if layer_name is None:
        return names[-1] if last else names[0]
    if layer_name not in names:
        raise ExplainError("The model has no convolution layer called '{layer_name}'. Its convolution layers are: "
                           "{names}.",
                           layer_name=layer_name, names=', '.join(names))
    return layer_name


def _is_sequential(model: keras.Model) -> bool:
    return isinstance(model, keras.Sequential)


def _shown_layer(model: keras.Model, conv_name: str) -> str:
    """The layer whose output shows what ``conv_name`` computed: the convolution itself, or the
    batch normalisation / activation layers right after it in a chain."""
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    i = next(k for k, layer in enumerate(layers) if layer.name == conv_name)
    while i + 1 < len(layers) and isinstance(layers[i + 1], _FOLLOWERS):
        if not _is_sequential(model):
            try:
                if layers[i + 1].input is not layers[i].output:
                    break
            except (AttributeError, ValueError):  # layer used more than once: stay put
                break
        i += 1
    return layers[i].name


def _softmax_head(model: keras.Model):
    """The output layer when it is a Dense layer with a softmax (so logits can be computed)."""
    last = model.layers[-1] if model.layers else None
    if not isinstance(last, keras.layers.Dense):
        return None
    if getattr(last.activation, "__name__", "") != "softmax":
        return None
    if not _is_sequential(model):
        try:
            if last.output is not model.outputs[0]:
                return None
        except (AttributeError, ValueError, IndexError):
            return None
    return last


def _probe(model: keras.Model, tap_names: list[str]) -> tuple[keras.Model, Any]:
    """A model from the input to ``[outputs of tap_names..., head]``.

    ``head`` is the input of the softmax output layer when there is one (returned second, so the
    caller computes logits), else the model's output (returned second as None).
    """
    head = _softmax_head(model)
    if _is_sequential(model):
        # A Sequential model's layers are a chain: call them in turn on a fresh input.
        inputs = keras.Input(shape=tuple(model.input_shape[1:]))
        x, taps, before_head = inputs, {}, None
        for layer in model.layers:
            if layer is head:
                before_head = x
            x = layer(x)
            taps[layer.name] = x
        outputs = [taps[name] for name in tap_names] + [before_head if head is not None else x]
    else:
        inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
        by_name = {layer.name: layer for layer in model.layers}
        outputs = [by_name[name].output for name in tap_names]
        outputs.append(head.input if head is not None else model.outputs[0])
    return keras.Model(inputs, outputs, name="cnn_lab_probe"), head


def _run(probe: keras.Model, x) -> list:
    """The probe's outputs as a list (Keras returns a bare tensor for a single output)."""
    outputs = probe(x, training=False)
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _batch(model: keras.Model, image) -> tf.Tensor:
    """One uint8 picture as training feeds it: float32 ``(1, H, W, C)``, still 0..255."""
    x = np.asarray(image)
    if x.ndim == 2:
        x = x[..., None]
    expected = tuple(model.input_shape[1:])
    if x.ndim != 3 or len(expected) != 3 or any(
            e is not None and int(e) != int(s) for e, s in zip(expected, x.shape)):
        eh, ew, ec = (expected + (None, None, None))[:3]
        raise ExplainError(ngettext(
            "This picture has shape {shape} (height, width, colour channels) but the model was "
            "trained on {height}x{width} pictures with {count} colour channel. Pick a picture from "
            "the data set the run was trained on.",
            "This picture has shape {shape} (height, width, colour channels) but the model was "
            "trained on {height}x{width} pictures with {count} colour channels. Pick a picture from "
            "the data set the run was trained on.", int(ec) if ec is not None else 0,
            shape=tuple(x.shape), height=eh, width=ew))
    return tf.convert_to_tensor(x[None].astype(np.float32))


def _scores(outputs, head) -> tf.Tensor:
    """Class scores ``(1, n_classes)``: centred logits when the head is a softmax Dense layer.

    A softmax gives the same probabilities when the same number is added to every logit, so a
    raw logit may grow for all classes at once; each logit minus their mean is the evidence for
    one class over the others. Without a softmax head the model's outputs are used as they are.
    """
    last = outputs[-1]
    if head is None:
        return tf.cast(last, tf.float32)
    logits = keras.ops.matmul(last, head.kernel)
    if head.use_bias:
        logits = logits + head.bias
    logits = tf.cast(logits, tf.float32)
    return logits - tf.reduce_mean(logits, axis=-1, keepdims=True)


def _class_of(scores: tf.Tensor, class_index: int | None) -> int:
    n = int(scores.shape[-1])
    if class_index is None:
        return int(tf.argmax(scores[0]))
    if not 0 <= int(class_index) < n:
        raise ExplainError("Class number {class_index} does not exist: this model knows classes 0 to {n}.",
                           class_index=class_index, n=n - 1)
    return int(class_index)


def _unit_scale(values: np.ndarray) -> np.ndarray:
    """Min-max scale to 0..1 (all zeros when constant)."""
    values = np.asarray(values, dtype=np.float32)
    low, high = float(values.min()), float(values.max())
    if not np.isfinite(low) or not np.isfinite(high) or high - low <= 1e-12:
        return np.zeros_like(values)
    return (values - low) / (high - low)


def _max_scale(values: np.ndarray) -> np.ndarray:
    """Divide non-negative values by their maximum (all zeros when the maximum is 0)."""
    values = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    top = float(values.max()) if values.size else 0.0
    return values / top if top > 1e-12 else np.zeros_like(values)


# --------------------------------------------------------------------------- explanations

def feature_maps(model: keras.Model, image, layer_name: str | None = None,
                 max_maps: int = 16) -> np.ndarray:
    """What one convolution layer computes for one picture: float32 ``(maps, h, w)`` in 0..1.

    Args:
        model: a model with convolution layers.
        image: uint8 ``(H, W, C)`` (or ``(H, W)``) picture, raw pixels.
        layer_name: one of :func:`conv_layers`; default the first (the one nearest the pixels).
        max_maps: keep at most this many maps, the most active (highest mean) first.

    A convolution followed by batch normalisation and an activation is read after them, as the
    next layer sees it. All kept maps share one scale (the lowest value 0, the highest 1), so a
    map that hardly reacted to the picture looks dark.

    Raises:
        ExplainError: the model has no convolution layer, or none of that name.
    """
    if int(max_maps) < 1:
        raise ExplainError("max_maps must be 1 or more, not {max_maps}.",
                           max_maps=max_maps)
    name = _pick_conv(model, layer_name, "show feature maps of")
    probe, _ = _probe(model, [_shown_layer(model, name)])
    maps = np.asarray(_run(probe, _batch(model, image))[0])[0]  # (h, w, k)
    order = np.argsort(-maps.mean(axis=(0, 1)), kind="stable")[: int(max_maps)]
    return _unit_scale(np.moveaxis(maps[..., order], -1, 0))


def filter_weights(model: keras.Model, layer_name: str | None = None) -> np.ndarray:
    """The kernels of a convolution layer (default the first) as float32 ``(n, kh, kw, c)`` in 0..1.

    Each of the ``n`` filters is a small ``kh x kw`` picture with the layer's input channels (the
    picture's colours, for the first layer). All filters share one scale: the most negative weight
    is 0, the most positive 1.

    Raises:
        ExplainError: the model has no convolution layer, or the layer has no ordinary kernel.
    """
    name = _pick_conv(model, layer_name, "show filters of")
    layer = model.get_layer(name)
    if not isinstance(layer, keras.layers.Conv2D):
        raise ExplainError("The layer '{name}' ({name__}) has no plain filters to show; pick an ordinary Conv2D "
                           "layer.",
                           name=name, name__=type(layer).__name__)
    kernel = np.asarray(keras.ops.convert_to_numpy(layer.kernel), dtype=np.float32)  # kh,kw,cin,n
    return _unit_scale(np.transpose(kernel, (3, 0, 1, 2)))


def saliency(model: keras.Model, image, class_index: int | None = None) -> np.ndarray:
    """Which pixels would change the class score most: float32 ``(H, W)`` in 0..1.

    The absolute gradient of the class score with respect to each raw pixel, the largest over
    the colour channels, divided by its maximum. Works for every model, MLPs included.

    Args:
        class_index: the class to explain; default the one the model predicts.

    Raises:
        ExplainError: the picture does not fit the model, or the class does not exist.
    """
    probe, head = _probe(model, [])
    x = _batch(model, image)
    with tf.GradientTape() as tape:
        tape.watch(x)
        scores = _scores(_run(probe, x), head)
        target = scores[0, _class_of(scores, class_index)]
    grads = tape.gradient(target, x)
    if grads is None:  # the output does not depend on the pixels at all
        return np.zeros(tuple(x.shape[1:3]), np.float32)
    return _max_scale(np.abs(np.asarray(grads)[0]).max(axis=-1))


def grad_cam(model: keras.Model, image, class_index: int | None = None,
             layer_name: str | None = None) -> np.ndarray:
    """Grad-CAM: where a convolution layer found evidence for a class, float32 ``(H, W)`` in 0..1.

    Each feature map of the layer (default the last convolution layer) is weighted by the mean
    gradient of the class score over it; the weighted sum, negative parts set to 0, is laid back
    over the pixels each map cell looks at (:func:`feature_grid`: 'valid' convolutions trim a
    border, so the map covers less than the whole picture), bilinear between cell centres, and
    divided by its maximum. All zeros means nothing in the
    picture spoke for that class.

    Args:
        class_index: the class to explain; default the one the model predicts.
        layer_name: one of :func:`conv_layers`; default the last.

    Raises:
        ExplainError: the model has no convolution layer (an MLP: use :func:`saliency`), no layer
            of that name, the class does not exist, or the picture does not fit the model.
    """
    name = _pick_conv(model, layer_name, "compute a Grad-CAM map from", last=True)
    probe, head = _probe(model, [_shown_layer(model, name)])
    x = _batch(model, image)
    with tf.GradientTape() as tape:
        tape.watch(x)
        outputs = _run(probe, x)
        maps = outputs[0]
        tape.watch(maps)
        scores = _scores(outputs, head)
        target = scores[0, _class_of(scores, class_index)]
    grads = tape.gradient(target, maps)
    height, width = int(x.shape[1]), int(x.shape[2])
    if grads is None:
        return np.zeros((height, width), np.float32)
    weights = tf.reduce_mean(tf.cast(grads, tf.float32), axis=(1, 2), keepdims=True)  # (1,1,1,k)
    cam = tf.nn.relu(tf.reduce_sum(tf.cast(maps, tf.float32) * weights, axis=-1))      # (1,h,w)
    cam = np.asarray(cam)[0]
    grid = feature_grid(model, _shown_layer(model, name), (height, width))
    if grid is None or grid.sizes != tuple(cam.shape):
        # A layer we cannot follow changed the map's size: stretch the map over the picture.
        enlarged = tf.image.resize(cam[None, ..., None], (height, width), method="bilinear")
        return _max_scale(np.maximum(np.asarray(enlarged)[0, ..., 0], 0.0))
    return _max_scale(np.maximum(grid.to_input(cam), 0.0))


# --------------------------------------------------------------------------- drawing

def heat_colors(heat: np.ndarray) -> np.ndarray:
    """Heat 0..1 ``(H, W)`` -> float32 RGB ``(H, W, 3)`` in 0..1: blue (cold), green, yellow, red (hot)."""
    t = np.clip(np.asarray(heat, dtype=np.float32), 0.0, 1.0)[..., None]
    centres = np.array([3.0, 2.0, 1.0], dtype=np.float32)  # red, green, blue peaks ("jet")
    return np.clip(1.5 - np.abs(4.0 * t - centres), 0.0, 1.0)


def _rgb(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3:
        raise ValueError(f"expected one picture (H, W) or (H, W, C), got shape {image.shape}")
    if image.shape[-1] == 1:
        return np.repeat(image, 3, axis=-1)
    if image.shape[-1] >= 3:
        return image[..., :3]
    return np.repeat(image.mean(axis=-1, keepdims=True), 3, axis=-1)


def overlay(image, heat, alpha: float = 0.45) -> np.ndarray:
    """A uint8 RGB ``(H, W, 3)`` picture: the heatmap's colours laid over the picture.

    ``(1 - alpha) * picture + alpha * colours``; grayscale pictures become RGB. A heatmap of
    another size than the picture is resized to it (bilinear).

    Example:
        >>> overlay(np.zeros((28, 28, 1), np.uint8), np.ones((28, 28))).shape
        (28, 28, 3)
    """
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha must be from 0 to 1, got {alpha}")
    rgb = _rgb(image).astype(np.float32)
    heat = np.asarray(heat, dtype=np.float32)
    if heat.ndim != 2:
        raise ValueError(f"expected a heatmap (H, W), got shape {heat.shape}")
    if heat.shape != rgb.shape[:2]:
        from PIL import Image

        resized = Image.fromarray(heat).resize((rgb.shape[1], rgb.shape[0]),
                                                         Image.BILINEAR)
        heat = np.asarray(resized, dtype=np.float32)
    colours = heat_colors(heat) * 255.0
    mixed = (1.0 - float(alpha)) * rgb + float(alpha) * colours
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


__all__ = ["CONV_LAYER_TYPES", "FeatureGrid", "conv_layers", "feature_grid", "feature_maps",
           "filter_weights", "grad_cam", "heat_colors", "load_run_model", "overlay", "saliency"]
