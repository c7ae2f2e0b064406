"""A waiting run's place in the training line, about how long until it starts, and the line's
fair order.

The line takes turns (:func:`fair_line`): each person's next waiting run comes before anybody's
run after it, so one person's sweep of twelve runs does not hold the rest of the class back for
twelve trainings; it trains in turn with everybody else's runs.

"3rd in line, about 2 min": the place counts the runs waiting before it (1st = next to start);
the wait comes from the engine's own measurements (:mod:`cnn_core.time_left`): the time left the
training runs report, and for each waiting run the measured speed of the latest finished run on
the same data set (the same model when there is one), for a run with a time limit never more
than that limit. With several trainings at once
(``max_parallel_trainings``) each waiting run goes to the first trainer that becomes free.

This module imports nothing heavy.

Example:
    >>> QueuePlace(place=3, seconds_to_start=110.0).text()
    '3rd in line, about 2 min'
    >>> ordinal(22)
    '22nd'
    >>> fair_line(["a1", "a2", "a3", "b1"], {"a1": "ann", "a2": "ann", "a3": "ann", "b1": "ben"}.get)
    ['a1', 'b1', 'a2', 'a3']
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from cnn_core.hard_examples import epoch_costs
from cnn_core.i18n import _, ngettext
from cnn_core.run_record import RunRecord
from cnn_core.run_status import RunStatus
from cnn_core.time_left import estimate_run_seconds
from cnn_core.time_limit import measured_choosing_cost


def ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ``11th``, ``21st`` (each form is its own catalog entry)."""
    if 10 <= n % 100 <= 20:
        return _("{n}th", n=n)
    return {1: _("{n}st", n=n), 2: _("{n}nd", n=n), 3: _("{n}rd", n=n)}.get(n % 10, _("{n}th", n=n))


def rough_duration(seconds: float) -> str:
    """``"about 40 s"``, ``"about 2 min"``, ``"about 1 h 10 min"`` (a wait, not a stopwatch)."""
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return _("about {seconds} s", seconds=max(10, int(math.ceil(seconds / 10.0)) * 10))
    minutes = int(round(seconds / 60.0))
    if minutes < 60:
        return ngettext("about {count} min", "about {count} min", minutes)
    return _("about {hours} h {minutes} min", hours=minutes // 60, minutes=minutes % 60)


@dataclass(frozen=True)
class QueuePlace:
    """Where a run stands: ``place`` 0 while it trains, 1 = next to start, 2 = one before it...;
    ``seconds_to_start`` None when nothing measured allows a guess."""

    place: int
    seconds_to_start: float | None = None

    def text(self) -> str:
        if self.place <= 0:
            return _("training now")
        where = _("{place} in line", place=ordinal(self.place))
        if self.seconds_to_start is None:
            return where
        return _("{where}, {wait}", where=where, wait=rough_duration(self.seconds_to_start))


def fair_line(waiting: Sequence[str], owner: Callable[[str], str],
              training: Iterable[str] = ()) -> list[str]:
    """The waiting runs in the order they should start: taking turns between people.

    A person's turn number for a waiting run is how many of their runs train now or wait before
    it; runs start by turn number, and within a turn in the order they are in ``waiting`` (the
    order they came). So somebody whose run trains now waits behind those who have none.

    Args:
        waiting: run ids in their current order (newest last).
        owner: who a run belongs to (a browser session's id; one key for all command-line runs).
        training: ids of the runs training now.
    """
    turns = Counter(owner(run_id) for run_id in training)
    numbered = []
    for run_id in waiting:
        who = owner(run_id)
        numbered.append((turns[who], run_id))
        turns[who] += 1
    return [run_id for _turn, run_id in sorted(numbered, key=lambda pair: pair[0])]


def _dataset_key(run: RunRecord):
    return repr((run.config or {}).get("dataset"))


def run_seconds(run: RunRecord, finished: Sequence[RunRecord]) -> float | None:
    """How long ``run`` (not started) will take, measured on the newest finished run of the same
    data set (the same model settings preferred); None when there is none."""
    same_data = [r for r in finished if _dataset_key(r) == _dataset_key(run)]
    model = (run.config or {}).get("model") or {}
    same_model = [r for r in same_data if (r.config or {}).get("model") == model]
    epochs = max(1, run.epochs_planned)
    for measured in (*same_model, *same_data):
        progress = measured.live_progress
        extra = progress.extra
        per_batch = extra.get("seconds_per_batch")
        if not per_batch or not progress.batches:
            continue
        # a run learning from the hardest: its choosing epochs cost more batches' worth (at
        # the cost the measured run's time limit timed, when it did)
        costs = epoch_costs(float(model.get("hard_share", 1.0) or 1.0), epochs,
                            measured_choosing_cost(measured.config))
        return estimate_run_seconds(
            epochs=epochs, batches=int(progress.batches),
            seconds_per_batch=float(per_batch), epoch_overhead=float(extra.get("epoch_overhead") or 0.0),
            startup_seconds=float(extra.get("startup_seconds") or 0.0), epoch_costs=costs,
            time_limit_seconds=60.0 * float(model.get("time_limit", 0) or 0))
    return None


def seconds_left(run: RunRecord, finished: Sequence[RunRecord]) -> float | None:
    """A training run's time left: its own estimate, else its whole expected duration."""
    left = run.live_progress.seconds_left
    return left if left is not None else run_seconds(run, finished)


def queue_place(run: RunRecord, training: Sequence[RunRecord], waiting: Sequence[RunRecord],
                finished: Sequence[RunRecord], trainers: int = 1) -> QueuePlace:
    """Where ``run`` stands in the line and about when it starts.

    Args:
        run: the run asked about.
        training: runs training now (running, paused, stopping).
        waiting: runs waiting, in the order they will start (``run`` among them).
        finished: finished runs, newest first (their measured speed estimates the others).
        trainers: how many runs train at once.
    """
    if run.status != RunStatus.QUEUED or run.id not in [r.id for r in waiting]:
        return QueuePlace(0 if run.is_active else -1)
    ahead = [r for r in waiting[:[r.id for r in waiting].index(run.id)]]
    left = [seconds_left(r, finished) for r in training]
    durations = [run_seconds(r, finished) for r in ahead]
    known = [s for s in left + durations if s is not None]
    if len(known) < len(left) + len(durations):
        if not known:
            return QueuePlace(len(ahead) + 1)
        typical = sum(known) / len(known)
        left = [typical if s is None else s for s in left]
        durations = [typical if s is None else s for s in durations]
    free = sorted(left)[:max(1, trainers)]
    free += [0.0] * (max(1, trainers) - len(free))   # idle trainers are free now
    heapq.heapify(free)
    for seconds in durations:            # each waiting run takes the first trainer that is free
        heapq.heappush(free, heapq.heappop(free) + seconds)
    return QueuePlace(len(ahead) + 1, free[0])


__all__ = ["QueuePlace", "fair_line", "ordinal", "queue_place", "rough_duration", "run_seconds",
           "seconds_left"]
