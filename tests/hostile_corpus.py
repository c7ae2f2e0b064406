"""A corpus of hostile inputs, made on the fly (nothing large is checked in).

Each :class:`Case` is one data set ZIP (``kind="dataset"``, for :func:`cnn_core.uploads.import_image_zip`)
or one run archive (``kind="run"``, for :func:`cnn_core.exchange.import_run`) with its exact
expected outcome: ``refused`` with words the message must hold, ``skipped`` (the import works but
``member`` is left out for a reason holding ``words``), or ``imported``. Used by
``tests/test_hostile_inputs.py`` and ``bench/hostile.py``.
"""

from __future__ import annotations

import hashlib
import io
import json
import stat
import struct
import warnings
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image


@dataclass
class Case:
    name: str
    kind: str            # "dataset" or "run"
    data: bytes
    outcome: str         # "refused", "skipped" or "imported"
    words: str = ""      # must be in the message (refused) or the skip reason (skipped)
    member: str = ""     # the skipped member


# --------------------------------------------------------------------------- pictures

def png(value: int = 100, size=(8, 8), mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    if mode == "I;16":
        Image.fromarray(np.full(size, value, np.uint16)).save(buf, "PNG")
    else:
        Image.new(mode, size, value if mode != "RGB" else (value, value // 2, 255 - value)).save(buf, "PNG")
    return buf.getvalue()


def cmyk_jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(buf, "JPEG")
    return buf.getvalue()


def png_bomb(side: int = 30_000) -> bytes:
    """A 1-bit PNG claiming ``side`` x ``side`` pixels (900 million), a few KB in size."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    row = b"\x00" + bytes((side + 7) // 8)
    raw = zlib.compress(row * 64, 9)       # a few rows only: the header is what matters
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 8 8\n0 0 moveto (owned) show\nshowpage\n"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>'


# --------------------------------------------------------------------------- archives

def zip_bytes(members, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    items = members.items() if isinstance(members, dict) else members
    with zipfile.ZipFile(buf, "w", compression) as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore")        # "Duplicate name": some cases write a name twice
        for name, data in items:
            zf.writestr(name, data)
    return buf.getvalue()


def pets(prefix: str = "", n: int = 3) -> dict[str, bytes]:
    return {f"{prefix}{c}/{i}.png": png(v + i) for c, v in (("cats", 40), ("dogs", 200)) for i in range(n)}


def special(name: str, kind: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (kind | 0o644) << 16
    return info


def declared_size(data: bytes, name: str, size: int) -> bytes:
    """``data`` with ``name``'s uncompressed size in the central directory set to ``size``."""
    data = bytearray(data)
    pos = 0
    while True:
        pos = data.find(b"PK\x01\x02", pos)
        length = int.from_bytes(data[pos + 28:pos + 30], "little")
        if bytes(data[pos + 46:pos + 46 + length]).decode() == name:
            data[pos + 24:pos + 28] = size.to_bytes(4, "little")
            return bytes(data)
        pos += 4


def declared_entries(data: bytes, count: int) -> bytes:
    """``data`` with the entry counts of its end record set to ``count`` (a ZIP claiming to hold
    that many files; 0xFFFF and above need the ZIP64 record, so keep ``count`` below 65,535)."""
    data = bytearray(data)
    at = data.rfind(b"PK\x05\x06")
    data[at + 8:at + 12] = struct.pack("<HH", count, count)
    return bytes(data)


def run_archive(config=None, epochs=None, run=None, predictions=None, dataset=None, model=None,
                extra=(), manifest=None) -> bytes:
    """A run export as CNN Lab writes it (manifest hashes included), parts replaceable."""
    files = {
        "config.json": json.dumps(config if config is not None else
                                  {"dataset": {"id": "shapes"}, "model": {"epochs": 2}, "preset": "fast"}),
        "run.json": json.dumps(run if run is not None else {"id": "r1", "name": "shared run",
                                                            "status": "finished", "test_accuracy": 0.5}),
        "epochs.json": json.dumps(epochs if epochs is not None else
                                  [{"epoch": 1, "loss": 1.0}, {"epoch": 2, "loss": 0.8}]),
    }
    files = {k: v.encode() for k, v in files.items()}
    if dataset is not None:
        files["dataset.json"] = json.dumps(dataset).encode()
    if predictions is not None:
        buf = io.BytesIO()
        np.savez_compressed(buf, **predictions)
        files["predictions.npz"] = buf.getvalue()
    if model is not None:
        files["model.keras"] = model
    manifest = {"format": "cnn-lab-run", "version": 1, "run_id": "r1", "exported_at": 1.0,
                "files": {n: {"sha256": hashlib.sha256(b).hexdigest(), "bytes": len(b)}
                          for n, b in files.items()}, **(manifest or {})}
    return zip_bytes([("manifest.json", json.dumps(manifest).encode()), *files.items(), *extra])


def keras_file(base: bytes, config: dict | None = None, replace: dict | None = None) -> bytes:
    with zipfile.ZipFile(io.BytesIO(base)) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    if config is not None:
        members["config.json"] = json.dumps(config).encode()
    members.update(replace or {})
    return zip_bytes(members)


# --------------------------------------------------------------------------- the corpus

def dataset_cases() -> list[Case]:
    base = list(pets().items())
    d = lambda name, members, outcome, words, member="": Case(  # noqa: E731
        name, "dataset", members if isinstance(members, bytes) else zip_bytes(members), outcome, words, member)
    deep = "/".join(f"d{i}" for i in range(14)) + "/x.png"
    size_bomb = declared_size(zip_bytes(base + [("cats/big.png", png() + bytes(200_000))]),
                              "cats/big.png", 100)
    many = [(f"class{i:04d}/0.png", png(i % 250, (4, 4))) for i in range(1001)]
    wrapped = [(f"a/b/c/d/cats/{i}.png", png(i)) for i in range(2)]
    return [
        d("zip slip", base + [("../evil.png", png())], "refused", "outside its folder"),
        d("zip slip with backslashes", base + [("cats\\..\\..\\evil.png", png())], "refused", "outside its folder"),
        d("absolute path", base + [("/tmp/evil.png", png())], "refused", "absolute path"),
        d("drive letter", base + [("C:/evil.png", png())], "refused", "absolute path"),
        d("symbolic link", base + [(special("cats/link.png", stat.S_IFLNK), b"/etc/passwd")], "refused", "link"),
        d("device file", base + [(special("cats/dev.png", stat.S_IFCHR), b"")], "refused", "special file"),
        d("ratio bomb", base + [("cats/bomb.png", bytes(20 * 1024 * 1024))], "refused", "zip bombs"),
        d("header lying about size", size_bomb, "skipped", "damaged inside the ZIP", "cats/big.png"),
        d("nested archive", base + [("cats/inner.zip", zip_bytes(pets()))], "skipped", "not an image file",
          "cats/inner.zip"),
        d("archive disguised as png", base + [("cats/inner.png", zip_bytes(pets()))], "skipped", "not an image",
          "cats/inner.png"),
        d("too deep", base + [(deep, png())], "refused", "nested more than 12 folders deep"),
        d("file and folder clash", base + [("cats/x.png", png()), ("cats/x.png/y.png", png())], "refused",
          "both a file and a folder"),
        d("same name twice", base + [("cats/0.png", png(1))], "refused", "appears twice"),
        d("unicode look-alike classes", base + [("caf\u00e9/1.png", png()), ("cafe\u0301/2.png", png())],
          "refused", "look the same on screen"),
        d("direction mark in a name", base + [("\u202egnp.x/1.png", png())], "refused", "hidden characters"),
        d("eps disguised as png", base + [("cats/evil.png", EPS)], "skipped", "not an image", "cats/evil.png"),
        d("pdf disguised as png", base + [("cats/doc.png", PDF)], "skipped", "not an image", "cats/doc.png"),
        d("svg disguised as png", base + [("cats/pic.png", SVG)], "skipped", "not an image", "cats/pic.png"),
        d("decompression bomb picture", base + [("cats/huge.png", png_bomb())], "skipped", "image too large",
          "cats/huge.png"),
        d("16-bit pictures", base + [("cats/deep.png", png(65535, (8, 8), "I;16"))], "imported", ""),
        d("cmyk picture", base + [("dogs/cmyk.jpg", cmyk_jpeg())], "imported", ""),
        d("too many classes", many, "refused", "at most 1,000"),
        d("four wrapping folders", wrapped, "refused", "looked inside 4 wrapping folders (a/b/c/d)"),
        d("not a zip", b"%!PS-Adobe-3.0\n" + bytes(100), "refused", "not a ZIP"),
    ]


#: (field path, bad value, words in the refusal): a wrong type or absurd value in every field.
BAD_CONFIG_FIELDS = [
    ("dataset", ["shapes"], "dataset"), ("dataset.id", ["x"], "dataset.id"), ("dataset.id", 7, "dataset.id"),
    ("dataset.id", "x" * 5000, "dataset.id"), ("dataset.image_size", "big", "dataset.image_size"),
    ("dataset.image_size", [1e9, 8], "dataset.image_size"), ("dataset.color_mode", 5, "dataset.color_mode"),
    ("dataset.test_fraction", "half", "dataset.test_fraction"), ("dataset.test_fraction", 7, "dataset.test_fraction"),
    ("dataset.seed", -1, "dataset.seed"), ("dataset.class_names", "cats", "dataset.class_names"),
    ("preset", {"a": 1}, "preset"), ("preset", 3, "preset"),
    ("model", ["conv"], "model"), ("model.epochs", 1e30, "model.epochs"), ("model.epochs", "ten", "model.epochs"),
    ("model.learning_rate", "fast", "model.learning_rate"), ("model.filters", 10 ** 12, "model.filters"),
    ("model.wings", 2, "wings"), ("augment", "lots", "augment"), ("augment.rotation", 99, "augment.rotation"),
    ("augment.flip", 1, "augment.flip"), ("preprocess", 3, "preprocess"),
    ("preprocess.scaling", "magic", "preprocess.scaling"), ("sweep", "text", "sweep"),
    ("class_names", {"a": 1}, "class_names"), ("comparison", ["x"], "comparison"),
    ("notes", {"a": {"b": {"c": {"d": {"e": 1}}}}}, "notes"),
]


def config_with(path: str, value) -> dict:
    config = {"dataset": {"id": "shapes"}, "model": {"epochs": 2}, "preset": "fast",
              "augment": {"flip": "none"}, "preprocess": {"scaling": "divide_255"}}
    top, _, rest = path.partition(".")
    if rest:
        config[top] = dict(config.get(top) or {}, **{rest: value})
    else:
        config[top] = value
    return config


def run_cases() -> list[Case]:
    r = lambda name, data, words: Case(name, "run", data, "refused", words)  # noqa: E731
    cases = [r(f"config field {path} = {str(value)[:30]!s}", run_archive(config=config_with(path, value)), words)
             for path, value, words in BAD_CONFIG_FIELDS]
    many_epochs = [{"epoch": i, "loss": 1.0} for i in range(1, 1002)]
    probs = np.full((2, 1001), 1 / 1001, np.float32)
    cases += [
        r("more epochs than the setting allows", run_archive(epochs=many_epochs), "more than a run can have"),
        r("an absurd epoch number", run_archive(epochs=[{"epoch": 10 ** 18, "loss": 1.0}]), "more than a run can have"),
        r("a metric that is text", run_archive(epochs=[{"epoch": 1, "loss": "low"}]), "not a number"),
        r("run.json with a list for a name", run_archive(run={"name": ["x"]}), "'name' is not a short text"),
        r("manifest run id that is a dict", run_archive(manifest={"run_id": {"a": 1}}), "run id is not a short text"),
        r("manifest date that is text", run_archive(manifest={"exported_at": "today"}), "exported_at is not a number"),
        r("too many classes", run_archive(predictions={"probs": probs, "y_true": np.zeros(2, np.int64)}),
          "at most 1,000"),
        r("too many class names", run_archive(dataset={"class_names": [str(i) for i in range(1001)]}),
          "at most 1,000"),
        r("zip slip", run_archive(extra=[("../evil.json", b"{}")]), "outside its folder"),
        r("backslash slip", run_archive(extra=[("..\\evil.json", b"{}")]), "outside its folder"),
        r("link", run_archive(extra=[(special("link.json", stat.S_IFLNK), b"/etc/passwd")]), "link"),
        r("ratio bomb", run_archive(extra=[("confusion_matrix.png", bytes(5 * 1024 * 1024))]), "zip bombs"),
        r("claims 60,000 files", declared_entries(run_archive(), 60_000), "holds 60,000 files"),
        r("more members than a run has", run_archive(extra=[(f"x{i}.json", b"{}") for i in range(70)]),
          "at most 64 are accepted"),
        r("nested archive member", run_archive(extra=[("inner.zip", zip_bytes(pets()))]), "not part of a CNN Lab run"),
    ]
    return cases


def model_cases(model: bytes) -> list[Case]:
    """Run archives whose model.keras tries to load code or read files (``model``: a real one)."""
    config = json.loads(zipfile.ZipFile(io.BytesIO(model)).read("config.json"))

    def changed(edit) -> bytes:
        evil = json.loads(json.dumps(config))
        edit(evil)
        return run_archive(model=keras_file(model, evil))

    def add_layer(evil, layer):
        evil["config"]["layers"].insert(1, layer)

    lookup = {"module": "keras.layers", "class_name": "StringLookup", "registered_name": None,
              "config": {"name": "lookup", "vocabulary": "/etc/passwd"}}
    get_file = {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
                "config": {"name": "d", "units": 1, "kernel_initializer": "keras.utils.get_file"}}
    unsafe = {"module": "keras.config", "class_name": "enable_unsafe_deserialization",
              "registered_name": None, "config": {}}
    lam = {"module": "keras.layers", "class_name": "Lambda", "registered_name": None,
           "config": {"name": "l", "function": {"class_name": "__lambda__", "config": {"code": "AAAA"}}}}
    foreign = {"module": "os", "class_name": "system", "registered_name": None, "config": {}}
    m = lambda name, data, words: Case(name, "run", data, "refused", words)  # noqa: E731
    return [
        m("lambda layer", changed(lambda e: add_layer(e, lam)), "Lambda layer"),
        m("foreign module", changed(lambda e: add_layer(e, foreign)), "module 'os'"),
        m("lookup layer reading a file", changed(lambda e: add_layer(e, lookup)), "'StringLookup'"),
        m("get_file in the description", changed(lambda e: add_layer(e, get_file)), "get_file"),
        m("unsafe deserialization switch", changed(lambda e: add_layer(e, unsafe)),
          "enable_unsafe_deserialization"),
        m("pickled member", run_archive(model=keras_file(model, replace={"x.pkl": b"\x80\x04K\x01."})), "pickled"),
        m("hdf5 external link", run_archive(model=keras_file(model, replace={"model.weights.h5": external_h5()})),
          "point at other files"),
    ]


def external_h5() -> bytes:
    """An HDF5 file whose group links to /etc/passwd (read it, and you read this computer)."""
    import h5py

    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.create_group("layers")
        f["layers/secret"] = h5py.ExternalLink("/etc/passwd", "/")
    return buf.getvalue()
