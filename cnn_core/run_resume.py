"""Resuming a stopped or interrupted run: where it continues, and putting it back in the queue.

:func:`prepare_resume` checks that a run can be resumed and queues it again; training
(:func:`cnn_core.training.run_training`) then continues it from its checkpoint, after the epoch
:func:`resume_epoch` names. Nothing here needs TensorFlow.
"""

from __future__ import annotations

from cnn_core.errors import RunStateError
from cnn_core.i18n import ngettext
from cnn_core.process_owner import owner_alive
from cnn_core.run_record import RunRecord
from cnn_core.run_status import ACTIVE_STATUSES, RESUMABLE_STATUSES, RunStatus
from cnn_core.runs import RunStore
from cnn_core.stored_messages import stored_message


def resume_epoch(store: RunStore, record: RunRecord) -> int:
    """The epoch a resumed run continues after: the one its checkpoint holds (0: none)."""
    if not store.checkpoint_path(record.id).exists():
        return 0
    return int(record.checkpoint_epoch or 0)


def prepare_resume(store: RunStore, run_id: str) -> RunRecord:
    """Put an interrupted or stopped run back to ``queued`` so it continues from its checkpoint.

    Raises:
        RunStateError: the run is not interrupted/stopped, or it has no epochs left to train.
    """
    record = store.get(run_id)
    if record.status in ACTIVE_STATUSES and not owner_alive(record.owner):
        store.mark_interrupted()
        record = store.get(run_id)
    if record.status not in RESUMABLE_STATUSES:
        raise RunStateError(
            "Run '{name}' is {status}; only interrupted or stopped runs can be resumed. Start a new "
            "run instead.",
            name=record.name, status=record.status
        )
    done = resume_epoch(store, record)
    if done >= record.epochs_planned and store.model_path(run_id).exists():
        raise RunStateError(
            ngettext("Run '{name}' already trained its {count} epoch. To train longer, start a new "
                     "run with more epochs.",
                     "Run '{name}' already trained all {count} epochs. To train longer, start a new "
                     "run with more epochs.", record.epochs_planned, name=record.name)
        )
    message = (stored_message("Waiting to resume: continues with epoch {epoch} of {planned} from the save "
                              "after epoch {done}.", epoch=done + 1, planned=record.epochs_planned, done=done)
               if done else stored_message("Waiting to start again from the beginning (no epoch was saved)."))
    if not store.set_status(run_id, RunStatus.QUEUED, message, expected=RESUMABLE_STATUSES):
        raise RunStateError("Run '{name}' changed state meanwhile; try again.",
                            name=record.name)
    store.set_owner(run_id)
    return store.get(run_id)


__all__ = ["prepare_resume", "resume_epoch"]
