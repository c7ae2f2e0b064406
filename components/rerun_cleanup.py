"""Keep Streamlit's end-of-run clean-up away from the training thread.

After every script run, fragment reruns included, Streamlit calls ``keras.backend.clear_session()``
when Keras is imported (``_clean_problem_modules`` in ``streamlit.runtime.scriptrunner``). In
Keras 3 that empties TensorFlow's process-wide eager kernel cache and runs a full garbage
collection. CNN Lab trains in a background thread of the same process while the training page
and the sidebar poll once or twice a second, so each poll threw away the kernels the training
thread was using: measured here, an epoch of LeNet on the MNIST sample went from about 1 s to
over 100 s on a busy 2-core machine (``py-spy`` showed the script threads inside ``clear_session``).

CNN Lab does not need that clean-up: Keras's global state is per thread (names, seeds, the graph
stack), the pages build models only for their summary, and each script run has a thread of its
own. So ``app.py`` (through which every page runs, see ``components/navigation.py``) skips the
Keras part for the whole server; the rest of Streamlit's clean-up (closing Matplotlib figures)
still runs. If a Streamlit release moves the hook, nothing is patched and everything still works,
only slower while a run trains; ``tests/test_rerun_cleanup.py`` fails then, to say so.
"""

from __future__ import annotations

import sys
from typing import Any

_HOOK_MODULE = "streamlit.runtime.scriptrunner.script_runner"
_HOOK_NAME = "_clean_problem_modules"


def _clean_without_keras() -> None:
    """Streamlit's clean-up after a script run, minus ``keras.backend.clear_session()``."""
    pyplot: Any = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        try:
            pyplot.close("all")
        except Exception:  # noqa: BLE001 - as Streamlit does: never break the app over clean-up
            pass


def keep_keras_session() -> bool:
    """Stop Streamlit from clearing the Keras session after each script run (idempotent).

    Returns True when the hook is (now) replaced, False when this Streamlit has no such hook.
    """
    import importlib

    module = importlib.import_module(_HOOK_MODULE)
    current = getattr(module, _HOOK_NAME, None)
    if current is None:
        return False
    if current is not _clean_without_keras:
        setattr(module, _HOOK_NAME, _clean_without_keras)
    return True


__all__ = ["keep_keras_session"]
