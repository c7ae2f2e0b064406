"""One set of rules for every ZIP that comes in: data set uploads, run imports, model files.

An archive from outside is hostile until checked. :func:`open_zip` refuses what is not a ZIP, is
too large, or declares more entries than allowed (read from the end record before ``zipfile``
parses every entry). :func:`check_members` then looks at every entry and refuses, with
:class:`~cnn_core.errors.UnsafeArchiveError` and a plain message:

- paths leading out of the target folder (``../``, absolute paths, drive letters, NUL bytes);
  backslashes are read as folder separators (Windows tools write them) and then checked the same;
- links, devices and pipes; encrypted (password-protected) entries;
- members or totals above the limits, and members shrinking more than
  :data:`MAX_COMPRESSION_RATIO` times (ZIP bombs);
- paths nested deeper than :data:`MAX_PATH_DEPTH` or with a part longer than 255 bytes;
- the same path twice, a path that is both a file and a folder (``cat/x.png`` and
  ``cat/x.png/y.png``), and names that differ only by Unicode normalisation or hidden characters
  such as direction marks (they look the same on screen);
- nested archives are never opened: members are only ever read as bytes.

:func:`read_member` and :func:`extract_member` count the bytes they unpack, since a ZIP's headers
may lie about sizes.

Example:
    >>> import io, zipfile
    >>> buf = io.BytesIO()
    >>> with zipfile.ZipFile(buf, "w") as zf:
    ...     zf.writestr("cats/1.png", b"x")
    >>> zf = open_zip(buf.getvalue(), ArchiveLimits(), "The ZIP")
    >>> [m.path for m in check_members(zf, ArchiveLimits(), "The ZIP")]
    ['cats/1.png']
"""

from __future__ import annotations

import io
import os
import re
import stat
import struct
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import BinaryIO, Callable

from cnn_core.class_names import hidden_characters, name_key
from cnn_core.errors import EncryptedArchiveError, UnsafeArchiveError

#: A member (above :data:`RATIO_FLOOR` bytes) shrinking more than this when zipped is a bomb sign.
MAX_COMPRESSION_RATIO = 100
#: Small members may compress very well (JSON of zeros) without harm.
RATIO_FLOOR = 1024 * 1024
#: Folders a member may be nested in.
MAX_PATH_DEPTH = 12
#: Longest part of a path (bytes, UTF-8), as on most file systems.
MAX_PART_BYTES = 255

_DRIVE = re.compile(r"^[A-Za-z]:")
_CHUNK = 1 << 20
_GB = 1024 ** 3


@dataclass(frozen=True)
class ArchiveLimits:
    """Size limits of one kind of archive (bytes once unpacked unless said otherwise)."""

    archive_bytes: int = _GB          # the ZIP file itself
    members: int = 100_000            # entries in the archive
    member_bytes: int = 50 * 1024 ** 2  # one member
    total_bytes: int = _GB            # all members together
    ratio: float = MAX_COMPRESSION_RATIO
    depth: int = MAX_PATH_DEPTH


@dataclass(frozen=True)
class Member:
    """A checked file entry: its ``ZipInfo`` and its safe path parts."""

    info: zipfile.ZipInfo
    parts: tuple[str, ...]

    @property
    def path(self) -> str:
        return "/".join(self.parts)

    @property
    def name(self) -> str:
        return self.parts[-1]


def size_text(n: float) -> str:
    """``1.0 GB``, ``50 MB``, ``12 KB``: a byte count for a message."""
    if n >= _GB:
        return f"{n / _GB:.1f} GB"
    if n >= 1024 ** 2:
        return f"{n / 1024 ** 2:.0f} MB"
    return f"{max(n, 0) / 1024:.0f} KB"


def _gb(n: float) -> str:
    return f"{n / _GB:.1f} GB" if n < 10 * _GB else f"{n / _GB:.0f} GB"


def _shown(name: str) -> str:
    """A member name safe to show: at most 200 characters, control characters escaped."""
    text = "".join(c if unicodedata.category(c)[0] != "C" else f"\\u{ord(c):04x}" for c in name)
    return text[:200]


# --------------------------------------------------------------------------- opening

def declared_entries(fh: BinaryIO) -> int | None:
    """Entry count from the ZIP's end-of-central-directory record (None if not found).

    Read by hand (22 fixed bytes, searched in the file's last 64 KiB) so a ZIP claiming millions
    of entries is refused before ``zipfile`` builds an object for each.
    """
    try:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        start = max(0, size - (22 + 65535))
        fh.seek(start)
        tail = fh.read()
        fh.seek(0)
    except (OSError, ValueError):
        return None
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    total = struct.unpack("<H", tail[at + 10:at + 12])[0]
    if total == 0xFFFF:   # ZIP64: the real count is in the ZIP64 end record
        loc = tail.rfind(b"PK\x06\x06", 0, at)
        if loc >= 0 and len(tail) - loc >= 40:
            total = struct.unpack("<Q", tail[loc + 32:loc + 40])[0]
    return int(total)


