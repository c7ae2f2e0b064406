"""The one door through which CNN Lab opens a picture a user gave it.

Every path that reads a user's image (data set folders and uploads, run archives, the Try it
page, the CLI) calls :func:`open_user_image` instead of ``PIL.Image.open``. It only lets Pillow
try the formats in :data:`ALLOWED_FORMATS`, so a PostScript, PDF or SVG file renamed ``.png``
is never handed to Ghostscript or another external program, whatever its name says.

Example:
    >>> import io
    >>> from PIL import Image
    >>> buf = io.BytesIO()
    >>> Image.new("L", (4, 4)).save(buf, format="PNG")
    >>> with open_user_image(buf) as im:
    ...     im.format
    'PNG'
"""

from __future__ import annotations

from typing import IO

#: Pillow format names a user's picture may have. Nothing that Pillow hands to an outside
#: program (EPS -> Ghostscript) and nothing that is really a document (PDF, SVG).
ALLOWED_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")

#: Plain names of the allowed formats, for messages.
ALLOWED_FORMATS_TEXT = "PNG, JPEG, GIF, BMP, WebP or TIFF"


def open_user_image(source: str | IO[bytes]):
    """Open ``source`` (a path or a binary file object) with Pillow, allowed formats only.

    Returns the lazily opened ``PIL.Image.Image`` (use it as a context manager). Raises
    ``PIL.UnidentifiedImageError`` for anything else, exactly as ``Image.open`` does for a file
    it cannot read, so callers keep their one "not an image" message; they may add
    :data:`ALLOWED_FORMATS_TEXT` to it.
    """
    from PIL import Image

    return Image.open(source, formats=list(ALLOWED_FORMATS))
