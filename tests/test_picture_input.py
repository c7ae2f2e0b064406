"""Reading any user picture (cnn_core/picture_input.py): every mode, both fits, EXIF, bad input."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cnn_core.errors import ImageInputError
from cnn_core.picture_input import MAX_PIXELS, fit_picture, read_picture


def encoded(image: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def half_dark(mode: str) -> Image.Image:
    """A 40x20 picture (width x height) of mode ``mode``: left half dark, right half bright."""
    rgb = np.zeros((20, 40, 3), np.uint8)
    rgb[:, 20:] = 250
    return Image.fromarray(rgb, "RGB").convert(mode)


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA", "P", "CMYK"])
def test_every_mode_reads_as_rgb_with_the_same_content(mode):
    picture = read_picture(encoded(half_dark(mode), "TIFF" if mode == "CMYK" else "PNG"), name="x")
    assert picture.pixels.shape == (20, 40, 3) and picture.pixels.dtype == np.uint8
    assert picture.pixels[:, :20].max() < 30 and picture.pixels[:, 20:].min() > 200


def test_sixteen_bit_grayscale_is_scaled_not_clipped():
    values = np.zeros((20, 40), np.uint16)
    values[:, 20:] = 40000   # 61% of 65535; clipping to 8 bits would make it white
    image = Image.fromarray(values)
    assert image.mode == "I;16"
    picture = read_picture(encoded(image), name="deep")
    assert picture.pixels[0, 0].tolist() == [0, 0, 0]
    assert abs(int(picture.pixels[0, 30, 0]) - round(40000 / 65535 * 255)) <= 1


def test_transparency_is_flattened_onto_white():
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[2:8, 2:8] = (0, 0, 0, 255)   # an opaque black square on a transparent background
    picture = read_picture(encoded(Image.fromarray(rgba, "RGBA")))
    assert picture.pixels[0, 0].tolist() == [255, 255, 255]
    assert picture.pixels[5, 5].tolist() == [0, 0, 0]


def test_exif_orientation_turns_the_picture_upright():
    rgb = np.zeros((20, 40, 3), np.uint8)
    rgb[:, :20] = 255                  # stored: white left half, 40 wide
    image = Image.fromarray(rgb, "RGB")
    exif = image.getexif()
    exif[0x0112] = 6                   # "rotate 90° clockwise to show"
    picture = read_picture(encoded(image, "JPEG", exif=exif.tobytes(), quality=95), name="phone.jpg")
    assert picture.pixels.shape == (40, 20, 3)       # upright: 20 wide, 40 high
    assert picture.pixels[:15].mean() > 200 and picture.pixels[25:].mean() < 50  # white half on top
    assert any("upright" in note for note in picture.notes)


@pytest.mark.parametrize("channels", [1, 3])
def test_crop_fills_the_frame_and_pad_keeps_everything(channels):
    wide = np.full((20, 60, 3), 255, np.uint8)
    wide[:, :10] = 0                   # a black band at the far left
    cropped = fit_picture(wide, (28, 28, channels), fit="crop")
    padded = fit_picture(wide, (28, 28, channels), fit="pad")
    assert cropped.shape == padded.shape == (28, 28, channels)
    assert cropped.min() > 200                        # the left band was cut away
    assert padded[12:16, :3].mean() < 60               # the band is still there (middle rows)
    assert padded[0].min() > 200 and padded[-1].min() > 200   # gaps filled with the border's white


def test_a_colour_picture_becomes_gray_for_a_grayscale_model():
    red = np.zeros((10, 10, 3), np.uint8)
    red[..., 0] = 255
    gray = fit_picture(red, (10, 10, 1))
    assert gray.shape == (10, 10, 1) and abs(int(gray[5, 5, 0]) - round(0.299 * 255)) <= 1


def test_an_animated_gif_gives_its_first_frame_and_says_so():
    frames = [Image.new("L", (16, 16), value) for value in (0, 255, 128)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    picture = read_picture(buf.getvalue(), name="anim.gif")
    assert picture.pixels.max() == 0
    assert any("first frame" in note and "3 frames" in note for note in picture.notes)


def test_not_an_image_damaged_and_forbidden_formats_are_refused_in_plain_words():
    with pytest.raises(ImageInputError, match="not a picture CNN Lab can read"):
        read_picture(b"hello, I am a text file", name="notes.png")
    damaged = encoded(Image.new("RGB", (64, 64), "red"))[:120]
    with pytest.raises(ImageInputError, match="damaged"):
        read_picture(damaged, name="broken.png")
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"
    with pytest.raises(ImageInputError, match="PNG, JPEG"):
        read_picture(eps, name="sneaky.png")


def test_a_decompression_bomb_is_not_decoded():
    big = Image.new("1", (10_000, 10_000))        # 100 megapixels, a few kilobytes as PNG
    data = encoded(big)
    assert len(data) < 100_000 and 10_000 * 10_000 > MAX_PIXELS
    with pytest.raises(ImageInputError, match="too large|enormous"):
        read_picture(data, name="bomb.png")


def test_a_one_pixel_picture_is_refused():
    with pytest.raises(ImageInputError, match="too small"):
        read_picture(encoded(Image.new("RGB", (1, 1))), name="dot.png")


def test_arrays_and_file_paths_are_read_too(tmp_path):
    path = tmp_path / "square.bmp"
    Image.new("RGB", (8, 8), (10, 20, 30)).save(path)
    assert read_picture(path).pixels[0, 0].tolist() == [10, 20, 30] and read_picture(path).name == "square.bmp"
    assert read_picture(np.full((8, 8), 7, np.uint8)).pixels.shape == (8, 8, 3)
    with pytest.raises(ImageInputError):
        read_picture(np.zeros((4, 4, 4, 4)))


def test_a_missing_file_or_a_folder_is_not_called_damaged(tmp_path):
    with pytest.raises(ImageInputError, match="no file called") as missing:
        read_picture(tmp_path / "nowhere.png")
    with pytest.raises(ImageInputError, match="is a folder, not a picture") as folder:
        read_picture(tmp_path)
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageInputError, match="empty file") as empty:
        read_picture(tmp_path / "empty.png")
    for error in (missing, folder, empty):
        assert "damaged" not in str(error.value)
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(encoded(Image.new("RGB", (64, 64), "red"))[:120])
    with pytest.raises(ImageInputError, match="damaged"):
        read_picture(truncated)
