"""The digit helper (cnn_core/digit_drawing.py): a drawing in MNIST's convention, measured."""

from __future__ import annotations

import numpy as np
import pytest

from cnn_core.digit_drawing import BOX, FRAME, center_of_mass, mnist_like_digit
from cnn_core.errors import ImageInputError


def stroke_on_paper(dark_on_light: bool = True) -> np.ndarray:
    """A 300x300 canvas with an off-centre "7": a bar along the top and a thick diagonal."""
    paper, ink = (255, 0) if dark_on_light else (0, 255)
    canvas = np.full((300, 300), paper, np.uint8)
    canvas[30:50, 170:280] = ink                         # the top bar, far right
    for row in range(50, 200):                           # the stem going down-left
        col = 270 - (row - 50) // 2
        canvas[row, col - 10:col + 10] = ink
    return canvas


@pytest.mark.parametrize("dark_on_light", [True, False])
def test_a_drawn_stroke_is_light_on_black_scaled_to_20_and_centred_by_mass(dark_on_light):
    digit = mnist_like_digit(stroke_on_paper(dark_on_light))
    assert digit.shape == (FRAME, FRAME) and digit.dtype == np.uint8
    assert digit[0].max() == 0 and digit[:, 0].max() == 0 and digit.max() > 200   # light on black
    rows = np.flatnonzero(digit.max(axis=1) > 30)
    cols = np.flatnonzero(digit.max(axis=0) > 30)
    assert max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) in (BOX - 1, BOX, BOX + 1)
    row, col = center_of_mass(digit.astype(float))
    middle = (FRAME - 1) / 2
    assert abs(row - middle) <= 0.5 and abs(col - middle) <= 0.5
    # it was far from centred on the canvas: the helper moved it
    _, c0 = center_of_mass(255.0 - stroke_on_paper().astype(float))
    assert abs(c0 - 149.5) > 40


def test_colour_drawings_work_and_an_empty_drawing_is_refused():
    colour = np.repeat(stroke_on_paper()[..., None], 4, axis=-1)
    assert mnist_like_digit(colour).max() > 200
    with pytest.raises(ImageInputError, match="empty"):
        mnist_like_digit(np.full((200, 200, 4), 255, np.uint8))
