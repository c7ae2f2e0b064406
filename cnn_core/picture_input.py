"""Any picture a user gives a trained model, turned into exactly what the model takes in.

:func:`read_picture` opens a picture (a path, bytes, a binary file object such as a Streamlit
upload, or a NumPy array) through :func:`cnn_core.image_formats.open_user_image` (allow-listed
formats only), refuses damaged, huge and tiny ones with a plain message, takes the first frame of an
animation, turns it upright by its EXIF orientation, flattens transparency onto white and returns
RGB uint8 pixels. :func:`fit_picture` then gives it the model's size and colour channels, by
centre-crop (fill the frame, cut the edges) or padding (keep everything, fill the rest with the
picture's own border colour).

Pure NumPy and Pillow: no TensorFlow, no Streamlit.

Example:
    >>> import numpy as np
    >>> picture = read_picture(np.zeros((40, 60, 3), np.uint8))
    >>> fit_picture(picture.pixels, (28, 28, 1), fit="pad").shape
    (28, 28, 1)
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnn_core.errors import ImageInputError
from cnn_core.image_formats import ALLOWED_FORMATS_TEXT, open_user_image

#: How a picture is given the model's shape: "crop" fills the frame and cuts the longer side's
#: edges; "pad" keeps the whole picture and fills the rest with its border colour.
FIT_MODES = ("crop", "pad")
FIT_DESCRIPTIONS = {"crop": "cut to fill the frame (edges may be lost)",
                    "pad": "keep the whole picture, fill the gaps"}
#: The largest picture read, in pixels (a 40-megapixel photo is fine; a "decompression bomb" that
#: claims 100,000 x 100,000 pixels in a few kilobytes is refused before it is decoded).
MAX_PIXELS = 40_000_000
#: The smallest side a picture may have, in pixels.
MIN_SIDE = 4


@dataclass(frozen=True)
class UserPicture:
    """A user's picture as read: RGB uint8 ``(H, W, 3)``, its name and what was done to it."""

    pixels: np.ndarray
    name: str = "picture"
    notes: tuple[str, ...] = field(default=())


def _name_of(source: Any, default: str) -> str:
    if isinstance(source, (str, Path)):
        return Path(source).name
    return str(getattr(source, "name", "") or default)


def _flatten(image):
    """RGB Pillow image: transparency laid onto white, 16-bit and CMYK pictures converted."""
    from PIL import Image

    mode = image.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or values.max(initial=0) > 255 else 255.0
        gray = np.clip(np.rint(values / top * 255.0), 0, 255).astype(np.uint8)
        return Image.fromarray(gray, "L").convert("RGB")
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode in ("LA", "La", "PA", "RGBa"):
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, image).convert("RGB")
    return image.convert("RGB")


def _check_path(path: Path, name: str) -> None:
    """A path that is no picture file at all: say so plainly, before calling it damaged."""
    if not path.exists():
        raise ImageInputError("There is no file called '{path}'. Check the name and the folder.",
                              path=str(path))
    if path.is_dir():
        raise ImageInputError("'{path}' is a folder, not a picture. Give the pictures inside it "
                              "instead (for example '{path}/*.png').", path=str(path))
    if path.stat().st_size == 0:
        raise ImageInputError("'{name}' is an empty file (0 bytes), not a picture.", name=name)


