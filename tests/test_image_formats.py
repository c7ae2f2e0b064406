"""Every list and caption of accepted picture formats comes from cnn_core/image_formats.py."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from cnn_core import image_formats
from cnn_core.image_formats import (ALLOWED_FORMATS, IMAGE_EXTENSIONS, IMAGE_FORMATS, UPLOAD_TYPES,
                                    formats_text, open_user_image)


def test_the_extensions_upload_types_and_words_name_the_same_formats():
    assert ALLOWED_FORMATS == tuple(f.pillow for f in IMAGE_FORMATS)
    assert {"." + t for t in UPLOAD_TYPES} == IMAGE_EXTENSIONS
    for fmt in IMAGE_FORMATS:
        assert fmt.name in formats_text() and fmt.name in image_formats.ALLOWED_FORMATS_TEXT
    # Nothing that the door refuses is listed as a picture ending (no .ico, .tga, .ppm...).
    assert not {".ico", ".tga", ".ppm", ".pgm", ".eps", ".pdf", ".svg"} & IMAGE_EXTENSIONS


@pytest.mark.parametrize("fmt", IMAGE_FORMATS, ids=lambda f: f.pillow)
def test_every_listed_format_opens_through_the_door(fmt):
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buf, format=fmt.pillow)
    buf.seek(0)
    with open_user_image(buf) as image:
        assert image.format == fmt.pillow


def test_the_other_modules_use_the_one_list():
    from cnn_core import image_decoding, uploads
    from components import dataset_upload, try_inputs

    assert image_decoding.IMAGE_EXTENSIONS is IMAGE_EXTENSIONS
    assert uploads.IMAGE_EXTENSIONS is IMAGE_EXTENSIONS
    assert try_inputs.UPLOAD_TYPES is UPLOAD_TYPES and dataset_upload.UPLOAD_TYPES is UPLOAD_TYPES


def test_the_data_page_caption_and_upload_types_follow_the_list(workspace):
    from page_helpers import open_page

    at = open_page("pages/data.py", "shapes")
    assert any(formats_text("and") in c.value for c in at.main.caption)
    uploaders = [u for u in at.main.get("file_uploader") if u.proto.label == "Pictures"]
    assert uploaders and sorted(uploaders[0].proto.type) == sorted("." + t for t in UPLOAD_TYPES)
