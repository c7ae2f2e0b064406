"""Who uploaded a user data set, and who may see, share, add to or delete it.

Uploads made in the app belong to the browser session that made them: a hidden ``.owner.json``
in the data set's folder (written before the folder appears under its name) holds the session
id, the name the person typed and whether they share it. Other sessions do not list the data set
until it is shared. Data sets with no owner file (a server folder, older uploads, the command
line) are everyone's. :mod:`cnn_core.uploads` writes the file on import and asks
:func:`check_owner` before changing a data set.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from cnn_core.datasets import USER_PREFIX, user_datasets_dir
from cnn_core.errors import DatasetError, NotYoursError
from cnn_core.i18n import _
from cnn_core.run_record import Starter

OWNER_FILE = ".owner.json"


@dataclass(frozen=True)
class DatasetOwner:
    """The session that uploaded a data set, the name it gave, and whether it shares it."""

    session_id: str
    name: str = ""
    shared: bool = False


def write_owner(root: Path, owner: DatasetOwner) -> None:
    tmp = root / f"{OWNER_FILE}.{uuid.uuid4().hex}.part"
    tmp.write_text(json.dumps(asdict(owner)), encoding="utf-8")
    os.replace(tmp, root / OWNER_FILE)


def dataset_owner(path: Path | str) -> DatasetOwner | None:
    """Who owns the user data set at ``path`` (None: nobody, it is everyone's)."""
    try:
        d = json.loads((Path(path) / OWNER_FILE).read_text(encoding="utf-8"))
        return DatasetOwner(str(d["session_id"]), str(d.get("name") or ""), bool(d.get("shared")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _user_path(dataset_id: str, workspace) -> Path | None:
    if not str(dataset_id).startswith(USER_PREFIX):
        return None
    name = str(dataset_id)[len(USER_PREFIX):]
    if not name or name != Path(name).name or name in (".", ".."):
        return None
    return user_datasets_dir(workspace) / name


def dataset_visible(dataset_id: str, viewer: Starter | None, workspace: Path | str | None = None) -> bool:
    """Whether ``viewer`` (a browser session; None: the command line) lists ``dataset_id``: its
    own uploads, shared ones, and every data set that is not an upload of another session."""
    path = _user_path(dataset_id, workspace)
    if viewer is None or path is None:
        return True
    owner = dataset_owner(path)
    return owner is None or owner.shared or owner.session_id == viewer.session_id


def dataset_uploader(dataset_id: str, viewer: Starter | None,
                     workspace: Path | str | None = None) -> str:
    """``"by Ann"`` for another session's shared upload, ``""`` otherwise."""
    path = _user_path(dataset_id, workspace)
    owner = dataset_owner(path) if path is not None else None
    if owner is None or (viewer is not None and owner.session_id == viewer.session_id):
        return ""
    return _("by {name}", name=owner.name) if owner.name else _("by someone else")


def check_owner(path: Path, starter: Starter | None, what: str) -> DatasetOwner | None:
    owner = dataset_owner(path)
    if starter is not None and owner is not None and owner.session_id != starter.session_id:
        raise NotYoursError("The data set '{name}' was uploaded by {who}; only they can "
                            "{what} it. Upload your own pictures as a new data set.",
                            name=path.name, who=owner.name or _("someone else"), what=what)
    return owner


def share_user_dataset(name: str, shared: bool, starter: Starter | None,
                       workspace: Path | str | None = None) -> None:
    """Show the upload ``name`` to every session (or only to its owner again).

    Raises:
        DatasetError: no such data set. NotYoursError: ``starter`` did not upload it.
    """
    path = _user_path(USER_PREFIX + str(name), workspace)
    if path is None or not path.is_dir():
        raise DatasetError("There is no data set of yours called '{name}'.", name=name)
    owner = check_owner(path, starter, _("share"))
    if owner is None:
        if starter is None:
            return   # everyone's already
        owner = DatasetOwner(starter.session_id, starter.name)
    write_owner(path, DatasetOwner(owner.session_id, owner.name, bool(shared)))


__all__ = ["OWNER_FILE", "DatasetOwner", "check_owner", "dataset_owner", "dataset_uploader", "dataset_visible",
           "share_user_dataset", "write_owner"]
