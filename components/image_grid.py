"""Grids of small images with captions, enlarged pixel-sharp so 28x28 digits are readable."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

from cnn_core.image_stats import for_display


def image_grid(
    images: np.ndarray | Sequence[np.ndarray],
    captions: Sequence[str] | None = None,
    *,
    columns: int = 6,
    min_side: int = 96,
) -> int:
    """Draw ``images`` (uint8, ``(H, W, C)`` each) row by row, ``columns`` per row.

    Small images are enlarged by repeating pixels (no blur). Each image is its own ``st.image``
    so a caption sits under each one. Returns the number of images drawn.
    """
    images = list(images)
    captions = list(captions) if captions is not None else [None] * len(images)
    columns = max(1, int(columns))
    for start in range(0, len(images), columns):
        cells = st.columns(columns, gap="small")
        for cell, image, caption in zip(cells, images[start:start + columns], captions[start:start + columns]):
            with cell:
                st.image(for_display(image, min_side), caption=caption, width="stretch")
    return len(images)


def image_rows(
    rows: Sequence[Sequence[np.ndarray]],
    row_captions: Sequence[Sequence[str]],
    *,
    min_side: int = 96,
) -> int:
    """Draw one row per entry of ``rows`` (e.g. an image and its augmented variants).

    All rows get as many columns as the longest row. Returns the number of images drawn.
    """
    width = max((len(row) for row in rows), default=0)
    drawn = 0
    for row, captions in zip(rows, row_captions):
        cells = st.columns(max(width, 1), gap="small")
        for cell, image, caption in zip(cells, row, captions):
            with cell:
                st.image(for_display(image, min_side), caption=caption, width="stretch")
                drawn += 1
    return drawn
