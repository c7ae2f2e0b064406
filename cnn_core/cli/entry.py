"""The ``python -m cnn_core`` parser and entry point."""

from __future__ import annotations

import argparse
import contextvars
import sys
from typing import Sequence

from cnn_core.cli.cli_language import TranslatedParser, add_language_option, requested_language
from cnn_core.cli.explore import add_explore_commands
from cnn_core.cli.run_commands import add_run_commands
from cnn_core import run_admin
from cnn_core.errors import CnnLabError
from cnn_core.i18n import _, set_language


def build_parser() -> argparse.ArgumentParser:
    """The parser, its help in the current language (:func:`main` sets it from ``--lang`` first)."""
    workspace_help = _("workspace folder (default: $CNN_LAB_WORKSPACE or ./workspace)")
    parser = TranslatedParser(prog="python -m cnn_core", description=_("CNN Lab from the terminal."))
    parser.add_argument("--workspace", default=None, help=workspace_help)
    add_language_option(parser)
    # --workspace and --lang are accepted after the command too, without hiding one given before it
    common = TranslatedParser(add_help=False)
    common.add_argument("--workspace", default=argparse.SUPPRESS, help=workspace_help)
    add_language_option(common, default=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True, metavar=_("COMMAND"))
    add_run_commands(sub, common)
    add_explore_commands(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the language (``--lang``, ``CNN_LAB_LANG``, ``LANG``) holds for this call only."""
    argv = list(sys.argv[1:] if argv is None else argv)
    return contextvars.copy_context().run(_main, argv)


def _main(argv: list[str]) -> int:
    set_language(requested_language(argv))
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        run_admin.open_store(args.workspace)
    except CnnLabError as error:      # a bad --workspace: one plain line
        print(_("error: {error}", error=error), file=sys.stderr)
        return 1
    try:
        return int(args.func(args) or 0)
    except CnnLabError as error:
        print(_("error: {error}", error=error), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(_("Interrupted."), file=sys.stderr)
        return 130
