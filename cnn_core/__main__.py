"""``python -m cnn_core ...``: see :mod:`cnn_core.cli`.

TensorFlow's start-up noise is kept out of the output by :mod:`cnn_core.tensorflow_quiet`
(installed when the package is imported, before anything imports TensorFlow).
"""

import sys

from cnn_core.cli import main

if __name__ == "__main__":
    sys.exit(main())