def open_zip(source: bytes | BinaryIO, limits: ArchiveLimits, what: str) -> zipfile.ZipFile:
    """A ``ZipFile`` over ``source`` (bytes or a seekable binary file), after the cheap checks.

    Raises UnsafeArchiveError: not a ZIP, damaged, too large, too many entries declared.
    """
    fh = io.BytesIO(bytes(source)) if isinstance(source, (bytes, bytearray, memoryview)) else source
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    fh.seek(0)
    if size > limits.archive_bytes:
        raise UnsafeArchiveError(
            "{what} is too large ({size}; the limit is {limits}). Use fewer or smaller files.",
            what=what, size=size_text(size), limits=size_text(limits.archive_bytes))
    if not zipfile.is_zipfile(fh):
        raise UnsafeArchiveError(
            "{what} is not a ZIP archive (or it is damaged or incomplete). Make the ZIP again and try "
            "once more.",
            what=what)
    fh.seek(0)
    declared = declared_entries(fh)
    if declared is not None and declared > limits.members:
        raise UnsafeArchiveError(_too_many(what, declared, limits))
    try:
        return zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
            NotImplementedError) as error:
        raise UnsafeArchiveError("{what} is damaged and cannot be opened ({error}). Make the ZIP again and try once "
                                 "more.",
                                 what=what, error=error) from None


def _too_many(what: str, n: int, limits: ArchiveLimits) -> str:
    return f"{what} was refused: it holds {n:,} files; at most {limits.members:,} are accepted."


# --------------------------------------------------------------------------- one entry

