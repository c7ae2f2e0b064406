"""Errors a user can cause, each with a plain-language message.

Pages catch :class:`CnnLabError` and show ``str(error)`` with ``st.error``; the CLI prints it
and exits with status 2. Messages say what went wrong and what to do instead, in words for
someone who has never trained a model.

An error carries a message id (English, with ``{name}`` fields) and its parameters, and renders
in the current language each time it is turned into text, so the same error reads in Korean on a
Korean page::

    raise DatasetError("No data set called {name!r}.", name=dataset_id)
"""

from __future__ import annotations

from typing import Any

from cnn_core.i18n import gettext


def _rebuild(cls: type, state: dict[str, Any]) -> "CnnLabError":
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("msgid", ""))
    error.__dict__.update(state)
    return error


class CnnLabError(Exception):
    """Base class of every error a user can cause.

    Args:
        msgid: the message in English (the catalog id), with ``str.format`` fields.
        **params: the values of those fields.
    """

    def __init__(self, msgid: object = "", /, **params: Any):
        super().__init__(msgid)
        self.msgid = str(msgid)
        self.params = params

    def __str__(self) -> str:
        return gettext(self.msgid, **self.params)

    @property
    def english(self) -> str:
        """The message in English (for logs and stored run records)."""
        text = self.msgid
        try:
            return text.format(**self.params) if self.params else text
        except (KeyError, IndexError, ValueError):
            return text

    def __reduce__(self):  # keyword parameters survive pickling (process pools, multiprocessing)
        return _rebuild, (type(self), dict(self.__dict__))


class DatasetError(CnnLabError):
    """A data set cannot be loaded as asked (unknown id, empty folder, bad archive...)."""


class DatasetUnavailableError(DatasetError):
    """A downloadable data set is not in the local cache and cannot be downloaded now."""


class SpecError(CnnLabError):
    """A model, augmentation or preprocessing setting that cannot work.

    Args:
        setting: the name of the setting to change (a dataclass field name, e.g. ``"conv_blocks"``).
        message: what is wrong and what to choose instead (message id, ``{name}`` fields).
        **params: the values of the message's fields.
    """

    def __init__(self, setting: str, message: str, /, **params: Any):
        super().__init__(message, **params)
        self.setting = setting


class RunNotFoundError(CnnLabError):
    """No run with that id in the workspace."""


class RunStateError(CnnLabError):
    """The run cannot do that now (e.g. resume a finished run, evaluate a run with no predictions)."""


class UnsafeArchiveError(CnnLabError):
    """An uploaded archive or model file was refused (paths outside its folder, too large, code)."""


class ExplainError(CnnLabError):
    """A model cannot be explained the way asked (e.g. Grad-CAM of a model without convolutions)."""


class EncryptedArchiveError(UnsafeArchiveError, DatasetError):
    """An archive with password-protected members (refused: CNN Lab never asks for passwords)."""


class WorkspaceError(CnnLabError):
    """The workspace folder cannot be opened (not a folder, no permission, damaged index)."""


class ImageInputError(CnnLabError):
    """A picture given to a trained model cannot be used (not an image, damaged, too big, empty)."""


class QueueLimitError(CnnLabError):
    """The training queue refused a run: this session has as many runs waiting as allowed."""


class NotYoursError(CnnLabError):
    """A session tried to steer a run or change an upload that another session started."""
