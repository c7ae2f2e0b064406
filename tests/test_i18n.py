"""Korean and English: the catalog is complete and in step with the code, the language is
chosen as asked, errors and plurals render in the chosen language, pictures draw Hangul."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from cnn_core import i18n
from cnn_core.i18n import _, ngettext, normalise_language, set_language
from cnn_core.i18n_catalog import check_catalog, extract_messages, main


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    set_language("en")


@pytest.fixture(scope="module")
def extracted():
    return extract_messages()


def test_every_marked_string_has_a_korean_translation_and_no_entry_is_unused(extracted):
    problems = check_catalog("ko", extracted)
    assert problems == [], "\n".join(problems[:40]) + "\n(run: python -m cnn_core.i18n_catalog, then translate)"


def test_the_check_command_passes_on_this_tree(extracted, capsys):
    assert main(["--check"]) == 0
    assert "0 problems" in capsys.readouterr().out


def test_the_check_names_a_missing_translation_and_an_unused_entry(extracted):
    changed = type(extracted)(messages=dict(extracted.messages), warnings=[])
    changed.messages["A sentence nobody translated yet."] = [("pages/new_page.py", 7)]
    dropped = next(key for key in changed.messages if key == "Mistakes")
    del changed.messages[dropped]
    problems = check_catalog("ko", changed)
    assert any("missing translation (pages/new_page.py:7)" in p and "nobody translated" in p for p in problems)
    assert any(p.startswith("unused entry") and "'Mistakes'" in p for p in problems)


def test_extraction_finds_gettext_plural_marker_and_error_messages(extracted):
    ids = extracted.messages
    assert "Train a first model" in ids                       # _() in a page
    assert ("waiting in line, {count} run before this one",
            "waiting in line, {count} runs before this one") in ids   # ngettext
    assert "Layers" in ids                                      # N_() in a setting declaration
    assert "Pick at least one run to combine." in ids           # an engine error's message id


@pytest.mark.parametrize("code, expected", [
    ("ko", "ko"), ("ko-KR", "ko"), ("ko_KR.UTF-8", "ko"), ("KO", "ko"), ("en-US", "en"),
    ("fr-FR", None), ("", None), (None, None), ("C.UTF-8", None),
])
def test_language_codes_are_normalised(code, expected):
    assert normalise_language(code) == expected


def test_unknown_language_falls_back_to_english():
    assert set_language("de") == "en"
    assert _("Training") == "Training"


def test_korean_words_use_the_classroom_terms():
    set_language("ko")
    assert _("Learning rate") == "학습률"
    assert _("Confusion matrix") == "혼동 행렬"
    assert "과대적합" in _("The model is starting to overfit.")
    assert _("Pooling") == "풀링"


def test_parameters_and_plurals_in_both_languages():
    set_language("en")
    waiting = ("waiting in line, {count} run before this one", "waiting in line, {count} runs before this one")
    assert ngettext(*waiting, 1) == "waiting in line, 1 run before this one"
    assert ngettext(*waiting, 3) == "waiting in line, 3 runs before this one"
    assert _("Epoch {epoch} of {planned}", epoch=2, planned=5) == "Epoch 2 of 5"
    set_language("ko")
    assert ngettext(*waiting, 1) == "대기 중, 앞에 실행 1개"
    assert ngettext(*waiting, 3) == "대기 중, 앞에 실행 3개"
    assert _("Epoch {epoch} of {planned}", epoch=2, planned=5) == "에포크 2 / 5"


def test_a_translation_with_a_broken_field_does_not_break_the_page(monkeypatch):
    monkeypatch.setitem(i18n._catalog("ko"), "Epoch {epoch} of {planned}", "에포크 {epok}")
    set_language("ko")
    assert _("Epoch {epoch} of {planned}", epoch=2, planned=5) == "에포크 {epok}"


def test_engine_errors_render_in_the_current_language_and_keep_their_parameters():
    from cnn_core.errors import RunStateError, SpecError
    from cnn_core.model import ModelSpec

    with pytest.raises(SpecError) as caught:
        ModelSpec(kernel_size=4).validate()
    error = caught.value
    assert error.setting == "kernel_size"
    set_language("en")
    english = str(error)
    assert "odd number" in english and "4" in english
    set_language("ko")
    korean = str(error)
    assert "홀수" in korean and "4" in korean and "odd" not in korean
    assert error.english == english                      # logs and stored records stay English
    copy = pickle.loads(pickle.dumps(error))             # e.g. across a process pool
    assert str(copy) == korean and copy.setting == "kernel_size"
    assert str(RunStateError("This run is already queued or training.")) == "이 실행은 이미 대기 중이거나 학습 중입니다."


def test_a_spec_error_with_a_plain_message_still_works():
    from cnn_core.errors import SpecError

    error = SpecError("filters", "Use fewer filters.")
    set_language("ko")
    assert str(error) == "Use fewer filters." and error.setting == "filters"


def test_curve_reading_reads_in_korean():
    from cnn_core.curve_reading import read_curves

    rows = [{"epoch": i + 1, "loss": 2.0 / (i + 1), "accuracy": 0.3 + 0.1 * i,
             "val_loss": 2.1 / (i + 1), "val_accuracy": 0.28 + 0.1 * i} for i in range(4)]
    set_language("ko")
    reading = read_curves(rows, status="running", epochs_planned=10)
    assert reading.headline.startswith("아직 좋아지는 중") and "검증 손실" in reading.headline


def test_builtin_class_names_show_in_korean_and_user_classes_as_they_are():
    from cnn_core.i18n_class_names import class_label

    set_language("ko")
    assert [class_label(n) for n in ("cat", "triangle", "Ankle boot", "7", "my_dog")] == \
        ["고양이", "삼각형", "앵클부츠", "7", "my_dog"]
    set_language("en")
    assert class_label("cat") == "cat"


def test_cifar100_class_names_show_in_korean_apart_from_the_same_english_words(extracted):
    import re

    from cnn_core.dataset_downloads import CIFAR100_CLASSES, CIFAR100_CONTEXT
    from cnn_core.i18n import CONTEXT_SEPARATOR, pgettext
    from cnn_core.i18n_class_names import class_label

    assert all(f"{CIFAR100_CONTEXT}{CONTEXT_SEPARATOR}{name}" in extracted.messages for name in CIFAR100_CLASSES)
    set_language("ko")
    assert [class_label(n) for n in ("apple", "train", "maple_tree", "my_dog")] == ["사과", "기차", "단풍나무", "my_dog"]
    assert all(re.search("[가-힣]", class_label(name)) for name in CIFAR100_CLASSES)
    assert _("train") == "학습"                      # the training split keeps its own word
    assert pgettext("no such context", "train") == "train"
    set_language("en")
    assert class_label("train") == "train" and class_label("aquarium_fish") == "aquarium_fish"


def _glyph(font, text: str) -> np.ndarray:
    from PIL import Image, ImageDraw

    image = Image.new("L", (64, 64), 0)
    ImageDraw.Draw(image).text((4, 4), text, fill=255, font=font)
    return np.asarray(image)


def test_pictures_draw_hangul_glyphs_not_boxes():
    from cnn_core.i18n_font import cjk_font_path, picture_font

    assert cjk_font_path() is not None, "install a CJK font, e.g. Debian's fonts-nanum (.ci/run does)"
    font = picture_font(28)
    glyphs = [_glyph(font, ch) for ch in "합성곱"]
    assert all(g.sum() > 0 for g in glyphs)                       # something is drawn
    assert not np.array_equal(glyphs[0], glyphs[1])               # distinct shapes, not one box
    assert not np.array_equal(glyphs[1], glyphs[2])


def test_the_exported_confusion_picture_is_labelled_in_korean():
    from PIL import Image
    import io

    from cnn_core.confusion_picture import render_confusion_png

    counts = np.array([[5, 1], [2, 4]])
    set_language("en")
    english = Image.open(io.BytesIO(render_confusion_png(counts, ["cat", "dog"])))
    set_language("ko")
    korean = Image.open(io.BytesIO(render_confusion_png(counts, ["cat", "dog"])))
    assert english.size != korean.size or not np.array_equal(np.asarray(english), np.asarray(korean))


def test_the_command_line_speaks_the_language_of_cnn_lab_lang(monkeypatch, capsys, tmp_path):
    from cnn_core.cli.entry import main as cli_main

    i18n._language.set("")                  # no language chosen in this thread: the environment decides
    monkeypatch.setenv("CNN_LAB_LANG", "ko")
    assert cli_main(["runs", "--workspace", str(tmp_path)]) == 0
    assert "아직 실행이 없습니다" in capsys.readouterr().out
    assert cli_main(["stop", "nope", "--workspace", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("오류: ")


def test_preset_and_data_set_display_names_show_in_korean():
    from cnn_core.dataset_names import dataset_name
    from cnn_core.model.presets import preset_name

    assert (preset_name("mlp"), preset_name(None), dataset_name("shapes")) == (
        "MLP (no convolutions)", "custom settings", "Shapes")
    set_language("ko")
    assert (preset_name("mlp"), preset_name(None), dataset_name("shapes")) == ("MLP (합성곱 없음)", "직접 설정", "도형")
    assert dataset_name("user:my cats") == "my cats"     # a user's own name stays as typed


def test_the_list_of_picture_formats_is_joined_in_the_readers_language():
    from cnn_core.errors import DatasetError
    from cnn_core.image_formats import ALLOWED_FORMATS_TEXT, formats_text

    error = DatasetError("Use a {formats} file.", formats=ALLOWED_FORMATS_TEXT)   # raised once, read twice
    assert str(error).endswith("WebP or TIFF file.") and "WebP" in ALLOWED_FORMATS_TEXT
    set_language("ko")
    assert "WebP 또는 TIFF" in str(error) and formats_text("and").endswith("WebP 및 TIFF")
    assert f"{ALLOWED_FORMATS_TEXT}".endswith("또는 TIFF")


def test_what_differs_between_an_mlp_and_a_cnn_reads_in_korean():
    from cnn_core.comparison import network_differences
    from cnn_core.model import PRESETS

    set_language("ko")
    text = network_differences(PRESETS["mlp"].to_dict(), PRESETS["lenet"].to_dict())
    assert text.startswith("CNN에는 합성곱 블록이 2개 있고") and "첫 완전 연결층의 유닛 수: 256(MLP) 대 120(CNN)" in text
    assert "differ" not in text and "Units" not in text


def test_errors_made_plural_by_their_count_read_in_korean():
    from cnn_core.errors import SpecError
    from cnn_core.model import ModelSpec
    from cnn_core.model.plan import plan_summary

    set_language("ko")
    with pytest.raises(SpecError) as caught:
        plan_summary(ModelSpec(conv_blocks=6, pooling="max"), (28, 28, 1), 10)
    text = str(caught.value)
    assert "풀링" in text and "합성곱 블록을 최대" in text and "Use at most" not in text


def test_the_parallel_chart_names_its_axes_in_korean():
    pytest.importorskip("plotly")
    from components.compare_charts import parallel_figure

    configs = [{"dataset": {"id": "shapes"}, "model": {"learning_rate": 0.01}},
               {"dataset": {"id": "digits"}, "model": {"learning_rate": 0.001}}]
    set_language("ko")
    fig = parallel_figure(configs, ["dataset.id", "model.learning_rate"], [0.5, 0.7])
    labels = [d.label for d in fig.data[0].dimensions]
    assert labels[0] == "데이터셋" and labels[1].startswith("학습률")
    assert "도형" in fig.data[0].dimensions[0].ticktext


def test_the_device_line_reads_in_korean(monkeypatch):
    from cnn_core import device

    monkeypatch.setattr(device, "_gpu_names_from_driver", lambda: ())
    monkeypatch.setattr(device, "_gpu_names_from_tensorflow", lambda: ())
    monkeypatch.setattr(device.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    assert device.describe_device() == "CPU (2 cores)"
    set_language("ko")
    assert device.describe_device() == "CPU (코어 2개)"
