"""The summary of a built Keras model: layer rows with weights and FLOPs, and totals."""

from __future__ import annotations

import keras
import numpy as np

from cnn_core.model.plan import LayerRow, ModelSummary, dense_flops, shape_text

def _count(weights) -> int:
    """Number of values in some weights (Keras counts a layer's or model's, not a subset's)."""
    return int(sum(int(np.prod(w.shape)) for w in weights))


def _no_batch(shape) -> tuple:
    return tuple(shape[1:])


def _layer_flops(layer, in_shape, out_shape) -> int:
    out_n = int(np.prod([d for d in out_shape if d is not None]))
    kind = type(layer).__name__
    if kind == "InputLayer":
        return 0
    if isinstance(layer, keras.layers.Conv2D):
        ho, wo, cout = out_shape
        kh, kw = layer.kernel_size
        cin = in_shape[-1]
        act = getattr(layer.activation, "__name__", "linear") != "linear"
        return (2 * ho * wo * kh * kw * cin * cout) + ho * wo * cout * (int(layer.use_bias) + int(act))
    if isinstance(layer, keras.layers.Dense):
        act = getattr(layer.activation, "__name__", "linear") != "linear"
        return dense_flops(int(in_shape[-1]), int(out_shape[-1]), layer.use_bias, act)
    if isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)):
        return int(np.prod(layer.pool_size)) * out_n
    if isinstance(layer, (keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D)):
        return int(np.prod(in_shape))
    if isinstance(layer, (keras.layers.Flatten, keras.layers.Dropout, keras.layers.SpatialDropout2D,
                          keras.layers.Reshape)):
        return 0
    if isinstance(layer, (keras.layers.Rescaling, keras.layers.BatchNormalization,
                          keras.layers.Normalization)):
        return 2 * out_n
    return out_n


def summarize(model: keras.Model) -> ModelSummary:
    """Layer rows (name, type, output shape, weights, FLOPs) and totals of a built model.

    ``flops_per_image`` is the forward-pass cost of one image: each convolution
    ``2*H_out*W_out*K*K*C_in*C_out`` and each dense layer ``2*in*out``, plus rough
    element-wise costs (bias, activation, scaling, batch norm, pooling); see the rules above
    ``conv_flops`` in :mod:`cnn_core.model.plan`. Training costs about three times that per
    image (forward + backward).
    """
    rows: list[LayerRow] = []
    for layer in model.layers:
        try:
            out_shape = _no_batch(layer.output.shape)
        except (AttributeError, ValueError):
            out_shape = ()
        try:
            in_shape = _no_batch(layer.input.shape) if type(layer).__name__ != "InputLayer" else ()
        except (AttributeError, ValueError):
            in_shape = out_shape
        rows.append(LayerRow(
            name=layer.name, type=type(layer).__name__, output_shape=shape_text(out_shape),
            params=int(layer.count_params()), flops=_layer_flops(layer, in_shape, out_shape),
            frozen_params=_count(layer.non_trainable_weights),
        ))
    total = int(model.count_params())  # layer weights only, no optimizer state
    trainable = _count(model.trainable_weights)
    return ModelSummary(rows, total, trainable, int(sum(r.flops for r in rows)))
