"""Learning from the hardest pictures (Selective Backprop, Jiang et al. 2019).

With the model setting ``hard_share`` below 1, each training step draws ``batch_size /
hard_share`` pictures and learns from ``batch_size`` of them:

- during the first :data:`WARMUP_SHARE` of the epochs, from a random ``batch_size`` of them
  (the rest are skipped: such an epoch costs about ``hard_share`` of an ordinary one), while the
  model learns the basics;
- then from the ``batch_size`` it gets most wrong (highest cross-entropy), found by a forward
  pass over all of them (batch norm on its moving statistics). Pictures the model already
  answers confidently and right cost a forward pass instead of a full step.

A step always learns from ``batch_size`` pictures; an epoch has ``hard_share`` as many steps.
Measured on CIFAR-10 (the fast network with Muon, 45,000 training pictures, 5,000 held out,
2 AMD EPYC cores; ``bench/fast_preset_variants.py --keep-hard``, which these steps replay):
13 ordinary epochs 88.9% held out in 502 s; a third of each draw, the hardest from the start,
22 epochs 88.8% in 550 s; 4 ordinary epochs then 16 on the hardest third (what a third with
this warm-up trains) 90.1% in 555 s.

The step is a training-time attribute of the Keras model (:func:`install`), not part of the
saved ``model.keras``: a saved model is an ordinary one.

Example:
    >>> scoring_batch(256, 0.33), scoring_batch(256, 1.0)
    (776, 256)
    >>> warmup_epochs(0.33, 28), warmup_epochs(1.0, 28)
    (11, 0)
    >>> [round(c, 2) for c in epoch_costs(0.5, 10)]   # 4 warm-up epochs, then choosing ones
    [1.0, 1.0, 1.0, 1.0, 1.67, 1.67, 1.67, 1.67, 1.67, 1.67]
    >>> epoch_costs(0.5, 3)                            # too short to choose
    [1.0, 1.0, 1.0]
"""

from __future__ import annotations

import math

#: Forward-pass equivalents a trained picture costs (forward + backward, about twice the forward).
TRAINING_PASSES = 3.0
#: A scored-only picture costs one forward pass.
SCORING_PASSES = 1.0
#: The share of a run's epochs that learn from a random part of each draw before the hardest
#: part is chosen (4 of 20 epoch-equivalents in the measured run: 12 of the 28 epochs at 0.33).
WARMUP_SHARE = 0.4
#: A run of fewer epochs never chooses (each of its epochs learns from a random part of each
#: draw, like ordinary training in shorter epochs): choosing pays off only after the model has
#: learned the basics (choosing from the first step: 88.8% against 90.1%), and a time limit can
#: leave a slow computer just a few epochs (7 at 2 minutes on 2 AMD EPYC cores).
MIN_CHOOSING_RUN = 10


def is_on(share: float) -> bool:
    """True when ``hard_share`` asks for selection (below 1: 1 trains on every picture)."""
    return 0.0 < float(share) < 1.0


def scoring_batch(batch_size: int, share: float) -> int:
    """Pictures each training step draws: ``batch_size / share`` (just ``batch_size`` when
    selection is off)."""
    if not is_on(share):
        return int(batch_size)
    return max(int(batch_size), int(round(int(batch_size) / float(share))))


def warmup_epochs(share: float, epochs: int) -> int:
    """How many of a run's ``epochs`` learn from a random part of each draw (0 when off; all
    of them in a run shorter than :data:`MIN_CHOOSING_RUN` epochs)."""
    if not is_on(share):
        return 0
    if int(epochs) < MIN_CHOOSING_RUN:
        return int(epochs)
    return int(math.floor(WARMUP_SHARE * int(epochs)))


def choosing_step_cost(share: float) -> float:
    """A step that scores its whole draw and trains on the hardest part, in warm-up steps
    (which train on ``batch_size`` pictures and score none): ``(1 + 3 x share) / (3 x share)``.
    An estimate: a run with a time limit times both kinds of step on the computer at hand
    (:func:`cnn_core.time_limit.fit_to_time_limit`; 1.86 at a third on 2 AMD EPYC cores, where
    this gives 2.0)."""
    if not is_on(share):
        return 1.0
    share = float(share)
    return (SCORING_PASSES + TRAINING_PASSES * share) / (TRAINING_PASSES * share)


def epoch_costs(share: float, epochs: int, choosing_cost: float | None = None) -> list[float]:
    """Each epoch's cost relative to the first (all 1.0 without selection): the warm-up epochs
    1.0, the choosing ones ``choosing_cost`` (a measured ratio) or else
    :func:`choosing_step_cost`."""
    if not is_on(share):
        return [1.0] * int(epochs)
    warm = warmup_epochs(share, epochs)
    dear = choosing_step_cost(share) if choosing_cost is None else float(choosing_cost)
    return [1.0 if e < warm else dear for e in range(int(epochs))]


