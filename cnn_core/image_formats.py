"""The picture formats CNN Lab reads, and the one door through which it opens a user's picture.

Everything that names or accepts formats derives from :data:`IMAGE_FORMATS`: the Pillow formats
tried (:data:`ALLOWED_FORMATS`), the file name endings looked for in folders and ZIPs
(:data:`IMAGE_EXTENSIONS`), the types an upload widget accepts (:data:`UPLOAD_TYPES`) and the
words in messages and captions (:func:`formats_text`).

Every path that reads a user's image (data set folders and uploads, run archives, the Try it
page, the CLI) calls :func:`open_user_image` instead of ``PIL.Image.open``. It only lets Pillow
try the allowed formats, so a PostScript, PDF or SVG file renamed ``.png`` is never handed to
Ghostscript or another external program, whatever its name says.

Example:
    >>> import io
    >>> from PIL import Image
    >>> buf = io.BytesIO()
    >>> Image.new("L", (4, 4)).save(buf, format="PNG")
    >>> with open_user_image(buf) as im:
    ...     im.format
    'PNG'
    >>> formats_text()
    'PNG, JPEG, GIF, BMP, WebP or TIFF'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

from cnn_core.i18n import N_


@dataclass(frozen=True)
class ImageFormat:
    pillow: str                    # Pillow's format name, e.g. "JPEG"
    name: str                      # what people call it, e.g. "WebP"
    endings: tuple[str, ...]       # file name endings, the usual one first


#: The formats a user's picture may have. Nothing that Pillow hands to an outside program
#: (EPS -> Ghostscript) and nothing that is really a document (PDF, SVG).
IMAGE_FORMATS: tuple[ImageFormat, ...] = (
    ImageFormat("PNG", "PNG", (".png",)),
    ImageFormat("JPEG", "JPEG", (".jpg", ".jpeg", ".jpe", ".jfif")),
    ImageFormat("GIF", "GIF", (".gif",)),
    ImageFormat("BMP", "BMP", (".bmp",)),
    ImageFormat("WEBP", "WebP", (".webp",)),
    ImageFormat("TIFF", "TIFF", (".tif", ".tiff")),
)

#: Pillow format names a user's picture may have.
ALLOWED_FORMATS = tuple(f.pillow for f in IMAGE_FORMATS)
#: File name endings (lower case, with the dot) of pictures in folders and ZIPs.
IMAGE_EXTENSIONS = frozenset(ending for f in IMAGE_FORMATS for ending in f.endings)
#: File types an upload widget accepts (endings without the dot).
UPLOAD_TYPES = tuple(sorted(ending.lstrip(".") for ending in IMAGE_EXTENSIONS))
#: Pillow format name -> the usual file name ending.
ENDING_OF_FORMAT = {f.pillow: f.endings[0] for f in IMAGE_FORMATS}


#: The words that join the last format to the others (marked here, translated in formats_text).
JOINING_WORDS = {"or": N_("or"), "and": N_("and")}


def formats_text(last_word: str = "or") -> str:
    """The formats in words: ``"PNG, JPEG, GIF, BMP, WebP or TIFF"`` (``last_word`` translated)."""
    from cnn_core.i18n import _

    names = [f.name for f in IMAGE_FORMATS]
    return f"{', '.join(names[:-1])} {_(JOINING_WORDS.get(last_word, last_word))} {names[-1]}"


class _FormatsInWords(str):
    """The English list of formats (``"... or TIFF"``) that says itself in the current language
    whenever it is put into text (``str()``, f-strings, ``str.format``), e.g. as an error's
    parameter rendered later on a Korean page."""

    def __str__(self) -> str:
        return formats_text("or")

    def __format__(self, spec: str) -> str:
        return format(formats_text("or"), spec)


#: The formats in words, for messages ("PNG, JPEG, ... or TIFF", in the language where it is shown).
ALLOWED_FORMATS_TEXT = _FormatsInWords(f"{', '.join(f.name for f in IMAGE_FORMATS[:-1])} or {IMAGE_FORMATS[-1].name}")


def open_user_image(source: str | IO[bytes]):
    """Open ``source`` (a path or a binary file object) with Pillow, allowed formats only.

    Returns the lazily opened ``PIL.Image.Image`` (use it as a context manager). Raises
    ``PIL.UnidentifiedImageError`` for anything else, exactly as ``Image.open`` does for a file
    it cannot read, so callers keep their one "not an image" message; they may add
    :func:`formats_text` to it.
    """
    from PIL import Image

    return Image.open(source, formats=list(ALLOWED_FORMATS))


__all__ = ["ALLOWED_FORMATS", "ALLOWED_FORMATS_TEXT", "ENDING_OF_FORMAT", "IMAGE_EXTENSIONS",
           "IMAGE_FORMATS", "ImageFormat", "UPLOAD_TYPES", "formats_text", "open_user_image"]
