"""The command line's language, and argparse's own words (usage, section titles, ``--help``) in it.

The language is, first to last: ``--lang en|ko`` (before or after the command), the environment
variable ``CNN_LAB_LANG``, the POSIX locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``, e.g.
``ko_KR.UTF-8``), English. It is chosen before the parser is built, so ``--help`` is in it too.

Example::

    python -m cnn_core --lang ko --help
    CNN_LAB_LANG=ko python -m cnn_core runs
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from cnn_core.i18n import LANGUAGES, _, environment_language, normalise_language

LANG_OPTION = "--lang"


def requested_language(argv: Sequence[str]) -> str:
    """The language ``argv`` asks for with ``--lang``, else the environment's (see above)."""
    for index, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == LANG_OPTION and index + 1 < len(argv):
            found = normalise_language(argv[index + 1])
        elif arg.startswith(LANG_OPTION + "="):
            found = normalise_language(arg.split("=", 1)[1])
        else:
            continue
        if found:
            return found
    return environment_language()


def add_language_option(parser: argparse.ArgumentParser, default=None) -> None:
    """``--lang`` (read before parsing by :func:`requested_language`; declared for ``--help``)."""
    parser.add_argument(LANG_OPTION, choices=list(LANGUAGES), default=default, metavar="{en,ko}",
                        help=_("language of the help and of what is printed (default: $CNN_LAB_LANG, "
                               "else $LANG, else English)"))


class TranslatedHelpFormatter(argparse.HelpFormatter):
    """argparse's help with its ``usage:`` in the chosen language."""

    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, _("usage: ") if prefix is None else prefix)


class TranslatedParser(argparse.ArgumentParser):
    """An ArgumentParser whose own words (section titles, ``-h`` help, error line) are translated;
    the command parsers made by ``add_subparsers`` are of this class too."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", TranslatedHelpFormatter)
        add_help = kwargs.pop("add_help", True)
        parents = kwargs.pop("parents", [])
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = _("positional arguments")
        self._optionals.title = _("options")
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                              help=_("show this help and exit"))
        for parent in parents:   # after the titles are translated, so the groups match
            self._add_container_actions(parent)
            self._defaults.update(parent._defaults)

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, _("{prog}: error: {message}", prog=self.prog, message=message) + "\n")


__all__ = ["LANG_OPTION", "TranslatedHelpFormatter", "TranslatedParser", "add_language_option",
           "requested_language"]
