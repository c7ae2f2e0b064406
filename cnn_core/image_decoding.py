"""Decoding image files with Pillow into uint8 arrays, safely and in parallel.

:func:`decode_images` turns a list of files into one ``(N, H, W, C)`` array, resized and
converted to RGB or grayscale, skipping (with a plain reason) every file that cannot be used:
not an image, damaged, empty, or too large (:data:`MAX_FILE_BYTES`, :data:`MAX_IMAGE_PIXELS`,
Pillow's decompression-bomb guard). :data:`IMAGE_EXTENSIONS` lists the file name endings
treated as images.
"""

from __future__ import annotations

import os
import stat
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed

import numpy as np

from cnn_core.dataset_types import ProgressFn, report_progress
from cnn_core.errors import DatasetError
from cnn_core.i18n import _
from cnn_core.stored_messages import Message, stored_message
from cnn_core.image_formats import ALLOWED_FORMATS_TEXT, IMAGE_EXTENSIONS, open_user_image  # noqa: F401

#: Files larger than this are skipped, not read.
MAX_FILE_BYTES = 50 * 1024 * 1024
#: Images with more pixels than this are skipped (decompression-bomb guard; PIL warns at ~89M).
MAX_IMAGE_PIXELS = 50_000_000
#: Refuse to build arrays larger than this (plain message instead of running out of memory).
MAX_DATASET_BYTES = 4 * 1024 ** 3
DECODE_THREADS = 8



class _Skip(Exception):
    """A file that cannot be used; the message is the reason shown to the user, kept as a stored
    message (:func:`cnn_core.stored_messages.message_text` shows it in the reader's language)."""

    def __init__(self, reason: Message):
        super().__init__(reason.to_stored())


_SINGLE_CHANNEL_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
_big_image_slots = threading.BoundedSemaphore(2)


def _palette_is_gray(im) -> bool:
    palette = im.getpalette() or []
    return all(palette[i] == palette[i + 1] == palette[i + 2] for i in range(0, len(palette) - 2, 3))


def image_header(path: str) -> tuple[tuple[int, int], bool] | None:
    """((height, width), single_channel) from the file header only, or None if unreadable."""
    try:
        with open_user_image(path) as im:
            w, h = im.size
            try:
                if im.getexif().get(0x0112, 1) in (5, 6, 7, 8):
                    w, h = h, w
            except Exception:
                pass
            if im.mode in ("P", "PA"):
                single = _palette_is_gray(im)
            else:
                single = im.mode in _SINGLE_CHANNEL_MODES
            return (h, w), single
    except Exception:
        return None


def _to_8bit(im):
    """16-bit / 32-bit / float single-channel images -> 8-bit "L", scaled, not clipped.

    Works in the image's own integer type or float32, never float64: a 16-bit picture costs
    its own size plus one byte a pixel, not eight.
    """
    from PIL import Image

    arr = np.array(im)          # one writable copy, worked on in place
    if im.mode == "F":
        arr = np.nan_to_num(arr.astype(np.float32, copy=False), nan=0.0, posinf=0.0, neginf=0.0)
        top = float(arr.max()) if arr.size else 1.0
        if top <= 1.0:
            arr = arr * np.float32(255.0)
        out = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
    elif im.mode.startswith("I;16") or (arr.size and arr.max() > 255):
        wide = arr if arr.dtype == np.uint16 else np.clip(arr, 0, 65535).astype(np.uint16)
        np.right_shift(wide, 8, out=wide)       # 0..65535 -> 0..255 (65535 -> 255), in place
        out = wide.astype(np.uint8)
    else:
        out = np.clip(arr, 0, 255).astype(np.uint8)
    return Image.fromarray(out, "L")


def _convert_mode(im, gray: bool):
    from PIL import Image

    mode = im.mode
    if mode in ("I", "F") or mode.startswith("I;16"):
        im = _to_8bit(im)
    elif mode == "1":
        im = im.convert("L")
    elif mode in ("P", "PA"):
        im = im.convert("RGBA" if (mode == "PA" or "transparency" in im.info) else "RGB")
    if im.mode in ("RGBA", "LA", "La", "RGBa"):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba).convert("RGB")
    target = "L" if gray else "RGB"
    if im.mode != target:
        if gray and im.mode not in ("RGB", "L"):
            im = im.convert("RGB")
        im = im.convert(target)
    return im


