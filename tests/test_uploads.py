"""User data sets: ZIP import (hostile input refused, atomic), loose images, deletion."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnn_core import datasets, uploads
from cnn_core.datasets import load_dataset
from cnn_core.errors import DatasetError, UnsafeArchiveError
from cnn_core.stored_messages import message_text
from cnn_core.uploads import (
    delete_user_dataset,
    import_image_files,
    import_image_zip,
    import_image_zip_report,
    read_import_report,
    safe_dataset_name,
)


@pytest.fixture(autouse=True)
def fresh_cache():
    datasets.clear_dataset_cache()
    yield
    datasets.clear_dataset_cache()


def _png(value: int = 100, size=(8, 8)) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full(size + (3,), value, np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def _zip(members: dict[str, bytes] | list[tuple[str | zipfile.ZipInfo, bytes]],
         compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    items = members.items() if isinstance(members, dict) else members
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in items:
            zf.writestr(name, data)
    return buf.getvalue()


def _pets(prefix: str = "", n: int = 3) -> dict[str, bytes]:
    files = {}
    for c, value in (("cats", 40), ("dogs", 200)):
        for i in range(n):
            files[f"{prefix}{c}/{i}.png"] = _png(value + i)
    return files


def _leftovers(workspace: Path) -> list[str]:
    base = workspace / "datasets"
    return sorted(p.name for p in base.iterdir()) if base.exists() else []


# --------------------------------------------------------------------------- good archives

def test_zip_with_class_folders_imports_and_loads(workspace):
    files = _pets()
    files["readme.txt"] = b"my pets"
    files["cats/notes.txt"] = b"hello"
    files["__MACOSX/cats/._0.png"] = b"junk"
    files["cats/.DS_Store"] = b"junk"
    files["dogs/fake.png"] = b"this is text, not a png"
    report = import_image_zip_report(_zip(files), "My Pets!", workspace)
    assert report.path == workspace / "datasets" / "My_Pets"
    assert report.class_counts == {"cats": 3, "dogs": 3} and report.n_images == 6
    skipped = {name: message_text(reason) for name, reason in report.skipped}
    assert set(skipped) == {"readme.txt", "cats/notes.txt", "dogs/fake.png"}
    assert "not an image" in skipped["dogs/fake.png"]
    assert not (report.path / "dogs" / "fake.png").exists()
    assert not (report.path / "__MACOSX").exists()
    assert _leftovers(workspace) == ["My_Pets"]                 # no temporary folder left
    ds = load_dataset("user:My_Pets", workspace=workspace, test_fraction=0.34)
    assert ds.class_names == ["cats", "dogs"] and ds.n_train + ds.n_test == 6 and not ds.skipped
    saved = read_import_report(report.path)
    assert saved is not None and saved.class_counts == report.class_counts
    assert ("readme.txt", skipped["readme.txt"]) in [(n, message_text(r)) for n, r in saved.skipped]


def test_nested_train_test_zip_keeps_its_split(workspace):
    files = {**_pets("top/train/"), **_pets("top/test/", n=1)}
    path = import_image_zip(_zip(files), "split", workspace)
    assert (path / "train" / "cats").is_dir() and (path / "test" / "dogs").is_dir()
    ds = load_dataset("user:split", workspace=workspace)
    assert (ds.n_train, ds.n_test) == (6, 2)


@pytest.mark.parametrize("kind", ["bytes", "path", "file", "stream"])
def test_zip_sources(workspace, tmp_path, kind):
    data = _zip(_pets())
    if kind == "bytes":
        source = data
    elif kind == "path":
        source = tmp_path / "pets.zip"
        source.write_bytes(data)
    elif kind == "file":
        source = io.BytesIO(data)
    else:
        class Stream(io.RawIOBase):      # not seekable, like a network upload
            def __init__(self):
                self._buf = io.BytesIO(data)

            def readable(self):
                return True

            def readinto(self, b):
                chunk = self._buf.read(len(b))
                b[:len(chunk)] = chunk
                return len(chunk)
        source = io.BufferedReader(Stream())
        assert not source.seekable()
    path = import_image_zip(source, "pets", workspace)
    assert sorted(p.name for p in path.iterdir() if not p.name.startswith(".")) == ["cats", "dogs"]


def test_existing_dataset_is_never_overwritten(workspace):
    first = import_image_zip(_zip(_pets()), "pets", workspace)
    marker = first / "cats" / "0.png"
    before = marker.read_bytes()
    second = import_image_zip(_zip(_pets(n=1)), "pets", workspace)
    third = import_image_zip(_zip(_pets(n=1)), "pets", workspace)
    assert (second.name, third.name) == ("pets-2", "pets-3")
    assert marker.read_bytes() == before and len(list((first / "cats").iterdir())) == 3


# --------------------------------------------------------------------------- hostile archives

@pytest.mark.parametrize("evil", ["../evil.png", "cats/../../evil.png", "/tmp/evil.png",
                                  "C:/evil.png", "C:evil.png", "..\\evil.png", "cats/..\\..\\evil.png"])
def test_path_traversal_is_refused_leaving_nothing(workspace, evil):
    files = list(_pets().items()) + [(evil, _png())]
    with pytest.raises(UnsafeArchiveError) as err:
        import_image_zip(_zip(files), "evil", workspace)
    assert "outside" in str(err.value)
    assert _leftovers(workspace) == []
    assert not (workspace.parent / "evil.png").exists() and not (workspace / "evil.png").exists()


def test_symlink_member_is_refused(workspace):
    link = zipfile.ZipInfo("cats/link.png")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    files = list(_pets().items()) + [(link, b"/etc/passwd")]
    with pytest.raises(UnsafeArchiveError) as err:
        import_image_zip(_zip(files), "links", workspace)
    assert "link" in str(err.value)
    assert _leftovers(workspace) == []


def test_zip_bomb_member_is_refused(workspace):
    files = list(_pets().items()) + [("cats/bomb.png", bytes(5 * 1024 * 1024))]
    data = _zip(files)
    assert len(data) < 100_000
    with pytest.raises(UnsafeArchiveError) as err:
        import_image_zip(data, "bomb", workspace)
    assert "bomb" in str(err.value).lower()
    assert _leftovers(workspace) == []


def test_oversized_member_total_and_count_are_refused(workspace, monkeypatch):
    data = _zip(_pets(n=4), compression=zipfile.ZIP_STORED)
    monkeypatch.setattr(uploads, "MAX_MEMBER_BYTES", 50)
    with pytest.raises(UnsafeArchiveError) as err:
        import_image_zip(data, "big", workspace)
    assert "limit for one file" in str(err.value)
    monkeypatch.undo()
    monkeypatch.setattr(uploads, "MAX_TOTAL_BYTES", 500)
    with pytest.raises(UnsafeArchiveError) as err:
        import_image_zip(data, "big", workspace)
    assert "GB limit" in str(err.value)
    monkeypatch.undo()
    monkeypatch.setattr(uploads, "MAX_MEMBERS", 5)
    with pytest.raises(UnsafeArchiveError) as err:
        import_image_zip(data, "big", workspace)
    assert "8 files" in str(err.value)
    monkeypatch.undo()
    monkeypatch.setattr(uploads, "MAX_ZIP_BYTES", 100)
    with pytest.raises(UnsafeArchiveError) as err:
        import_image_zip(data, "big", workspace)
    assert "too large" in str(err.value)
    assert _leftovers(workspace) == []


@pytest.mark.parametrize("data, error, words", [
    (b"PK\x03\x04 but not really a zip", UnsafeArchiveError, "not a zip"),
    (b"\x89PNG\r\n\x1a\n" + bytes(100), UnsafeArchiveError, "not a zip"),
    (b"", UnsafeArchiveError, "not a zip"),
])
def test_non_zip_data_is_refused(workspace, data, error, words):
    with pytest.raises(error) as err:
        import_image_zip(data, "x", workspace)
    assert words in str(err.value).lower()
    assert _leftovers(workspace) == []


def test_damaged_members_are_skipped_and_truncated_zip_refused(workspace):
    data = bytearray(_zip(_pets()))
    data[40:200] = bytes(160)                  # wipe part of the first members' data
    report = import_image_zip_report(bytes(data), "damaged", workspace)
    reasons = {name: message_text(reason) for name, reason in report.skipped}
    assert "damaged inside the ZIP" in reasons["cats/0.png"]
    assert report.n_images == 6 - len(reasons)
    with pytest.raises(UnsafeArchiveError) as err:
        import_image_zip(_zip(_pets())[:-30], "cut", workspace)   # end record missing
    assert "damaged" in str(err.value)
    assert _leftovers(workspace) == ["damaged"]


@pytest.mark.parametrize("files, words", [
    ({"readme.txt": b"x", "a/b.csv": b"1,2"}, "no images"),
    ({"0.png": _png(), "1.png": _png()}, "not sorted into classes"),
    ({"cats/0.png": _png(), "cats/1.png": _png()}, "not sorted into classes"),
])
def test_zip_without_usable_classes_leaves_nothing(workspace, files, words):
    with pytest.raises(DatasetError) as err:
        import_image_zip(_zip(files), "nothing", workspace)
    assert words in str(err.value)
    assert _leftovers(workspace) == []


def test_password_protected_zip_is_refused(workspace):
    data = bytearray(_zip({**_pets(), "cats/secret.png": _png()}))
    # zipfile cannot write encrypted members: set the "encrypted" flag in the central directory
    at = data.index(b"PK\x01\x02")
    while at != -1:
        name_len = int.from_bytes(data[at + 28:at + 30], "little")
        if data[at + 46:at + 46 + name_len] == b"cats/secret.png":
            data[at + 8] |= 0x1
        at = data.find(b"PK\x01\x02", at + 4)
    assert any(i.flag_bits & 1 for i in zipfile.ZipFile(io.BytesIO(bytes(data))).infolist())
    with pytest.raises(DatasetError) as err:
        import_image_zip(bytes(data), "secret", workspace)
    assert "password" in str(err.value)
    assert _leftovers(workspace) == []


def test_failure_during_extraction_leaves_nothing(workspace, monkeypatch):
    calls = []

    def failing(path):
        calls.append(path)
        if len(calls) == 3:
            raise RuntimeError("disk on fire")
        return None

    monkeypatch.setattr(uploads, "_check_image_file", failing)
    with pytest.raises(RuntimeError):
        import_image_zip(_zip(_pets()), "fire", workspace)
    assert _leftovers(workspace) == []


# --------------------------------------------------------------------------- loose images

def test_import_image_files_adds_to_a_class(workspace):
    report = import_image_files([("a.png", _png(10)), ("b.jpg", _png(20)), ("notes.txt", b"hi"),
                                 ("../../escape.png", _png(30))], "cats", "mine", workspace)
    root = workspace / "datasets" / "mine"
    assert report.path == root and report.n_images == 3
    assert [s[0] for s in report.skipped] == ["notes.txt"]
    names = sorted(p.name for p in (root / "cats").iterdir())
    assert names == ["a.png", "b.jpg", "escape.png"]
    assert not (workspace / "escape.png").exists()
    again = import_image_files([("a.png", _png(11))], "cats", "mine", workspace)
    assert (root / "cats" / "a-1.png").exists() and again.class_counts == {"cats": 4}
    import_image_files([("x.png", _png(200)), ("y.png", _png(210))], "../dogs", "mine", workspace)
    assert (root / "dogs").is_dir()
    ds = load_dataset("user:mine", workspace=workspace, test_fraction=0.3)
    assert ds.class_counts("all") == {"cats": 4, "dogs": 2}
    # the cache notices the new image
    import_image_files([("z.png", _png(220))], "dogs", "mine", workspace)
    ds2 = load_dataset("user:mine", workspace=workspace, test_fraction=0.3)
    assert ds2.class_counts("all") == {"cats": 4, "dogs": 3}


def test_import_image_files_goes_to_train_when_split(workspace):
    path = import_image_zip(_zip({**_pets("train/"), **_pets("test/", n=1)}), "split", workspace)
    import_image_files([("new.png", _png())], "cats", "split", workspace)
    assert (path / "train" / "cats" / "new.png").is_file()


def test_import_image_files_rejects_broken_and_empty_class(workspace):
    png = _png()
    report = import_image_files([("cut.png", png[: len(png) // 2]), ("empty.png", b"")],
                                "cats", "mine", workspace)
    assert report.n_images == 0 and len(report.skipped) == 2
    with pytest.raises(DatasetError):
        import_image_files([("a.png", png)], "///", "mine", workspace)


# --------------------------------------------------------------------------- deleting, names

def test_delete_user_dataset(workspace):
    path = import_image_zip(_zip(_pets()), "pets", workspace)
    outside = workspace / "keep.txt"
    outside.write_text("keep")
    for bad in ("../keep.txt", "..", "", ".hidden", "nope"):
        with pytest.raises(DatasetError):
            delete_user_dataset(bad, workspace)
    delete_user_dataset("pets", workspace)
    assert not path.exists() and outside.exists()
    assert _leftovers(workspace) == []
    with pytest.raises(DatasetError):
        load_dataset("user:pets", workspace=workspace)


@pytest.mark.parametrize("raw, safe", [
    ("My cats / dogs!", "My_cats_dogs"), ("../../etc", "etc"), ("", "dataset"), ("...", "dataset"),
    ("CON", "_CON"), ("x" * 100, "x" * 64), ("Äpfel", "Äpfel"), ("a\x00b", "a_b"),
])
def test_safe_dataset_name(raw, safe):
    assert safe_dataset_name(raw) == safe
