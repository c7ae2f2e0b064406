"""``python -m cnn_core ...``: see :mod:`cnn_core.cli`."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from cnn_core.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
