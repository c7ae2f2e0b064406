"""The split sizes said before loading match the split training really makes."""

from __future__ import annotations

import pytest

from cnn_core.split_sizes import held_out_count, split_sizes


@pytest.mark.parametrize("dataset_id", ["mnist_sample", "shapes", "digits"])
def test_split_sizes_match_the_loaded_data_set_and_the_validation_hold_out(dataset_id):
    from cnn_core.datasets import dataset_info, load_dataset
    from cnn_core.preprocessing import PreprocessSpec, train_validation_split

    info, dataset = dataset_info(dataset_id), load_dataset(dataset_id)
    x_train, _, x_val, _ = train_validation_split(dataset.x_train, dataset.y_train,
                                                  PreprocessSpec().validation_fraction, 0)
    sizes = split_sizes(info.n_images, info.n_classes)
    assert (sizes.train, sizes.validation, sizes.test) == (len(x_train), len(x_val), len(dataset.x_test))
    assert sizes.total == info.n_images


def test_a_hold_out_leaves_one_picture_of_each_class():
    assert held_out_count(10, 5, 0.9) == 5
    assert held_out_count(10, 5, 0.0) == 0
    assert split_sizes(100, 4, test_fraction=0.5, validation_fraction=0.0).train == 50
