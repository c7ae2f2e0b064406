"""Data sets: built-ins, Keras downloads (from files placed in a temporary Keras cache, never
the network) and folders of images."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import os
import pickle
import socket
import struct
import subprocess
import sys
import tarfile
import threading
import time
import urllib.error
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from cnn_core import dataset_downloads, datasets, image_decoding
from cnn_core.datasets import Dataset, load_dataset, list_datasets
from cnn_core.errors import DatasetError, DatasetUnavailableError, SpecError
from cnn_core.stored_messages import message_text

ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any attempt to open a network connection fails at once."""
    def refuse(*args, **kwargs):
        raise OSError("network access is disabled in tests")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(autouse=True)
def fresh_cache():
    datasets.clear_dataset_cache()
    yield
    datasets.clear_dataset_cache()


@pytest.fixture
def cache_dir(keras_cache):
    """The Keras cache folder, emptied of everything this test put there afterwards."""
    before = set(os.listdir(keras_cache))
    yield keras_cache
    import shutil
    for name in set(os.listdir(keras_cache)) - before:
        p = keras_cache / name
        shutil.rmtree(p) if p.is_dir() else p.unlink()


@pytest.fixture
def trust_cached_files(monkeypatch):
    """Fake files cannot match the real checksums: accept them (ours and Keras' check)."""
    from keras.src.utils import file_utils
    monkeypatch.setattr(file_utils, "validate_file", lambda *a, **k: True)
    monkeypatch.setattr(dataset_downloads, "_file_matches_hash", lambda *a, **k: True)


def _save(path: Path, array: np.ndarray, mode: str | None = None, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode).save(path, **kw) if mode else Image.fromarray(array).save(path, **kw)
    return path


def _solid(h, w, rgb) -> np.ndarray:
    return np.tile(np.array(rgb, np.uint8), (h, w, 1))


def _progress_log():
    calls = []
    return calls, lambda f, m: calls.append((f, m))


# --------------------------------------------------------------------------- import hygiene

def test_modules_import_without_tensorflow():
    code = ("import sys; import cnn_core.datasets, cnn_core.preprocessing, cnn_core.uploads; "
            "bad = [m for m in ('tensorflow', 'keras', 'sklearn', 'streamlit') if m in sys.modules];"
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)


# --------------------------------------------------------------------------- built-ins

def test_list_datasets_builtins_offline_downloads_not(cache_dir, workspace):
    infos = {i.id: i for i in list_datasets(workspace)}
    for k in ("mnist_sample", "shapes", "digits"):
        assert infos[k].offline and infos[k].kind == "builtin"
    for k in ("mnist", "fashion_mnist", "cifar10", "cifar100"):
        assert infos[k].kind == "download" and infos[k].offline is False
        assert infos[k].download_mb > 1
    assert infos["mnist_sample"].image_shape == (28, 28, 1) and infos["mnist_sample"].n_classes == 10
    assert infos["cifar100"].n_classes == 100 and len(datasets.CIFAR100_CLASSES) == 100
    assert datasets.DEFAULT_DATASET_ID in infos


def test_mnist_sample_split_is_stratified_and_cached():
    ds = load_dataset("mnist_sample")
    assert isinstance(ds, Dataset)
    assert ds.x_train.shape == (4000, 28, 28, 1) and ds.x_test.shape == (1000, 28, 28, 1)
    assert ds.x_train.dtype == np.uint8 and ds.y_train.dtype == np.int64
    assert ds.x_train.max() == 255 and ds.image_shape == (28, 28, 1) and ds.channels == 1
    assert set(ds.class_counts("test").values()) == {100}
    assert set(ds.class_counts("train").values()) == {400}
    assert sum(ds.class_counts("all").values()) == 5000
    assert load_dataset("mnist_sample") is ds                 # same arguments, same object
    other = load_dataset("mnist_sample", seed=1)
    assert other is not ds and not np.array_equal(other.x_test, ds.x_test)
    with pytest.raises(ValueError):
        ds.x_train[0, 0, 0, 0] = 1                             # shared through the cache


