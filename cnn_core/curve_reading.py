"""Plain-language reading of training curves: is the model learning, overfitting, done?

Pure Python (no numpy, no TensorFlow). Input is the list of epoch rows the run store keeps
(:meth:`cnn_core.runs.RunStore.epochs`): dicts with ``loss``, ``accuracy``, ``val_loss`` and
``val_accuracy`` (any may be ``None``). Output is a :class:`CurveReading`: a verdict for code, a
level for colour, a one-line headline and a few sentences written for someone who has never
trained a model.

Example:
    >>> rows = [{"epoch": i + 1, "loss": l, "accuracy": a, "val_loss": vl, "val_accuracy": va}
    ...         for i, (l, a, vl, va) in enumerate([(1.2, .55, 1.0, .62), (.8, .72, .75, .74),
    ...                                             (.6, .80, .62, .79)])]
    >>> read_curves(rows, status="finished", epochs_planned=3).verdict
    'too_few_epochs'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from cnn_core.i18n import _, ngettext
from cnn_core.run_status import ACTIVE_STATUSES, RunStatus

#: Verdicts, roughly from worst to best.
VERDICTS = (
    "failed", "diverged", "at_chance", "unstable", "not_learning", "overfitting", "starting_to_overfit",
    "waiting", "too_few_epochs", "still_improving", "plateaued", "good_fit",
)
LEVELS = ("error", "warning", "info", "success")

#: Relative drop in loss over the last few epochs that counts as "still improving".
IMPROVING_LOSS_DROP = 0.02
#: Rise in accuracy (fraction) over the last few epochs that counts as "still improving".
IMPROVING_ACCURACY_RISE = 0.01
#: Training minus validation accuracy that counts as a clear gap.
GAP_CLEAR = 0.15
GAP_SMALL = 0.07
#: Accuracy above chance level (fraction) that still counts as guessing, at the least.
CHANCE_MARGIN = 0.03


@dataclass(frozen=True)
class CurveReading:
    """What the curves say.

    Attributes:
        verdict: one of :data:`VERDICTS`.
        level: ``"error"``, ``"warning"``, ``"info"`` or ``"success"`` (how to colour it).
        headline: one short sentence.
        details: further plain sentences (what the curves show, then what to try).
        best_epoch: the epoch (1-based) with the best validation accuracy (or lowest loss).
    """

    verdict: str
    level: str
    headline: str
    details: tuple[str, ...] = field(default_factory=tuple)
    best_epoch: int | None = None

    @property
    def text(self) -> str:
        """Headline and details as one paragraph."""
        return " ".join((self.headline, *self.details))


def _finite(value) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _series(rows: list[dict], key: str) -> list[float] | None:
    """The values of ``key``; None unless every row has a finite value."""
    values = [row.get(key) for row in rows]
    if not values or not all(_finite(v) for v in values):
        return None
    return [float(v) for v in values]


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _argmin(values: list[float]) -> int:
    return min(range(len(values)), key=lambda i: (values[i], i))


def _argmax(values: list[float]) -> int:
    return max(range(len(values)), key=lambda i: (values[i], -i))


def chance_level(n_classes: int | None) -> float | None:
    """The accuracy of blind guessing: 1 / number of classes (None when unknown or < 2)."""
    try:
        n = int(n_classes)
    except (TypeError, ValueError):
        return None
    return 1.0 / n if n >= 2 else None


def near_chance(accuracy: float, n_classes: int) -> bool:
    """Whether ``accuracy`` is no better than guessing among ``n_classes``: at most chance plus
    a quarter of it, and at least :data:`CHANCE_MARGIN` (10 classes: up to 13%; 2 classes: 62.5%)."""
    chance = 1.0 / n_classes
    return accuracy <= chance + max(CHANCE_MARGIN, 0.25 * chance)


def _likely_causes(config: Mapping | None, epochs_done: int) -> list[str]:
    """Plain sentences naming what in the settings most likely stops learning, with the fix."""
    config = config or {}
    model = config.get("model") or {}
    preprocess = config.get("preprocess") or {}
    causes = []
    lr, optimizer = model.get("learning_rate"), str(model.get("optimizer") or "adam")
    if _finite(lr):
        lr = float(lr)
        sgd = optimizer in ("sgd", "muon")
        high, low = (0.3, 1e-4) if sgd else (0.01, 1e-5)
        usual = "0.01" if sgd else "0.001"
        if lr >= high:
            causes.append(_("Likely cause: the learning rate ({rate:g}) is far too high for {optimizer}: every step "
                            "overshoots, so the network gives up and guesses. Fix: set the learning rate to {usual}.",
                            rate=lr, optimizer=optimizer.upper(), usual=usual))
        elif lr <= low:
            causes.append(_("Likely cause: the learning rate ({rate:g}) is so low that the weights hardly move. "
                            "Fix: set it to {usual}.", rate=lr, usual=usual))
    if preprocess.get("scaling") == "none":
        causes.append(_("Likely cause: the pixels are not scaled (they go in as 0 to 255), which makes the "
                        "first steps huge. Fix: choose pixel scaling 'divide by 255'."))
    if epochs_done <= 2 and not causes:
        causes.append(ngettext("Likely cause: {count} epoch is too few for this model to get going. "
                               "Fix: train for 5 to 10 epochs.",
                               "Likely cause: {count} epochs are too few for this model to get going. "
                               "Fix: train for 5 to 10 epochs.", epochs_done))
    if not causes:
        causes.append(_("Things to try: a learning rate of 0.001 with Adam, pixel scaling 'divide by 255', "
                        "or more epochs."))
    return causes


def chance_reading(rows: list[dict], n_classes: int | None, config: Mapping | None = None, *,
                   live: bool = False, best: int | None = None) -> CurveReading | None:
    """The reading for a model whose accuracy is at chance level now (it learns nothing, or fell
    back to guessing), or None when it does better than guessing or chance is unknown."""
    chance = chance_level(n_classes)
    acc = _series(rows, "val_accuracy") or _series(rows, "accuracy")
    if chance is None or not acc or not near_chance(acc[-1], int(n_classes)):
        return None
    n = len(rows)
    peak = _argmax(acc)
    k = int(n_classes)
    guess = _("A model that learns nothing gets about one picture in {classes} right by luck "
              "({chance}, chance level).", classes=k, chance=_pct(chance))
    train = _series(rows, "accuracy")
    if train and _series(rows, "val_accuracy") and not near_chance(train[-1], k):
        # right on the training pictures, guessing on new ones: early batch-norm epochs or memorising
        return CurveReading(
            "at_chance", "warning" if live else "error",
            _("The model gets {train} of the training pictures right but only guesses on new ones "
              "({new}, chance level with {classes} classes).", train=_pct(train[-1]), new=_pct(acc[-1]), classes=k),
            (guess, _("With batch normalization the first epochs often look like this and it catches up; "
                      "if it does not, the model is memorising the training pictures: try augmentation, "
                      "dropout or a smaller model.") + (_(" Give it a few more epochs.") if live else "")),
            best)
    if near_chance(acc[peak], k):
        headline = _("The model is only guessing: accuracy is stuck at chance level ({accuracy} "
                     "with {classes} classes).", accuracy=_pct(acc[-1]), classes=k)
        shape = ngettext("After {count} epoch it still does no better than that.",
                         "After {count} epochs it still does no better than that.", n)
    else:
        headline = _("The model fell back to guessing: accuracy is at chance level ({accuracy} "
                     "with {classes} classes).", accuracy=_pct(acc[-1]), classes=k)
        shape = _("It reached {accuracy} in epoch {epoch}, then lost it.", accuracy=_pct(acc[peak]), epoch=peak + 1)
    loss = _series(rows, "val_loss") or _series(rows, "loss")
    if loss and abs(loss[-1] - math.log(n_classes)) <= 0.1 * math.log(n_classes):
        shape += _(" Its loss sits at {loss:.2f}, the loss of an even guess among {classes} classes.",
                   loss=loss[-1], classes=k)
    causes = _likely_causes(config, n)
    if live:
        causes.append(_("If it is still guessing after another epoch or two, stop the run and change that setting."))
    return CurveReading("at_chance", "warning" if live else "error", headline, (guess, shape, *causes),
                        best)


def read_curves(epochs: list[dict], status: str | None = None, epochs_planned: int | None = None,
                message: str = "", n_classes: int | None = None,
                config: Mapping | None = None) -> CurveReading:
    """Read the loss and accuracy curves of one run in plain language.

    Args:
        epochs: the run's epoch rows, in order (``RunStore.epochs(run_id)``).
        status: the run's status (``"running"``, ``"finished"``, ``"diverged"``...); changes the
            tense and the advice ("more epochs would help" only once training is over).
        epochs_planned: epochs the run was set to train.
        message: the run's status message, repeated for failed runs.
        n_classes: how many classes the data set has; with it the reading knows chance level
            (1 / classes) and never praises a model that only guesses.
        config: the run's stored settings (``model``, ``preprocess``), used to name the likely
            cause when the model learns nothing (learning rate, scaling, epochs).
    """
    rows = list(epochs or [])
    live = status in ACTIVE_STATUSES
    n = len(rows)

    if status == RunStatus.FAILED:
        return CurveReading("failed", "error", _("Training failed."),
                            (message,) if message else (_("Look at the message above, change the "
                                                          "setting it names and train again."),))
    all_losses = [row.get("loss") for row in rows] + [row.get("val_loss") for row in rows]
    blew_up = any(v is not None and not _finite(v) for v in all_losses)
    if status == RunStatus.DIVERGED or blew_up:
        return CurveReading(
            "diverged", "error",
            _("Training diverged: the loss became too large to compute (NaN or infinite)."),
            (_("The network took steps that were too big and lost its way."),
             _("Try a learning rate 10 times smaller; if that does not help, turn batch "
               "normalization off or check how the images are scaled.")),
        )
    if n == 0:
        if live:
            return CurveReading("waiting", "info", _("Waiting for the first epoch to finish."),
                                (_("The curves appear after the model has seen every training "
                                   "picture once."),))
        return CurveReading("waiting", "info", _("No epoch was completed, so there are no curves to read."))

    loss = _series(rows, "loss")
    acc = _series(rows, "accuracy")
    val_loss = _series(rows, "val_loss")
    val_acc = _series(rows, "val_accuracy")
    watch_loss = val_loss or loss
    watch_acc = val_acc or acc
    which = _("validation") if val_loss else _("training")
    best = (_argmax(watch_acc) if watch_acc else _argmin(watch_loss) if watch_loss else n - 1) + 1
    planned = int(epochs_planned or 0)
    ended_early = not live and planned and n < planned

    at_chance = chance_reading(rows, n_classes, config, live=live, best=best)
    if at_chance is not None and not (n == 1 and live):
        return at_chance

    if n == 1:
        if live:
            return CurveReading("waiting", "info", _("One epoch done: too early to tell how training goes."),
                                (_("A trend shows after two or three epochs."),), best)
        return CurveReading(
            "too_few_epochs", "warning", _("Only one epoch was trained: too few to judge the model."),
            (_("A model usually needs several passes over the pictures; try 5 to 10 epochs."),), best)

    if loss is None:
        return CurveReading("waiting", "info", ngettext("{count} epoch done; the training loss was not recorded.",
                                     "{count} epochs done; the training loss was not recorded.", n),
                            best_epoch=best)

    # The training loss rose well above its best: steps are too big.
    lowest = min(loss)
    if loss[-1] > 1.5 * lowest and loss[-1] > loss[0] * 0.98 and n >= 3:
        return CurveReading(
            "unstable", "warning",
            _("Training is unstable: the training loss went down, then back up."),
            (_("It was lowest in epoch {epoch} ({lowest:.3g}) and is now {now:.3g}.", epoch=_argmin(loss) + 1,
               lowest=lowest, now=loss[-1]),
             _("The learning rate is probably too high: try one 3 to 10 times smaller.")), best)

    # Nothing is being learned.
    loss_drop = (loss[0] - loss[-1]) / max(abs(loss[0]), 1e-9)
    acc_rise = (acc[-1] - acc[0]) if acc else None
    if loss_drop < 0.02 and (acc_rise is None or acc_rise < 0.02):
        acc_text = _(" Accuracy stays near {accuracy}.", accuracy=_pct(acc[-1])) if acc else ""
        return CurveReading(
            "not_learning", "warning", _("The model is not learning: the loss has hardly moved."),
            (ngettext("Training loss went from {first} to {last} in {count} epoch.",
                      "Training loss went from {first} to {last} in {count} epochs.", n,
                      first=format(loss[0], ".3g"), last=format(loss[-1], ".3g")) + acc_text,
             _("Try a different learning rate (often larger, or smaller if it was very large), "
               "the Adam optimizer, or a bigger model.")), best)

    # Overfitting: validation loss rising since its best while training loss keeps falling.
    gap = (acc[-1] - val_acc[-1]) if acc and val_acc else None
    if val_loss is not None and n >= 3:
        b = _argmin(val_loss)
        since = n - 1 - b
        rising = val_loss[-1] > val_loss[b] * 1.05 and loss[-1] < loss[b]
        if since >= 2 and rising and (gap is None or gap >= GAP_SMALL):
            gap_text = (_(" The model gets {train} of the training pictures right but only {validation} of the "
                          "validation pictures.", train=_pct(acc[-1]), validation=_pct(val_acc[-1]))
                        if gap is not None else "")
            return CurveReading(
                "overfitting", "warning",
                _("The model is overfitting: it is memorising the training pictures instead of "
                  "learning what generalises."),
                (_("The validation loss was lowest in epoch {epoch} and has risen since, while the "
                   "training loss keeps falling.", epoch=b + 1) + gap_text,
                 _("Try more augmentation, dropout, a smaller model, fewer epochs or early stopping.")),
                best)
        if since >= 1 and val_loss[-1] > val_loss[b] * 1.02 and gap is not None and gap >= GAP_SMALL:
            return CurveReading(
                "starting_to_overfit", "warning",
                _("The model is starting to overfit."),
                (_("The validation loss has stopped falling (best in epoch {epoch}) and the model does better on "
                   "training pictures ({train}) than on new ones ({validation}).", epoch=b + 1,
                   train=_pct(acc[-1]), validation=_pct(val_acc[-1])),
                 _("More epochs will probably not help; dropout or augmentation might.")), best)

    window = min(3, n - 1)
    recent_drop = (watch_loss[-1 - window] - watch_loss[-1]) / max(abs(watch_loss[-1 - window]), 1e-9)
    recent_rise = (watch_acc[-1] - watch_acc[-1 - window]) if watch_acc else 0.0
    lowest_watch = min(watch_loss)
    near_best = watch_loss[-1] <= lowest_watch + 0.02 * abs(lowest_watch)
    improving = near_best and (recent_drop > IMPROVING_LOSS_DROP or recent_rise > IMPROVING_ACCURACY_RISE)
    score = (_(" Validation accuracy is now {accuracy}.", accuracy=_pct(val_acc[-1])) if val_acc
             else _(" Training accuracy is now {accuracy}.", accuracy=_pct(acc[-1])) if acc else "")
    gap_note = ()
    if gap is not None and gap >= GAP_CLEAR:
        gap_note = (_("Training accuracy ({train}) is well above validation accuracy ({validation}): watch for "
                      "overfitting.", train=_pct(acc[-1]), validation=_pct(val_acc[-1])),)
    elif gap is not None and gap < -0.05:
        gap_note = (_("Validation accuracy is above training accuracy; that is normal with dropout "
                      "or augmentation, which make training pictures harder."),)

    if improving:
        if live:
            return CurveReading("still_improving", "info",
                                _("Still improving: the {which} loss keeps going down.", which=which) + score,
                                gap_note, best)
        if ended_early:
            return CurveReading(
                "still_improving", "info",
                ngettext("Training was stopped after {count} of {planned} epochs while the model was "
                         "still improving.", "Training was stopped after {count} of {planned} epochs "
                         "while the model was still improving.", n, planned=planned) + score,
                (*gap_note, _("Resuming it would probably help.")), best)
        return CurveReading(
            "too_few_epochs", "warning",
            _("The model was still improving when training ended: more epochs would likely help.") + score,
            (*gap_note, ngettext("The {which} loss fell {drop}% over the last epoch. Try training for "
                                 "longer.", "The {which} loss fell {drop}% over the last {count} epochs. "
                                 "Try training for longer.", window, which=which,
                                 drop=format(recent_drop * 100, ".0f"))), best)

    flat = recent_drop < 0.005 and recent_rise < 0.005
    if flat or not near_best:
        lowest_at = _argmin(watch_loss) + 1
        where = (_("The {which} loss was lowest in epoch {epoch}; it has not improved since. ", which=which,
                   epoch=lowest_at) if lowest_at < n else "")
        return CurveReading(
            "plateaued", "info" if live else "success",
            _("The curves have levelled off: the model has learned what it can with these settings.") + score,
            (*gap_note, where + _("More epochs will not change much. To do better, try a lower learning "
                                  "rate, a bigger model or augmentation.")), best)
    return CurveReading(
        "good_fit", "success",
        _("Training is going well: the losses fell together and are now flattening out.") + score,
        (*gap_note, _("The best {which} result so far came in epoch {epoch}.", which=which, epoch=best)), best)


def read_run(store, run, epochs: list[dict] | None = None) -> CurveReading:
    """:func:`read_curves` of a stored run, with its classes (for chance level) and settings.

    Args:
        store: the run store (:class:`cnn_core.runs.RunStore`).
        run: the run's :class:`~cnn_core.run_record.RunRecord`.
        epochs: its epoch rows when already read (default: read from ``store``).
    """
    info = store.dataset_info(run.id) or {}
    n_classes = len(info.get("class_names") or (run.config or {}).get("class_names") or []) or None
    return read_curves(store.epochs(run.id) if epochs is None else epochs, status=run.status,
                       epochs_planned=run.epochs_planned, message=run.shown_message, n_classes=n_classes,
                       config=run.config)


__all__ = ["CurveReading", "LEVELS", "VERDICTS", "chance_level", "chance_reading", "near_chance", "read_curves",
           "read_run"]
