"""Run code around a module's first import, whichever thread imports it.

A meta-path finder that finds the module the usual way, once (it removes itself), and wraps its
loader so that ``around(run)`` is called with the real import as ``run``. Used for TensorFlow:
:mod:`cnn_core.tensorflow_quiet` filters its start-up noise during the import,
:mod:`cnn_core.training_priority` creates its thread pools right after it. Hooks for one module
nest: each wraps what the next finds.

Example:
    >>> watch_first_import("sys", lambda run: run())   # False: sys is imported already
    False
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import threading
from typing import Callable

Around = Callable[[Callable[[], None]], None]

_lock = threading.Lock()


class _WrappedLoader:
    """The module's own loader, its ``exec_module`` run through ``around``."""

    def __init__(self, loader, around: Around) -> None:
        self._loader, self._around = loader, around

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        self._around(lambda: self._loader.exec_module(module))


class _FirstImportFinder(importlib.abc.MetaPathFinder):
    def __init__(self, module: str, around: Around) -> None:
        self.module, self.around = module, around

    def find_spec(self, name, path=None, target=None):
        if name != self.module:
            return None
        with _lock:
            if self in sys.meta_path:
                sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _WrappedLoader(spec.loader, self.around)
        return spec


def watch_first_import(module: str, around: Around) -> bool:
    """Call ``around(run)`` at ``module``'s first import (``run`` does the import). Returns
    whether the hook is in place: False when the module is imported already; installing the
    same ``around`` twice keeps one hook."""
    with _lock:
        if module in sys.modules:
            return False
        if not any(isinstance(f, _FirstImportFinder) and f.module == module and f.around is around
                   for f in sys.meta_path):
            sys.meta_path.insert(0, _FirstImportFinder(module, around))
    return True


__all__ = ["watch_first_import"]
