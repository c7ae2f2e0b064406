"""Model setting messages read as whole pixels and filters, and say why a size does not halve."""

from __future__ import annotations

import re

import pytest

from cnn_core.errors import SpecError
from cnn_core.model import PRESETS, ModelSpec, check_spec


def test_too_many_filters_lists_whole_filter_counts_not_a_long_decimal():
    lenet = PRESETS["lenet"]                                  # filter growth 16/6
    with pytest.raises(SpecError) as error:
        lenet.replace(conv_blocks=8).validate()
    message = str(error.value)
    assert error.value.setting == "filter_growth"
    assert not re.search(r"\d\.\d{3,}", message), message     # no "2.66667"
    assert "about 2.7 times" in message
    assert "6 -> 16 -> 43" in message and "5,754 filters" in message


def test_an_image_that_shrinks_to_nothing_says_that_odd_sizes_lose_a_row():
    spec = ModelSpec(conv_blocks=5, filters=8, filter_growth=1.0, pooling="max")
    with pytest.raises(SpecError) as error:
        check_spec(spec, (28, 28, 1), 10)
    message = str(error.value)
    assert "28x28 -> 14x14 -> 7x7 -> 3x3 -> 1x1" in message
    assert "cannot be halved evenly" in message and "7x7 -> 3x3" in message
    assert "Use at most 4 conv blocks" in message


def test_sizes_that_halve_evenly_need_no_odd_size_note():
    spec = ModelSpec(conv_blocks=6, filters=8, filter_growth=1.0, pooling="max")
    with pytest.raises(SpecError) as error:
        check_spec(spec, (32, 32, 1), 10)
    assert "cannot be halved evenly" not in str(error.value)
    assert "Use at most 5 conv blocks" in str(error.value)
