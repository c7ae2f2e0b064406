"""A run's life cycle: :class:`RunStatus`, its allowed transitions, and the progress record.

Statuses are ``str`` enums, so the strings stored in the index (``runs.status``), in JSON and
in older workspaces stay exactly what they were (``RunStatus.RUNNING == "running"``)::

    queued ──> running <──> paused
      │          │  │
      │          │  └──> stopping ──> stopped ──(resume)──> queued
      │          ├──> finished | diverged | failed
      └──> stopped (removed from the queue)
    any of queued/running/paused/stopping ──(owner process died)──> interrupted ──(resume)──> queued

:class:`RunProgress` is what the training loop reports while a run is alive (``runs.progress``),
with its :class:`Phase`; the engine's time-left estimate travels in it (``seconds_left``; None
while it is still being estimated).

This module imports nothing heavy.

Example:
    >>> RunStatus("running").can_become(RunStatus.PAUSED)
    True
    >>> RunProgress.from_dict({"phase": "training", "epoch": 2, "epochs": 5}).phase
    <Phase.TRAINING: 'training'>
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum
from typing import Any


class RunStatus(str, Enum):
    """Where a run is in its life. The value is the string stored in the run index."""

    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FINISHED = "finished"
    DIVERGED = "diverged"
    FAILED = "failed"
    INTERRUPTED = "interrupted"

    def __str__(self) -> str:   # f-strings and messages show "running", not "RunStatus.RUNNING"
        return self.value

    @property
    def is_active(self) -> bool:
        """A process is (or should be) working on the run."""
        return self in ACTIVE_STATUSES

    @property
    def is_final(self) -> bool:
        """Training is over (it may still be resumed)."""
        return self in FINAL_STATUSES

    @property
    def is_resumable(self) -> bool:
        """Can continue from its last checkpoint (when it has epochs left)."""
        return self in RESUMABLE_STATUSES

    def can_become(self, new: "RunStatus | str") -> bool:
        """Whether the life cycle allows going from this status to ``new``."""
        return RunStatus(new) in TRANSITIONS[self]


#: Every status, as stored in the index (the values of :class:`RunStatus`, in order).
RUN_STATUSES = tuple(status.value for status in RunStatus)
#: A process is (or should be) working on runs in these states.
ACTIVE_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.STOPPING)
#: Training is over for runs in these states.
FINAL_STATUSES = (RunStatus.STOPPED, RunStatus.FINISHED, RunStatus.DIVERGED, RunStatus.FAILED,
                  RunStatus.INTERRUPTED)
#: Runs in these states can be continued from their last checkpoint.
RESUMABLE_STATUSES = (RunStatus.INTERRUPTED, RunStatus.STOPPED)
#: A run in these states has (or is about to have) a training loop that can pause or stop.
STEERABLE_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.PAUSED)
#: Ended with a model whose test-set results can be looked at.
RESULT_STATUSES = (RunStatus.FINISHED, RunStatus.STOPPED)
#: Ended without a usable model.
ERROR_STATUSES = (RunStatus.DIVERGED, RunStatus.FAILED)

_ENDINGS = frozenset({RunStatus.FINISHED, RunStatus.DIVERGED, RunStatus.FAILED})
TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.QUEUED: frozenset({RunStatus.RUNNING, RunStatus.STOPPING, RunStatus.STOPPED,
                                 RunStatus.FAILED, RunStatus.INTERRUPTED}),
    RunStatus.RUNNING: _ENDINGS | {RunStatus.PAUSED, RunStatus.STOPPING, RunStatus.STOPPED,
                                   RunStatus.INTERRUPTED},
    RunStatus.PAUSED: _ENDINGS | {RunStatus.RUNNING, RunStatus.STOPPING, RunStatus.STOPPED,
                                  RunStatus.INTERRUPTED},
    RunStatus.STOPPING: _ENDINGS | {RunStatus.STOPPED, RunStatus.INTERRUPTED},
    RunStatus.STOPPED: frozenset({RunStatus.QUEUED}),
    RunStatus.INTERRUPTED: frozenset({RunStatus.QUEUED}),
    RunStatus.FINISHED: frozenset(),
    RunStatus.DIVERGED: frozenset(),
    RunStatus.FAILED: frozenset(),
}


def statuses_before(new: RunStatus | str) -> tuple[RunStatus, ...]:
    """The statuses from which a run may move to ``new`` (for compare-and-set updates)."""
    new = RunStatus(new)
    return tuple(s for s in RunStatus if new in TRANSITIONS[s])


class Phase(str, Enum):
    """What the training loop of a live run is doing (``RunProgress.phase``)."""

    LOADING_DATA = "loading data"
    LOADING_CHECKPOINT = "loading checkpoint"
    BUILDING_MODEL = "building model"
    TIMING = "timing"   # a few batches timed to fit the epochs to the time limit
    TRAINING = "training"
    PAUSED = "paused"
    EVALUATING = "evaluating"
    SAVING = "saving"
    STOPPED = "stopped"
    FINISHED = "finished"
    DIVERGED = "diverged"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class RunProgress:
    """The live progress of a run, as the training loop last reported it.

    Stored as a JSON dict in the index (``RunRecord.progress``); unknown keys (e.g. overhead
    accounting) are kept in ``extra``. ``seconds_left`` is the engine's estimate of the time
    until training ends (None: still estimating; see :mod:`cnn_core.time_left`).
    """

    phase: Phase | None = None
    epoch: int = 0
    epochs: int = 0
    batch: int = 0
    batches: int = 0
    fraction: float | None = None       # loading data: share done
    message: str = ""
    loss: float | None = None
    accuracy: float | None = None
    seconds: float | None = None
    seconds_left: float | None = None
    user_error: bool = False
    updated_at: float | None = None
    extra: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict | None) -> "RunProgress":
        data = dict(data or {})
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        known = {k: data.pop(k) for k in list(data) if k in names}
        phase = known.get("phase")
        try:
            known["phase"] = Phase(phase) if phase else None
        except ValueError:
            known["phase"] = None
        for key in ("epoch", "epochs", "batch", "batches"):
            try:
                known[key] = int(known.get(key) or 0)
            except (TypeError, ValueError):
                known[key] = 0
        known["message"] = str(known.get("message") or "")
        return cls(**known, extra=data)

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        out["phase"] = self.phase.value if self.phase else None
        out.update(self.extra)
        return out

    @property
    def time_left_known(self) -> bool:
        return self.seconds_left is not None


__all__ = [
    "ACTIVE_STATUSES", "ERROR_STATUSES", "FINAL_STATUSES", "Phase", "RESULT_STATUSES",
    "RESUMABLE_STATUSES", "RUN_STATUSES", "RunProgress", "RunStatus", "STEERABLE_STATUSES", "TRANSITIONS",
    "statuses_before",
]
