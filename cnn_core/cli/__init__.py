"""``python -m cnn_core``: the engine from a terminal.

Commands::

    python -m cnn_core datasets
    python -m cnn_core train --dataset shapes --preset fast --epochs 3 --set learning_rate=0.01 \\
                             --augment flip=horizontal --augment rotation=0.05
    python -m cnn_core runs [--status finished]
    python -m cnn_core evaluate RUN_ID
    python -m cnn_core resume RUN_ID
    python -m cnn_core stop RUN_ID
    python -m cnn_core predict RUN_ID IMAGE [IMAGE ...] [--top 3] [--fit crop|pad] [--json]
    python -m cnn_core delete RUN_ID
    python -m cnn_core rename RUN_ID "new name"

Every command takes ``--workspace DIR`` (default: ``$CNN_LAB_WORKSPACE`` or ``./workspace``) and
``--lang en|ko`` (default: ``$CNN_LAB_LANG``, else ``$LANG``, else English; help texts included).
Mistakes a user can make (an unknown setting, a missing data set...) print a plain message on
stderr and exit with status 2. ``train``/``resume`` exit 0 when the run finished, 1 when it
diverged or failed, 130 when stopped with Ctrl-C (the first Ctrl-C stops after the current batch
and saves the run; a second one quits at once). ``sweep`` and ``compare``: see
:mod:`cnn_core.cli.explore`.

Modules (imports point one way: ``entry`` -> ``run_commands``/``explore`` -> ``parsing``/``tables``):

==================  ===============================================================================
``entry``           the parser and :func:`main`
``cli_language``    the language (``--lang``, ``CNN_LAB_LANG``, ``LANG``) and argparse's own words in it
``run_commands``    ``datasets``, ``train``, ``resume``, ``runs``, ``evaluate``, ``stop``
``explore``         ``sweep`` and ``compare``
``parsing``         ``key=value`` settings (read by :func:`cnn_core.settings.parse_text`), image
                    sizes, ``--grid`` and ``--range``
``tables``          what the terminal prints: tables, epoch lines, values
==================  ===============================================================================
"""

from __future__ import annotations

from cnn_core.cli.entry import build_parser, main
from cnn_core.cli.parsing import (
    apply_settings, parse_assignment, parse_grid_option, parse_image_size, parse_range_option,
)
from cnn_core.cli.tables import format_epoch_line, format_table

__all__ = [
    "apply_settings", "build_parser", "format_epoch_line", "format_table", "main",
    "parse_assignment", "parse_grid_option", "parse_image_size", "parse_range_option",
]