def _read_pixels(source: Any, name: str) -> tuple[np.ndarray, tuple[str, ...]]:
    from PIL import Image, ImageOps, UnidentifiedImageError

    if isinstance(source, (str, Path)):
        _check_path(Path(source), name)
    if isinstance(source, (bytes, bytearray, memoryview)):
        source = io.BytesIO(bytes(source))
    elif hasattr(source, "getvalue") and not hasattr(source, "seek"):
        source = io.BytesIO(source.getvalue())
    if hasattr(source, "seek"):
        source.seek(0)
    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with open_user_image(source) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise ImageInputError(
                        "'{name}' is too large ({width:,} x {height:,} pixels). Pictures up to {max_pixels} "
                        "megapixels are read; make it smaller first.",
                        name=name, width=width, height=height, max_pixels=MAX_PIXELS // 1000000)
                if getattr(image, "n_frames", 1) > 1:
                    image.seek(0)
                    notes.append(f"'{name}' is an animation ({image.n_frames} frames); only its "
                                 "first frame was used.")
                image.load()
                if image.getexif().get(0x0112, 1) not in (1, None):  # EXIF Orientation
                    notes.append(f"'{name}' was turned upright as its camera noted.")
                upright = ImageOps.exif_transpose(image)
                pixels = np.asarray(_flatten(upright), dtype=np.uint8)
    except ImageInputError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageInputError("'{name}' claims to be an enormous picture, far larger than any photo (it may be a "
                              "booby-trapped file). It was not opened.",
                              name=name) from None
    except UnidentifiedImageError:
        raise ImageInputError("'{name}' is not a picture CNN Lab can read. Use a {allowed_formats_text} file.",
                              name=name, allowed_formats_text=ALLOWED_FORMATS_TEXT) from None
    except FileNotFoundError:
        raise ImageInputError("There is no file called '{path}'. Check the name and the folder.",
                              path=str(source)) from None
    except (IsADirectoryError, PermissionError) as error:
        raise ImageInputError("'{name}' cannot be opened ({reason}).", name=name,
                              reason=error.strerror or error) from None
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise ImageInputError("'{name}' looks like a picture but is damaged and cannot be read ({error}). Save it "
                              "again "
                              "or pick another one.",
                              name=name, error=error) from None
    return pixels, tuple(notes)


def _array_pixels(array: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(array)
    if x.ndim == 3 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim == 2:
        x = np.stack([x] * 3, axis=-1)
    if x.ndim != 3 or x.shape[-1] not in (3, 4):
        raise ImageInputError("'{name}' is not a picture: an array of shape {shape} (expected height x width, with "
                              "1, 3 "
                              "or 4 colour channels).",
                              name=name, shape=x.shape)
    if x.dtype != np.uint8:
        x = np.clip(np.rint(np.nan_to_num(x.astype(np.float64))), 0, 255).astype(np.uint8)
    if x.shape[-1] == 4:  # RGBA: lay onto white
        alpha = x[..., 3:].astype(np.float32) / 255.0
        x = np.rint(x[..., :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    return np.ascontiguousarray(x)


def read_picture(source: Any, name: str | None = None) -> UserPicture:
    """Read one user picture as RGB uint8 ``(H, W, 3)``.

    Args:
        source: a file path, the file's bytes, a binary file object (a Streamlit upload), or a
            NumPy array ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)``.
        name: what to call it in messages (default: the file's name).

    Raises:
        ImageInputError: not a picture, a format outside the allow-list, damaged, bigger than
            :data:`MAX_PIXELS` or smaller than :data:`MIN_SIDE` pixels on a side.
    """
    name = name or _name_of(source, "picture")
    if isinstance(source, np.ndarray):
        pixels, notes = _array_pixels(source, name), ()
    else:
        pixels, notes = _read_pixels(source, name)
    height, width = pixels.shape[:2]
    if min(height, width) < MIN_SIDE:
        raise ImageInputError("'{name}' is only {width} x {height} pixels: too small to show anything. Use a picture "
                              "at "
                              "least {min_side} pixels on each side.",
                              name=name, width=width, height=height, min_side=MIN_SIDE)
    return UserPicture(pixels, name, notes)


def _border_color(pixels: np.ndarray) -> tuple[int, ...]:
    edges = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    return tuple(int(v) for v in np.median(edges, axis=0))


def fit_picture(pixels: np.ndarray, shape: tuple[int, int, int], fit: str = "crop") -> np.ndarray:
    """RGB uint8 pixels -> uint8 ``shape`` = ``(height, width, channels)`` as the model takes in.

    ``fit="crop"`` scales the picture to cover the frame and cuts the middle out; ``fit="pad"``
    scales it to fit inside and fills the rest with the median colour of the picture's border.
    One channel means grayscale (Pillow's "L": 0.299 R + 0.587 G + 0.114 B).
    """
    from PIL import Image, ImageOps

    if fit not in FIT_MODES:
        raise ImageInputError("Unknown way to fit a picture: '{fit}'. Choose crop or pad.",
                              fit=fit)
    height, width, channels = (int(v) for v in shape)
    if channels not in (1, 3):
        raise ImageInputError("This model takes pictures with {channels} colour channels; CNN Lab can only give it 1 "
                              "(grayscale) or 3 (colour).",
                              channels=channels)
    image = Image.fromarray(np.ascontiguousarray(pixels[..., :3]), "RGB")
    if channels == 1:
        image = image.convert("L")
    if fit == "crop":
        image = ImageOps.fit(image, (width, height), method=Image.Resampling.LANCZOS)
    else:
        colour = _border_color(np.asarray(image).reshape(image.size[1], image.size[0], -1))
        image = ImageOps.pad(image, (width, height), method=Image.Resampling.LANCZOS,
                             color=colour[0] if channels == 1 else colour)
    out = np.asarray(image, dtype=np.uint8)
    return out[..., None] if out.ndim == 2 else out


__all__ = ["FIT_DESCRIPTIONS", "FIT_MODES", "MAX_PIXELS", "MIN_SIDE", "UserPicture", "fit_picture",
           "read_picture"]