def test_shapes_are_deterministic_from_seed_and_fast():
    t0 = time.perf_counter()
    x1, y1 = datasets.generate_shapes(seed=3)
    elapsed = time.perf_counter() - t0
    x2, y2 = datasets.generate_shapes(seed=3)
    x3, _ = datasets.generate_shapes(seed=4)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(x1, x3)
    assert elapsed < 5.0
    n_classes = len(datasets.SHAPE_CLASSES)
    assert x1.shape == (datasets.SHAPES_PER_CLASS * n_classes, 32, 32, 3) and x1.dtype == np.uint8
    assert np.bincount(y1).tolist() == [datasets.SHAPES_PER_CLASS] * n_classes
    # every picture holds a shape clearly different from its background, not just noise
    corner = np.median(x1[:, :3, :3, :].reshape(len(x1), -1, 3), axis=1)
    differs = (np.abs(x1.astype(int) - corner[:, None, None, :]).max(-1) > 60).sum((1, 2))
    assert differs.min() >= 15


def test_shape_classes_look_different():
    """Shape area (fraction of foreground pixels relative to the size) separates classes:
    crosses and stars cover less of their box than squares and circles."""
    x, y = datasets.generate_shapes(n_per_class=60, seed=0)
    corner = np.median(x[:, :2, :2, :].reshape(len(x), -1, 3), axis=1)
    fg = (np.abs(x.astype(int) - corner[:, None, None, :]).max(-1) > 60)
    rows, cols = fg.any(2), fg.any(1)
    box = rows.sum(1) * cols.sum(1)
    fill = fg.sum((1, 2)) / np.maximum(box, 1)
    mean_fill = {c: fill[y == i].mean() for i, c in enumerate(datasets.SHAPE_CLASSES)}
    assert mean_fill["circle"] > mean_fill["cross"] + 0.1
    assert mean_fill["square"] > mean_fill["star"] + 0.1


def test_shapes_dataset_and_conversions():
    ds = load_dataset("shapes", seed=2)
    assert ds.image_shape == (32, 32, 3) and ds.n_classes == 5
    total = datasets.SHAPES_PER_CLASS * ds.n_classes
    assert ds.n_test == round(0.2 * total) and ds.n_train == total - ds.n_test
    assert ds.class_names == list(datasets.SHAPE_CLASSES)
    gray = load_dataset("shapes", seed=2, color_mode="grayscale", image_size=(16, 20))
    assert gray.image_shape == (16, 20, 1)
    np.testing.assert_array_equal(gray.y_train, ds.y_train)
    # grayscale = PIL's luminance of the same picture
    expected = np.asarray(Image.fromarray(ds.x_train[0]).convert("L").resize((20, 16), Image.BILINEAR))
    assert np.abs(gray.x_train[0, ..., 0].astype(int) - expected).max() <= 2
    rgb = load_dataset("mnist_sample", color_mode="rgb")
    assert rgb.channels == 3
    np.testing.assert_array_equal(rgb.x_train[..., 0], rgb.x_train[..., 2])


def test_digits_builtin():
    ds = load_dataset("digits")
    assert ds.image_shape == (32, 32, 1) and ds.n_classes == 10
    assert ds.n_train + ds.n_test == 1797 and ds.x_train.max() > 200


@pytest.mark.parametrize("kwargs, setting", [
    ({"color_mode": "cmyk"}, "color_mode"),
    ({"image_size": (2, 2)}, "image_size"),
    ({"image_size": "big"}, "image_size"),
    ({"test_fraction": 0.0}, "test_fraction"),
    ({"test_fraction": 1.5}, "test_fraction"),
])
def test_bad_options_raise_spec_error(kwargs, setting):
    with pytest.raises(SpecError) as err:
        load_dataset("shapes", **kwargs)
    assert err.value.setting == setting


def test_unknown_id_says_what_to_use():
    with pytest.raises(DatasetError) as err:
        load_dataset("imagenet")
    assert "imagenet" in str(err.value) and "mnist_sample" in str(err.value)


def test_progress_is_reported_and_finishes():
    calls, progress = _progress_log()
    load_dataset("shapes", seed=9, progress=progress)
    fractions = [f for f, _ in calls]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions) and all(isinstance(m, str) and m for _, m in calls)


