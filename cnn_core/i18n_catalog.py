"""Keep the message catalogs in step with the code: ``python -m cnn_core.i18n_catalog``.

Babel's Python extractor finds every string marked with ``_``, ``gettext``, ``ngettext``, ``N_``,
``stored_message`` and ``stored_plural`` (:mod:`cnn_core.stored_messages`), ``pgettext`` and
``NC_`` (kept with their context) and the message given to a :mod:`cnn_core.errors` class
(``DatasetError("...")``, ``SpecError(setting, "...")``) in ``app.py``, ``pages/``, ``components/`` and ``cnn_core/``.
Without options the command adds new ids to every ``cnn_core/locale/<lang>/LC_MESSAGES/
messages.po`` (empty, to translate), keeps existing translations and drops ids no longer used.
``--check`` changes nothing and exits with status 1, listing what is wrong, when a string in the
code has no translation, an entry is not used any more, or a translation lost a ``{field}``.

Example::

    python -m cnn_core.i18n_catalog            # update messages.po after changing strings
    python -m cnn_core.i18n_catalog --check    # what CI runs (tests/test_i18n.py does the same)
"""

from __future__ import annotations

import argparse
import string
import sys
from dataclasses import dataclass, field
from pathlib import Path

from cnn_core.i18n import CONTEXT_SEPARATOR, DEFAULT_LANGUAGE, DOMAIN, LANGUAGES, LOCALE_DIR

ROOT = Path(__file__).resolve().parent.parent
#: Where user-visible strings live (tests, benchmarks and scripts are not translated).
SOURCES = ("app.py", "pages", "components", "cnn_core")
#: The message argument of the error classes (1-based), besides the gettext functions.
ERROR_MESSAGE_ARGUMENT = {"SpecError": (2,)}
HEADER = "CNN Lab messages"


def error_class_names(root: Path = ROOT) -> list[str]:
    """Every CnnLabError subclass declared in ``cnn_core`` (by name: their first argument, the
    second for SpecError, is a message id)."""
    import re

    bases = {"CnnLabError"}
    declared = []
    for path in sorted((root / "cnn_core").rglob("*.py")):
        declared += re.findall(r"^class (\w+)\(([^)]*)\):", path.read_text(encoding="utf-8"), re.M)
    grown = True
    while grown:
        grown = False
        for name, parents in declared:
            if name not in bases and bases & {p.strip().split(".")[-1] for p in parents.split(",")}:
                bases.add(name)
                grown = True
    return sorted(bases)


def keywords() -> dict[str, tuple[int, ...] | None]:
    """Babel keyword specs: function name -> which arguments are messages (None: the first)."""
    found: dict[str, tuple | None] = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None,
                                      "stored_message": None, "stored_plural": (1, 2),
                                      "pgettext": ((1, "c"), 2), "NC_": ((1, "c"), 2)}
    for name in error_class_names():
        found[name] = ERROR_MESSAGE_ARGUMENT.get(name)
    return found


