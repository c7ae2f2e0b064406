"""Which process owns a run, and whether it still runs.

A pid alone is not an identity: pids are reused. An owner string is ``"<pid>:<start time>"``,
the start time as psutil reports it (seconds since the epoch, 2 decimals), and on Linux
``":<start tick>@<boot id>"`` after it: the process's start in clock ticks since boot
(``/proc/<pid>/stat``) and the first 8 characters of the kernel's boot id.

The tick and the boot id are what decide on Linux. psutil's start time is the tick plus the boot
time the kernel reports, and the kernel works that out anew at each reading from the wall clock,
so it moves whenever the clock is set (NTP, a virtual machine catching up): a second off from
one reading to the next is common on CI machines, and a larger step makes every live owner look
gone (psutil issue #2526), the likely cause of a training run once marked interrupted in CI
while it trained. The tick never moves, and the boot id tells a pid of this boot from the same
pid of the last.

Elsewhere (and for owner strings without the Linux part) the start time decides, compared to
within 2 seconds. A process that is gone, or whose pid now belongs to a process started at
another time, is not alive; zombies count as gone. Owner strings written by older versions
(``"<pid>:<clock ticks>"`` from ``/proc``) are checked by pid only.

Example:
    >>> owner_alive(current_owner())
    True
"""

from __future__ import annotations

import os
from pathlib import Path

import psutil


START_TIME_TOLERANCE = 2.0   # seconds; see the module text
_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def _start_token(process: psutil.Process) -> str:
    return f"{process.create_time():.2f}"


def _start_tick(pid: int) -> str | None:
    """``"<start tick>@<boot id>"`` of ``pid`` from ``/proc`` (Linux), None where there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
        # the fields after the command name (which may hold spaces and brackets): state is
        # field 3 of the manual's numbering, the start time field 22
        tick = int(stat[stat.rindex(b")") + 2:].split()[19])
        boot = _BOOT_ID.read_text(encoding="ascii").strip()[:8]
    except (OSError, ValueError, IndexError, UnicodeDecodeError):
        return None
    return f"{tick}@{boot}" if boot else None


def current_owner() -> str:
    """This process as an owner string (see the module text)."""
    pid = os.getpid()
    tick = _start_tick(pid)
    return f"{pid}:{_start_token(psutil.Process())}" + (f":{tick}" if tick else "")


def owner_alive(owner: str | None) -> bool:
    """Whether the process recorded in ``owner`` still runs: the same pid, started at the same
    moment (see the module text)."""
    if not owner:
        return False
    pid_text, _, rest = owner.partition(":")
    token, _, tick = rest.partition(":")
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
    if tick:
        live_tick = _start_tick(pid)
        if live_tick is not None:
            return live_tick == tick
    if not token or "." not in token:   # no start time, or an old /proc tick count
        return True
    try:
        return abs(float(token) - float(live)) < START_TIME_TOLERANCE
    except ValueError:
        return True


__all__ = ["current_owner", "owner_alive"]
