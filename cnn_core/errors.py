"""Errors a user can cause, each with a plain-language message.

Pages catch :class:`CnnLabError` and show ``str(error)`` with ``st.error``; the CLI prints it
and exits with status 2. Messages say what went wrong and what to do instead, in words for
someone who has never trained a model.
"""

from __future__ import annotations


class CnnLabError(Exception):
    """Base class of every error a user can cause."""


class DatasetError(CnnLabError):
    """A data set cannot be loaded as asked (unknown id, empty folder, bad archive...)."""


class DatasetUnavailableError(DatasetError):
    """A downloadable data set is not in the local cache and cannot be downloaded now."""


class SpecError(CnnLabError):
    """A model, augmentation or preprocessing setting that cannot work.

    Args:
        setting: the name of the setting to change (a dataclass field name, e.g. ``"conv_blocks"``).
        message: what is wrong and what to choose instead.
    """

    def __init__(self, setting: str, message: str):
        super().__init__(message)
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
