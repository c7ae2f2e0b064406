"""Korean particles fitted to the word a placeholder filled in (cnn_core.korean_particles)."""

from __future__ import annotations

import pytest

from cnn_core.i18n import _, set_language
from cnn_core.korean_particles import final_consonant, fit_particles


@pytest.mark.parametrize("word, final", [
    ("모델", 8), ("표본", 4), ("그림", 16), ("사진", 4), ("나무", 0), ("고양이", 0),
    ("0", 21), ("1", 8), ("2", 0), ("3", 16), ("5", 0), ("6", 1), ("9", 0),
    ("10", 17), ("20", 17), ("100", 1), ("1,000", 4), ("50000", 4), ("2.5", 0), ("92%", 0),
    ("'표본'", 4), ("“모델”", 8), ("**학습**", 17), ("**나무**", 0), ("(v3)", 16),
    ("Shapes", None), ("CNN", None), ("", None), ("'", None),
])
def test_the_ending_of_a_word_read_aloud(word, final):
    assert final_consonant(word) == final


@pytest.mark.parametrize("text, fitted", [
    ("모델을(를) 학습", "모델을 학습"),
    ("나무을(를) 학습", "나무를 학습"),
    ("LeNet-5을(를) 학습", "LeNet-5를 학습"),
    ("'MNIST 표본'은(는) 비었습니다", "'MNIST 표본'은 비었습니다"),
    ("'고양이'은(는) 비었습니다", "'고양이'는 비었습니다"),
    ("'사진'이(가) 큽니다", "'사진'이 큽니다"),
    ("'그래프'이(가) 큽니다", "'그래프'가 큽니다"),
    ("“모델”(으)로 바뀜", "“모델”로 바뀜"),    # after ㄹ: 로
    ("“그림”(으)로 바뀜", "“그림”으로 바뀜"),
    ("“나무”(으)로 바뀜", "“나무”로 바뀜"),
    ("10(으)로", "10으로"), ("3(으)로", "3으로"), ("7(으)로", "7로"),
    ("사진과(와) 그림", "사진과 그림"), ("나무와(과) 그림", "나무와 그림"),
])
def test_each_particle_takes_the_form_its_word_needs(text, fitted):
    assert fit_particles(text) == fitted


def test_after_a_word_whose_reading_is_not_known_both_forms_stay():
    text = "'Shapes'을(를) 골랐고 'CNN'은(는) 끝났습니다"
    assert fit_particles(text) == text


def test_other_brackets_are_left_alone():
    assert fit_particles("걸린 시간(초)와 모델 (2개)") == "걸린 시간(초)와 모델 (2개)"


def test_a_translated_message_fits_the_particle_to_what_fills_its_field():
    set_language("ko")
    try:
        text = _("Trains {network} for {epochs} passes over {train} pictures of the {dataset} set, which comes "
                 "with CNN Lab (no internet needed); {validation} more check it while it trains and {test} test "
                 "it at the end. Takes about a minute on a laptop.",
                 network="LeNet-5", epochs=3, train="3,600", dataset="MNIST 표본", validation="400", test="1,000")
        assert "LeNet-5를 3 에포크" in text and "(를)" not in text
        named = _("'{name}' is too large ({width:,} x {height:,} pixels). Pictures up to {max_pixels} megapixels "
                  "are read; make it smaller first.", name="고양이", width=9000, height=9000, max_pixels=40)
        assert named.startswith("'고양이'가 너무 큽니다")
        unknown = _("'{name}' is too large ({width:,} x {height:,} pixels). Pictures up to {max_pixels} "
                    "megapixels are read; make it smaller first.", name="cat.png", width=9000, height=9000,
                    max_pixels=40)
        assert unknown.startswith("'cat.png'이(가) 너무 큽니다")
    finally:
        set_language(None)
