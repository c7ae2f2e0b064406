"""Which process owns a run, and whether it still runs (through psutil, on every platform).

A pid alone is not an identity: pids are reused. An owner string is ``"<pid>:<start time>"``,
the start time as psutil reports it (seconds since the epoch, 2 decimals); a run whose owner is
gone, or whose pid now belongs to a process started at another time, is orphaned. Zombies count
as gone. Start times are compared to within 2 seconds: psutil adds the machine's boot time, which
some kernels and sandboxes report a second off from one reading to the next, and a pid is not
handed to a new process within seconds of the old one's start. Owner strings written by older versions (``"<pid>:<clock ticks>"`` from ``/proc``) are
checked by pid only.

Example:
    >>> owner_alive(current_owner())
    True
"""

from __future__ import annotations

import os

import psutil


START_TIME_TOLERANCE = 2.0   # seconds; see the module text


def _start_token(process: psutil.Process) -> str:
    return f"{process.create_time():.2f}"


def current_owner() -> str:
    """This process as an owner string: ``"<pid>:<start time>"``."""
    return f"{os.getpid()}:{_start_token(psutil.Process())}"


def owner_alive(owner: str | None) -> bool:
    """Whether the process recorded in ``owner`` still runs (same pid AND same start time)."""
    if not owner:
        return False
    pid_text, _, token = owner.partition(":")
    try:
        pid = int(pid_text)
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        live = _start_token(process)
    except (ValueError, psutil.NoSuchProcess):
        return False
    except psutil.AccessDenied:   # it exists, we may not look at it
        return True
    if not token or "." not in token:   # no start time, or an old /proc tick count
        return True
    try:
        return abs(float(token) - float(live)) < START_TIME_TOLERANCE
    except ValueError:
        return True


__all__ = ["current_owner", "owner_alive"]
