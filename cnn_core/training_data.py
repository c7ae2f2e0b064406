"""A run's data on its way into ``fit``: split, scaling, label encoding and the tf.data pipeline.

Also the two helpers that turn model outputs into test-set results (:func:`probabilities`,
:func:`score_predictions`). Used by :func:`cnn_core.training.run_training`, the explanations
(:mod:`cnn_core.explain` feeds pictures exactly as :func:`make_dataset` does) and the benchmarks.

TensorFlow and NumPy are imported here at module level (see :mod:`cnn_core.job_queue` for why
no worker thread may be their first importer).

Example:
    >>> import numpy as np
    >>> ds = make_dataset(np.zeros((10, 8, 8, 1), np.uint8), np.arange(10) % 2, batch_size=4)
    >>> [int(x.shape[0]) for x, _ in ds]
    [4, 4, 2]
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from dataclasses import dataclass  # noqa: E402
from typing import TYPE_CHECKING, Any, Callable  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from cnn_core import datasets as datasets_module  # noqa: E402
from cnn_core import preprocessing as preprocessing_module  # noqa: E402
from cnn_core.augment_layers import alternating_flip  # noqa: E402
from cnn_core.training_request import TrainingRequest  # noqa: E402

if TYPE_CHECKING:
    from cnn_core.runs import RunStore


#: Batches augmented at once, and batches made ready ahead of training (fixed: see
#: :func:`_fixed_options`).
PIPELINE_THREADS = 2
PREFETCH_BATCHES = 2


def make_dataset(x: np.ndarray, y: np.ndarray | None, batch_size: int, *, shuffle: bool = False,
                 seed: int = 0, augment: Callable | None = None,
                 flip_epoch: tf.Variable | None = None, flip_seed: int = 0,
                 endless_from_epoch: int | None = None) -> tf.data.Dataset:
    """The tf.data pipeline used for training (and by the overhead benchmark's baseline).

    Images stay uint8 until batched; a training pipeline shuffles indices (seeded, reshuffled
    every epoch) and gathers batches, so no image is copied into a shuffle buffer. ``augment``
    is :func:`cnn_core.augment.augment_fn` (the preview's augmenter: uint8 batch in, float32
    0..255 out) and runs on whole batches; without it batches are just cast to float32.
    ``flip_epoch`` (a training pipeline only): the epoch number variable of the alternating flip
    (:func:`cnn_core.augment_layers.alternating_flip`, seeded with ``flip_seed``), applied as
    batches are gathered, where each picture's index is known.

    ``endless_from_epoch`` (a training pipeline only): the pipeline goes on pass after pass, each
    reshuffled, for ``fit(..., steps_per_epoch=ceil(n / batch_size))``, so Keras keeps one
    iterator for the whole fit. A fresh iterator each epoch stalled CIFAR-10 training here for
    10-15 s (the cores idle) in about half the epochs (bench/fast_preset.py: epochs of 26 or 41 s).
    The alternating flip then counts its epoch from the batches (this number + the pass), so
    ``flip_epoch`` only has to be given, not kept up to date.
    """
    n = int(len(x))
    if shuffle:
        x_t = tf.constant(x)
        y_t = tf.constant(y) if y is not None else None
        ds = tf.data.Dataset.range(n).shuffle(n, seed=seed, reshuffle_each_iteration=True)
        ds = ds.batch(batch_size)
        batches = -(-n // batch_size)
        if endless_from_epoch is not None:
            ds = ds.repeat().enumerate()    # (batch number, picture indices)
        else:
            ds = ds.map(lambda i: (tf.constant(-1, tf.int64), i))

        def gather(k, i):
            images = tf.gather(x_t, i)
            if flip_epoch is not None:
                epoch = (k // batches + endless_from_epoch if endless_from_epoch is not None
                         else flip_epoch)
                images = alternating_flip(images, i, epoch, flip_seed)
            return images

        if y_t is None:
            ds = ds.map(gather)
        else:
            ds = ds.map(lambda k, i: (gather(k, i), tf.gather(y_t, i)))
    else:
        ds = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y)).batch(batch_size)

    if augment is not None:
        def _augment(images, *labels):
            images = augment(images)
            return (images, *labels) if labels else images
        ds = ds.map(_augment, num_parallel_calls=PIPELINE_THREADS)
    else:
        def _cast(images, *labels):
            images = tf.cast(images, tf.float32)
            return (images, *labels) if labels else images
        ds = ds.map(_cast)
    return ds.prefetch(PREFETCH_BATCHES).with_options(_fixed_options())


def _fixed_options() -> tf.data.Options:
    """No tf.data autotuning: deleting an autotuned pipeline's iterator (what Keras does at the
    end of every ``fit``) waited for the tuner's sleeping thread, up to a minute with the cores
    idle (in 1 of 3 tries after 100 s of batches; never in 3 without the tuner)."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return options


