"""cnn_core.image_stats: sampling, nearest-neighbour upscaling, pixel histograms."""

from __future__ import annotations

import numpy as np
import pytest

from cnn_core.image_stats import (
    channel_names,
    for_display,
    pixel_histogram,
    sample_indices,
    upscale_factor,
    upscale_nearest,
)


def test_sample_indices_filters_by_class_and_is_reproducible():
    labels = np.array([0, 1, 2] * 10)
    picked = sample_indices(labels, 5, class_index=2, seed=3)
    assert len(picked) == 5 and set(labels[picked]) == {2}
    assert np.array_equal(picked, sample_indices(labels, 5, class_index=2, seed=3))
    assert len(set(picked.tolist())) == 5


def test_sample_indices_new_seed_gives_new_sample_and_caps_at_pool_size():
    labels = np.arange(1000) % 4
    assert not np.array_equal(sample_indices(labels, 20, seed=0), sample_indices(labels, 20, seed=1))
    assert len(sample_indices(labels, 10_000)) == 1000
    assert len(sample_indices(labels, 5, class_index=9)) == 0


def test_upscale_nearest_keeps_pixels_sharp():
    image = np.array([[[0], [255]], [[255], [0]]], dtype=np.uint8)  # 2x2x1 checkerboard
    big = upscale_nearest(image, min_side=8)
    assert big.shape == (8, 8, 1)
    assert set(np.unique(big).tolist()) == {0, 255}
    assert big[:4, :4].max() == 0 and big[:4, 4:].min() == 255


def test_upscale_nearest_batch_and_large_images_unchanged():
    batch = np.zeros((3, 28, 28, 1), dtype=np.uint8)
    assert upscale_nearest(batch, 96).shape == (3, 112, 112, 1)
    large = np.zeros((200, 200, 3), dtype=np.uint8)
    assert upscale_nearest(large, 96) is large
    assert upscale_factor(8, 8, 96) == 12


def test_for_display_squeezes_grayscale():
    assert for_display(np.zeros((28, 28, 1), dtype=np.uint8)).shape == (112, 112)
    assert for_display(np.zeros((32, 32, 3), dtype=np.uint8)).shape == (96, 96, 3)


def test_pixel_histogram_counts_every_pixel_per_channel():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(10, 4, 4, 3), dtype=np.uint8)
    hist = pixel_histogram(images, bins=16)
    assert hist.channels == ("red", "green", "blue")
    assert len(hist.counts) == 3 and all(c.shape == (16,) for c in hist.counts)
    assert all(int(c.sum()) == 10 * 4 * 4 for c in hist.counts)
    assert hist.mean[0] == pytest.approx(images[..., 0].mean())
    assert hist.bin_centers.shape == (16,)


def test_pixel_histogram_bins_values_exactly_and_samples_large_sets():
    images = np.full((5000, 2, 2, 1), 255, dtype=np.uint8)
    images[:, 0, 0, 0] = 0
    hist = pixel_histogram(images, bins=4, max_images=100)
    assert hist.n_images == 100 and hist.channels == ("gray",)
    assert hist.counts[0].tolist() == [100, 0, 0, 300]


def test_channel_names():
    assert channel_names(1) == ("gray",)
    assert channel_names(4)[-1] == "channel 4"
