"""What training runs on: the GPU's name when TensorFlow sees one, else the CPU core count; and
whether it computes 16-bit (bfloat16) numbers in hardware (:func:`has_bfloat16_units`).

Asking TensorFlow needs it imported, which takes seconds; the home page must stay fast, so
:func:`describe_device` asks TensorFlow only when it is already imported and otherwise checks for
an NVIDIA driver with ``nvidia-smi`` (a few milliseconds), which is what TensorFlow would use.
"""

from __future__ import annotations

import functools
import os
import re
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


def _gpu_capabilities() -> tuple[tuple[int, int], ...] | None:
    """The compute capability of each GPU training would use; None when it uses none."""
    if "tensorflow" in sys.modules:
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if not gpus:
            return None
        found = [tf.config.experimental.get_device_details(gpu).get("compute_capability")
                 for gpu in gpus]
        return tuple(tuple(c) if c else (0, 0) for c in found)
    if not _gpu_names_from_driver():
        return None
    return _capabilities_from_driver()


def _capabilities_from_driver() -> tuple[tuple[int, int], ...]:
    """Each GPU's compute capability as NVIDIA's driver tells it (``nvidia-smi``)."""
    try:
        out = subprocess.run([shutil.which("nvidia-smi") or "nvidia-smi",
                              "--query-gpu=compute_cap", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=5, check=True).stdout
        return tuple(tuple(int(v) for v in line.strip().split(".")[:2])
                     for line in out.splitlines() if line.strip())
    except (OSError, subprocess.SubprocessError, ValueError):
        return ((0, 0),)   # an older driver that cannot tell: counted as no bfloat16 units


def _cpu_features() -> dict:
    """NumPy's run-time reading of the processor's instruction sets (every operating system)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:   # NumPy 1.x
        try:
            from numpy.core._multiarray_umath import __cpu_features__
        except ImportError:
            return {}
    return dict(__cpu_features__)


def _cpu_has_bfloat16(features: dict | None = None, cpuinfo: str = "/proc/cpuinfo") -> bool:
    """AVX512-BF16 in NumPy's reading of the processor (``features``), else among the flags of
    Linux's ``cpuinfo`` (``amx_bf16`` too)."""
    if (_cpu_features() if features is None else features).get("AVX512BF16"):
        return True
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as info:
            return re.search(r"\b(avx512_bf16|amx_bf16)\b", info.read()) is not None
    except OSError:
        return False


@functools.lru_cache(maxsize=1)
def has_bfloat16_units() -> bool:
    """Whether training here computes bfloat16 in hardware, so 16-bit numbers are faster than 32.

    True for NVIDIA GPUs of compute capability 8.0 and up (Ampere on) and, with no GPU, for x86
    processors with AVX512-BF16 (Intel Xeon from Cooper Lake on, AMX ones included; AMD from
    Zen 4 on). Elsewhere TensorFlow emulates bfloat16, and the fast preset's convolutions took
    (bench/conv_peak.py on 2 AMD EPYC cores, µs a picture, forward and backward): 680 in
    bfloat16 with its units, 1,210 in float32; with oneDNN held to AVX-512 without BF16
    (``ONEDNN_MAX_CPU_ISA=AVX512_CORE``) 3,060 against 1,010; through Eigen, TensorFlow's path for
    bfloat16 on processors without AVX-512 (``TF_ENABLE_ONEDNN_OPTS=0``), 30,040 against 1,850.
    Arm processors count as without: not measured.
    """
    gpus = _gpu_capabilities()
    if gpus is not None:
        return all(capability >= (8, 0) for capability in gpus)
    return _cpu_has_bfloat16()