def _decode_image(path: str, size_hw: tuple[int, int], gray: bool) -> np.ndarray:
    """One file -> uint8 (H, W) or (H, W, 3). Raises _Skip with a plain reason."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        st = os.stat(path)
    except OSError as e:
        raise _Skip(stored_message("cannot read the file ({error})", error=str(e.strerror or e))) from None
    if not stat.S_ISREG(st.st_mode):
        raise _Skip(stored_message("not a regular file"))
    if st.st_size == 0:
        raise _Skip(stored_message("empty file"))
    if st.st_size > MAX_FILE_BYTES:
        raise _Skip(stored_message("file too large ({size:.0f} MB; the limit is {limit:.0f} MB)",
                                   size=st.st_size / 1e6, limit=MAX_FILE_BYTES / 1e6))
    h, w = size_hw
    try:
        with open_user_image(path) as im:
            iw, ih = im.size
            pixels = iw * ih
            if pixels > MAX_IMAGE_PIXELS:
                raise _Skip(stored_message("image too large ({width}x{height} pixels; the limit is {limit} million "
                                           "pixels)", width=iw, height=ih, limit=MAX_IMAGE_PIXELS // 1_000_000))
            if pixels == 0:
                raise _Skip(stored_message("image has no pixels"))
            if im.format == "JPEG":
                im.draft("L" if gray else "RGB", (w, h))
            big = pixels > 4_000_000
            if big:
                _big_image_slots.acquire()
            try:
                im.load()
                try:
                    orientation = im.getexif().get(0x0112, 1)
                except Exception:
                    orientation = 1
                out = ImageOps.exif_transpose(im) if orientation in range(2, 9) else im
                out = _convert_mode(out, gray)
                if out.size != (w, h):
                    out = out.resize((w, h), Image.Resampling.BILINEAR, reducing_gap=3.0)
                return np.asarray(out, np.uint8)
            finally:
                if big:
                    _big_image_slots.release()
    except _Skip:
        raise
    except UnidentifiedImageError:
        raise _Skip(stored_message("not an image (only {formats} pictures are read)",
                                   formats=ALLOWED_FORMATS_TEXT)) from None
    except Image.DecompressionBombError:
        raise _Skip(stored_message("image too large (refused as a possible decompression bomb)")) from None
    except MemoryError:
        raise _Skip(stored_message("image too large to decode in memory")) from None
    except OSError as e:
        text = str(e)
        if "truncated" in text.lower():
            raise _Skip(stored_message("damaged or incomplete image (the file is cut short)")) from None
        raise _Skip(stored_message("damaged image ({error})", error=text[:120])) from None
    except Exception as e:  # SyntaxError, ValueError, struct.error... from broken headers
        raise _Skip(stored_message("damaged image ({error})", error=type(e).__name__ + ": " + str(e)[:120])) from None


def _decode_into(out: np.ndarray, paths: list[str], start: int, size_hw, gray: bool
                 ) -> list[tuple[int, str]]:
    failures = []
    for k, path in enumerate(paths):
        try:
            arr = _decode_image(path, size_hw, gray)
            out[start + k] = arr[..., None] if gray else arr
        except _Skip as e:
            failures.append((start + k, str(e)))
    return failures


def decode_images(paths: list[str], size_hw: tuple[int, int], gray: bool,
                  progress: ProgressFn | None = None, lo: float = 0.0, hi: float = 1.0
                  ) -> tuple[np.ndarray, np.ndarray, list[tuple[str, str]]]:
    """Decode image files in parallel; JPEGs are decoded at reduced size via ``Image.draft``.

    A pool of :data:`DECODE_THREADS` threads: they overlap disk reads (a cold disk cache made
    single-threaded reading ~7x slower); Pillow's decoding of tiny images mostly holds the GIL.
    A process pool measured ~2x slower than threads on the 2-core machine (worker start-up and
    transfer), so it is not used.

    Returns ``(images (n_ok, H, W, C) uint8, ok_mask (len(paths),) bool, skipped)``.
    """
    h, w = size_hw
    c = 1 if gray else 3
    n = len(paths)
    needed = n * h * w * c
    if needed > MAX_DATASET_BYTES:
        raise DatasetError(
            "{n:,} images of {h}x{w} pixels need {needed:.1f} GB of memory, more than the "
            "{max_dataset_bytes:.0f} GB allowed. Choose a smaller image size or use fewer images.",
            n=n, h=h, w=w, needed=needed / 1024 ** 3, max_dataset_bytes=MAX_DATASET_BYTES / 1024 ** 3)
    out = np.zeros((n, h, w, c), np.uint8)
    ok = np.ones(n, bool)
    done = [0]

    def on_done(count: int) -> None:
        done[0] += count
        report_progress(progress, lo + (hi - lo) * done[0] / max(n, 1),
                _("Reading images: {done:,} of {total:,}", done=done[0], total=n))

    failures: list[tuple[int, str]] = []
    chunk = 128
    if n <= chunk:
        failures = _decode_into(out, paths, 0, size_hw, gray)
        on_done(n)
    else:
        with ThreadPoolExecutor(max_workers=DECODE_THREADS, thread_name_prefix="decode") as pool:
            futures = {pool.submit(_decode_into, out, paths[s:s + chunk], s, size_hw, gray): s
                       for s in range(0, n, chunk)}
            for fut in as_completed(futures):
                failures.extend(fut.result())
                on_done(min(chunk, n - futures[fut]))
    skipped = []
    for i, reason in failures:
        ok[i] = False
        skipped.append((paths[i], reason))
    skipped.sort()
    return (out if ok.all() else out[ok]), ok, skipped
