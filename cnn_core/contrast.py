"""Colour contrast as WCAG 2.x measures it: will this text or line still read on a projector?

A washed-out projector lifts the dark end and flattens the light end, so colours that look fine
on a laptop blur into the background. WCAG's contrast ratio (1:1 to 21:1) is the usual yardstick:
level AA asks for 4.5:1 for ordinary text and 3:1 for large text and graphics (chart lines, bars,
the edges of a control). Presentation mode checks every colour it uses against these.

Example:
    >>> round(contrast_ratio("#000000", "#ffffff"), 1)
    21.0
    >>> passes_aa("#767676", "#ffffff")          # the lightest grey that still reads as text
    True
    >>> passes_aa("#9aa5b8", "#ffffff", large=True)
    False
"""

from __future__ import annotations

import re

#: WCAG 2.x level AA: ordinary text, and large text (18pt, or 14pt bold) or graphics.
AA_TEXT = 4.5
AA_LARGE = 3.0

_HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
_RGB = re.compile(r"^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*([\d.]+)\s*)?\)$")


def parse_colour(colour: str) -> tuple[float, float, float, float]:
    """``"#3b6fd8"``, ``"#abc"``, ``"#3b6fd8ff"``, ``"rgb(59, 111, 216)"`` or ``"rgba(0,0,0,0.6)"``
    -> ``(r, g, b, alpha)`` with r, g, b in 0..255 and alpha in 0..1.

    Raises:
        ValueError: for anything else (a colour name, a typo), naming the text given.
    """
    text = str(colour).strip()
    found = _HEX.match(text)
    if found:
        digits = found.group(1)
        if len(digits) == 3:
            digits = "".join(d * 2 for d in digits)
        alpha = int(digits[6:8], 16) / 255 if len(digits) == 8 else 1.0
        return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16), alpha
    found = _RGB.match(text)
    if found:
        r, g, b = (float(found.group(i)) for i in (1, 2, 3))
        alpha = float(found.group(4)) if found.group(4) is not None else 1.0
        return r, g, b, alpha
    raise ValueError(f"{colour!r} is not a colour this check reads: write it as #rrggbb, #rgb or rgb(r, g, b).")


def blend(colour: str, background: str) -> str:
    """A see-through ``colour`` as it shows over an opaque ``background`` (``#rrggbb``)."""
    r, g, b, alpha = parse_colour(colour)
    br, bg, bb, _ = parse_colour(background)
    mixed = [alpha * c + (1 - alpha) * d for c, d in ((r, br), (g, bg), (b, bb))]
    return "#" + "".join(f"{round(v):02x}" for v in mixed)


def relative_luminance(colour: str) -> float:
    """WCAG's relative luminance of an opaque colour: 0 for black, 1 for white."""
    r, g, b, _ = parse_colour(colour)

    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG contrast ratio of ``foreground`` on ``background`` (1.0 to 21.0; order does not matter).

    A see-through foreground is first blended over the background.
    """
    if parse_colour(foreground)[3] < 1:
        foreground = blend(foreground, background)
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def passes_aa(foreground: str, background: str, *, large: bool = False) -> bool:
    """Whether the pair reaches WCAG AA: 4.5:1 for text, 3:1 for ``large`` text and graphics."""
    return contrast_ratio(foreground, background) >= (AA_LARGE if large else AA_TEXT)


def readable_text_on(background: str, dark: str = "#000000", light: str = "#ffffff") -> str:
    """Whichever of the ``dark`` and ``light`` text colours has the higher contrast on ``background``
    (e.g. the number written on a heatmap cell)."""
    return max((dark, light), key=lambda text: contrast_ratio(text, background))


__all__ = ["AA_LARGE", "AA_TEXT", "blend", "contrast_ratio", "parse_colour", "passes_aa",
           "readable_text_on", "relative_luminance"]
