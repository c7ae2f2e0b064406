"""How often the app's polling views re-read the run store, chosen from the state of the run
they follow.

Streamlit fixes a fragment's ``run_every`` when a page run defines it, so a page chooses it from
the run's state at that moment; a change that needs another interval (a run that starts or ends)
comes with a page run: the click that started it, or the sidebar card's own rerun when its poll
sees the followed run start or end.

With thirty people on one server every poll counts: thirty sidebar cards polling every 2 s
whatever their run's state were fifteen fragment runs a second (issue 13).

This module imports nothing heavy.

Example:
    >>> run_card_seconds(None)
    30.0
    >>> live_view_seconds(None) is None
    True
    >>> PAUSED_SECONDS > LIVE_SECONDS
    True
    >>> group_seconds([]) is None
    True
"""

from __future__ import annotations

from cnn_core.run_status import RunStatus

#: While a run is queued, training, paused or stopping: the live views (Training page, sweeps,
#: MLP vs CNN) and the sidebar's run card. An epoch of a small model takes several seconds, so
#: a 2 s poll shows each new curve point within 2 s and the batch bar moving; 1 s cost twice the
#: CPU for a bar that moved a little more often.
LIVE_SECONDS = 2.0
#: The sidebar card with no live run to follow: only to notice what happens without a click in
#: this session: a run resumed from the command line (``python -m cnn_core resume``) or another
#: tab, or a run the class shares that starts. Each such poll is cheap (one reading of the store).
IDLE_CARD_SECONDS = 30.0
#: A paused run changes only when somebody resumes or stops it: a click in this session reruns
#: the page (and so chooses the interval again); one in another tab or on the command line shows
#: within this many seconds. Thirty paused runs (a teacher asks the class to pause) at the live
#: interval were fifteen polls a second for nothing.
PAUSED_SECONDS = 10.0


def is_live(run) -> bool:
    """Whether ``run`` (a :class:`~cnn_core.run_record.RunRecord` or None) can still change by
    itself (queued, running, paused or stopping)."""
    return run is not None and bool(run.is_active)


def _live_seconds(run) -> float:
    """The interval for a live ``run``: :data:`PAUSED_SECONDS` while paused, else
    :data:`LIVE_SECONDS`."""
    return PAUSED_SECONDS if run.status == RunStatus.PAUSED else LIVE_SECONDS


def live_view_seconds(run) -> float | None:
    """The Training page's live view: polls while its run is live (rarely while paused), not at
    all once it ended (the buttons that resume it rerun the page)."""
    return _live_seconds(run) if is_live(run) else None


def run_card_seconds(run) -> float:
    """The sidebar's run card: every :data:`LIVE_SECONDS` while the followed run is live (it
    also marks a run whose process died as interrupted and turns the live view's redraw requests
    into page runs), every :data:`PAUSED_SECONDS` while it is paused, else every
    :data:`IDLE_CARD_SECONDS` (no run, or it ended)."""
    return _live_seconds(run) if is_live(run) else IDLE_CARD_SECONDS


def group_seconds(runs) -> float | None:
    """A view that follows several runs (a sweep's, the MLP vs CNN pairs): every
    :data:`LIVE_SECONDS` while any of them waits or trains, every :data:`PAUSED_SECONDS` while
    the only live ones are paused, not at all once none is live. The view reruns the page when
    its poll finds another interval due (a run ended, or was continued elsewhere)."""
    live = [_live_seconds(run) for run in runs if is_live(run)]
    return min(live) if live else None


__all__ = ["IDLE_CARD_SECONDS", "LIVE_SECONDS", "PAUSED_SECONDS", "group_seconds", "is_live",
           "live_view_seconds", "run_card_seconds"]
