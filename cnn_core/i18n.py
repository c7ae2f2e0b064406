"""Words in the user's language: English (the source) and Korean, from gettext catalogs.

Every string a user reads is written in English in the code and marked with :func:`_` (or
:func:`N_` where it is defined before a language is known, e.g. a module-level table, and
translated where it is shown). Translations live in ``cnn_core/locale/<lang>/LC_MESSAGES/
messages.po``, read with Babel; ``python -m cnn_core.i18n_catalog`` brings the catalog up to
date with the code.

The language is per script run (a context variable): the app sets it at the top of every run
from the sidebar switch, ``?lang=`` or the browser's language; the CLI from ``--lang``,
``CNN_LAB_LANG`` or ``LANG`` (:mod:`cnn_core.cli.cli_language`). Messages stored now and read
later (run status lines) are kept as ids: :mod:`cnn_core.stored_messages`. An English word with
two meanings gets a context: :func:`NC_` / :func:`pgettext`. Placeholders are ``str.format``
fields, filled after translation::

    _("Trained {count} epochs", count=3)
"""

from __future__ import annotations

import contextvars
import functools
import os
from pathlib import Path
from typing import Any, Callable

from cnn_core.korean_particles import fit_particles

#: Language code -> its name in that language (what the switch shows).
LANGUAGES: dict[str, str] = {"en": "English", "ko": "한국어"}
DEFAULT_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "messages"
#: Between a message's context and its id in catalog keys (GNU gettext's convention).
CONTEXT_SEPARATOR = "\x04"

_language: contextvars.ContextVar[str] = contextvars.ContextVar("cnn_lab_language", default="")
#: Where the app keeps the session's language (set by the UI layer; the engine knows no Streamlit).
_language_source: Callable[[], str | None] | None = None


def normalise_language(code: str | None) -> str | None:
    """``"ko-KR"``, ``"ko_KR.UTF-8"``, ``"KO"`` -> ``"ko"``; None for a language we do not have."""
    if not code:
        return None
    base = str(code).strip().replace("-", "_").split(".")[0].split("_")[0].lower()
    return base if base in LANGUAGES else None


def environment_language() -> str:
    """The language asked for by ``CNN_LAB_LANG`` or the POSIX locale variables (CLI default)."""
    for variable in ("CNN_LAB_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        found = normalise_language(os.environ.get(variable))
        if found:
            return found
    return DEFAULT_LANGUAGE


def set_language(code: str | None) -> str:
    """Use ``code`` for the rest of this script run (or thread); returns the language in use."""
    chosen = normalise_language(code) or DEFAULT_LANGUAGE
    _language.set(chosen)
    return chosen


def set_language_source(source: Callable[[], str | None] | None) -> None:
    """Ask ``source`` for the language whenever no run/thread set one (the app: the session's
    choice, which also holds in fragment reruns and threads that did not call set_language)."""
    global _language_source
    _language_source = source


def current_language() -> str:
    chosen = _language.get()
    if chosen:
        return chosen
    if _language_source is not None:
        try:
            chosen = normalise_language(_language_source())
        except Exception:  # noqa: BLE001 - no session here (a worker thread): fall through
            chosen = None
        if chosen:
            return chosen
    return environment_language()


@functools.lru_cache(maxsize=None)
def _catalog(code: str) -> dict[str, Any]:
    """msgid -> translation (a string, or a tuple of plural forms) of one language's catalog."""
    path = LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    if code == DEFAULT_LANGUAGE or not path.is_file():
        return {}
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        catalog = read_po(handle, locale=code)
    table: dict[str, Any] = {}
    for message in catalog:
        if not message.id or message.fuzzy or not message.string:
            continue
        prefix = f"{message.context}{CONTEXT_SEPARATOR}" if message.context else ""
        if isinstance(message.id, (tuple, list)):
            if all(message.string):
                table[prefix + message.id[0]] = tuple(message.string)
        else:
            table[prefix + message.id] = message.string
    return table


def reload_catalogs() -> None:
    """Forget the catalogs read so far (after ``python -m cnn_core.i18n_catalog`` changed one)."""
    _catalog.cache_clear()


def _fill(text: str, params: dict[str, Any]) -> str:
    """``text`` with its fields filled; a Korean particle after a field takes the form the
    filled-in word needs ("LeNet-5를", not "LeNet-5을(를)": :mod:`cnn_core.korean_particles`)."""
    if not params:
        return text
    try:
        filled = text.format(**params)
    except (KeyError, IndexError, ValueError):  # a broken translation must not break the page
        return text
    return fit_particles(filled)


def gettext(message: str, /, **params: Any) -> str:
    """``message`` in the current language, with ``{name}`` fields filled from ``params``."""
    translated = _catalog(current_language()).get(message)
    if not isinstance(translated, str):
        translated = message
    return _fill(translated, params)


def ngettext(singular: str, plural: str, count: int, /, **params: Any) -> str:
    """The form for ``count`` (``{count}`` is filled too). Korean has one form for every count."""
    params.setdefault("count", count)
    forms = _catalog(current_language()).get(singular)
    if isinstance(forms, tuple) and forms:
        text = forms[0] if len(forms) == 1 else forms[0 if count == 1 else 1]
    else:
        text = singular if count == 1 else plural
    return _fill(text, params)


def pgettext(context: str, message: str, /, **params: Any) -> str:
    """``message`` in the current language as meant in ``context`` (the same English word with
    two meanings, e.g. the class "train" of CIFAR-100 and the training split "train")."""
    translated = _catalog(current_language()).get(f"{context}{CONTEXT_SEPARATOR}{message}")
    if not isinstance(translated, str):
        translated = message
    return _fill(translated, params)


def N_(message: str, /) -> str:
    """Mark ``message`` for the catalog without translating it yet (translate where shown)."""
    return message


def NC_(context: str, message: str, /) -> str:
    """Like :func:`N_` for a message translated with :func:`pgettext` (``context``) where shown."""
    return message


_ = gettext

__all__ = ["CONTEXT_SEPARATOR", "DEFAULT_LANGUAGE", "LANGUAGES", "NC_", "N_", "_", "current_language",
           "environment_language", "gettext", "ngettext", "normalise_language", "pgettext", "reload_catalogs",
           "set_language", "set_language_source"]
