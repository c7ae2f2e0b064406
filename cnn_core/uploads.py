"""The user's own data sets: import a ZIP of images, add loose images, delete a data set.

User data sets live in ``<workspace>/datasets/<name>/`` (one folder per class, or ``train/`` +
``test/`` with class folders inside) and are loaded with ``load_dataset("user:<name>")``.

Uploaded archives are treated as hostile: :func:`import_image_zip` checks them with the rules
every incoming ZIP gets (:mod:`cnn_core.safe_archive`: paths leading out of the folder, links and
device files, encryption, too many members, sizes, compression ratios typical of ZIP bombs, name
clashes and look-alike names), with the limits below, and opens each picture only through
:func:`cnn_core.image_formats.open_user_image`. It extracts into a hidden temporary folder and
renames it into place only when everything went well, so a failed import leaves nothing behind
and never touches an existing data set (a name already taken gets a ``-2``, ``-3``... suffix).

Uploads made in the app belong to the session that made them (:mod:`cnn_core.upload_owners`);
what an import did is kept beside the data set (:mod:`cnn_core.upload_report`); folder names,
claiming a free one and deleting a data set are :mod:`cnn_core.user_dataset_folders`.

Example:

>>> path = import_image_zip(Path("pets.zip"), "pets", workspace)   # doctest: +SKIP
>>> load_dataset("user:" + path.name, workspace=workspace)          # doctest: +SKIP
"""

from __future__ import annotations

import io
import os
import re
import shutil
import uuid
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO, Iterable

from cnn_core.datasets import (
    IMAGE_EXTENSIONS,
    MAX_FILE_BYTES,
    MAX_IMAGE_PIXELS,
    clear_dataset_cache,
    scan_image_folder,
)
from cnn_core.errors import DatasetError, UnsafeArchiveError
from cnn_core.i18n import _
from cnn_core.image_folders import FolderLayoutError, is_visible_name
from cnn_core.image_formats import ALLOWED_FORMATS_TEXT, ENDING_OF_FORMAT, open_user_image
from cnn_core.run_record import Starter
from cnn_core.stored_messages import stored_message
from cnn_core.upload_report import REPORT_FILE, ImportReport, read_import_report, write_report  # noqa: F401
from cnn_core.upload_owners import (  # noqa: F401 - the owner functions stay importable from here
    OWNER_FILE,
    DatasetOwner,
    check_owner,
    dataset_owner,
    dataset_uploader,
    dataset_visible,
    share_user_dataset,
    write_owner,
)
from cnn_core.user_dataset_folders import (  # noqa: F401 - importable from here, as before
    MAX_NAME_LENGTH,
    delete_user_dataset,
    rename_into_place,
    safe_dataset_name,
    user_datasets_folder,
)
from cnn_core.safe_archive import (
    MAX_COMPRESSION_RATIO,
    ArchiveLimits,
    Member,
    check_members,
    extract_member,
    open_zip,
)

#: Largest ZIP file accepted.
MAX_ZIP_BYTES = 1024 ** 3
#: Largest total size of all members once uncompressed.
MAX_TOTAL_BYTES = 1024 ** 3
#: Largest single member once uncompressed.
MAX_MEMBER_BYTES = MAX_FILE_BYTES
MAX_MEMBERS = 100_000
#: Hidden folder an import unpacks into before it is renamed into place (``<prefix><pid>-<id>``;
#: one left by a dead process is removed by :mod:`cnn_core.leftovers`).
STAGING_PREFIX = ".importing-"
WHAT = "The ZIP"

# --------------------------------------------------------------------------- helpers

