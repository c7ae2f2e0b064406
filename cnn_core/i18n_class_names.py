"""Class names of the built-in data sets in the user's language, at display time.

Runs and data sets keep their class names in English (they are ids: stored runs, folders,
links); pages show them through :func:`class_label`. The names are marked for the catalog where
they are declared (``SHAPE_CLASSES`` in :mod:`cnn_core.builtin_datasets`, ``FASHION_CLASSES`` and
``CIFAR10_CLASSES`` in :mod:`cnn_core.dataset_downloads`); digits need no translation. CIFAR-100's
names carry a catalog context (``CIFAR100_CONTEXT``: its "train" is a vehicle, not the training
split) and are looked up with :func:`~cnn_core.i18n.pgettext`. A name of the user's own data set is
shown as it is.

Example:
    >>> from cnn_core.i18n import set_language
    >>> _ = set_language("ko")
    >>> class_label("cat"), class_label("train"), class_label("my_dog")
    ('고양이', '기차', 'my_dog')
"""

from __future__ import annotations

import functools

from cnn_core.i18n import gettext, pgettext


@functools.lru_cache(maxsize=1)
def builtin_class_names() -> frozenset[str]:
    from cnn_core.builtin_datasets import SHAPE_CLASSES
    from cnn_core.dataset_downloads import CIFAR10_CLASSES, FASHION_CLASSES

    return frozenset((*SHAPE_CLASSES, *FASHION_CLASSES, *CIFAR10_CLASSES))


@functools.lru_cache(maxsize=1)
def cifar100_class_names() -> frozenset[str]:
    from cnn_core.dataset_downloads import CIFAR100_CLASSES

    return frozenset(CIFAR100_CLASSES)


def class_label(name: object) -> str:
    """``name`` as the user reads it: translated when it is a built-in data set's class."""
    text = str(name)
    if text in builtin_class_names():
        return gettext(text)
    if text in cifar100_class_names():
        from cnn_core.dataset_downloads import CIFAR100_CONTEXT

        return pgettext(CIFAR100_CONTEXT, text)
    return text