@dataclass
class Extracted:
    """Every message id in the code, with where it was found."""

    messages: dict[str | tuple[str, str], list[tuple[str, int]]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def source_files(root: Path = ROOT) -> list[Path]:
    files: list[Path] = []
    for name in SOURCES:
        path = root / name
        files.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return [f for f in files if "__pycache__" not in f.parts]


def extract_messages(root: Path = ROOT) -> Extracted:
    """Run Babel's Python extractor over :data:`SOURCES`."""
    from babel.messages.extract import extract

    result = Extracted()
    specs = keywords()
    for path in source_files(root):
        relative = path.relative_to(root).as_posix()
        with path.open("rb") as handle:
            for line, message, _comments, context in extract("python", handle, keywords=specs,
                                                                options={"encoding": "utf-8"}):
                if not message or (isinstance(message, tuple) and not all(message)):
                    continue
                if context:   # kept as "context\x04id" (gettext's key), split again when written
                    message = (f"{context}{CONTEXT_SEPARATOR}{message[0]}", *message[1:]) if isinstance(
                        message, tuple) else f"{context}{CONTEXT_SEPARATOR}{message}"
                result.messages.setdefault(message, []).append((relative, line))
    return result


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _read(language: str):
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    path = catalog_path(language)
    if not path.is_file():
        return Catalog(locale=language, project=HEADER, fuzzy=False)
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def _key(message_id) -> str:
    return message_id[0] if isinstance(message_id, (tuple, list)) else message_id


def _entry_key(entry) -> str:
    """A catalog entry's key: its id, after its context and CONTEXT_SEPARATOR when it has one."""
    return f"{entry.context}{CONTEXT_SEPARATOR}{_key(entry.id)}" if entry.context else _key(entry.id)


def _split_context(message_id):
    """``(context or None, id as Babel stores it)`` of an extracted key."""
    first = _key(message_id)
    if CONTEXT_SEPARATOR not in first:
        return None, message_id
    context, bare = first.split(CONTEXT_SEPARATOR, 1)
    return context, (bare, *message_id[1:]) if isinstance(message_id, tuple) else bare


def update_catalog(language: str, extracted: Extracted) -> tuple[int, int]:
    """Add new ids to ``language``'s catalog and drop unused ones; returns (added, removed)."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    old = _read(language)
    known = {_entry_key(m) for m in old if m.id}
    fresh = Catalog(locale=language, project=HEADER, version="1", copyright_holder="CNN Lab", fuzzy=False,
                    msgid_bugs_address="", last_translator="CNN Lab", language_team=LANGUAGES[language],
                    creation_date=old.creation_date, revision_date=old.revision_date)
    fresh.header_comment = (f"# {LANGUAGES[language]} messages of CNN Lab. Update with: python -m cnn_core.i18n_catalog\n"
                            "# (it adds new ids and drops unused ones; translate the empty msgstr entries).")
    for message_id, places in sorted(extracted.messages.items(), key=lambda item: _key(item[0])):
        context, bare_id = _split_context(message_id)
        existing = old.get(_key(bare_id), context=context)
        string_ = existing.string if existing is not None and existing.id == bare_id else (
            ("", "") if isinstance(bare_id, tuple) else "")
        fresh.add(bare_id, string_, locations=places, context=context,
                  flags=("fuzzy",) if existing is not None and existing.fuzzy else ())
    added = len({_key(m) for m in extracted.messages} - known)
    removed = len(known - {_key(m) for m in extracted.messages})
    path = catalog_path(language)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, fresh, width=100, sort_output=True, omit_header=False, ignore_obsolete=True)
    return added, removed


def _fields(text: str) -> set[str]:
    try:
        return {name for _literal, name, _spec, _conv in string.Formatter().parse(text) if name}
    except ValueError:
        return {"<broken braces>"}


def check_catalog(language: str, extracted: Extracted) -> list[str]:
    """What is wrong with ``language``'s catalog, one line each (empty: all good)."""
    catalog = _read(language)
    entries = {_entry_key(m): m for m in catalog if m.id}
    problems: list[str] = []
    for message_id, places in sorted(extracted.messages.items(), key=lambda item: _key(item[0])):
        where = "{}:{}".format(*places[0])
        entry = entries.get(_key(message_id))
        strings = entry.string if entry is not None else None
        strings = list(strings) if isinstance(strings, (tuple, list)) else [strings]
        if entry is None or entry.fuzzy or not all(strings):
            problems.append(f"missing translation ({where}): {_key(message_id)!r}")
            continue
        wanted = _fields(_key(message_id)) | (_fields(message_id[1]) if isinstance(message_id, tuple) else set())
        for text in strings:
            if _fields(text) - wanted:
                problems.append(f"translation has a field the code does not fill ({where}): {text!r}")
    used = {_key(m) for m in extracted.messages}
    problems += [f"unused entry: {key!r}" for key in sorted(set(entries) - used)]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnn_core.i18n_catalog", description=(
        "Bring the translation catalogs up to date with the strings marked in the code."))
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 listing missing translations and unused entries")
    args = parser.parse_args(argv)
    extracted = extract_messages()
    status = 0
    for language in LANGUAGES:
        if language == DEFAULT_LANGUAGE:
            continue
        if args.check:
            problems = check_catalog(language, extracted)
            for line in problems:
                print(f"{language}: {line}")
            print(f"{language}: {len(extracted.messages)} messages, {len(problems)} problems")
            status = status or (1 if problems else 0)
        else:
            added, removed = update_catalog(language, extracted)
            print(f"{language}: {len(extracted.messages)} messages ({added} new, {removed} removed) "
                  f"in {catalog_path(language).relative_to(ROOT)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