def _open_source(source) -> tuple[BinaryIO, bool]:
    """A seekable binary file for ``source`` and whether we must close it."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) > MAX_ZIP_BYTES:
            raise _too_big_zip((len(source)))
        return io.BytesIO(bytes(source)), True
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise DatasetError("The file {path} does not exist.",
                               path=path)
        size = path.stat().st_size
        if size > MAX_ZIP_BYTES:
            raise _too_big_zip((size))
        return open(path, "rb"), True
    if hasattr(source, "read"):
        seekable = getattr(source, "seekable", lambda: False)()
        if seekable:
            source.seek(0, os.SEEK_END)
            size = source.tell()
            source.seek(0)
            if size > MAX_ZIP_BYTES:
                raise _too_big_zip((size))
            return source, False
        data = source.read(MAX_ZIP_BYTES + 1)
        if len(data) > MAX_ZIP_BYTES:
            raise _too_big_zip((len(data)))
        return io.BytesIO(data), True
    raise TypeError("source must be bytes, a path or a binary file object")


def _too_big_zip(size: int) -> UnsafeArchiveError:
    return UnsafeArchiveError("The ZIP file is too large ({size:.1f} GB; the limit is {limit:.0f} GB). Upload "
                              "fewer or smaller images.", size=size / 1024 ** 3, limit=MAX_ZIP_BYTES / 1024 ** 3)


def _check_image_file(path: Path) -> str | None:
    """None if ``path`` opens as an image within the limits, else the reason it does not (a stored
    message: :func:`cnn_core.stored_messages.message_text` shows it in the reader's language)."""
    from PIL import Image

    try:
        with open_user_image(path) as im:
            w, h = im.size
            if w * h > MAX_IMAGE_PIXELS:
                return stored_message("image too large ({width}x{height} pixels)", width=w, height=h).to_stored()
    except Image.DecompressionBombError:
        return stored_message("image too large (refused as a possible decompression bomb)").to_stored()
    except Exception:
        return stored_message("not an image (its content is not a {formats} picture)",
                              formats=ALLOWED_FORMATS_TEXT).to_stored()
    return None


# --------------------------------------------------------------------------- ZIP import

def _limits() -> ArchiveLimits:
    """The data set upload's limits (read when called, so they can be changed in one place)."""
    return ArchiveLimits(archive_bytes=MAX_ZIP_BYTES, members=MAX_MEMBERS,
                         member_bytes=MAX_MEMBER_BYTES, total_bytes=MAX_TOTAL_BYTES)


def _plan_members(zf: zipfile.ZipFile, limits: ArchiveLimits
                  ) -> tuple[list[Member], list[tuple[str, str]]]:
    """Check every member (safe_archive's rules); return the images to extract and the skipped."""
    extract, skipped = [], []
    for member in check_members(zf, limits, WHAT):
        if not all(is_visible_name(p) for p in member.parts):
            continue  # __MACOSX/, .DS_Store, Thumbs.db... silently ignored
        if Path(member.name).suffix.lower() not in IMAGE_EXTENSIONS:
            skipped.append((member.info.filename, stored_message(
                "not an image file (only {formats} pictures are imported)", formats=ALLOWED_FORMATS_TEXT).to_stored()))
            continue
        extract.append(member)
    return extract, skipped


def import_image_zip_report(source: bytes | Path | str | BinaryIO, name: str,
                            workspace: Path | str | None = None,
                            starter: Starter | None = None) -> ImportReport:
    """Like :func:`import_image_zip`, returning the full :class:`ImportReport`.

    ``starter``: the browser session uploading; the data set is then listed only for it until
    shared (None: everyone's, e.g. the command line)."""
    base = user_datasets_folder(workspace)
    safe = safe_dataset_name(name or "my_images")
    limits = _limits()
    fh, close = _open_source(source)
    tmp = base / f"{STAGING_PREFIX}{os.getpid()}-{uuid.uuid4().hex}"
    try:
        with open_zip(fh, limits, WHAT) as zf:
            extract, skipped = _plan_members(zf, limits)
            if not extract:
                raise DatasetError(
                    "The ZIP contains no images. Put your pictures ({formats}) in one folder per class, "
                    "e.g. cats/ and dogs/, and zip those folders.", formats=ALLOWED_FORMATS_TEXT)
            needed = sum(m.info.file_size for m in extract)
            free = shutil.disk_usage(base).free
            if needed + 64 * 1024 ** 2 > free:
                raise DatasetError(
                    "Not enough free disk space to unpack the images ({needed:.0f} MB needed, {free:.0f} MB "
                    "free). Free some space and try again.",
                    needed=needed / 1000000.0, free=free / 1000000.0)
            tmp.mkdir()
            tmp_real = os.path.realpath(tmp)
            budget = [limits.total_bytes]
            for member in extract:
                info = member.info
                target = tmp.joinpath(*member.parts)
                if not os.path.realpath(target).startswith(tmp_real + os.sep):
                    raise UnsafeArchiveError(  # defence in depth; check_members already checks
                        "The ZIP was refused: '{info}' points outside its folder.",
                        info=info.filename[:200])
                try:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    extract_member(zf, member, target, limits.member_bytes, budget, WHAT)
                except (zipfile.BadZipFile, zlib.error, EOFError) as e:
                    target.unlink(missing_ok=True)
                    skipped.append((info.filename, stored_message("damaged inside the ZIP ({error})",
                                                                  error=str(e)).to_stored()))
                    continue
                except NotImplementedError:
                    target.unlink(missing_ok=True)
                    skipped.append((info.filename, stored_message(
                        "packed with a compression method that cannot be read").to_stored()))
                    continue
                except (FileExistsError, NotADirectoryError, IsADirectoryError):
                    raise UnsafeArchiveError(  # check_members refuses clashes; never a server path
                        "The ZIP was refused: '{info}' clashes with another file or folder of the same name in it.",
                        info=info.filename[:200]) from None
                reason = _check_image_file(target)
                if reason:
                    target.unlink()
                    skipped.append((info.filename, reason))
        try:
            layout = scan_image_folder(tmp)
        except FolderLayoutError as error:
            found = error.found
            how = _("Put the images of each class in their own folder (e.g. cats/1.jpg, "
                    "dogs/1.jpg; optionally inside train/ and test/ folders), with at least two "
                    "classes, and zip those folders.")
            if found:
                raise DatasetError("The ZIP's images are not sorted into classes: {found}. {how}",
                                   found=found, how=how) from None
            raise DatasetError("The ZIP's images are not sorted into classes. {how}", how=how) from None
        counts: dict[str, int] = {}
        for _path, label in layout.train_files + layout.test_files:
            cname = layout.class_names[label]
            counts[cname] = counts.get(cname, 0) + 1
        for path, reason in layout.skipped:
            skipped.append((os.path.relpath(path, tmp), reason))
        if starter is not None:   # owned before it appears under its name
            write_owner(layout.root, DatasetOwner(starter.session_id, starter.name))
        dest = rename_into_place(layout.root, base, safe)
        report = ImportReport(path=dest, name=dest.name, n_images=layout.n_files,
                              class_counts=counts, skipped=sorted(skipped),
                              layout="train/test folders" if layout.has_test_folder
                              else "one folder per class")
        write_report(dest, report)
        clear_dataset_cache()
        return report
    finally:
        if close:
            fh.close()
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def import_image_zip(source: bytes | Path | str | BinaryIO, name: str,
                     workspace: Path | str | None = None) -> Path:
    """Unpack a ZIP of images into ``<workspace>/datasets/<safe name>/`` and return that folder.

    The ZIP holds one folder per class (``cats/1.jpg``, ``dogs/7.png``...) or ``train/`` and
    ``test/`` folders with class folders inside, possibly all inside one top folder. Files that
    are not images are left out (listed in the saved report, see :func:`read_import_report`).

    Raises:
        UnsafeArchiveError: not a ZIP, or a dangerous one (see the module docstring).
        DatasetError: no images, no class folders, password-protected, disk full.
    """
    return import_image_zip_report(source, name, workspace).path


# --------------------------------------------------------------------------- loose images

def _image_suffix(data: bytes) -> str | None:
    try:
        with open_user_image(io.BytesIO(data)) as im:
            fmt = (im.format or "").upper()
    except Exception:
        return None
    return ENDING_OF_FORMAT.get(fmt, ".png")


def _validate_image_bytes(data: bytes) -> str | None:
    """None if ``data`` is a complete, readable image within the limits, else the reason (a stored
    message)."""
    from PIL import Image

    if not data:
        return stored_message("empty file").to_stored()
    if len(data) > MAX_MEMBER_BYTES:
        return stored_message("file too large ({size:.0f} MB; the limit is {limit:.0f} MB)",
                              size=len(data) / 1e6, limit=MAX_MEMBER_BYTES / 1e6).to_stored()
    try:
        with open_user_image(io.BytesIO(data)) as im:
            w, h = im.size
            if w * h > MAX_IMAGE_PIXELS:
                return stored_message("image too large ({width}x{height} pixels)", width=w, height=h).to_stored()
            im.load()
    except Image.DecompressionBombError:
        return stored_message("image too large (refused as a possible decompression bomb)").to_stored()
    except Exception:
        return stored_message("not an image, or a damaged one (only {formats} pictures are read)",
                              formats=ALLOWED_FORMATS_TEXT).to_stored()
    return None


def import_image_files(files: Iterable[tuple[str, bytes]], class_name: str, name: str,
                       workspace: Path | str | None = None,
                       starter: Starter | None = None) -> ImportReport:
    """Add a few loose images to class ``class_name`` of the user data set ``name``.

    Creates the data set and/or the class folder if needed (``train/<class>`` when the data
    set has train/test folders). File names are cleaned and never overwrite existing files;
    files that are not readable images are skipped and reported. A new data set belongs to
    ``starter`` (see :func:`import_image_zip_report`); another session's upload is refused.
    """
    base = user_datasets_folder(workspace)
    safe = safe_dataset_name(name or "my_images")
    cls = safe_dataset_name(class_name, default="")
    if not cls:
        raise DatasetError("Give the class a name (letters or digits), e.g. 'cats'.")
    root = base / safe
    if root.is_symlink():
        raise DatasetError("The data set '{safe}' cannot be changed here.",
                           safe=safe)
    if starter is not None and not root.exists():   # a new set: owned before it is listed
        staging = base / f"{STAGING_PREFIX}{os.getpid()}-{uuid.uuid4().hex}"
        staging.mkdir()
        write_owner(staging, DatasetOwner(starter.session_id, starter.name))
        try:
            os.rename(staging, root)
        except OSError:   # someone created it meanwhile: add to theirs (checked below)
            shutil.rmtree(staging, ignore_errors=True)
    root.mkdir(exist_ok=True)
    check_owner(root, starter, _("add pictures to"))
    has_test = any(p.is_dir() and p.name.lower() in ("test", "testing", "val", "validation", "valid")
                   for p in root.iterdir()) and (root / "train").is_dir()
    class_dir = (root / "train" / cls) if has_test else (root / cls)
    class_dir.mkdir(parents=True, exist_ok=True)

    added, skipped = 0, []
    for filename, data in files:
        display = str(filename)
        reason = _validate_image_bytes(bytes(data))
        if reason:
            skipped.append((display, reason))
            continue
        leaf = re.split(r"[\\/]", display)[-1]
        stem, suffix = os.path.splitext(leaf)
        suffix = suffix.lower()
        if suffix not in IMAGE_EXTENSIONS:
            suffix = _image_suffix(bytes(data)) or ".png"
        stem = safe_dataset_name(stem, default="image")
        tmp = base / f"{STAGING_PREFIX}{os.getpid()}-{uuid.uuid4().hex}.part"   # see leftovers
        tmp.write_bytes(bytes(data))
        try:
            for k in range(100_000):
                final = class_dir / (f"{stem}{suffix}" if k == 0 else f"{stem}-{k}{suffix}")
                try:
                    os.link(tmp, final)   # atomic and never replaces an existing file
                    break
                except FileExistsError:
                    continue
        finally:
            tmp.unlink(missing_ok=True)
        added += 1
    clear_dataset_cache()
    counts = {}
    for d in (root / "train" if has_test else root).iterdir():
        if d.is_dir() and is_visible_name(d.name):
            counts[d.name] = sum(1 for f in d.iterdir() if f.is_file() and is_visible_name(f.name))
    return ImportReport(path=root, name=safe, n_images=added, class_counts=counts,
                        skipped=skipped,
                        layout="train/test folders" if has_test else "one folder per class")


__all__ = [
    "DatasetOwner", "ImportReport", "OWNER_FILE", "dataset_owner", "dataset_uploader", "dataset_visible",
    "share_user_dataset", "MAX_COMPRESSION_RATIO", "MAX_MEMBERS", "MAX_MEMBER_BYTES", "MAX_TOTAL_BYTES",
    "MAX_ZIP_BYTES", "delete_user_dataset", "import_image_files", "import_image_zip",
    "import_image_zip_report", "read_import_report", "safe_dataset_name",
]
