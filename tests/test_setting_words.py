"""A run's settings in the widgets' words: labels, units and values from the declarations."""

from __future__ import annotations

from cnn_core.setting_words import (config_sections, describe_augment, labelled_change, setting_label,
                                    setting_text)


def test_labels_and_values_are_the_sliders_not_the_field_names():
    assert setting_label("model.learning_rate") == "Learning rate"
    assert setting_label("augment.rotation") == "Turn"
    assert setting_label("preprocess.validation_fraction") == "Validation share"
    assert setting_label("dataset.id") == "Data set" and setting_label("preset") == "Preset"
    assert setting_text("augment.rotation", 0.1) == "up to ±36°"
    assert setting_text("model.kernel_size", 5) == "5x5"
    assert setting_text("model.batch_norm", True) == "on"
    assert labelled_change("augment.rotation", 0.0, 0.1) == "Turn: off -> up to ±36°"
    assert setting_label("sweep.id") == "sweep.id"   # not a declared setting: as written


def test_a_runs_config_reads_as_every_setting_by_section_defaults_filled_in():
    from cnn_core.augment import AugmentSpec
    from cnn_core.model import ModelSpec
    from cnn_core.preprocessing import PreprocessSpec

    config = {"dataset": {"id": "shapes", "image_size": [32, 32]}, "preset": "lenet",
              "model": {"dense_layers": 1}, "augment": {"flip": "vertical"}}
    sections = dict(config_sections(config))
    assert list(sections) == ["Data set", "Model", "Augmentation", "Preprocessing"]
    assert ("Picture size", "32x32") in sections["Data set"] and ("Preset", "LeNet-5") in sections["Data set"]
    assert len(sections["Model"]) == len(ModelSpec().to_dict())
    assert ("Dense layers", "1") in sections["Model"]
    assert ("Mirror", "up ↕ down") in sections["Augmentation"] and ("Zoom", "off") in sections["Augmentation"]
    assert len(sections["Augmentation"]) == len(AugmentSpec().to_dict())
    assert ("Validation share", "10%") in sections["Preprocessing"]
    assert len(sections["Preprocessing"]) == len(PreprocessSpec().to_dict())


def test_the_augmentation_a_run_uses_in_one_line():
    assert describe_augment(None) == describe_augment({"seed": 7}) == "no augmentation"
    assert describe_augment({"flip": "horizontal", "zoom": 0.2}) == "mirror left ↔ right, zoom up to ±20%"
