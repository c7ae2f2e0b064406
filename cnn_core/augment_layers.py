"""The two augmentations Keras has no layer for: whole-pixel random crop and alternating flip.

:class:`RandomWholePixelCrop` pads each picture by ``padding`` pixels (reflecting the edge) and
cuts a random window of the original size back out, a shift by a whole number of pixels: no
resampling, so training pictures stay as sharp as test pictures (Keras' ``RandomTranslation``
interpolates bilinearly). :func:`alternating_flip` mirrors each picture left-right in every other
epoch, half of them starting with the mirror (airbench's alternating flip): over two epochs
every picture is seen both ways, where a random flip leaves a quarter of them one way only.

Example:
    >>> import numpy as np
    >>> images = np.arange(2 * 4 * 4).reshape(2, 4, 4, 1).astype("float32")
    >>> RandomWholePixelCrop(1, seed=0)(images).shape
    TensorShape([2, 4, 4, 1])
    >>> flipped = alternating_flip(images, np.arange(2), epoch=0, seed=0)
"""

from __future__ import annotations

import keras
import tensorflow as tf

#: Multiplier of the index hash that decides which pictures start mirrored (Knuth's).
_HASH = 2654435761


class RandomWholePixelCrop(keras.layers.Layer):
    """Pad by ``padding`` pixels with a mirror of the edge, then crop back at a random offset.

    Each picture of a batch gets its own offset, drawn uniformly from ``0..2*padding`` in each
    direction, so it moves by a whole number of pixels (-padding..+padding). Only with
    ``training=True``; otherwise pictures pass unchanged.

    Args:
        padding: pixels added on each side (1 or more; ``reflect`` needs it below the size).
        seed: seed of the layer's random stream (``self.generator``).
    """

    def __init__(self, padding: int, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.padding = int(padding)
        self.seed = seed
        self.generator = keras.random.SeedGenerator(seed)
        self.supports_jit = False

    def call(self, images, training=True):
        if not training or self.padding <= 0:
            return images
        p = self.padding
        images = tf.convert_to_tensor(images)
        shape = tf.shape(images)
        n, h, w = shape[0], shape[1], shape[2]
        padded = tf.pad(images, [[0, 0], [p, p], [p, p], [0, 0]], mode="REFLECT")
        offsets = keras.random.randint((n, 2), 0, 2 * p + 1, seed=self.generator, dtype="int32")
        offsets = tf.cast(offsets, tf.int32)
        rows = offsets[:, :1] + tf.range(h)[None, :]          # (n, h)
        cols = offsets[:, 1:] + tf.range(w)[None, :]          # (n, w)
        out = tf.gather(padded, rows, axis=1, batch_dims=1)   # (n, h, w + 2p, c)
        return tf.gather(out, cols, axis=2, batch_dims=1)     # (n, h, w, c)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "seed": self.seed}


def starts_mirrored(indices, seed: int):
    """Whether each picture (by its index in the training set) is mirrored in even epochs."""
    indices = tf.cast(indices, tf.int64)
    mixed = (indices + int(seed)) * _HASH % (2 ** 32)
    return tf.equal(tf.bitwise.bitwise_and(tf.bitwise.right_shift(mixed, 16), 1), 1)


def alternating_flip(images, indices, epoch, seed: int = 0):
    """``images`` with those whose turn it is mirrored left-right.

    Picture ``indices[k]`` is mirrored in epoch ``epoch`` when :func:`starts_mirrored` differs
    from the epoch being odd, so every picture flips between mirrored and not from one epoch to
    the next. ``epoch`` is a number or one per picture (the preview passes its variant number).
    """
    images = tf.convert_to_tensor(images)
    odd = tf.equal(tf.math.floormod(tf.cast(epoch, tf.int64), 2), 1)
    mirror = tf.math.logical_xor(starts_mirrored(indices, seed), odd)
    mirror = tf.broadcast_to(mirror, tf.shape(images)[:1])
    return tf.where(mirror[:, None, None, None], tf.reverse(images, axis=[2]), images)


class EpochCounter(keras.callbacks.Callback):
    """Keeps ``variable`` at the number of the epoch being trained (read by the data pipeline).

    Keras starts a new pass over a finite ``tf.data`` set after ``on_epoch_begin``, so the
    alternating flip of that pass reads the right epoch.
    """

    def __init__(self, variable: tf.Variable):
        super().__init__()
        self.variable = variable

    def on_epoch_begin(self, epoch, logs=None):
        self.variable.assign(int(epoch))


def epoch_variable() -> tf.Variable:
    """A fresh epoch number for :func:`alternating_flip` in a pipeline (see :class:`EpochCounter`)."""
    return tf.Variable(0, dtype=tf.int64, trainable=False, name="augment_epoch")


__all__ = ["EpochCounter", "RandomWholePixelCrop", "alternating_flip", "epoch_variable",
           "starts_mirrored"]
