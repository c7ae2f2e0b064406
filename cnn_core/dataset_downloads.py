"""Data sets downloaded once into the Keras cache: MNIST, Fashion-MNIST, CIFAR-10, CIFAR-100.

:data:`DOWNLOADS` describes each set and the files ``keras.datasets`` expects
(:class:`CacheFile`). We download a missing file ourselves (streamed, with progress, checksum
verified) to the exact place Keras looks (:func:`keras_cache_path`), then let
``keras.datasets`` read it. Offline and not cached -> :class:`DatasetUnavailableError` saying
which file to put in which folder.

TensorFlow/Keras is imported only when one of these sets is actually read.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnn_core.dataset_types import Dataset, ProgressFn, finish_dataset, report_progress
from cnn_core.errors import DatasetError, DatasetUnavailableError
from cnn_core.i18n import NC_, N_


@dataclass(frozen=True)
class CacheFile:
    """One file ``keras.datasets`` expects in its cache.

    Args:
        name: file name Keras looks for (``get_file``'s download target).
        url: where Keras (and we) download it from.
        sha256: checksum Keras verifies, or None.
        subdir: folder under the Keras home (``datasets`` or ``datasets/fashion-mnist``).
        web_name: the file's name at ``url``; accepted in the cache folder too (renamed).
        alt_names: other names accepted and renamed (older Keras versions).
    """

    name: str
    url: str
    sha256: str | None
    subdir: str = "datasets"
    web_name: str = ""
    alt_names: tuple[str, ...] = ()
    mb: float = 0.0

    @property
    def accepted_names(self) -> tuple[str, ...]:
        names = [self.name]
        for n in (self.web_name, *self.alt_names):
            if n and n not in names:
                names.append(n)
        return tuple(names)


_TF_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_FASHION_FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                  "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")
_FASHION_MB = (0.03, 26.4, 0.005, 4.4)

FASHION_CLASSES = (N_("T-shirt/top"), N_("Trouser"), N_("Pullover"), N_("Dress"), N_("Coat"), N_("Sandal"), N_("Shirt"),
                   N_("Sneaker"), N_("Bag"), N_("Ankle boot"))
CIFAR10_CLASSES = (N_("airplane"), N_("automobile"), N_("bird"), N_("cat"), N_("deer"), N_("dog"), N_("frog"), N_("horse"),
                   N_("ship"), N_("truck"))
#: Catalog context of the CIFAR-100 class names ("train" is a vehicle there, not the training split):
#: shown with ``pgettext(CIFAR100_CONTEXT, name)`` (cnn_core.i18n_class_names).
CIFAR100_CONTEXT = "CIFAR-100 class"
CIFAR100_CLASSES = (
    NC_("CIFAR-100 class", "apple"), NC_("CIFAR-100 class", "aquarium_fish"), NC_("CIFAR-100 class", "baby"),
    NC_("CIFAR-100 class", "bear"), NC_("CIFAR-100 class", "beaver"), NC_("CIFAR-100 class", "bed"),
    NC_("CIFAR-100 class", "bee"), NC_("CIFAR-100 class", "beetle"), NC_("CIFAR-100 class", "bicycle"),
    NC_("CIFAR-100 class", "bottle"), NC_("CIFAR-100 class", "bowl"), NC_("CIFAR-100 class", "boy"),
    NC_("CIFAR-100 class", "bridge"), NC_("CIFAR-100 class", "bus"), NC_("CIFAR-100 class", "butterfly"),
    NC_("CIFAR-100 class", "camel"), NC_("CIFAR-100 class", "can"), NC_("CIFAR-100 class", "castle"),
    NC_("CIFAR-100 class", "caterpillar"), NC_("CIFAR-100 class", "cattle"), NC_("CIFAR-100 class", "chair"),
    NC_("CIFAR-100 class", "chimpanzee"), NC_("CIFAR-100 class", "clock"), NC_("CIFAR-100 class", "cloud"),
    NC_("CIFAR-100 class", "cockroach"), NC_("CIFAR-100 class", "couch"), NC_("CIFAR-100 class", "crab"),
    NC_("CIFAR-100 class", "crocodile"), NC_("CIFAR-100 class", "cup"), NC_("CIFAR-100 class", "dinosaur"),
    NC_("CIFAR-100 class", "dolphin"), NC_("CIFAR-100 class", "elephant"), NC_("CIFAR-100 class", "flatfish"),
    NC_("CIFAR-100 class", "forest"), NC_("CIFAR-100 class", "fox"), NC_("CIFAR-100 class", "girl"),
    NC_("CIFAR-100 class", "hamster"), NC_("CIFAR-100 class", "house"), NC_("CIFAR-100 class", "kangaroo"),
    NC_("CIFAR-100 class", "keyboard"), NC_("CIFAR-100 class", "lamp"), NC_("CIFAR-100 class", "lawn_mower"),
    NC_("CIFAR-100 class", "leopard"), NC_("CIFAR-100 class", "lion"), NC_("CIFAR-100 class", "lizard"),
    NC_("CIFAR-100 class", "lobster"), NC_("CIFAR-100 class", "man"), NC_("CIFAR-100 class", "maple_tree"),
    NC_("CIFAR-100 class", "motorcycle"), NC_("CIFAR-100 class", "mountain"), NC_("CIFAR-100 class", "mouse"),
    NC_("CIFAR-100 class", "mushroom"), NC_("CIFAR-100 class", "oak_tree"), NC_("CIFAR-100 class", "orange"),
    NC_("CIFAR-100 class", "orchid"), NC_("CIFAR-100 class", "otter"), NC_("CIFAR-100 class", "palm_tree"),
    NC_("CIFAR-100 class", "pear"), NC_("CIFAR-100 class", "pickup_truck"), NC_("CIFAR-100 class", "pine_tree"),
    NC_("CIFAR-100 class", "plain"), NC_("CIFAR-100 class", "plate"), NC_("CIFAR-100 class", "poppy"),
    NC_("CIFAR-100 class", "porcupine"), NC_("CIFAR-100 class", "possum"), NC_("CIFAR-100 class", "rabbit"),
    NC_("CIFAR-100 class", "raccoon"), NC_("CIFAR-100 class", "ray"), NC_("CIFAR-100 class", "road"),
    NC_("CIFAR-100 class", "rocket"), NC_("CIFAR-100 class", "rose"), NC_("CIFAR-100 class", "sea"),
    NC_("CIFAR-100 class", "seal"), NC_("CIFAR-100 class", "shark"), NC_("CIFAR-100 class", "shrew"),
    NC_("CIFAR-100 class", "skunk"), NC_("CIFAR-100 class", "skyscraper"), NC_("CIFAR-100 class", "snail"),
    NC_("CIFAR-100 class", "snake"), NC_("CIFAR-100 class", "spider"), NC_("CIFAR-100 class", "squirrel"),
    NC_("CIFAR-100 class", "streetcar"), NC_("CIFAR-100 class", "sunflower"),
    NC_("CIFAR-100 class", "sweet_pepper"), NC_("CIFAR-100 class", "table"), NC_("CIFAR-100 class", "tank"),
    NC_("CIFAR-100 class", "telephone"), NC_("CIFAR-100 class", "television"), NC_("CIFAR-100 class", "tiger"),
    NC_("CIFAR-100 class", "tractor"), NC_("CIFAR-100 class", "train"), NC_("CIFAR-100 class", "trout"),
    NC_("CIFAR-100 class", "tulip"), NC_("CIFAR-100 class", "turtle"), NC_("CIFAR-100 class", "wardrobe"),
    NC_("CIFAR-100 class", "whale"), NC_("CIFAR-100 class", "willow_tree"), NC_("CIFAR-100 class", "wolf"),
    NC_("CIFAR-100 class", "woman"), NC_("CIFAR-100 class", "worm"),
)


@dataclass(frozen=True)
class _Download:
    name: str
    description: str
    module: str                      # keras.datasets.<module>
    files: tuple[CacheFile, ...]
    image_shape: tuple[int, int, int]
    class_names: tuple[str, ...]
    n_images: int

    @property
    def download_mb(self) -> float:
        return round(sum(f.mb for f in self.files), 1)


DOWNLOADS: dict[str, _Download] = {
    "mnist": _Download(
        "MNIST", N_("70,000 handwritten digits 0-9 (28x28 grayscale), the classic first data set."),
        "mnist",
        (CacheFile("mnist.npz", _TF_BASE + "mnist.npz",
                   "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
                   web_name="mnist.npz", mb=11.5),),
        (28, 28, 1), tuple(str(i) for i in range(10)), 70000),
    "fashion_mnist": _Download(
        "Fashion-MNIST", N_("70,000 pictures of clothes in 10 kinds (28x28 grayscale): harder than "
                            "digits, same size."), "fashion_mnist",
        tuple(CacheFile(f, _TF_BASE + f, None, subdir="datasets/fashion-mnist", web_name=f, mb=mb)
              for f, mb in zip(_FASHION_FILES, _FASHION_MB)),
        (28, 28, 1), FASHION_CLASSES, 70000),
    "cifar10": _Download(
        "CIFAR-10", N_("60,000 small colour photos (32x32) of 10 things: planes, cars, birds, cats, "
                       "deer, dogs, frogs, horses, ships, trucks."), "cifar10",
        (CacheFile("cifar-10-batches-py-target_archive",
                   "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                   "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
                   web_name="cifar-10-python.tar.gz", alt_names=("cifar-10-batches-py.tar.gz",),
                   mb=170.5),),
        (32, 32, 3), CIFAR10_CLASSES, 60000),
    "cifar100": _Download(
        "CIFAR-100", N_("60,000 small colour photos (32x32) of 100 kinds of things: hard, only 500 "
                        "training images per class."), "cifar100",
        (CacheFile("cifar-100-python-target_archive",
                   "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
                   "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
                   web_name="cifar-100-python.tar.gz",
                   mb=169.0),),
        (32, 32, 3), CIFAR100_CLASSES, 60000),
}

# Replaced in tests so no test ever touches the network.
_urlopen = urllib.request.urlopen
_DOWNLOAD_TIMEOUT = 30


def keras_home() -> Path:
    """The Keras home folder exactly as ``keras.utils.get_file`` will use it (no Keras import)."""
    config = sys.modules.get("keras.src.backend.config")
    if config is not None and hasattr(config, "keras_home"):
        home = config.keras_home()
    elif "KERAS_HOME" in os.environ:
        home = os.environ["KERAS_HOME"]
    else:
        base = os.path.expanduser("~")
        if not os.access(base, os.W_OK):
            base = "/tmp"
        home = os.path.join(base, ".keras")
    home = os.path.expanduser(home)
    # get_file falls back to /tmp/.keras when the home is not writable (Keras creates the home
    # at import, so a missing one will exist by then).
    if os.path.exists(home) and not os.access(home, os.W_OK):
        home = os.path.join("/tmp", ".keras")
    return Path(home)


def keras_cache_path(f: CacheFile) -> Path:
    """Where Keras expects ``f``: ``<keras home>/<subdir>/<name>``."""
    return keras_home() / f.subdir / f.name


def _find_cached(f: CacheFile) -> Path | None:
    """The cached file, also accepting it under its web name (renamed to what Keras expects)."""
    target = keras_cache_path(f)
    if target.is_file():
        return target
    for alt in f.accepted_names[1:]:
        candidate = target.with_name(alt)
        if candidate.is_file():
            return candidate
    return None


_hash_memo: dict[tuple[str, int, int], bool] = {}


def _file_matches_hash(path: Path, sha256: str | None) -> bool:
    if not sha256:
        return True
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _hash_memo:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        _hash_memo[key] = h.hexdigest() == sha256
    return _hash_memo[key]


class _DownloadFailed(Exception):
    pass


def _download(f: CacheFile, dest: Path, progress: ProgressFn | None, lo: float, hi: float,
              label: str) -> None:
    """Stream ``f.url`` to ``dest`` (via ``dest.part``), reporting progress between lo and hi."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    host = urllib.parse.urlsplit(f.url).hostname or f.url
    try:
        with _urlopen(f.url, timeout=_DOWNLOAD_TIMEOUT) as response:
            total = int(response.headers.get("Content-Length") or 0) or int(f.mb * 1e6)
            digest = hashlib.sha256()
            done, last = 0, -1.0
            with open(part, "wb") as out:
                while True:
                    chunk = response.read(1 << 20)
                    if not chunk:
                        break
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    fraction = lo + (hi - lo) * min(done / total, 1.0)
                    if fraction - last >= 0.005:
                        last = fraction
                        report_progress(progress, fraction, f"Downloading {label}: {done / 1e6:.1f} of "
                                                    f"{total / 1e6:.1f} MB")
        if f.sha256 and digest.hexdigest() != f.sha256:
            raise _DownloadFailed(f"the file downloaded from {host} is damaged or incomplete "
                                  "(its checksum does not match)")
        os.replace(part, dest)
    except _DownloadFailed:
        raise
    except urllib.error.HTTPError as e:
        raise _DownloadFailed(f"{host} answered with error {e.code} ({e.reason})") from e
    except urllib.error.URLError as e:
        raise _DownloadFailed(f"could not reach {host} ({e.reason})") from e
    except (OSError, http.client.HTTPException, ValueError) as e:
        raise _DownloadFailed(f"the download from {host} failed ({e})") from e
    finally:
        if part.exists():
            part.unlink()


def _unavailable_message(spec: _Download, missing: list[CacheFile], why: str) -> str:
    folder = keras_cache_path(missing[0]).parent
    names = []
    for f in missing:
        extra = f" (or named {f.name})" if f.web_name and f.web_name != f.name else ""
        names.append(f"{f.web_name or f.name}{extra}, from {f.url}")
    files = "; ".join(names)
    return (
        f"{spec.name} is not on this computer yet, and downloading it failed: {why}.\n"
        f"To use {spec.name}, do one of these:\n"
        f"  1. Connect this computer to the internet once and load {spec.name} again "
        f"(about {spec.download_mb:g} MB; afterwards it works offline).\n"
        f"  2. On another computer, download {'these files' if len(missing) > 1 else 'this file'}: "
        f"{files} - and put {'them' if len(missing) > 1 else 'it'} in the folder {folder}\n"
        f"  3. Pick a built-in data set (MNIST sample, Shapes or Digits), which works offline."
    )


def _download_is_cached(spec: _Download) -> bool:
    return all(_find_cached(f) is not None for f in spec.files)


def _ensure_cached(spec: _Download, progress: ProgressFn | None) -> None:
    """Make every file of ``spec`` present (and intact) where Keras looks, downloading if needed."""
    todo: list[tuple[CacheFile, str]] = []
    for f in spec.files:
        target = keras_cache_path(f)
        found = _find_cached(f)
        if found is not None and found != target:
            os.replace(found, target)  # e.g. cifar-10-python.tar.gz -> the name Keras wants
            found = target
        if found is None:
            todo.append((f, "missing"))
        elif not _file_matches_hash(found, f.sha256):
            todo.append((f, "damaged"))
    if not todo:
        return
    keras_home().mkdir(parents=True, exist_ok=True)
    total_mb = sum(f.mb for f, _ in todo) or 1.0
    start = 0.0
    for f, state in todo:
        share = 0.9 * f.mb / total_mb
        try:
            _download(f, keras_cache_path(f), progress, start, start + share, spec.name)
        except _DownloadFailed as e:
            why = str(e)
            if state == "damaged":
                why += (f"; the file {keras_cache_path(f)} that is there is damaged or not the "
                        "right file (its checksum does not match) - replace it")
            missing = [g for g, _ in todo]
            raise DatasetUnavailableError(_unavailable_message(spec, missing, why)) from None
        start += share


def _load_download(ds_id: str, image_size, color_mode, progress) -> Dataset:
    spec = DOWNLOADS[ds_id]
    report_progress(progress, 0.0, f"Looking for {spec.name} in the Keras cache")
    _ensure_cached(spec, progress)
    report_progress(progress, 0.92, f"Reading {spec.name}")
    import importlib

    import keras  # noqa: F401  (lazy: TensorFlow only when a Keras data set is loaded)

    module = importlib.import_module(f"keras.datasets.{spec.module}")
    try:
        (x_tr, y_tr), (x_te, y_te) = module.load_data()
    except Exception as e:
        folder = keras_cache_path(spec.files[0]).parent
        raise DatasetError(
            "{name} is in the Keras cache ({folder}) but could not be read ({e}). The file may be "
            "damaged: delete it there and load the data set again to download a fresh copy.",
            name=spec.name, folder=folder, e=e
        ) from e

    def to_nhwc(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.uint8)
        if x.ndim == 3:
            return x[..., None]
        if x.ndim == 4 and x.shape[1] in (1, 3) and x.shape[-1] not in (1, 3):
            return x.transpose(0, 2, 3, 1)  # channels_first Keras config
        return x

    folder = keras_cache_path(spec.files[0]).parent
    ds = finish_dataset(ds_id, spec.name, to_nhwc(x_tr), y_tr, to_nhwc(x_te), y_te, spec.class_names,
                 f"keras.datasets.{spec.module} (Keras cache: {folder})", image_size, color_mode)
    report_progress(progress, 1.0, f"{spec.name} ready")
    return ds
