"""Messages that are stored now and read later, in the reader's language.

A run's status line ("Waiting to resume: continues with epoch 3 of 5 …") is written by the
training worker and read by whoever opens the page, maybe in Korean, maybe next week; a skipped
file's reason is written into a data set's import report and shown to every session. Such a
message is kept as its message id(s) and parameters (JSON), not as finished text, and rendered
by :func:`message_text` each time it is shown. Text written by older versions (plain English, or
an ``N_`` message id) is shown as it is (translated when it is a message id of the catalog).

Mark the messages with :func:`stored_message` / :func:`stored_plural` (the catalog finds them
like ``_`` / ``ngettext``); join sentences with ``+``; a parameter may itself be a message::

    done = stored_plural("Trained {count} epoch.", "Trained {count} epochs.", 3)
    store.set_status(run_id, RunStatus.FINISHED, done)          # kept as JSON
    message_text(store.get(run_id).message)                     # '3 에포크 학습했습니다.' in Korean
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from cnn_core.i18n import gettext, ngettext

#: The JSON key a stored message starts with (plain text never does).
STORED_KEY = "message"
_STORED_START = '{"' + STORED_KEY + '":'


@dataclass(frozen=True)
class Phrase:
    """One sentence: a message id (with its plural form and count) and its parameters."""

    msgid: str
    params: tuple[tuple[str, Any], ...] = ()
    plural: str | None = None
    count: int | None = None

    def render(self, translate: bool = True) -> str:
        params = {name: (value.render(translate) if isinstance(value, Message) else value)
                  for name, value in self.params}
        if translate:
            if self.plural is not None:
                return ngettext(self.msgid, self.plural, int(self.count or 0), **params)
            return gettext(self.msgid, **params)
        text = self.msgid if self.plural is None or self.count == 1 else self.plural
        if self.plural is not None:
            params.setdefault("count", self.count)
        try:
            return text.format(**params) if params else text
        except (KeyError, IndexError, ValueError):
            return text

    def to_json(self) -> dict:
        found: dict[str, Any] = {"id": self.msgid}
        if self.plural is not None:
            found["plural"], found["n"] = self.plural, self.count
        if self.params:
            found["params"] = {name: _json_value(value) for name, value in self.params}
        return found

    @classmethod
    def from_json(cls, data: dict) -> "Phrase":
        params = tuple((str(name), _from_json_value(value)) for name, value in (data.get("params") or {}).items())
        return cls(str(data.get("id", "")), params, data.get("plural"), data.get("n"))


@dataclass(frozen=True)
class Message:
    """One or more sentences kept as message ids; ``str()`` renders them in the current language."""

    phrases: tuple[Phrase, ...]

    def __add__(self, other: "Message | str") -> "Message":
        return Message(self.phrases + as_message(other).phrases)

    def render(self, translate: bool = True) -> str:
        return " ".join(text for text in (p.render(translate) for p in self.phrases) if text)

    def __str__(self) -> str:
        return self.render()

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    @property
    def english(self) -> str:
        """The message in English (logs, comparisons), whatever the current language."""
        return self.render(translate=False)

    def to_stored(self) -> str:
        """The text to store (JSON; :func:`message_text` renders it)."""
        return json.dumps({STORED_KEY: [p.to_json() for p in self.phrases]}, ensure_ascii=False)


def _json_value(value: Any) -> Any:
    if isinstance(value, Message):
        return {STORED_KEY: [p.to_json() for p in value.phrases]}
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if hasattr(value, "item") and callable(value.item):   # numpy scalars keep their number type
        try:
            return _json_value(value.item())
        except (TypeError, ValueError):
            pass
    if isinstance(value, PurePath):
        return str(value)
    return str(value)


def _from_json_value(value: Any) -> Any:
    if isinstance(value, dict) and isinstance(value.get(STORED_KEY), list):
        return Message(tuple(Phrase.from_json(p) for p in value[STORED_KEY] if isinstance(p, dict)))
    return value


def stored_message(msgid: str, /, **params: Any) -> Message:
    """A message to store and render later (``msgid``: English with ``{name}`` fields)."""
    return Message((Phrase(msgid, tuple(params.items())),))


def stored_plural(singular: str, plural: str, count: int, /, **params: Any) -> Message:
    """Like :func:`stored_message`, with the form for ``count`` chosen when it is shown."""
    return Message((Phrase(singular, tuple(params.items()), plural, int(count)),))


def error_message(error: Exception) -> Message:
    """A :class:`cnn_core.errors.CnnLabError` as a message to store (its id and parameters)."""
    msgid = getattr(error, "msgid", None)
    if msgid is None:
        return Message((Phrase(str(error)),))
    return stored_message(msgid, **getattr(error, "params", {}))


def as_message(value: "Message | str | None") -> Message:
    """A message, parsed from stored text when needed; older plain text becomes a message id of
    its own (shown translated when the catalog has it, else as it is)."""
    if isinstance(value, Message):
        return value
    text = "" if value is None else str(value)
    if text.startswith(_STORED_START):
        try:
            data = json.loads(text)
            return Message(tuple(Phrase.from_json(p) for p in data[STORED_KEY] if isinstance(p, dict)))
        except (ValueError, TypeError, KeyError):
            pass
    return Message((Phrase(text),)) if text else Message(())


def stored_text(value: "Message | str | None") -> str:
    """What to write into a record: a message as JSON, plain text as it is."""
    if isinstance(value, Message):
        return value.to_stored()
    return "" if value is None else str(value)


def message_text(stored: "Message | str | None") -> str:
    """A stored message (or older plain text) in the current language."""
    return as_message(stored).render()


def english_text(stored: "Message | str | None") -> str:
    """A stored message (or older plain text) in English."""
    return as_message(stored).english


__all__ = ["Message", "Phrase", "as_message", "english_text", "error_message", "message_text", "stored_message",
           "stored_plural", "stored_text"]
