"""AppTest of the augmentation preview: switches, strengths, the preview grid, re-roll, use for training."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from page_helpers import open_page

pytest.importorskip("tensorflow")


def open_augmentation(dataset_id: str = "shapes") -> AppTest:
    return open_page("pages/augmentation.py", dataset_id)


def captions(at: AppTest) -> list[str]:
    return [c for image in at.main.image for c in image.captions]


def urls(at: AppTest) -> list[str]:
    return [u for image in at.main.image for u in image.value]


def test_preview_grid_has_originals_and_variants_sized_by_the_sliders():
    at = open_augmentation()
    shown = captions(at)
    assert len(shown) == 4 * (1 + 5)
    assert sum("(original)" in c for c in shown) == 4
    at.slider(key="aug_n_images").set_value(2)
    at.slider(key="aug_n_variants").set_value(3)
    at.run()
    assert len(captions(at)) == 2 * (1 + 3)
    assert not at.exception


def test_every_setting_has_a_switch_and_an_explanation():
    from cnn_core.augment import AugmentSpec

    at = open_augmentation()
    toggles = {t.key for t in at.main.toggle}
    for name in AugmentSpec().to_dict():
        if name != "seed":
            assert f"aug_{'flip' if name == 'flip' else name}_on" in toggles, name
    for widget in [*at.main.toggle, *at.main.select_slider, *at.main.slider, *at.main.button, *at.main.radio]:
        assert widget.help, widget.label


def test_reroll_draws_new_variants_of_the_same_pictures():
    at = open_augmentation()
    at.toggle(key="aug_rotation_on").set_value(True)
    at.toggle(key="aug_zoom_on").set_value(True)
    at.run()
    before = urls(at)
    at.button(key="aug_reroll").click().run()
    after = urls(at)
    assert len(before) == len(after)
    originals = slice(0, None, 6)
    assert before[originals] == after[originals]  # the same pictures...
    assert before != after  # ...with new random changes


def test_use_for_training_stores_exactly_the_previewed_spec():
    from cnn_core.augment import AugmentSpec

    at = open_augmentation()
    assert "augment_spec" not in at.session_state  # nothing chosen yet: training uses none
    at.toggle(key="aug_rotation_on").set_value(True)
    at.toggle(key="aug_flip_on").set_value(True)
    at.run()
    at.select_slider(key="aug_rotation").set_value(0.1)  # enabled now
    at.button(key="aug_use").click().run()
    assert not at.exception
    stored = AugmentSpec.from_dict(at.session_state["augment_spec"])
    assert stored.rotation == pytest.approx(0.1) and stored.flip == "horizontal"
    assert stored.zoom == 0 and stored.enabled
    assert any("next training run uses these settings" in s.value for s in at.main.success)

    at.slider(key="aug_n_images").set_value(3).run()  # a later rerun keeps saying so
    assert at.main.success
    at.toggle(key="aug_rotation_on").set_value(False).run()  # changed but not used yet
    assert not at.main.success
    assert any("Use for training" in i.value for i in at.main.info)
    assert AugmentSpec.from_dict(at.session_state["augment_spec"]).rotation == pytest.approx(0.1)


def test_draft_survives_a_page_switch():
    at = open_augmentation()
    at.toggle(key="aug_contrast_on").set_value(True).run()
    at.switch_page("pages/data.py").run()
    at.switch_page("pages/augmentation.py").run()
    assert at.toggle(key="aug_contrast_on").value is True


def test_unreadable_data_set_shows_the_error_and_keeps_the_controls():
    at = open_augmentation("user:missing")
    assert at.main.error and not at.main.image
    assert at.toggle(key="aug_rotation_on") and at.button(key="aug_use")
