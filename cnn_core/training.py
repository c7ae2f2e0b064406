"""Training one run: :func:`run_training`, which also continues a resumed run from its checkpoint
(:func:`~cnn_core.run_resume.prepare_resume` queues it again; importable from here too).

What to train is a :class:`~cnn_core.training_request.TrainingRequest`; the data's way into
``fit`` is :mod:`cnn_core.training_data` (both importable from here too).

:func:`run_training` trains one run synchronously; the command line calls it directly and the
job queue's worker thread (:mod:`cnn_core.job_queue`) calls it for every queued run. Everything
it learns goes to the :class:`~cnn_core.runs.RunStore`: status (the life cycle is
:class:`~cnn_core.run_status.RunStatus`), a progress point with the time left at most every
``progress_interval`` seconds, one row per epoch and checkpoints
(:mod:`cnn_core.run_recording`), TensorBoard scalars in ``logs/``, and at the end the test-set
predictions and ``model.keras``. The callbacks that steer a fit (stop, pause, divergence, early
stopping, TensorBoard) are in :mod:`cnn_core.training_callbacks`; the queue that runs trainings
in the background is :mod:`cnn_core.job_queue` (``get_job_queue`` is imported from there).

Example:
    >>> from cnn_core.model import PRESETS
    >>> from cnn_core.runs import RunStore
    >>> record = run_training(TrainingRequest("shapes", PRESETS["fast"].replace(epochs=1)),
    ...                       RunStore("/tmp/cnn-lab-example"))
    >>> record.status
    <RunStatus.FINISHED: 'finished'>
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import contextlib  # noqa: E402
import gc  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from typing import Callable  # noqa: E402

import numpy as np  # noqa: E402,F401  (TensorFlow, Keras and NumPy: imported before any worker starts)
import tensorflow as tf  # noqa: E402,F401

import keras  # noqa: E402

from cnn_core import augment as augment_module  # noqa: E402
from cnn_core import hard_examples  # noqa: E402
from cnn_core import model as models_module  # noqa: E402
from cnn_core import test_time_augmentation  # noqa: E402
from cnn_core.augment_layers import EpochCounter, epoch_variable  # noqa: E402
from cnn_core.errors import CnnLabError, RunStateError, SpecError  # noqa: E402
from cnn_core.i18n import N_, _, ngettext  # noqa: E402
from cnn_core.run_recording import CheckpointSaver, EpochRecorder, ProgressReporter  # noqa: E402
from cnn_core.run_status import Phase, RunStatus  # noqa: E402
from cnn_core.run_record import RunRecord, resume_hint  # noqa: E402
from cnn_core.run_resume import prepare_resume, resume_epoch  # noqa: E402,F401 - prepare_resume re-exported
from cnn_core.runs import RunStore  # noqa: E402
from cnn_core.stored_messages import Message, error_message, stored_message, stored_plural  # noqa: E402
from cnn_core.time_left import TimeLeftEstimator  # noqa: E402
from cnn_core.time_limit import (  # noqa: E402
    fit_to_time_limit,
    last_epoch_cut,
    measured_choosing_cost,
)
from cnn_core.training_callbacks import (  # noqa: E402
    DivergenceGuard,
    EpochHook,
    EpochSummaryWriter,
    FitState,
    JobControl,
    LastEpochCut,
    StopAndPause,
    UserAwareEarlyStopping,
    current_learning_rate,
    divergence_message,
    save_model_atomic,
)
from cnn_core.training_data import (  # noqa: E402,F401 - the pipeline, importable from here too
    PreparedData,
    label_encoding_for,
    load_request_dataset,
    make_dataset,
    prepare_data,
    probabilities,
    score_predictions,
)
from cnn_core.training_request import DATASET_OPTION_KEYS, TrainingRequest  # noqa: E402,F401
from cnn_core.workspace import atomic_write_json  # noqa: E402

#: A checkpoint is written at an epoch's end when the last one is at least this many times a
#: checkpoint's write time old (see :class:`~cnn_core.run_recording.CheckpointSaver`; the first
#: epoch that ends is always written), so at most ~1% of training time goes to checkpoints.
#: 0 writes one after every epoch. Overridable
#: with the environment variable ``CNN_LAB_CHECKPOINT_COST_FACTOR``.
CHECKPOINT_COST_FACTOR = float(os.environ.get("CNN_LAB_CHECKPOINT_COST_FACTOR", "100"))

def _spec_message(error: SpecError) -> Message:
    message = error_message(error)
    setting = getattr(error, "setting", None)
    if setting and setting not in error.english:
        message += stored_message("(setting: {setting})", setting=setting)
    return message


def run_training(request_or_run_id: TrainingRequest | str, store: RunStore | None = None,
                 control: JobControl | None = None, *, on_epoch: EpochHook | None = None,
                 on_status: Callable[[str], None] | None = None,
                 progress_interval: float = 0.5,
                 extra_callbacks: list | None = None) -> RunRecord:
    """Train one run synchronously, recording everything in ``store``; returns its final record.

    Given a :class:`TrainingRequest`, a new run is created. Given a run id, the run must be
    ``queued`` (new, or put back by :func:`prepare_resume`); when it already has recorded epochs
    and a checkpoint it continues from there (``initial_epoch`` = the checkpoint's epoch, with
    the optimizer state from the checkpoint; epoch rows after it are dropped and trained again).

    The run ends as ``finished``, ``stopped``, ``diverged`` or ``failed``. Errors are recorded,
    not raised: a :class:`SpecError` or other :class:`CnnLabError` becomes ``failed`` with its
    plain message; any other exception becomes ``failed`` with the traceback in ``error.log``.
    Only KeyboardInterrupt/SystemExit propagate (the run is then marked ``interrupted``).

    Args:
        request_or_run_id: what to train.
        store: the run store (default: the workspace's).
        control: stop/pause flags (default: a fresh :class:`JobControl`).
        on_epoch: called after each recorded epoch as ``on_epoch(epoch, epochs, metrics)``.
        on_status: called with a short line when the phase changes (CLI printing).
        progress_interval: minimum seconds between progress points.
        extra_callbacks: more Keras callbacks for ``fit`` (benchmarks, experiments).
    """
    store = store or RunStore()
    control = control or JobControl()
    if isinstance(request_or_run_id, TrainingRequest):
        request = request_or_run_id
        run_id = store.create_run(request.to_config(), name=request.name, sweep_id=request.sweep_id)
    else:
        run_id = str(request_or_run_id)
        record = store.get(run_id)
        request = None
    store.set_owner(run_id)
    started_at = time.monotonic()
    if not store.set_status(run_id, RunStatus.RUNNING, "", expected=(RunStatus.QUEUED,)):
        record = store.get(run_id)
        if record.status in (RunStatus.STOPPING, RunStatus.STOPPED):
            store.set_status(run_id, RunStatus.STOPPED, N_("Stopped before it started."))
            return store.get(run_id)
        raise RunStateError(
            "Run '{name}' is {status}, so it cannot start. Only queued runs train; resume an "
            "interrupted or stopped run first.",
            name=record.name, status=record.status
        )
    if control.stop_requested:
        store.set_status(run_id, RunStatus.STOPPED, N_("Stopped before it started."))
        return store.get(run_id)

    say = on_status or (lambda line: None)
    run_dir = store.run_dir(run_id)
    try:
        if request is None:
            record = store.get(run_id)
            request = TrainingRequest.from_config(record.config, name=record.name,
                                                  sweep_id=record.sweep_id)
        _train(request, run_id, store, control, on_epoch, say, progress_interval,
               list(extra_callbacks or []), started_at)
    except _StoppedBeforeTraining:
        store.set_progress(run_id, phase=Phase.STOPPED)
        store.set_status(run_id, RunStatus.STOPPED, N_("Stopped before training began. It can be resumed "
                                               "(it will start from the beginning)."))
    except SpecError as error:
        _fail(store, run_id, _spec_message(error), user_error=True)
    except CnnLabError as error:
        _fail(store, run_id, error_message(error), user_error=True)
    except (KeyboardInterrupt, SystemExit):
        record = store.get(run_id)
        store.set_status(
            run_id, RunStatus.INTERRUPTED,
            stored_plural("Training was cut off after {count} epoch.", "Training was cut off after {count} epochs.",
                          record.epochs_done)
            + resume_hint(record.checkpoint_epoch if store.checkpoint_path(run_id).exists() else 0))
        raise
    except Exception as error:  # noqa: BLE001 - recorded for the user, never kills the worker
        log_path = run_dir / "error.log"
        try:
            log_path.write_text(traceback.format_exc(), encoding="utf-8")
        except OSError:
            pass
        _fail(store, run_id,
              stored_message("Training failed unexpectedly ({error}). The details are in {path}. Try other "
                             "settings, or report the problem with that file.",
                             error=type(error).__name__ + ": " + str(error), path=str(log_path)), user_error=False)
    finally:
        gc.collect()   # free this run's model and tf.data pipelines now, not at the next run
    return store.get(run_id)


class _StoppedBeforeTraining(Exception):
    """A stop request arrived while the data set was loading."""


def _fail(store: RunStore, run_id: str, message: Message, *, user_error: bool) -> None:
    store.set_progress(run_id, phase=Phase.FAILED, user_error=user_error)
    store.set_status(run_id, RunStatus.FAILED, message)


def _train(request: TrainingRequest, run_id: str, store: RunStore, control: JobControl,
           on_epoch: EpochHook | None, say: Callable[[str], None], progress_interval: float,
           extra_callbacks: list, started_at: float) -> None:
    spec = request.model
    run_dir = store.run_dir(run_id)
    record = store.get(run_id)

    # Keras keeps global state (names, seeds): reset it in this thread, then seed everything.
    # (No garbage collection here: run_training collects after every run, which is what frees
    # the previous model; collecting twice costs about half a second per run.)
    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(int(spec.seed))
    request.validate()

    last_loading_write = [0.0]

    def loading_progress(fraction: float, message: str) -> None:
        if control.stop_requested:
            raise _StoppedBeforeTraining
        now = time.monotonic()
        if now - last_loading_write[0] >= progress_interval or fraction >= 1.0:
            last_loading_write[0] = now
            status = store.set_progress(run_id, phase=Phase.LOADING_DATA, fraction=float(fraction),
                                        message=str(message))
            if status == RunStatus.STOPPING:   # asked by another process
                raise _StoppedBeforeTraining

    store.set_progress(run_id, replace=True, phase=Phase.LOADING_DATA, epoch=record.epochs_done,
                       epochs=spec.epochs)
    initial_epoch = min(resume_epoch(store, record), int(spec.epochs))
    if record.epochs_done > initial_epoch:   # epochs after the checkpoint are trained again
        store.delete_epochs_after(run_id, initial_epoch)
    say(_("Loading data set {dataset}…", dataset=request.dataset_id))
    dataset = load_request_dataset(request, store, progress=loading_progress)
    input_shape = tuple(int(v) for v in dataset.image_shape)
    n_classes = int(dataset.n_classes)
    models_module.check_spec(spec, input_shape, n_classes)
    data = prepare_data(request, dataset)
    if len(data.x_train) == 0:
        raise SpecError("validation_fraction", "No images are left for training after the "
                                               "validation split. Lower the validation fraction.")
    atomic_write_json(run_dir / "dataset.json", {
        "id": dataset.id, "name": dataset.name, "source": dataset.source,
        "class_names": list(dataset.class_names), "image_shape": list(input_shape),
        "n_train": int(len(data.x_train)), "n_validation": int(len(data.x_val)),
        "n_test": int(len(dataset.x_test)), "label_encoding": data.label_encoding,
        "scaling": data.scaling.to_dict() if hasattr(data.scaling, "to_dict") else None,
    })
    if control.stop_requested:
        raise _StoppedBeforeTraining

    batch_size = int(spec.batch_size)
    # with hard_share below 1 each step draws more pictures and learns from the hardest
    train_batch = hard_examples.scoring_batch(batch_size, spec.hard_share)
    steps_per_epoch = max(1, math.ceil(len(data.x_train) / train_batch))

    # Model: new, or continued from the checkpoint of an interrupted/stopped run.
    checkpoint = store.checkpoint_path(run_id)
    if initial_epoch > 0:
        store.set_progress(run_id, phase=Phase.LOADING_CHECKPOINT)
        model = models_module.load_model(checkpoint)
        resumed = stored_message("Resuming after epoch {done} of {planned}: training continues with epoch "
                                 "{epoch} from the save after epoch {done}.",
                                 done=initial_epoch, planned=spec.epochs, epoch=initial_epoch + 1)
        store.set_status(run_id, RunStatus.RUNNING, resumed, expected=(RunStatus.RUNNING,))
        say(str(resumed))
    else:
        store.set_progress(run_id, phase=Phase.BUILDING_MODEL)
        model = models_module.build_model(spec, input_shape, n_classes, data.scaling,
                                          train_images=data.x_train)
        models_module.compile_model(model, spec, steps_per_epoch, data.label_encoding)
    hardest = hard_examples.install(model, spec)

    augment = augment_module.augment_fn(request.augment) if request.augment.enabled else None
    flip_epoch = epoch_variable() if request.augment.flip == "alternating" else None
    train_ds = make_dataset(data.x_train, data.y_train_encoded, train_batch, shuffle=True,
                            seed=int(spec.seed), augment=augment, flip_epoch=flip_epoch,
                            flip_seed=int(request.augment.seed), endless_from_epoch=initial_epoch)
    val_ds = (make_dataset(data.x_val, data.y_val_encoded, batch_size)
              if len(data.x_val) else None)
    if initial_epoch == 0 and spec.time_limit > 0:
        spec = fit_to_time_limit(store, run_id, model, train_ds, spec, steps_per_epoch,
                                  validation_steps=math.ceil(len(data.x_val) / batch_size),
                                  label_encoding=data.label_encoding, say=say,
                                  hardest=hardest)
    if hardest is not None:
        if initial_epoch > 0:   # resumed: the choosing cost its time limit timed, if it did
            hardest.choosing_cost = measured_choosing_cost(record.config)
        hardest.plan(spec.epochs)
    # the batches the last epoch stops after, when the time limit cut it short (a resumed run:
    # what its limit decided; the schedule that ends with them came back with the checkpoint)
    last_batches = last_epoch_cut(store.get(run_id).config.get("time_limit_fit"))

    fit = FitState()
    estimator = TimeLeftEstimator(int(spec.epochs), steps_per_epoch,
                                  validation_batches=math.ceil(len(data.x_val) / batch_size),
                                  epoch_costs=(hardest.epoch_costs(spec.epochs)
                                               if hardest is not None else None),
                                  last_batches=last_batches)
    reporter = ProgressReporter(store, run_id, control, fit, epochs=spec.epochs,
                                batches=steps_per_epoch, progress_interval=progress_interval,
                                estimator=estimator)
    steering = StopAndPause(control, fit, poll_status=lambda: store.status(run_id),
                            on_pause=reporter.paused)
    checkpoints = CheckpointSaver(store, run_id, fit, checkpoint,
                                  cost_factor=CHECKPOINT_COST_FACTOR)
    tensorboard = EpochSummaryWriter(store.logs_dir(run_id), fit)
    callbacks: list = [steering, DivergenceGuard(fit, n_classes=n_classes),
                       EpochRecorder(store, run_id, fit, epochs=spec.epochs, on_epoch=on_epoch),
                       checkpoints, reporter]
    early = None
    if spec.early_stopping_patience > 0:
        early = UserAwareEarlyStopping(
            fit, monitor="val_loss" if val_ds is not None else "loss",
            patience=int(spec.early_stopping_patience), restore_best_weights=True)
        callbacks.append(early)
    callbacks.append(tensorboard)
    if flip_epoch is not None:
        callbacks.append(EpochCounter(flip_epoch))
    if last_batches is not None:
        callbacks.append(LastEpochCut(int(spec.epochs) - 1, last_batches))
    if hardest is not None:
        callbacks.insert(0, hardest)
    callbacks.extend(extra_callbacks)

    store.set_progress(run_id, phase=Phase.TRAINING, epoch=initial_epoch + 1, epochs=spec.epochs,
                       batch=0, batches=estimator.batches_in(initial_epoch), seconds_left=None)
    say(ngettext("Training {count} epoch of {batches} batches on {train} images ({val} for validation).",
                 "Training {count} epochs of {batches} batches on {train} images ({val} for validation).",
                 spec.epochs - initial_epoch, batches=steps_per_epoch, train=len(data.x_train),
                 val=len(data.x_val)))
    if last_batches is not None:
        words = (N_("The epoch stops after {cut} of its {batches} batches: the time limit leaves "
                    "room for only that part of it.") if spec.epochs == 1 else
                 N_("The last epoch stops after {cut} of its {batches} batches: the time limit "
                    "leaves room for only that part of it."))
        say(_(words, cut=last_batches, batches=steps_per_epoch))
    fit_started = time.monotonic()
    try:
        if initial_epoch < spec.epochs:
            model.fit(train_ds, validation_data=val_ds, epochs=int(spec.epochs), shuffle=False,
                      steps_per_epoch=steps_per_epoch,
                      initial_epoch=initial_epoch, callbacks=callbacks, verbose=0)
    except BaseException:
        tensorboard.close()
        if not fit.diverged:   # keep what was learned resumable, whatever went wrong
            with contextlib.suppress(Exception):
                checkpoints.flush()
        raise
    fit_seconds = time.monotonic() - fit_started
    tensorboard.close()
    train_seconds = (record.train_seconds or 0.0) + fit_seconds - fit.paused_seconds
    # Overhead accounting: seconds spent in CNN Lab's callbacks during fit (store writes,
    # checkpoints, TensorBoard), next to the fit's own duration; and the run's start-up until
    # its first batch ended (for estimating runs that have not started yet).
    startup = (reporter.first_batch_at - started_at - fit.paused_seconds
               if reporter.first_batch_at is not None else None)
    store.set_progress(run_id, callback_seconds=fit.callback_seconds,
                       fit_seconds=fit_seconds - fit.paused_seconds, startup_seconds=startup)
    if not fit.diverged:
        checkpoints.flush()
    epochs_done = store.get(run_id).epochs_done

    if fit.diverged:
        store.set_result(run_id, train_seconds=train_seconds)
        store.set_progress(run_id, phase=Phase.DIVERGED, seconds_left=0.0)
        store.set_status(run_id, RunStatus.DIVERGED,
                         divergence_message(fit.divergence, fit.diverged_epoch,
                                            spec.learning_rate))
        return

    # Test set: probabilities, accuracy and loss; then the final model.
    store.set_progress(run_id, phase=Phase.EVALUATING, seconds_left=0.0)
    say(_("Predicting the test set…"))
    x_test = dataset.x_test
    if len(x_test):
        probs = test_time_augmentation.predict_probabilities(
            model, x_test, spec.test_time_augmentation, batch_size=max(batch_size, 256))
        test_accuracy, test_loss = score_predictions(probs, dataset.y_test)
        store.save_predictions(run_id, probs, dataset.y_test)   # class names: in dataset.json
    else:
        test_accuracy = test_loss = None
    store.set_result(run_id, test_accuracy=test_accuracy, test_loss=test_loss,
                     train_seconds=train_seconds)
    store.set_progress(run_id, phase=Phase.SAVING)
    save_model_atomic(model, store.model_path(run_id))

    if control.stop_requested:
        status = RunStatus.STOPPED
        message = stored_plural("Stopped by you after {count} of {planned} epochs. It can be resumed to "
                                "train the remaining epochs.",
                                "Stopped by you after {count} of {planned} epochs. It can be resumed to "
                                "train the remaining epochs.", epochs_done, planned=spec.epochs)
    else:
        status = RunStatus.FINISHED
        message = stored_plural("Trained {count} epoch.", "Trained {count} epochs.", epochs_done)
        if spec.test_time_augmentation != "off":
            message += stored_message(test_time_augmentation.EXPLANATIONS[spec.test_time_augmentation])
        if early is not None and early.stopped_epoch > 0:
            monitored = (stored_message("validation loss") if val_ds is not None else stored_message("loss"))
            message = (stored_plural("Stopped early after {count} of {planned} epochs:",
                                     "Stopped early after {count} of {planned} epochs:", epochs_done,
                                     planned=spec.epochs)
                       + stored_plural("the {monitored} had not improved for {count} epoch.",
                                       "the {monitored} had not improved for {count} epochs.",
                                       spec.early_stopping_patience, monitored=monitored)
                       + stored_message("Kept the weights of epoch {epoch}.", epoch=early.best_epoch + 1))
    store.set_progress(run_id, phase=Phase(status.value), seconds_left=0.0)
    store.set_status(run_id, status, message)
    del model


__all__ = [
    "EpochHook", "JobControl", "PreparedData", "TrainingRequest",
    "current_learning_rate", "label_encoding_for", "load_request_dataset",
    "make_dataset", "prepare_data", "prepare_resume", "probabilities", "run_training",
    "save_model_atomic", "score_predictions",
]
