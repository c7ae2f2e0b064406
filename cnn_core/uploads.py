"""The user's own data sets: import a ZIP of images, add loose images, delete a data set.

User data sets live in ``<workspace>/datasets/<name>/`` (one folder per class, or ``train/`` +
``test/`` with class folders inside) and are loaded with ``load_dataset("user:<name>")``.

Uploaded archives are treated as hostile. :func:`import_image_zip` refuses (with
:class:`UnsafeArchiveError` and a plain message) anything that is not a ZIP, paths leading out of
the data set folder (``../``, absolute paths, drive letters), links and device files, too many
members, members or totals above the size limits, and compression ratios typical of ZIP bombs.
It extracts into a hidden temporary folder and renames it into place only when everything went
well, so a failed import leaves nothing behind and never touches an existing data set (a name
already taken gets a ``-2``, ``-3``... suffix).

Example:

>>> path = import_image_zip(Path("pets.zip"), "pets", workspace)   # doctest: +SKIP
>>> load_dataset("user:" + path.name, workspace=workspace)          # doctest: +SKIP
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import stat
import unicodedata
import uuid
import zipfile
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterable

from cnn_core.datasets import (
    IMAGE_EXTENSIONS,
    MAX_FILE_BYTES,
    MAX_IMAGE_PIXELS,
    _visible,
    clear_dataset_cache,
    scan_image_folder,
    user_datasets_dir,
)
from cnn_core.errors import DatasetError, UnsafeArchiveError

#: Largest ZIP file accepted.
MAX_ZIP_BYTES = 1024 ** 3
#: Largest total size of all members once uncompressed.
MAX_TOTAL_BYTES = 1024 ** 3
#: Largest single member once uncompressed.
MAX_MEMBER_BYTES = MAX_FILE_BYTES
MAX_MEMBERS = 100_000
#: A member (above MIN_RATIO_CHECK_BYTES) shrinking more than this when zipped is a bomb sign.
MAX_COMPRESSION_RATIO = 100
MIN_RATIO_CHECK_BYTES = 1024 ** 2
MAX_PATH_DEPTH = 12
MAX_NAME_LENGTH = 64
REPORT_FILE = ".import_report.json"

_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                     *(f"LPT{i}" for i in range(1, 10))}
_DRIVE = re.compile(r"^[A-Za-z]:")
_CHUNK = 1 << 20


@dataclass
class ImportReport:
    """What an import did: where the data set is, what was added and what was skipped."""

    path: Path
    name: str
    n_images: int
    class_counts: dict[str, int] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    layout: str = "one folder per class"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["path"] = str(self.path)
        d["skipped"] = [list(s) for s in self.skipped]
        return d


def safe_dataset_name(name: str, default: str = "dataset") -> str:
    """A folder name safe on every system: letters, digits, ``_``, ``-`` and ``.`` only,
    no leading dot, at most 64 characters (``"My cats / dogs!"`` -> ``"My_cats_dogs"``)."""
    text = unicodedata.normalize("NFKC", str(name or ""))
    text = re.sub(r"[^\w.\-]+", "_", text)
    text = re.sub(r"_+", "_", text).strip("._- ")
    text = text[:MAX_NAME_LENGTH].strip("._- ")
    if not text:
        text = default
    if text.split(".")[0].upper() in _WINDOWS_RESERVED:
        text = "_" + text
    return text


# --------------------------------------------------------------------------- helpers

def _datasets_dir(workspace) -> Path:
    base = user_datasets_dir(workspace)
    base.mkdir(parents=True, exist_ok=True)
    return base


def _free_name(base: Path, name: str) -> Path:
    candidate = base / name
    k = 2
    while candidate.exists() or candidate.is_symlink():
        candidate = base / f"{name}-{k}"
        k += 1
    return candidate


def _rename_into_place(src: Path, base: Path, name: str) -> Path:
    """Rename ``src`` to ``base/name`` (or ``name-2``...), never replacing an existing folder."""
    for _ in range(1000):
        dest = _free_name(base, name)
        try:
            os.mkdir(dest)          # claim the name atomically (fails if someone took it)
        except FileExistsError:
            continue
        try:
            os.rename(src, dest)    # replaces only the empty folder we just created
        except OSError:
            os.rmdir(dest)
            raise
        return dest
    raise DatasetError(f"Could not find a free folder name for '{name}'. Choose another name.")


def _open_source(source) -> tuple[BinaryIO, bool]:
    """A seekable binary file for ``source`` and whether we must close it."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) > MAX_ZIP_BYTES:
            raise UnsafeArchiveError(_too_big_zip(len(source)))
        return io.BytesIO(bytes(source)), True
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise DatasetError(f"The file {path} does not exist.")
        size = path.stat().st_size
        if size > MAX_ZIP_BYTES:
            raise UnsafeArchiveError(_too_big_zip(size))
        return open(path, "rb"), True
    if hasattr(source, "read"):
        seekable = getattr(source, "seekable", lambda: False)()
        if seekable:
            source.seek(0, os.SEEK_END)
            size = source.tell()
            source.seek(0)
            if size > MAX_ZIP_BYTES:
                raise UnsafeArchiveError(_too_big_zip(size))
            return source, False
        data = source.read(MAX_ZIP_BYTES + 1)
        if len(data) > MAX_ZIP_BYTES:
            raise UnsafeArchiveError(_too_big_zip(len(data)))
        return io.BytesIO(data), True
    raise TypeError("source must be bytes, a path or a binary file object")


