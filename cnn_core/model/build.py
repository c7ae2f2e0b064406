"""The Keras build: :func:`build_model` turns a :class:`ModelSpec` into an uncompiled model.

The model's first layer scales raw 0..255 pixels, so a saved ``model.keras`` takes images as
they are stored.
"""

from __future__ import annotations

import keras

from cnn_core.model.fused_batch_norm import BatchNormalization
from cnn_core.model.number_precision import computed_precision
from cnn_core.model.plan import (
    POOL_SIZE, WHITENING_PATCH, check_spec, pools_after, pools_at_block_end, whitening_filters,
)
from cnn_core.model.spec import ModelSpec, block_filters, dense_units_at

#: Batch-norm running averages follow the data faster than Keras' default 0.99: small data sets
#: have few steps per epoch, and 0.99 left validation accuracy at chance for several epochs.
BN_MOMENTUM = 0.9

#: Keras dtype policy of each precision computed in (weights stay float32 in both); "auto" is
#: first resolved on this computer (:func:`computed_precision`).
DTYPE_POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16"}


def _pool(spec: ModelSpec, x, b: int):
    dtype = DTYPE_POLICIES[computed_precision(spec.precision)]
    if spec.pooling == "max":
        return keras.layers.MaxPooling2D(POOL_SIZE, name=f"block{b}_pool", dtype=dtype)(x)
    return keras.layers.AveragePooling2D(POOL_SIZE, name=f"block{b}_pool", dtype=dtype)(x)


def build_model(spec: ModelSpec, input_shape, n_classes: int, scaling=None,
                train_images=None) -> keras.Model:
    """An uncompiled Keras functional model for images of ``input_shape`` (H, W, C).

    The model takes raw pixels (floats or uint8 in 0..255). Its first layer is
    ``scaling.as_layer()`` when a fitted scaling is given (anything with ``as_layer()``, e.g.
    :class:`cnn_core.preprocessing.FittedScaling`), else ``Rescaling(1/255)``. Layer names are
    readable: ``block1_conv1``, ``block1_bn1``, ``block1_act1``, ``block1_pool``,
    ``block1_dropout``, ``flatten`` / ``global_pool``, ``dense1``, ``dense1_dropout``, ``output``.

    With ``whitening_stem`` the first layer after the scaling is ``whitening``, a frozen 2x2
    ``Conv2D`` (then ``whitening_act``); its kernel is computed from ``train_images`` (raw
    training pictures, see :mod:`cnn_core.model.whitening`) when given. With ``pool_position=
    "after_first_conv"`` each block pools right after its first convolution, before its batch
    norm. ``bn_scale=False`` leaves out batch norm's learned scale. ``precision="bfloat16"``
    (or ``"auto"`` on a computer with bfloat16 units, :mod:`cnn_core.model.number_precision`)
    gives every layer between the scaling and the output Keras' ``mixed_bfloat16`` policy
    (bfloat16 arithmetic, float32 weights); the output layer computes its softmax in float32.

    Seeds are not set here: the caller calls ``keras.utils.set_random_seed(spec.seed)`` first.

    Raises:
        SpecError: when :func:`check_spec` finds a setting that cannot work.
    """
    check_spec(spec, input_shape, n_classes)
    layers = keras.layers
    dtype = DTYPE_POLICIES[computed_precision(spec.precision)]
    h, w, c = (int(v) for v in input_shape)
    inputs = keras.Input(shape=(h, w, c), name="image")
    if scaling is not None:
        x = scaling.as_layer()(inputs)
    else:
        x = layers.Rescaling(1.0 / 255.0, name="scaling")(inputs)
    if spec.conv_blocks > 0 and spec.whitening_stem:
        x = layers.Conv2D(whitening_filters(c), WHITENING_PATCH, padding="valid", use_bias=False,
                          trainable=False, name="whitening", dtype=dtype)(x)
        x = layers.Activation(spec.activation, name="whitening_act", dtype=dtype)(x)
    for b in range(1, spec.conv_blocks + 1):
        filters = block_filters(spec, b - 1)
        for i in range(1, spec.convs_per_block + 1):
            x = layers.Conv2D(
                filters, spec.kernel_size, strides=spec.stride if i == 1 else 1,
                padding=spec.padding, use_bias=not spec.batch_norm,
                activation=None if spec.batch_norm else spec.activation,
                name=f"block{b}_conv{i}", dtype=dtype,
            )(x)
            if pools_after(spec, i):
                x = _pool(spec, x, b)
            if spec.batch_norm:
                x = BatchNormalization(momentum=BN_MOMENTUM, scale=bool(spec.bn_scale),
                                       name=f"block{b}_bn{i}", dtype=dtype)(x)
                x = layers.Activation(spec.activation, name=f"block{b}_act{i}", dtype=dtype)(x)
        if pools_at_block_end(spec):
            x = _pool(spec, x, b)
        if spec.conv_dropout > 0:
            x = layers.Dropout(spec.conv_dropout, name=f"block{b}_dropout", dtype=dtype)(x)
    if spec.conv_blocks > 0 and spec.head == "global_average":
        x = layers.GlobalAveragePooling2D(name="global_pool", dtype=dtype)(x)
    elif spec.conv_blocks > 0 and spec.head == "global_max":
        x = layers.GlobalMaxPooling2D(name="global_pool", dtype=dtype)(x)
    else:
        x = layers.Flatten(name="flatten", dtype=dtype)(x)
    for j in range(1, spec.dense_layers + 1):
        x = layers.Dense(dense_units_at(spec, j - 1), activation=spec.activation,
                         name=f"dense{j}", dtype=dtype)(x)
        if spec.dense_dropout > 0:
            x = layers.Dropout(spec.dense_dropout, name=f"dense{j}_dropout", dtype=dtype)(x)
    outputs = layers.Dense(int(n_classes), activation="softmax", name="output", dtype="float32")(x)
    model = keras.Model(inputs, outputs, name="cnn_lab_model")
    if spec.conv_blocks > 0 and spec.whitening_stem and train_images is not None:
        from cnn_core.model.whitening import fit_whitening_layer

        fit_whitening_layer(model, train_images, seed=int(spec.seed))
    return model
