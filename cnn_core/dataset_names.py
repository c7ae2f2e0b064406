"""What a data set is called on screen, from its id: ``mnist_sample`` -> ``MNIST sample``.

Run records, links and tables keep the id; people read the name the data set picker shows.
Nothing is loaded or decoded: built-in and downloadable sets carry their name, a user's data set
(``user:<name>``) and a server folder (``folder:<path>`` or a path) are called by their folder.

Example:
    >>> dataset_name("mnist_sample")
    'MNIST sample'
    >>> dataset_name("user:my cats")
    'my cats'
"""

from __future__ import annotations

from pathlib import PurePath

from cnn_core.i18n import _


def dataset_name(dataset_id: str | None) -> str:
    """The display name of the data set ``dataset_id`` (the id itself when nothing better is
    known; "unknown data set" for none)."""
    if not dataset_id:
        return _("unknown data set")
    dataset_id = str(dataset_id)
    from cnn_core.builtin_datasets import BUILTINS
    from cnn_core.dataset_downloads import DOWNLOADS
    from cnn_core.datasets import FOLDER_PREFIX, USER_PREFIX

    for table in (BUILTINS, DOWNLOADS):
        if dataset_id in table:
            return _(table[dataset_id].name)
    if dataset_id.startswith(USER_PREFIX):
        return dataset_id[len(USER_PREFIX):]
    raw = dataset_id[len(FOLDER_PREFIX):] if dataset_id.startswith(FOLDER_PREFIX) else dataset_id
    if "/" in raw or "\\" in raw:
        return PurePath(raw.rstrip("/\\")).name or raw
    return dataset_id


__all__ = ["dataset_name"]