def member_parts(name: str, what: str) -> list[str]:
    """Path components of a member name; UnsafeArchiveError if it could leave its folder."""
    shown = _shown(name)
    clean = name.replace("\\", "/")
    if "\x00" in name:
        raise UnsafeArchiveError("{what} was refused: it contains a file name with a NUL character, which points "
                                 "outside "
                                 "its folder.",
                                 what=what)
    if clean.startswith("/") or _DRIVE.match(clean):
        raise UnsafeArchiveError(
            "{what} was refused: it contains the absolute path '{shown}', which points outside its "
            "folder. Such archives can overwrite other files. Make a new ZIP of your files.",
            what=what, shown=shown)
    parts = [p for p in clean.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise UnsafeArchiveError(
            "{what} was refused: it contains the path '{shown}', which points outside its folder. Such "
            "archives can overwrite other files. Make a new ZIP of your files.",
            what=what, shown=shown)
    return parts


def member_kind(info: zipfile.ZipInfo) -> str:
    """``"dir"``, ``"file"`` or ``"link"`` (symlinks, devices, pipes, sockets: anything else)."""
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
        return "link"
    if info.is_dir() or kind == stat.S_IFDIR:
        return "dir"
    return "file"


def _bomb(what: str, subject: str, ratio: float) -> str:
    return (f"{what} was refused: {subject} unpacks to more than {ratio:.0f} times its packed "
            "size, which is how 'zip bombs' fill a disk. Pictures and models hardly shrink in a "
            "ZIP, so this is not a normal archive.")


def check_members(zf: zipfile.ZipFile, limits: ArchiveLimits, what: str,
                  member_limit: Callable[[str], int] | None = None) -> list[Member]:
    """Check every entry of ``zf``; return its files (folders dropped), in archive order.

    Args:
        member_limit: the size limit of a member by its file name (default ``limits.member_bytes``).

    Raises:
        UnsafeArchiveError: see the module docstring.
        EncryptedArchiveError: a password-protected entry (also a DatasetError).
    """
    infos = zf.infolist()
    if len(infos) > limits.members:
        raise UnsafeArchiveError(_too_many(what, len(infos), limits))
    total = sum(max(i.file_size, 0) for i in infos)
    if total > limits.total_bytes:
        raise UnsafeArchiveError(
            "{what} was refused: it unpacks to more than the {limits} limit ({total}). Use fewer or "
            "smaller files.",
            what=what, limits=_gb(limits.total_bytes), total=_gb(total))
    packed = sum(max(i.compress_size, 0) for i in infos)
    if total > 10 * RATIO_FLOOR and total > limits.ratio * max(packed, 1):
        raise UnsafeArchiveError(_bomb(what, "the archive", limits.ratio))
    files: list[Member] = []
    seen: dict[str, str] = {}       # look-alike key of every file and folder -> its path
    folders: set[str] = set()
    for info in infos:
        parts = member_parts(info.filename, what)
        shown = _shown(info.filename)
        if member_kind(info) == "link":
            raise UnsafeArchiveError(
                "{what} was refused: '{shown}' is a link or special file (device, pipe), not a plain file. "
                "Links can point anywhere on this computer. Make a ZIP of plain files.",
                what=what, shown=shown)
        if info.flag_bits & 0x1:
            raise EncryptedArchiveError(
                "{what} was refused: '{shown}' is password-protected (encrypted). Make a ZIP without a "
                "password.",
                what=what, shown=shown)
        if not parts:
            continue
        if len(parts) > limits.depth or any(len(p.encode("utf-8")) > MAX_PART_BYTES for p in parts):
            raise UnsafeArchiveError(
                "{what} was refused: '{shown}' is nested more than {depth} folders deep or has a name too "
                "long for a file system.",
                what=what, shown=shown, depth=limits.depth)
        if any(hidden_characters(p) for p in parts):
            raise UnsafeArchiveError(
                "{what} was refused: '{shown}' has hidden characters in its name (such as direction "
                "marks), so it does not read as it is written. Rename it.",
                what=what, shown=shown)
        is_dir = member_kind(info) == "dir"
        for depth in range(1, len(parts) + (0 if not is_dir else 1)):
            folder = "/".join(parts[:depth])
            key = name_key(folder).casefold()
            if key in seen and seen[key] != folder + "/":
                raise _clash(what, seen[key], folder)
            seen[key] = folder + "/"
            folders.add(folder)
        if is_dir:
            continue
        path = "/".join(parts)
        key = name_key(path).casefold()
        if key in seen:
            if seen[key] == path:
                raise UnsafeArchiveError("{what} was refused: '{shown}' appears twice in it.",
                                         what=what, shown=shown)
            raise _clash(what, seen[key], path)
        seen[key] = path
        limit = member_limit(parts[-1]) if member_limit else limits.member_bytes
        if info.file_size > limit:
            raise UnsafeArchiveError(
                "{what} was refused: '{shown}' is {info} unpacked, above the {limit} limit for one file.",
                what=what, shown=shown, info=size_text(info.file_size), limit=size_text(limit))
        if info.file_size > RATIO_FLOOR and info.file_size > limits.ratio * max(info.compress_size, 1):
            raise UnsafeArchiveError(_bomb(what, f"'{shown}'", limits.ratio))
        files.append(Member(info, tuple(parts)))
    return files


def _clash(what: str, first: str, second: str) -> UnsafeArchiveError:
    first, second = first.rstrip("/"), second.rstrip("/")
    if first == second:
        return UnsafeArchiveError(
            "{what} was refused: '{first}' is both a file and a folder in it. Rename one of them and "
            "make the ZIP again.",
            what=what, first=_shown(first))
    return UnsafeArchiveError(
        "{what} was refused: '{first}' and '{second}' look the same on screen but are written "
        "differently (Unicode look-alikes or upper/lower case). Rename one.",
        what=what, first=_shown(first), second=_shown(second))


# --------------------------------------------------------------------------- reading

def read_member(zf: zipfile.ZipFile, member: Member | zipfile.ZipInfo, limit: int, what: str) -> bytes:
    """A member's bytes, unpacked with a hard cap of ``min(limit, declared size)``."""
    info = member.info if isinstance(member, Member) else member
    cap = min(limit, max(info.file_size, 0))
    chunks, size = [], 0
    try:
        with zf.open(info) as src:
            while True:
                chunk = src.read(_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > cap:
                    raise UnsafeArchiveError(
                        "{what} was refused: '{info}' unpacks to more than its header says or than the size limits "
                        "allow.",
                        what=what, info=_shown(info.filename))
                chunks.append(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError,
            RuntimeError) as error:
        raise UnsafeArchiveError("{what}: '{info}' cannot be read ({error}). The file may be damaged.",
                                 what=what, info=_shown(info.filename), error=error) from None
    return b"".join(chunks)


def extract_member(zf: zipfile.ZipFile, member: Member, target: os.PathLike | str, limit: int,
                   budget: list[int], what: str) -> None:
    """Stream ``member`` into the new file ``target`` counting bytes against ``limit`` and the
    shared ``budget`` (a one-item list of bytes left for the whole archive).

    Lets ``zipfile.BadZipFile``, ``zlib.error``, ``EOFError`` and ``NotImplementedError`` through
    so a caller may skip one damaged member.
    """
    info = member.info
    written = 0
    with zf.open(info) as src, open(target, "xb") as dst:
        while True:
            chunk = src.read(_CHUNK)
            if not chunk:
                break
            written += len(chunk)
            budget[0] -= len(chunk)
            if written > limit or written > max(info.file_size, 0) or budget[0] < 0:
                raise UnsafeArchiveError(
                    "{what} was refused: '{info}' unpacks to more data than the archive declares or than the "
                    "size limits allow.",
                    what=what, info=_shown(info.filename))
            dst.write(chunk)


__all__ = [
    "ArchiveLimits", "MAX_COMPRESSION_RATIO", "MAX_PATH_DEPTH", "Member", "RATIO_FLOOR",
    "check_members", "declared_entries", "extract_member", "member_kind", "member_parts",
    "open_zip", "read_member", "size_text",
]