def _too_big_zip(size: int) -> str:
    return (f"The ZIP file is too large ({size / 1024 ** 3:.1f} GB; the limit is "
            f"{MAX_ZIP_BYTES / 1024 ** 3:.0f} GB). Upload fewer or smaller images.")


def _declared_entries(fh: BinaryIO) -> int | None:
    """Entry count from the ZIP's end record, read before ``ZipFile`` parses every entry."""
    end_record = getattr(zipfile, "_EndRecData", None)
    if end_record is None:
        return None
    try:
        rec = end_record(fh)
        fh.seek(0)
        return int(rec[zipfile._ECD_ENTRIES_TOTAL]) if rec else None
    except Exception:
        return None


def _member_parts(name: str) -> list[str]:
    """Path components of a member name; UnsafeArchiveError if it could leave the folder."""
    unsafe = UnsafeArchiveError(
        f"The ZIP was refused: it contains the path '{name[:200]}', which points outside the "
        "folder it should be unpacked into. Such archives can overwrite other files. Make a new "
        "ZIP from your folder of images (one sub-folder per class).")
    if "\x00" in name:
        raise unsafe
    clean = name.replace("\\", "/")
    if clean.startswith("/") or _DRIVE.match(clean):
        raise unsafe
    parts = [p for p in PurePosixPath(clean).parts if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise unsafe
    return parts


def _member_kind(info: zipfile.ZipInfo) -> str:
    """``"dir"``, ``"file"`` or ``"link"`` (symlinks, devices, pipes: anything else)."""
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
        return "link"
    if info.is_dir() or kind == stat.S_IFDIR:
        return "dir"
    return "file"


def _check_image_file(path: Path) -> str | None:
    """None if ``path`` opens as an image within the limits, else the reason it does not."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            w, h = im.size
            if w * h > MAX_IMAGE_PIXELS:
                return f"image too large ({w}x{h} pixels)"
    except Image.DecompressionBombError:
        return "image too large (refused as a possible decompression bomb)"
    except Exception:
        return "not an image (its content is not a picture Pillow can read)"
    return None


def _write_report(root: Path, report: ImportReport) -> None:
    try:
        (root / REPORT_FILE).write_text(json.dumps(report.to_dict(), indent=1), encoding="utf-8")
    except OSError:
        pass


def read_import_report(path: Path | str) -> ImportReport | None:
    """The report saved by the import that created the data set at ``path`` (None if absent)."""
    try:
        d = json.loads((Path(path) / REPORT_FILE).read_text(encoding="utf-8"))
        return ImportReport(path=Path(path), name=d["name"], n_images=int(d["n_images"]),
                            class_counts=dict(d.get("class_counts", {})),
                            skipped=[tuple(s) for s in d.get("skipped", [])],
                            layout=d.get("layout", ""))
    except (OSError, ValueError, KeyError, TypeError):
        return None


# --------------------------------------------------------------------------- ZIP import

def _plan_members(zf: zipfile.ZipFile) -> tuple[list[tuple[zipfile.ZipInfo, list[str]]],
                                                 list[tuple[str, str]]]:
    """Check every member; return the image members to extract and the skipped ones."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise UnsafeArchiveError(_too_many(len(infos)))
    total = sum(i.file_size for i in infos)
    if total > MAX_TOTAL_BYTES:
        raise UnsafeArchiveError(
            f"The ZIP was refused: unpacked it would take {total / 1024 ** 3:.1f} GB, more than "
            f"the {MAX_TOTAL_BYTES / 1024 ** 3:.0f} GB limit. Upload fewer or smaller images.")
    packed = sum(i.compress_size for i in infos)
    if total > 10 * MIN_RATIO_CHECK_BYTES and total > MAX_COMPRESSION_RATIO * max(packed, 1):
        raise UnsafeArchiveError(_bomb_message("the archive"))
    extract, skipped = [], []
    seen: set[str] = set()
    for info in infos:
        parts = _member_parts(info.filename)
        kind = _member_kind(info)
        if kind == "link":
            raise UnsafeArchiveError(
                f"The ZIP was refused: '{info.filename[:200]}' is a link or special file, not a "
                "picture. Links can point anywhere on this computer. Make a ZIP of plain image "
                "files.")
        if kind == "dir" or not parts:
            continue
        if info.file_size > MAX_MEMBER_BYTES:
            raise UnsafeArchiveError(
                f"The ZIP was refused: '{info.filename[:200]}' is {info.file_size / 1e6:.0f} MB "
                f"unpacked, above the {MAX_MEMBER_BYTES / 1e6:.0f} MB limit for one file.")
        if info.file_size > MIN_RATIO_CHECK_BYTES and \
                info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
            raise UnsafeArchiveError(_bomb_message(f"'{info.filename[:200]}'"))
        if len(parts) > MAX_PATH_DEPTH or any(len(p.encode("utf-8")) > 255 for p in parts):
            skipped.append((info.filename, "path too long or too deeply nested"))
            continue
        if not all(_visible(p) for p in parts):
            continue  # __MACOSX/, .DS_Store, Thumbs.db... silently ignored
        if info.flag_bits & 0x1:
            raise DatasetError("The ZIP is password-protected. Make a ZIP without a password.")
        if Path(parts[-1]).suffix.lower() not in IMAGE_EXTENSIONS:
            skipped.append((info.filename, "not an image file (only PNG, JPEG, BMP, GIF, TIFF, "
                                           "WebP... pictures are imported)"))
            continue
        key = "/".join(parts)
        if key in seen:
            skipped.append((info.filename, "the same file name appears twice in the ZIP"))
            continue
        seen.add(key)
        extract.append((info, parts))
    return extract, skipped


def _too_many(n: int) -> str:
    return (f"The ZIP was refused: it holds {n:,} files, more than the {MAX_MEMBERS:,} allowed. "
            "Upload fewer images.")


def _bomb_message(what: str) -> str:
    return (f"The ZIP was refused: {what} unpacks to more than {MAX_COMPRESSION_RATIO} times its "
            "packed size, which is how 'ZIP bombs' fill a disk. Pictures hardly shrink in a ZIP, "
            "so this is not a normal folder of images.")


def _extract_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path,
                    budget: list[int]) -> None:
    """Stream one member to ``target`` counting bytes (headers can lie about sizes)."""
    written = 0
    with zf.open(info) as src, open(target, "xb") as dst:
        while True:
            chunk = src.read(_CHUNK)
            if not chunk:
                break
            written += len(chunk)
            budget[0] -= len(chunk)
            if written > MAX_MEMBER_BYTES or written > max(info.file_size, 0) or budget[0] < 0:
                raise UnsafeArchiveError(
                    f"The ZIP was refused: '{info.filename[:200]}' unpacks to more data than the "
                    "archive declares or than the size limits allow.")
            dst.write(chunk)


