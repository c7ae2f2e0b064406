"""safe_archive: the one set of rules both doors (data set upload, run import) apply."""

from __future__ import annotations

import io
import zipfile

import pytest

from cnn_core import exchange, safe_archive, uploads
from cnn_core.errors import DatasetError, EncryptedArchiveError, UnsafeArchiveError
from cnn_core.safe_archive import ArchiveLimits, check_members, declared_entries, member_parts, open_zip
from hostile_corpus import declared_entries as claim, zip_bytes


def test_both_doors_share_one_compression_ratio_and_depth():
    assert uploads._limits().ratio == exchange.DEFAULT_LIMITS.ratio == safe_archive.MAX_COMPRESSION_RATIO
    assert uploads._limits().depth == exchange.DEFAULT_LIMITS.depth == safe_archive.MAX_PATH_DEPTH


@pytest.mark.parametrize("name, parts", [
    ("cats/1.png", ["cats", "1.png"]), ("cats\\1.png", ["cats", "1.png"]), ("./cats//1.png", ["cats", "1.png"]),
])
def test_backslashes_are_folder_separators_then_checked_like_slashes(name, parts):
    assert member_parts(name, "The ZIP") == parts


@pytest.mark.parametrize("name, words", [
    ("..\\evil", "outside its folder"), ("a/../../evil", "outside its folder"), ("\\\\server\\share", "absolute path"),
    ("D:evil", "absolute path"), ("a\x00b", "NUL"),
])
def test_paths_leaving_the_folder_are_refused(name, words):
    with pytest.raises(UnsafeArchiveError, match=words):
        member_parts(name, "The ZIP")


def test_the_end_record_is_read_without_zipfile_internals():
    data = zip_bytes({f"{i}.txt": b"x" for i in range(5)})
    assert declared_entries(io.BytesIO(data)) == 5
    assert declared_entries(io.BytesIO(claim(data, 40_000))) == 40_000
    assert declared_entries(io.BytesIO(b"no zip here")) is None
    with pytest.raises(UnsafeArchiveError, match="holds 40,000 files; at most 10 are accepted"):
        open_zip(claim(data, 40_000), ArchiveLimits(members=10), "The ZIP")


def test_an_encrypted_member_is_refused_as_an_unsafe_archive_and_a_data_set_problem():
    data = bytearray(zip_bytes({"a/1.png": b"x"}))
    at = data.index(b"PK\x01\x02")
    data[at + 8] |= 0x1
    zf = open_zip(bytes(data), ArchiveLimits(), "The ZIP")
    with pytest.raises(EncryptedArchiveError, match="password-protected") as err:
        check_members(zf, ArchiveLimits(), "The ZIP")
    assert isinstance(err.value, UnsafeArchiveError) and isinstance(err.value, DatasetError)


def test_folders_are_dropped_and_files_kept_in_order():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("b/", b"")
        zf.writestr("b/2.png", b"x")
        zf.writestr("a/1.png", b"y")
    members = check_members(open_zip(buf.getvalue(), ArchiveLimits(), "The ZIP"), ArchiveLimits(), "The ZIP")
    assert [m.path for m in members] == ["b/2.png", "a/1.png"]
    assert [m.name for m in members] == ["2.png", "1.png"]


@pytest.mark.parametrize("names, words", [
    (["Cats/1.png", "cats/2.png"], "look the same on screen"),
    (["x/a.png", "x/a.png/b.png"], "both a file and a folder"),
    (["x/a.png/b.png", "x/a.png"], "both a file and a folder"),
])
def test_clashing_names_are_refused(names, words):
    data = zip_bytes([(n, b"x") for n in names])
    with pytest.raises(UnsafeArchiveError, match=words):
        check_members(open_zip(data, ArchiveLimits(), "The ZIP"), ArchiveLimits(), "The ZIP")