def chooses(share: float, epochs: int) -> bool:
    """True when a run of ``epochs`` epochs at ``share`` has choosing epochs."""
    return is_on(share) and warmup_epochs(share, epochs) < int(epochs)


def passes_per_picture(share: float) -> float:
    """Forward-pass equivalents an average epoch spends per training picture: 3 for ordinary
    training (forward + backward); with selection ``3 x share`` in the warm-up epochs and
    ``1 + 3 x share`` later (every picture scored, ``share`` of them trained)."""
    if not is_on(share):
        return TRAINING_PASSES
    share = float(share)
    return TRAINING_PASSES * share + SCORING_PASSES * (1.0 - WARMUP_SHARE)


def selective_train_step(model, batch_size: int, choosing):
    """A ``train_step`` for ``model`` that trains on ``batch_size`` pictures of each (larger)
    batch: the first ones (the batch is shuffled) while the boolean variable ``choosing`` is
    false, the ones with the highest loss once it is true. It trains through the model's own
    ``train_step``, so the optimizer, loss and label smoothing are the compiled ones. The
    training loss and accuracy it reports cover every picture it looked at (those not trained
    with their scores), not just the hardest: a curve of the hardest alone would fall as the
    model learns."""
    import tensorflow as tf

    real_step = type(model).train_step
    keep = int(batch_size)
    classes = int(model.outputs[0].shape[-1])

    def right_answers(probs, y):
        if y.shape.rank == probs.shape.rank:       # one-hot labels
            return tf.reduce_sum(tf.cast(y, tf.float32) * probs, axis=-1)
        labels = tf.reshape(tf.cast(y, tf.int32), [-1])   # class numbers
        return tf.gather(probs, labels, axis=-1, batch_dims=1)

    def hardest_first(self, x, y):
        probs = tf.cast(self(x, training=False), tf.float32)
        order = tf.argsort(right_answers(probs, y))   # least sure of the right answer first
        return order, probs

    def as_drawn(self, x, y):   # not scored (the answers are placeholders, never counted)
        n = tf.shape(x)[0]
        return tf.range(n), tf.fill(tf.stack([n, classes]), 1.0 / classes)

    def train_step(self, data):
        x, y = data[0], data[1]
        k = tf.minimum(keep, tf.shape(x)[0])
        order, probs = tf.cond(choosing, lambda: hardest_first(self, x, y),
                               lambda: as_drawn(self, x, y))
        real_step(self, (tf.gather(x, order[:k]), tf.gather(y, order[:k])))

        def count_the_rest():   # the scored pictures not trained count in the loss and accuracy
            rest = order[k:]
            y_rest, probs_rest = tf.gather(y, rest), tf.gather(probs, rest)
            self._loss_tracker.update_state(
                self.compute_loss(y=y_rest, y_pred=probs_rest, training=False),
                sample_weight=tf.shape(rest)[0])
            self.compute_metrics(None, y_rest, probs_rest)
            return tf.constant(True)
        tf.cond(choosing, count_the_rest, lambda: tf.constant(False))   # warm-up: not scored
        return self.get_metrics_result()

    return train_step.__get__(model)


def install(model, spec):
    """Give ``model`` the training step ``spec.hard_share`` asks for (after building, and again
    after loading a checkpoint). Returns the Keras callback that switches from the warm-up to
    choosing the hardest (call its ``plan(epochs)`` once the run's epochs are final and pass it
    to ``fit``), or None when every picture is trained."""
    import keras
    import tensorflow as tf

    model.train_function = None   # traced again with the step now in place
    if not is_on(spec.hard_share):
        vars(model).pop("train_step", None)
        return None
    choosing = tf.Variable(False, trainable=False)
    model.train_step = selective_train_step(model, int(spec.batch_size), choosing)

    class HardestAfterWarmup(keras.callbacks.Callback):
        """Sets ``choosing`` at the start of each epoch: true after the warm-up epochs.
        ``choosing_cost``: a choosing step's seconds over a warm-up step's, once the time limit
        has timed both on this computer (None: :func:`choosing_step_cost`'s estimate)."""

        def __init__(self):
            super().__init__()
            self.choosing = choosing
            self.choosing_cost: float | None = None
            self.plan(spec.epochs)

        def plan(self, epochs: int) -> None:
            self.first_choosing_epoch = warmup_epochs(spec.hard_share, epochs)

        def epoch_costs(self, epochs: int) -> list[float]:
            """:func:`epoch_costs` for this run, at the measured cost when there is one."""
            return epoch_costs(spec.hard_share, epochs, self.choosing_cost)

        def on_epoch_begin(self, epoch, logs=None):
            choosing.assign(epoch >= self.first_choosing_epoch)

    return HardestAfterWarmup()


__all__ = ["WARMUP_SHARE", "chooses", "choosing_step_cost", "epoch_costs", "install", "is_on",
           "passes_per_picture", "scoring_batch", "selective_train_step", "warmup_epochs"]