def import_image_zip_report(source: bytes | Path | str | BinaryIO, name: str,
                            workspace: Path | str | None = None) -> ImportReport:
    """Like :func:`import_image_zip`, returning the full :class:`ImportReport`."""
    base = _datasets_dir(workspace)
    safe = safe_dataset_name(name or "my_images")
    fh, close = _open_source(source)
    tmp = base / f".importing-{uuid.uuid4().hex}"
    try:
        try:
            if not zipfile.is_zipfile(fh):
                raise UnsafeArchiveError(
                    "This file is not a ZIP archive (or it is damaged or incomplete). Put your "
                    "images in one folder per class, compress the folders into a .zip file and "
                    "upload that.")
            fh.seek(0)
            declared = _declared_entries(fh)
            if declared is not None and declared > MAX_MEMBERS:
                raise UnsafeArchiveError(_too_many(declared))
            zf = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as e:
            raise UnsafeArchiveError(f"The ZIP file is damaged and cannot be opened ({e}). "
                                     "Make the ZIP again and upload it.") from None
        with zf:
            extract, skipped = _plan_members(zf)
            if not extract:
                raise DatasetError(
                    "The ZIP contains no images. Put your pictures (PNG, JPEG, ...) in one folder "
                    "per class, e.g. cats/ and dogs/, and zip those folders.")
            needed = sum(i.file_size for i, _ in extract)
            free = shutil.disk_usage(base).free
            if needed + 64 * 1024 ** 2 > free:
                raise DatasetError(
                    f"Not enough free disk space to unpack the images ({needed / 1e6:.0f} MB "
                    f"needed, {free / 1e6:.0f} MB free). Free some space and try again.")
            tmp.mkdir()
            tmp_real = os.path.realpath(tmp)
            budget = [MAX_TOTAL_BYTES]
            for info, parts in extract:
                target = tmp.joinpath(*parts)
                if not os.path.realpath(target).startswith(tmp_real + os.sep):
                    raise UnsafeArchiveError(  # defence in depth; _member_parts already checks
                        f"The ZIP was refused: '{info.filename[:200]}' points outside its folder.")
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    _extract_member(zf, info, target, budget)
                except (zipfile.BadZipFile, zlib.error, EOFError) as e:
                    target.unlink(missing_ok=True)
                    skipped.append((info.filename, f"damaged inside the ZIP ({e})"))
                    continue
                except NotImplementedError:
                    target.unlink(missing_ok=True)
                    skipped.append((info.filename, "packed with a compression method that "
                                                   "cannot be read"))
                    continue
                except FileExistsError:
                    skipped.append((info.filename, "the same file name appears twice in the ZIP"))
                    continue
                reason = _check_image_file(target)
                if reason:
                    target.unlink()
                    skipped.append((info.filename, reason))
        try:
            layout = scan_image_folder(tmp)
        except DatasetError:
            raise DatasetError(
                "The ZIP's images are not sorted into classes. Put the images of each class in "
                "their own folder (e.g. cats/1.jpg, dogs/1.jpg; optionally inside train/ and "
                "test/ folders), with at least two classes, and zip those folders.") from None
        counts: dict[str, int] = {}
        for _, label in layout.train_files + layout.test_files:
            cname = layout.class_names[label]
            counts[cname] = counts.get(cname, 0) + 1
        for path, reason in layout.skipped:
            skipped.append((os.path.relpath(path, tmp), reason))
        dest = _rename_into_place(layout.root, base, safe)
        report = ImportReport(path=dest, name=dest.name, n_images=layout.n_files,
                              class_counts=counts, skipped=sorted(skipped),
                              layout="train/test folders" if layout.has_test_folder
                              else "one folder per class")
        _write_report(dest, report)
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
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt = (im.format or "").upper()
    except Exception:
        return None
    return {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "BMP": ".bmp", "TIFF": ".tif",
            "WEBP": ".webp"}.get(fmt, ".png")


