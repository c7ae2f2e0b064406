"""What training runs on: the GPU's name when TensorFlow sees one, else the CPU core count.

Asking TensorFlow needs it imported, which takes seconds; the home page must stay fast, so
:func:`describe_device` asks TensorFlow only when it is already imported and otherwise checks for
an NVIDIA driver with ``nvidia-smi`` (a few milliseconds), which is what TensorFlow would use.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys


def _cpu_description() -> str:
    from cnn_core.i18n import ngettext

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return ngettext("CPU ({count} core)", "CPU ({count} cores)", int(cores or 1))


@functools.lru_cache(maxsize=1)
def _gpu_names_from_driver() -> tuple[str, ...]:
    smi = shutil.which("nvidia-smi")
    if not smi:
        return ()
    try:
        out = subprocess.run(
            [smi, "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(line.strip() for line in out.splitlines() if line.strip())


def _gpu_names_from_tensorflow() -> tuple[str, ...]:
    import tensorflow as tf

    names = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        names.append(details.get("device_name", gpu.name))
    return tuple(names)


def describe_device() -> str:
    """A short plain description such as ``"GPU: NVIDIA L4"`` or ``"CPU (2 cores)"``."""
    names = _gpu_names_from_tensorflow() if "tensorflow" in sys.modules else _gpu_names_from_driver()
    if names:
        return "GPU: " + ", ".join(names)
    return _cpu_description()
