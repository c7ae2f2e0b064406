"""A font for text that CNN Lab draws into pictures (Pillow), with Hangul in it.

Pillow's built-in font has Latin letters only: Korean words would come out as boxes. The first
font found of :data:`CJK_FONTS` is used (Debian/Ubuntu package ``fonts-nanum``, installed by
``.ci/run``; ``CNN_LAB_FONT`` names another TrueType/OpenType file); without one, Pillow's
built-in font (Latin only) keeps pictures working.

Example:
    >>> font = picture_font(14)
    >>> font.getlength("합성곱") > 0
    True
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

#: Fonts with Hangul and Latin, first found wins (Debian fonts-nanum, fonts-noto-cjk, macOS, Windows).
CJK_FONTS = (
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
    "/usr/share/fonts/truetype/nanum/NanumBarunGothic.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/AppleSDGothicNeo.ttc",
    "C:/Windows/Fonts/malgun.ttf",
)


def cjk_font_path() -> Path | None:
    """The font file used for Hangul, or None when none is installed."""
    for candidate in (os.environ.get("CNN_LAB_FONT"), *CJK_FONTS):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


@functools.lru_cache(maxsize=32)
def picture_font(size: int = 14):
    """A Pillow font of ``size`` pixels that draws Hangul when a CJK font is installed."""
    from PIL import ImageFont

    path = cjk_font_path()
    if path is not None:
        try:
            return ImageFont.truetype(str(path), size)
        except OSError:  # damaged or unreadable font file: fall back below
            pass
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()