def _validate_image_bytes(data: bytes) -> str | None:
    """None if ``data`` is a complete, readable image within the limits, else the reason."""
    from PIL import Image

    if not data:
        return "empty file"
    if len(data) > MAX_MEMBER_BYTES:
        return f"file too large ({len(data) / 1e6:.0f} MB; the limit is {MAX_MEMBER_BYTES / 1e6:.0f} MB)"
    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
            if w * h > MAX_IMAGE_PIXELS:
                return f"image too large ({w}x{h} pixels)"
            im.load()
    except Image.DecompressionBombError:
        return "image too large (refused as a possible decompression bomb)"
    except Exception:
        return "not an image, or a damaged one"
    return None


def import_image_files(files: Iterable[tuple[str, bytes]], class_name: str, name: str,
                       workspace: Path | str | None = None) -> ImportReport:
    """Add a few loose images to class ``class_name`` of the user data set ``name``.

    Creates the data set and/or the class folder if needed (``train/<class>`` when the data
    set has train/test folders). File names are cleaned and never overwrite existing files;
    files that are not readable images are skipped and reported.
    """
    base = _datasets_dir(workspace)
    safe = safe_dataset_name(name or "my_images")
    cls = safe_dataset_name(class_name, default="")
    if not cls:
        raise DatasetError("Give the class a name (letters or digits), e.g. 'cats'.")
    root = base / safe
    if root.is_symlink():
        raise DatasetError(f"The data set '{safe}' cannot be changed here.")
    root.mkdir(exist_ok=True)
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
        tmp = class_dir / f".upload-{uuid.uuid4().hex}.part"
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
        if d.is_dir() and _visible(d.name):
            counts[d.name] = sum(1 for f in d.iterdir() if f.is_file() and _visible(f.name))
    return ImportReport(path=root, name=safe, n_images=added, class_counts=counts,
                        skipped=skipped,
                        layout="train/test folders" if has_test else "one folder per class")


def delete_user_dataset(name: str, workspace: Path | str | None = None) -> None:
    """Delete the user data set ``<workspace>/datasets/<name>`` (all its images).

    Raises:
        DatasetError: there is no such data set.
    """
    base = user_datasets_dir(workspace)
    if not name or name != Path(name).name or name in (".", "..") or not _visible(name):
        raise DatasetError(f"'{name}' is not one of your data sets.")
    path = base / name
    if path.is_symlink():
        path.unlink()
        clear_dataset_cache()
        return
    if not path.is_dir():
        raise DatasetError(f"There is no data set of yours called '{name}'.")
    trash = base / f".deleting-{uuid.uuid4().hex}"
    os.rename(path, trash)   # disappears at once; the slow delete happens out of sight
    shutil.rmtree(trash, ignore_errors=True)
    clear_dataset_cache()


__all__ = [
    "ImportReport", "MAX_COMPRESSION_RATIO", "MAX_MEMBERS", "MAX_MEMBER_BYTES", "MAX_TOTAL_BYTES",
    "MAX_ZIP_BYTES", "delete_user_dataset", "import_image_files", "import_image_zip",
    "import_image_zip_report", "read_import_report", "safe_dataset_name",
]