def probabilities(outputs: np.ndarray) -> np.ndarray:
    """Model outputs as probabilities: softmax applied unless rows already sum to 1."""
    outputs = np.asarray(outputs, dtype=np.float32)
    if outputs.ndim == 2 and outputs.size and (
        outputs.min() < 0 or not np.allclose(outputs.sum(axis=1), 1.0, atol=1e-3)
    ):
        shifted = outputs - outputs.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        outputs = e / e.sum(axis=1, keepdims=True)
    return outputs.astype(np.float32)


def score_predictions(probs: np.ndarray, y_true: np.ndarray) -> tuple[float, float]:
    """(accuracy, cross-entropy loss without label smoothing) of test-set probabilities."""
    if len(y_true) == 0:
        return float("nan"), float("nan")
    y_true = np.asarray(y_true, dtype=np.int64)
    accuracy = float(np.mean(np.argmax(probs, axis=1) == y_true))
    picked = np.clip(probs[np.arange(len(y_true)), y_true], 1e-7, 1.0)
    return accuracy, float(-np.mean(np.log(picked)))


@dataclass
class PreparedData:
    """Arrays of one run after splitting, label encoding and fitting the scaling."""

    dataset: Any
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    y_train_encoded: np.ndarray
    y_val_encoded: np.ndarray
    scaling: Any
    label_encoding: str


def label_encoding_for(request: TrainingRequest) -> str:
    """One-hot when the spec asks for it or label smoothing needs it, else integer labels."""
    return preprocessing_module.effective_encoding(request.preprocess.label_encoding,
                                                   request.model.label_smoothing)


def load_request_dataset(request: TrainingRequest, store: RunStore | None = None,
                         progress: Callable[[float, str], None] | None = None):
    options = dict(request.dataset_options)
    if "image_size" in options and options["image_size"] is not None:
        options["image_size"] = tuple(int(v) for v in options["image_size"])
    workspace = store.workspace if store is not None else None
    return datasets_module.load_dataset(request.dataset_id, progress=progress,
                                        workspace=workspace, **options)


def prepare_data(request: TrainingRequest, dataset) -> PreparedData:
    """Stratified validation split, scaling fitted on the training part only, label encoding."""
    pre = request.preprocess
    x_tr, y_tr, x_val, y_val = preprocessing_module.train_validation_split(
        dataset.x_train, dataset.y_train, pre.validation_fraction, pre.seed)
    scaling = preprocessing_module.fit_scaling(pre.scaling, x_tr)
    encoding = label_encoding_for(request)
    n_classes = dataset.n_classes
    return PreparedData(
        dataset=dataset, x_train=x_tr, y_train=y_tr, x_val=x_val, y_val=y_val,
        y_train_encoded=preprocessing_module.encode_labels(y_tr, n_classes, encoding),
        y_val_encoded=preprocessing_module.encode_labels(y_val, n_classes, encoding),
        scaling=scaling, label_encoding=encoding,
    )


__all__ = ["PreparedData", "label_encoding_for", "load_request_dataset", "make_dataset",
           "prepare_data", "probabilities", "score_predictions"]
