"""Small helpers the browser benchmarks share (imported by name: ``python bench/NAME.py`` puts
``bench/`` first on the path)."""

from __future__ import annotations

import os
import shutil
import socket
import sys


def load() -> str:
    """The load average, 1/5/15 minutes, e.g. ``"0.52/0.61/0.70"``."""
    return "/".join(f"{v:.2f}" for v in os.getloadavg())


def chromium_path() -> str:
    """Debian's Chromium (or ``CNN_LAB_CHROMIUM``); exits with a plain message when there is none."""
    path = os.environ.get("CNN_LAB_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        sys.exit("Needs Chromium: `apt-get install chromium`, or set CNN_LAB_CHROMIUM to a Chromium binary.")
    return path


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
