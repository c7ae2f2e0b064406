"""A small, thread-safe cache of things made from data that rarely changes between two polls.

The Training page's live view redraws every 2 s in every session that watches a run, but a run's
curves change once per epoch and the table of runs about as rarely. Building the Plotly figure of
the curves (~20 ms) and the table's rows (~6 ms for 60 runs) was most of what a poll cost, while
reading the run store itself is well under a millisecond. So the readings are still made every
poll (they are cheap and always current), and what is built from them is kept under a key made of
the very values it is built from (plus whatever else it depends on: the language, the look, who
is looking): an unchanged reading finds the thing already built, a changed one builds it anew.
Nothing can go stale: a key is the content itself, not a time or a file date.

The cache is bounded (least recently used entries go first) and shared by every session of the
process: the things kept must not be changed by those who get them.

This module imports nothing heavy.

Example:
    >>> cache = ContentCache(max_entries=2)
    >>> cache.get_or_make(("curves", 1, 2), lambda: "figure")
    'figure'
    >>> cache.get_or_make(("curves", 1, 2), lambda: "built again")
    'figure'
    >>> cache.made
    1
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


class ContentCache:
    """Values made by a function, kept under a hashable key describing their inputs.

    Args:
        max_entries: how many values are kept; the least recently used goes first.
    """

    def __init__(self, max_entries: int = 64):
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, not {max_entries}")
        self.max_entries = max_entries
        self._values: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        #: How many values were made (not found): what the tests and benchmarks read.
        self.made = 0

    def get_or_make(self, key: Hashable, make: Callable[[], T]) -> T:
        """The value kept under ``key``, or ``make()`` kept under it now. ``make`` runs outside
        the lock (two sessions may both make a value for a new key; the last one is kept)."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]  # type: ignore[return-value]
        value = make()
        with self._lock:
            self.made += 1
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.max_entries:
                self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)


def epochs_key(epochs) -> tuple:
    """A hashable key of a run's epoch rows (:meth:`cnn_core.runs.RunStore.epochs`): every value
    of every row, so a row recorded again with other numbers gives another key."""
    return tuple(tuple(sorted((k, _hashable(v)) for k, v in row.items())) for row in epochs)


def _hashable(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


__all__ = ["ContentCache", "epochs_key"]
