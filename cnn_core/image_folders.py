"""Folders of images, one sub-folder per class, as data sets.

:func:`scan_image_folder` lists the classes and files of a folder (``<class>/*`` or
``train/<class>/*`` + ``test/<class>/*``) without decoding anything; :func:`load_folder` decodes
them (:mod:`cnn_core.image_decoding`) into a :class:`Dataset`, choosing an image size and colour
mode from a sample of the files when the caller does not.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnn_core.dataset_types import (
    MIN_IMAGE_SIDE,
    Dataset,
    finish_dataset,
    report_progress,
    split_dataset,
)
from cnn_core.errors import DatasetError
from cnn_core.image_formats import ALLOWED_FORMATS_TEXT
from cnn_core.i18n import ngettext
from cnn_core.stored_messages import Message, message_text, stored_message, stored_plural
from cnn_core.class_names import check_class_names
from cnn_core.image_decoding import decode_images, image_header

#: Default image size for folders whose images do not mostly share one size.
DEFAULT_FOLDER_SIZE = (32, 32)
#: When a folder's images share a size larger than this, they are shrunk to fit inside it.
MAX_DEFAULT_FOLDER_SIZE = 64
_SIZE_SAMPLE = 64

_IGNORED_NAMES = frozenset({"thumbs.db", "desktop.ini", "__macosx", "icon\r"})
_TRAIN_NAMES = ("train", "training")
_TEST_NAMES = ("test", "testing", "val", "validation", "valid")



@dataclass(frozen=True)
class FolderLayout:
    """What :func:`scan_image_folder` found in a folder (files listed, nothing decoded).

    ``train_files``/``test_files`` hold ``(path, label)``; ``has_test_folder`` is True for the
    ``train/`` + ``test/`` layout; ``skipped`` lists files that belong to no class.
    """

    root: Path
    has_test_folder: bool
    class_names: list[str]
    train_files: list[tuple[str, int]]
    test_files: list[tuple[str, int]]
    skipped: list[tuple[str, str]]

    @property
    def n_files(self) -> int:
        return len(self.train_files) + len(self.test_files)


#: Folders wrapping the class folders that are looked through (``my_zip/pictures/cats/...``).
MAX_WRAPPING_FOLDERS = 8


class FolderLayoutError(DatasetError):
    """A folder that is not sorted into classes. ``found`` says what was found, in plain words
    and without server paths (an upload shows it instead of the scan's own message)."""

    def __init__(self, message: str, found: "Message | str", /, **params):
        super().__init__(message, **params)
        self.found = found


def is_visible_name(name: str) -> bool:
    """Whether a file or folder name is the user's (not hidden, not a file manager's)."""
    return not name.startswith(".") and name.lower() not in _IGNORED_NAMES


def _list_dir(path: Path) -> tuple[list[os.DirEntry], list[os.DirEntry]]:
    """Visible sub-folders and regular files of ``path`` (sorted by name)."""
    dirs, files = [], []
    try:
        entries = sorted(os.scandir(path), key=lambda e: e.name)
    except OSError as e:
        raise DatasetError("Cannot read the folder {path}: {e}.",
                           path=path, e=e.strerror or e) from e
    for entry in entries:
        if not is_visible_name(entry.name):
            continue
        try:
            if entry.is_dir():
                dirs.append(entry)
            elif entry.is_file():
                files.append(entry)
        except OSError:
            continue
    return dirs, files


def _files_under(path: str) -> list[str]:
    """All visible regular files below ``path`` (recursive, symlinked folders not followed)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if is_visible_name(d))
        for name in sorted(filenames):
            if is_visible_name(name):
                found.append(os.path.join(dirpath, name))
    return found


def _find_named(dirs: list[os.DirEntry], names: tuple[str, ...]) -> os.DirEntry | None:
    by_name = {d.name.lower(): d for d in dirs}
    for n in names:
        if n in by_name:
            return by_name[n]
    return None


def scan_image_folder(path: Path | str) -> FolderLayout:
    """List the class folders and files of an image folder without decoding anything.

    Layouts: ``train/<class>/*`` + ``test/<class>/*`` (also ``training``, ``testing``, ``val``,
    ``validation``), or ``<class>/*``; a single wrapping folder is looked through. Files directly
    next to the class folders are listed in ``skipped``. Hidden files are ignored.

    Raises:
        DatasetError: the folder does not exist, or has fewer than two class folders with files.
    """
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DatasetError("The folder {root} does not exist (or is not a folder). Check the path, or upload your "
                           "images as a ZIP file.",
                           root=root)
    skipped: list[tuple[str, str]] = []
    dirs, files = _list_dir(root)
    # Look through wrapping folders, e.g. a ZIP's "my_pictures/cats, my_pictures/dogs".
    unwrapped: list[str] = []
    for _ in range(MAX_WRAPPING_FOLDERS):
        if len(dirs) == 1 and not files:
            inner_dirs, inner_files = _list_dir(Path(dirs[0].path))
            if inner_dirs:
                unwrapped.append(dirs[0].name)
                root, dirs, files = Path(dirs[0].path), inner_dirs, inner_files
                continue
        break
    train_dir = _find_named(dirs, _TRAIN_NAMES)
    test_dir = _find_named(dirs, _TEST_NAMES)
    if train_dir is not None and test_dir is None and len(dirs) == 1:
        root = Path(train_dir.path)
        dirs, files = _list_dir(root)
        train_dir = None
    has_test = train_dir is not None and test_dir is not None

    def class_files(base_dirs: list[os.DirEntry]) -> dict[str, list[str]]:
        return {d.name: _files_under(d.path) for d in base_dirs}

    if has_test:
        for f in files:
            skipped.append((f.path, stored_message("not inside the train or test folder").to_stored()))
        for d in dirs:
            if d.name not in (train_dir.name, test_dir.name):
                skipped.append((d.path, stored_message(
                    "folder ignored: only the train and test folders are read").to_stored()))
        tr_dirs, tr_loose = _list_dir(Path(train_dir.path))
        te_dirs, te_loose = _list_dir(Path(test_dir.path))
        for f in tr_loose + te_loose:
            skipped.append((f.path, stored_message("not inside a class folder").to_stored()))
        train_by_class = class_files(tr_dirs)
        test_by_class = class_files(te_dirs)
    else:
        for f in files:
            skipped.append((f.path, stored_message("not inside a class folder").to_stored()))
        train_by_class = class_files(dirs)
        test_by_class = {}

    class_names = [c for c, fs in train_by_class.items() if fs]
    for c, fs in train_by_class.items():
        if not fs:
            skipped.append((str(Path(train_dir.path if has_test else root) / c),
                            stored_message("empty class folder, ignored").to_stored()))
    index = {c: i for i, c in enumerate(class_names)}
    train_files = [(p, index[c]) for c in class_names for p in train_by_class[c]]
    test_files = []
    for c, fs in test_by_class.items():
        if c in index:
            test_files.extend((p, index[c]) for p in fs)
        else:
            skipped.extend((p, stored_message("class '{name}' has no training images", name=c).to_stored()) for p in fs)

    where = f"{root}"
    # what was found, in the reader's language whenever the error is shown (an upload quotes it)
    looked = (stored_plural("looked inside {count} wrapping folder ({names}) and",
                            "looked inside {count} wrapping folders ({names}) and", len(unwrapped),
                            names="/".join(unwrapped)) if unwrapped else None)

    def what_was_found(found: Message) -> Message:
        return looked + found if looked is not None else found

    if not class_names:
        loose = len(files)
        if loose or any(_files_under(d.path) for d in dirs):
            found = what_was_found(stored_plural("found {count} file but no class folder with images",
                                                 "found {count} files but no class folder with images", loose))
            raise FolderLayoutError(
                "No class folders with images in {where} ({found}). Put the images in one sub-folder per "
                "class, e.g. cats/1.jpg, cats/2.jpg, dogs/1.jpg (optionally inside train/ and test/).", found,
                where=where, found=found)
        raise FolderLayoutError("The folder {where} is empty: there are no images to load.",
                                what_was_found(stored_message("found no images")),
                                where=where)
    if len(class_names) < 2:
        found = what_was_found(stored_message("found only one class folder with images ('{name}')",
                                              name=class_names[0]))
        raise FolderLayoutError(
            "Only one class folder with images ('{class_names}') in {where}. A classifier needs at "
            "least two classes: add a second sub-folder with images of another kind.", found,
            class_names=class_names[0], where=where)
    check_class_names(class_names, "this data set")
    return FolderLayout(root, has_test, class_names, train_files, test_files, skipped)



def default_folder_options(layout: FolderLayout) -> tuple[tuple[int, int], str]:
    """Image size and colour mode used when the caller does not choose them.

    Size: if at least half of a sample of files (spread over all classes) share one size, that
    size, shrunk (keeping its aspect ratio) to fit inside 64x64 when larger; otherwise 32x32.
    Colour: grayscale if every sampled image has a single channel, else RGB.
    """
    files = [p for p, _ in layout.train_files] + [p for p, _ in layout.test_files]
    step = max(1, len(files) // _SIZE_SAMPLE)
    headers = [hd for hd in (image_header(p) for p in files[::step][:_SIZE_SAMPLE]) if hd]
    if not headers:
        return DEFAULT_FOLDER_SIZE, "rgb"
    (size, count), = Counter(s for s, _ in headers).most_common(1)
    if count * 2 >= len(headers):
        h, w = size
        biggest = max(h, w)
        if biggest > MAX_DEFAULT_FOLDER_SIZE:
            factor = MAX_DEFAULT_FOLDER_SIZE / biggest
            h, w = max(MIN_IMAGE_SIDE, round(h * factor)), max(MIN_IMAGE_SIDE, round(w * factor))
        h, w = max(MIN_IMAGE_SIDE, h), max(MIN_IMAGE_SIDE, w)
        chosen = (h, w)
    else:
        chosen = DEFAULT_FOLDER_SIZE
    mode = "grayscale" if all(single for _, single in headers) else "rgb"
    return chosen, mode


def load_folder(path: Path, ds_id: str, name: str, image_size, color_mode, test_fraction, seed,
                 progress) -> Dataset:
    report_progress(progress, 0.0, f"Listing images in {path}")
    layout = scan_image_folder(path)
    default_size, default_mode = default_folder_options(layout)
    size_hw = image_size or default_size
    gray = (color_mode or default_mode) == "grayscale"
    paths = [p for p, _ in layout.train_files] + [p for p, _ in layout.test_files]
    labels = np.array([lab for _, lab in layout.train_files] + [lab for _, lab in layout.test_files],
                      np.int64)
    is_test = np.zeros(len(paths), bool)
    is_test[len(layout.train_files):] = True
    images, ok, skipped = decode_images(paths, size_hw, gray, progress, 0.02, 0.97)
    labels, is_test = labels[ok], is_test[ok]
    skipped = layout.skipped + skipped

    # Classes left without any readable training image are dropped.
    train_counts = np.bincount(labels[~is_test], minlength=len(layout.class_names))
    keep_classes = [i for i, cnt in enumerate(train_counts) if cnt > 0]
    if len(keep_classes) < len(layout.class_names):
        for i, cnt in enumerate(train_counts):
            if cnt == 0:
                skipped.append((layout.class_names[i], stored_message(
                    "class ignored: none of its images could be read").to_stored()))
        remap = np.full(len(layout.class_names), -1, np.int64)
        remap[keep_classes] = np.arange(len(keep_classes))
        labels = remap[labels]
        keep = labels >= 0
        images, labels, is_test = images[keep], labels[keep], is_test[keep]
    class_names = [layout.class_names[i] for i in keep_classes]
    if len(class_names) < 2:
        detail = " (" + ngettext("{count} file could not be used, e.g. {file}: {reason}",
                                 "{count} files could not be used, e.g. {file}: {reason}", len(skipped),
                                 file=skipped[0][0], reason=message_text(skipped[0][1])) + ")" if skipped else ""
        raise DatasetError(
            "Fewer than two classes with readable images in {root}{detail}. A classifier needs at "
            "least two classes of images ({formats}).",
            root=layout.root, detail=detail, formats=ALLOWED_FORMATS_TEXT)

    if layout.has_test_folder and is_test.any():
        x_tr, y_tr = images[~is_test], labels[~is_test]
        x_te, y_te = images[is_test], labels[is_test]
        how = "its train/ and test/ folders"
    else:
        if layout.has_test_folder:
            images, labels = images[~is_test], labels[~is_test]
        x_tr, y_tr, x_te, y_te = split_dataset(images, labels, test_fraction, seed)
        how = f"{test_fraction:.0%} held out as test set (stratified, seed {seed})"
    if len(x_te) == 0 or len(x_tr) == 0:
        raise DatasetError(
            "The data set '{name}' is too small to hold out test images: {n_images} readable "
            "image{images} give {n_x_tr} to train on and {n_x_te} to test on. A model can only be "
            "scored on pictures it never trained on: add more images (a few per class at least), a "
            "test/ folder, or raise the test share.",
            name=name, n_images=len(images), images='s' * (len(images) != 1), n_x_tr=len(x_tr), n_x_te=len(x_te))
    h, w = size_hw
    ds = finish_dataset(ds_id, name, x_tr, y_tr, x_te, y_te, class_names,
                 f"folder {layout.root} ({h}x{w} {'grayscale' if gray else 'RGB'}; {how})",
                 skipped=skipped)
    report_progress(progress, 1.0, f"{name} ready: {len(x_tr) + len(x_te):,} images")
    return ds