def test_cache_is_thread_safe_and_lru(monkeypatch):
    calls = []

    def slow_tiny_loader(image_size, color_mode, test_fraction, seed, progress=None):
        calls.append(seed)
        time.sleep(0.05)                       # widen the window for a double load
        x = np.zeros((4, 2, 2, 1), np.uint8)
        return datasets._finish("shapes", "Shapes", x, [0, 1, 0, 1], x, [0, 1, 0, 1], ["a", "b"], "t")

    monkeypatch.setitem(datasets.BUILTINS, "shapes",
                        dataclasses.replace(datasets.BUILTINS["shapes"], loader=slow_tiny_loader))
    results = []
    threads = [threading.Thread(target=lambda: results.append(load_dataset("shapes", seed=11)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [11] and len(results) == 4 and all(r is results[0] for r in results)
    first = results[0]
    for s in range(20, 20 + datasets._CACHE_SIZE - 1):    # fills the LRU, 11 still inside
        load_dataset("shapes", seed=s)
    assert load_dataset("shapes", seed=11) is first and calls.count(11) == 1
    for s in range(40, 40 + datasets._CACHE_SIZE):        # now pushes it out
        load_dataset("shapes", seed=s)
    assert load_dataset("shapes", seed=11) is not first and calls.count(11) == 2


# --------------------------------------------------------------------------- Keras downloads

def _fake_mnist_npz(path: Path, n_train=12, n_test=5) -> dict:
    rng = np.random.default_rng(0)
    arrays = dict(x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
                  y_train=(np.arange(n_train) % 10).astype(np.uint8),
                  x_test=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
                  y_test=(np.arange(n_test) % 10).astype(np.uint8))
    np.savez(path, **arrays)
    return arrays


def test_download_missing_and_offline_names_file_and_folder(cache_dir, monkeypatch):
    def offline(*a, **k):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")
    monkeypatch.setattr(dataset_downloads, "_urlopen", offline)
    for ds_id, names in [("mnist", ["mnist.npz"]),
                         ("cifar10", ["cifar-10-python.tar.gz", "cifar-10-batches-py-target_archive"]),
                         ("fashion_mnist", ["train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"])]:
        with pytest.raises(DatasetUnavailableError) as err:
            load_dataset(ds_id)
        msg = str(err.value)
        folder = cache_dir / ("fashion-mnist" if ds_id == "fashion_mnist" else "")
        assert str(folder.resolve()).rstrip("/") in msg or str(folder).rstrip("/") in msg
        for n in names:
            assert n in msg
        assert "internet" in msg and "built-in" in msg and "name resolution" in msg
        assert "https://" in msg
    assert not [p for p in cache_dir.rglob("*") if p.is_file()]   # nothing half-downloaded


def test_cached_mnist_is_offline_and_loads_through_keras(cache_dir, trust_cached_files):
    arrays = _fake_mnist_npz(cache_dir / "mnist.npz")
    info = {i.id: i for i in list_datasets()}["mnist"]
    assert info.offline
    calls, progress = _progress_log()
    ds = load_dataset("mnist", progress=progress)
    assert calls[0][0] == 0.0 and calls[-1][0] == 1.0
    assert ds.x_train.shape == (12, 28, 28, 1) and ds.x_test.shape == (5, 28, 28, 1)
    np.testing.assert_array_equal(ds.x_train[..., 0], arrays["x_train"])
    np.testing.assert_array_equal(ds.y_test, arrays["y_test"])
    assert ds.class_names == [str(i) for i in range(10)]
    assert load_dataset("mnist") is ds


def _idx_gz(path: Path, array: np.ndarray, labels: bool) -> None:
    header = struct.pack(">II", 2049, len(array)) if labels else \
        struct.pack(">IIII", 2051, len(array), 28, 28)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_cached_fashion_mnist_idx_files_load_through_keras(cache_dir):
    folder = cache_dir / "fashion-mnist"
    folder.mkdir()
    rng = np.random.default_rng(1)
    x_tr, x_te = rng.integers(0, 256, (7, 28, 28)), rng.integers(0, 256, (3, 28, 28))
    _idx_gz(folder / "train-labels-idx1-ubyte.gz", np.arange(7) % 10, True)
    _idx_gz(folder / "train-images-idx3-ubyte.gz", x_tr, False)
    _idx_gz(folder / "t10k-labels-idx1-ubyte.gz", np.array([9, 8, 7]), True)
    _idx_gz(folder / "t10k-images-idx3-ubyte.gz", x_te, False)
    assert {i.id: i for i in list_datasets()}["fashion_mnist"].offline
    ds = load_dataset("fashion_mnist", image_size=(14, 14))
    assert ds.x_train.shape == (7, 14, 14, 1) and ds.y_test.tolist() == [9, 8, 7]
    assert ds.class_names[9] == "Ankle boot"


def _cifar_batch(n, label_key, rng) -> bytes:
    d = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
         label_key.encode(): [int(v) for v in rng.integers(0, 100, n)],
         b"coarse_labels": [0] * n}
    return pickle.dumps(d, protocol=4)


def test_cached_cifar100_archive_under_its_web_name_loads(cache_dir, trust_cached_files):
    rng = np.random.default_rng(2)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, n in (("train", 6), ("test", 4)):
            data = _cifar_batch(n, "fine_labels", rng)
            info = tarfile.TarInfo(f"cifar-100-python/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    (cache_dir / "cifar-100-python.tar.gz").write_bytes(buf.getvalue())   # as downloaded by hand
    assert {i.id: i for i in list_datasets()}["cifar100"].offline
    ds = load_dataset("cifar100", color_mode="grayscale")
    assert ds.x_train.shape == (6, 32, 32, 1) and ds.x_test.shape == (4, 32, 32, 1)
    assert ds.n_classes == 100
    assert (cache_dir / "cifar-100-python-target_archive").is_file()     # renamed for Keras


def test_streamed_download_places_file_where_keras_looks(cache_dir, monkeypatch):
    from keras.src.utils import file_utils
    monkeypatch.setattr(file_utils, "validate_file", lambda *a, **k: True)
    buf = io.BytesIO()
    arrays = dict(x_train=np.full((4, 28, 28), 9, np.uint8), y_train=np.array([0, 1, 2, 3], np.uint8),
                  x_test=np.zeros((2, 28, 28), np.uint8), y_test=np.array([1, 0], np.uint8))
    np.savez(buf, **arrays)
    payload = buf.getvalue()
    spec = datasets.DOWNLOADS["mnist"]
    fake_file = dataclasses.replace(spec.files[0], sha256=hashlib.sha256(payload).hexdigest())
    monkeypatch.setitem(datasets.DOWNLOADS, "mnist", dataclasses.replace(spec, files=(fake_file,)))

    class Response(io.BytesIO):
        headers = {"Content-Length": str(len(payload))}

    requested = []

    def fake_urlopen(url, timeout=None):
        requested.append(url)
        return Response(payload)

    monkeypatch.setattr(dataset_downloads, "_urlopen", fake_urlopen)
    calls, progress = _progress_log()
    ds = load_dataset("mnist", progress=progress)
    assert requested == [spec.files[0].url]
    assert (cache_dir / "mnist.npz").read_bytes() == payload
    assert ds.y_train.tolist() == [0, 1, 2, 3] and ds.x_train.max() == 9
    assert any("Downloading" in m for _, m in calls)
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_corrupt_download_is_refused_and_removed(cache_dir, monkeypatch):
    class Response(io.BytesIO):
        headers = {}
    monkeypatch.setattr(dataset_downloads, "_urlopen", lambda url, timeout=None: Response(b"not mnist"))
    with pytest.raises(DatasetUnavailableError) as err:
        load_dataset("mnist")
    assert "checksum" in str(err.value)
    assert not list(cache_dir.iterdir())


def test_damaged_cached_file_is_kept_and_reported_offline(cache_dir, monkeypatch):
    monkeypatch.setattr(dataset_downloads, "_urlopen",
                        lambda *a, **k: (_ for _ in ()).throw(urllib.error.URLError("offline")))
    (cache_dir / "mnist.npz").write_bytes(b"half a file")
    with pytest.raises(DatasetUnavailableError) as err:
        load_dataset("mnist")
    assert "damaged" in str(err.value) and "mnist.npz" in str(err.value)
    assert (cache_dir / "mnist.npz").read_bytes() == b"half a file"   # Keras would delete it


# --------------------------------------------------------------------------- folders

def _class_folder(root: Path, n_per_class=6, size=(12, 10), classes=("cats", "dogs")):
    """Class c's images are solid colour (40 + 100*c): content tells the label."""
    for c, name in enumerate(classes):
        for i in range(n_per_class):
            value = 40 + 100 * c
            _save(root / name / f"{i:03d}.png", _solid(size[0], size[1], (value, value, 255 - value)))
    return root


def test_folder_with_corrupt_and_text_files_loads_the_rest(tmp_path):
    root = _class_folder(tmp_path / "pets")
    (root / "cats" / "notes.txt").write_text("these are my cats")
    noisy = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(noisy, "PNG")
    (root / "dogs" / "broken.png").write_bytes(noisy.getvalue()[:1500])  # cut short
    (root / "dogs" / "garbage.jpg").write_bytes(os.urandom(300))
    (root / ".DS_Store").write_bytes(b"\0\1")                             # hidden: ignored
    (root / "README.md").write_text("loose file")
    ds = load_dataset(str(root), test_fraction=0.5, seed=0)
    assert ds.n_train + ds.n_test == 12 and ds.class_names == ["cats", "dogs"]
    skipped = {Path(p).name: message_text(reason) for p, reason in ds.skipped}
    assert set(skipped) == {"notes.txt", "broken.png", "garbage.jpg", "README.md"}
    assert "not an image" in skipped["notes.txt"]
    assert "damaged" in skipped["broken.png"] or "incomplete" in skipped["broken.png"]
    assert "class folder" in skipped["README.md"]
    # labels match content
    x = np.concatenate([ds.x_train, ds.x_test])
    y = np.concatenate([ds.y_train, ds.y_test])
    np.testing.assert_array_equal(x[:, 0, 0, 0], 40 + 100 * y)
    assert ds.class_counts("test") == {"cats": 3, "dogs": 3}


def test_flat_folder_split_is_stratified_and_seeded(tmp_path):
    root = _class_folder(tmp_path / "d", n_per_class=10, classes=("a", "b", "c"))
    ds = load_dataset(str(root), test_fraction=0.2, seed=1)
    assert ds.class_counts("test") == {"a": 2, "b": 2, "c": 2}
    again = datasets._load_folder(root.resolve(), "x", "x", None, None, 0.2, 1, None)
    np.testing.assert_array_equal(again.y_test, ds.y_test)
    assert "held out" in ds.source


def test_train_test_layout_in_a_wrapping_folder(tmp_path):
    top = tmp_path / "upload" / "my_pictures"
    _class_folder(top / "train", n_per_class=5)
    _class_folder(top / "test", n_per_class=2)
    _save(top / "test" / "birds" / "0.png", _solid(12, 10, (1, 2, 3)))      # class not in train
    ds = load_dataset(str(tmp_path / "upload"))
    assert (ds.n_train, ds.n_test) == (10, 4)
    assert ds.class_counts("test") == {"cats": 2, "dogs": 2}
    assert any("birds" in p and "no training images" in message_text(r) for p, r in ds.skipped)
    assert "train/ and test/" in ds.source


@pytest.mark.parametrize("mode", ["rgb", "grayscale"])
def test_image_modes_are_converted(tmp_path, mode):
    root = tmp_path / "modes"
    red = _solid(8, 8, (200, 10, 30))
    _save(root / "a" / "rgb.png", red)
    _save(root / "a" / "rgba.png", np.dstack([red, np.full((8, 8), 0, np.uint8)]))   # transparent
    Image.fromarray(red).quantize(4).save(root / "a" / "palette.png")
    Image.fromarray(red).convert("CMYK").save(root / "a" / "cmyk.jpg", quality=100)
    deep = np.full((8, 8), 65535, np.uint16)
    deep[:4] = 32768
    (root / "b").mkdir()
    Image.fromarray(deep).save(root / "b" / "deep16.png")
    Image.fromarray(np.full((8, 8), 255, np.uint8)).convert("1").save(root / "b" / "bits.png")
    _save(root / "b" / "gray.png", np.full((8, 8), 77, np.uint8), "L")
    ds = load_dataset(str(root), color_mode=mode, test_fraction=0.3)
    x = np.concatenate([ds.x_train, ds.x_test])
    assert x.shape[1:] == (8, 8, 3 if mode == "rgb" else 1) and not ds.skipped
    # find individual images by their known content
    layout = datasets.scan_image_folder(root)
    arrays, ok, skipped = datasets.decode_images([p for p, _ in layout.train_files], (8, 8),
                                                 mode == "grayscale")
    imgs = {Path(p).name: a for (p, _), a in zip(layout.train_files, arrays)}
    lum = lambda r, g, b: (r * 299 + g * 587 + b * 114 + 500) // 1000   # noqa: E731
    if mode == "rgb":
        assert imgs["rgb.png"][0, 0].tolist() == [200, 10, 30]
        assert imgs["palette.png"][0, 0].tolist() == [200, 10, 30]
        assert imgs["rgba.png"][0, 0].tolist() == [255, 255, 255]      # transparent -> white
        assert np.abs(imgs["cmyk.jpg"][0, 0].astype(int) - [200, 10, 30]).max() < 12
        assert imgs["deep16.png"][0, 0].tolist() == [128] * 3 and imgs["deep16.png"][7, 0].tolist() == [255] * 3
        assert imgs["gray.png"][0, 0].tolist() == [77] * 3
    else:
        assert imgs["rgb.png"][0, 0, 0] == lum(200, 10, 30)
        assert imgs["deep16.png"][0, 0, 0] == 128 and imgs["deep16.png"][7, 0, 0] == 255
        assert imgs["bits.png"][0, 0, 0] == 255
        assert imgs["rgba.png"][0, 0, 0] == 255


def test_default_color_mode_and_size(tmp_path):
    gray_root = tmp_path / "gray"
    for c in ("x", "y"):
        for i in range(3):
            _save(gray_root / c / f"{i}.png", np.full((20, 30), 50 * i, np.uint8), "L")
    ds = load_dataset(str(gray_root), test_fraction=0.34)
    assert ds.image_shape == (20, 30, 1)                     # common size kept, single channel
    mixed = _class_folder(tmp_path / "mixed", n_per_class=3)
    _save(mixed / "cats" / "gray.png", np.zeros((12, 10), np.uint8), "L")
    assert load_dataset(str(mixed), test_fraction=0.3).channels == 3
    big = _class_folder(tmp_path / "big", n_per_class=2, size=(100, 200))
    assert load_dataset(str(big), test_fraction=0.5).image_shape == (32, 64, 3)   # fits 64x64
    varied = tmp_path / "varied"
    for i, (h, w) in enumerate([(10, 11), (12, 13), (14, 15), (16, 17)]):
        _save(varied / ("a" if i % 2 else "b") / f"{i}.png", _solid(h, w, (1, 2, 3)))
    assert load_dataset(str(varied), test_fraction=0.5).image_shape == (32, 32, 3)
    resized = load_dataset(str(varied), test_fraction=0.5, image_size=(9, 7), color_mode="grayscale")
    assert resized.image_shape == (9, 7, 1)


def test_exif_orientation_is_applied(tmp_path):
    root = tmp_path / "exif"
    img = np.zeros((20, 40, 3), np.uint8)
    img[:, :20] = (255, 0, 0)      # left red
    img[:, 20:] = (0, 0, 255)      # right blue
    exif = Image.Exif()
    exif[0x0112] = 6               # display rotated 90 degrees clockwise
    for c in ("a", "b"):
        (root / c).mkdir(parents=True)
        for i in range(2):
            Image.fromarray(img).save(root / c / f"{i}.jpg", exif=exif, quality=95)
    ds = load_dataset(str(root), test_fraction=0.5)
    assert ds.image_shape == (40, 20, 3)
    x = ds.x_train[0].astype(int)
    assert x[2, 10, 0] > 200 and x[2, 10, 2] < 60          # top is the old left: red
    assert x[-3, 10, 2] > 200 and x[-3, 10, 0] < 60        # bottom is blue


def test_hostile_images_are_skipped_not_fatal(tmp_path, monkeypatch):
    root = _class_folder(tmp_path / "h", n_per_class=3)
    _save(root / "cats" / "huge.png", _solid(60, 60, (1, 1, 1)))
    _save(root / "dogs" / "bomb.png", _solid(90, 90, (1, 1, 1)))
    (root / "dogs" / "empty.png").write_bytes(b"")
    monkeypatch.setattr(image_decoding, "MAX_IMAGE_PIXELS", 3000)  # our own pixel limit
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 4000)           # PIL's bomb error above 8000
    monkeypatch.setattr(image_decoding, "MAX_FILE_BYTES", 10_000)
    (root / "cats" / "big_file.png").write_bytes(b"\x89PNG" + bytes(20_000))
    ds = load_dataset(str(root), image_size=(12, 10), test_fraction=0.34)
    assert ds.n_train + ds.n_test == 6
    reasons = {Path(p).name: message_text(r) for p, r in ds.skipped}
    assert "too large" in reasons["huge.png"]
    assert "too large" in reasons["bomb.png"]
    assert "too large" in reasons["big_file.png"] and "empty" in reasons["empty.png"]


def test_many_files_decode_in_parallel_with_correct_labels(tmp_path):
    root = tmp_path / "many"
    for c in range(3):
        for i in range(110):
            _save(root / f"class{c}" / f"{i}.png", np.full((4, 4), 60 * c + (i % 7), np.uint8), "L")
    calls, progress = _progress_log()
    ds = load_dataset(str(root), progress=progress, test_fraction=0.1)
    x = np.concatenate([ds.x_train, ds.x_test])[:, 0, 0, 0].astype(int)
    y = np.concatenate([ds.y_train, ds.y_test])
    assert len(y) == 330 and (x // 60 == y).all()
    assert any("Reading images" in m for _, m in calls)


@pytest.mark.parametrize("build, words", [
    (lambda r: r.mkdir(), "empty"),
    (lambda r: _class_folder(r, classes=("only",)), "one class"),
    (lambda r: [_save(r / f"{i}.png", _solid(4, 4, (1, 1, 1))) for i in range(3)], "class folders"),
    (lambda r: [(r / c).mkdir(parents=True) or (r / c / "a.txt").write_text("x") for c in "ab"],
     "two classes"),
])
def test_unusable_folders_give_plain_errors(tmp_path, build, words):
    root = tmp_path / "bad"
    build(root)
    with pytest.raises(DatasetError) as err:
        load_dataset(str(root))
    assert words in str(err.value).lower()


def test_missing_folder_and_file_path(tmp_path):
    with pytest.raises(DatasetError):
        load_dataset(str(tmp_path / "nope"))
    (tmp_path / "f.png").write_bytes(b"x")
    with pytest.raises(DatasetError) as err:
        load_dataset(str(tmp_path / "f.png"))
    assert "not a folder" in str(err.value)


def test_user_datasets_are_listed_and_loaded(workspace):
    _class_folder(workspace / "datasets" / "pets", n_per_class=4)
    (workspace / "datasets" / ".importing-123").mkdir()                     # hidden: not listed
    infos = {i.id: i for i in list_datasets(workspace)}
    assert "user:pets" in infos and not any(".importing" in k for k in infos)
    info = infos["user:pets"]
    assert info.kind == "folder" and info.n_classes == 2 and info.image_shape == (12, 10, 3)
    assert info.offline and info.n_images == 8
    ds = load_dataset("user:pets", workspace=workspace, test_fraction=0.25)
    assert ds.id == "user:pets" and ds.n_train + ds.n_test == 8
    assert load_dataset("user:pets", test_fraction=0.25) is ds            # $CNN_LAB_WORKSPACE
    _save(workspace / "datasets" / "pets" / "cats" / "new.png", _solid(12, 10, (40, 40, 215)))
    grown = load_dataset("user:pets", workspace=workspace, test_fraction=0.25)
    assert grown is not ds and grown.n_train + grown.n_test == 9          # cache noticed the change
    with pytest.raises(DatasetError) as err:
        load_dataset("user:nothing", workspace=workspace)
    assert "pets" in str(err.value)
    with pytest.raises(DatasetError):
        load_dataset("user:../pets", workspace=workspace)
    assert datasets.dataset_info("user:pets", workspace).n_classes == 2
