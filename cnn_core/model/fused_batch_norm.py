"""Batch norm computed by TensorFlow's fused kernel: the same layer, about twice as fast a step.

Keras 3's ``BatchNormalization`` casts a bfloat16 input to float32 and normalises it with a
chain of separate element-wise operations (mean, variance, subtract, scale, add, cast back),
each a pass over the whole activation tensor and its gradient. On this project's 2-core CPU
that was half of the ``fast`` preset's training step (177 ms a step of 256 pictures; 86 ms with
no batch norm at all). TensorFlow's ``FusedBatchNormV3`` does the same arithmetic in one pass
(statistics in float32 whatever the input's type), and its gradient in one more: 94 ms a step,
the same numbers (``tests/test_fused_batch_norm.py``; ``python bench/batch_norm_speed.py``).

:class:`BatchNormalization` is Keras' layer with only ``call`` replaced: same weights, same
settings, same saved configuration apart from its registered name
(``cnn_lab>BatchNormalization``), so summaries and pages still call it "BatchNormalization" and a
``model.keras`` holding it loads with ``safe_mode``. Models saved before it (with Keras' own
layer) load as they were. Inputs the fused kernel does not take (not 4-D channels-last, a mask,
batch renormalisation) go through Keras' own computation.
"""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="cnn_lab")
class BatchNormalization(keras.layers.BatchNormalization):
    """``keras.layers.BatchNormalization`` through TensorFlow's fused batch-norm kernel.

    Training normalises with the batch's mean and (biased) variance and moves the running
    averages by ``momentum``, as Keras' layer does; inference uses the running averages.
    """

    def _fused(self, inputs, mask) -> bool:
        return (keras.backend.backend() == "tensorflow" and mask is None and not self.renorm
                and len(inputs.shape) == 4 and self.axis in (-1, 3))

    def call(self, inputs, training=None, mask=None):
        if not self._fused(inputs, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        channels = int(inputs.shape[-1])
        gamma = tf.cast(self.gamma, tf.float32) if self.scale else tf.ones([channels], tf.float32)
        beta = tf.cast(self.beta, tf.float32) if self.center else tf.zeros([channels], tf.float32)
        if training and self.trainable:
            outputs, mean, variance = tf.compat.v1.nn.fused_batch_norm(
                inputs, gamma, beta, epsilon=self.epsilon, data_format="NHWC", is_training=True)
            # The kernel returns the unbiased variance for the running average; Keras keeps the
            # biased one (what the batch was normalised with).
            count = tf.cast(tf.size(inputs) // channels, tf.float32)
            variance = variance * (count - 1.0) / tf.maximum(count, 1.0)
            keep = self.momentum
            self.moving_mean.assign(self.moving_mean * keep + mean * (1.0 - keep))
            self.moving_variance.assign(self.moving_variance * keep + variance * (1.0 - keep))
        else:
            outputs, _, _ = tf.compat.v1.nn.fused_batch_norm(
                inputs, gamma, beta, mean=tf.cast(self.moving_mean, tf.float32),
                variance=tf.cast(self.moving_variance, tf.float32), epsilon=self.epsilon,
                data_format="NHWC", is_training=False)
        return tf.cast(outputs, self.compute_dtype)


__all__ = ["BatchNormalization"]
