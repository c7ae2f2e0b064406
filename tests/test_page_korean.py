"""Every page in Korean (AppTest): no English sentence left on screen, and the language switch
(sidebar, ``?lang=``) keeps session and address in step."""

from __future__ import annotations

import re

import pytest

from page_helpers import new_app, open_page
from run_fixtures import make_finished_run

PAGES = ("pages/home.py", "pages/data.py", "pages/augmentation.py", "pages/model_builder.py",
         "pages/training.py", "pages/evaluation.py", "pages/mistakes.py", "pages/try_it.py",
         "pages/compare.py")
#: Proto fields that hold words a person reads (not keys, ids, icons or chart data).
TEXT_FIELDS = {"label", "help", "body", "placeholder", "text", "caption", "options", "value", "tooltip"}
#: Four or more English words in a row: a sentence or phrase nobody translated.
ENGLISH_RUN = re.compile(r"[A-Za-z][a-z]+(?:[ ,'’:-]+[A-Za-z][a-z]+){3,}")
#: Text that may stay English in a Korean page: code, file names, run names, product and
#: data set sources, set in code spans or named on purpose.
ALLOWED = re.compile(r"`[^`]*`|CNN Lab|python -m [\w .-]+|test run|Fashion-MNIST|CIFAR-10|https?://\S+")


def _strings(message, out: list[str]) -> None:
    for field, value in message.ListFields():
        items = [value] if isinstance(value, (str, bytes, int, float)) or hasattr(value, "ListFields") else list(value)
        if field.type == field.TYPE_MESSAGE:
            for item in items:
                _strings(item, out)
        elif field.type == field.TYPE_STRING and field.name in TEXT_FIELDS:
            out.extend(items)


def visible_texts(at) -> list[str]:
    """Every string a person reads on the page (main area and sidebar), from the element protos."""
    texts: list[str] = []
    stack = [at._tree]  # noqa: SLF001
    while stack:
        node = stack.pop()
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ListFields"):
            _strings(proto, texts)
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            stack.extend(children.values())
    return texts


def english_sentences(at) -> list[str]:
    found = []
    for text in visible_texts(at):
        if text.lstrip().startswith(("{", "<style>")):  # a chart's JSON spec, a stylesheet
            continue
        found += ENGLISH_RUN.findall(ALLOWED.sub(" ", text))
    return sorted(set(found))


@pytest.mark.parametrize("page", PAGES)
def test_every_page_reads_in_korean_without_runs(page):
    at = open_page(page, lang="ko")
    assert english_sentences(at) == []
    assert any(re.search("[가-힣]", t) for t in visible_texts(at))


@pytest.mark.parametrize("page", ("pages/training.py", "pages/evaluation.py", "pages/mistakes.py",
                                  "pages/try_it.py", "pages/compare.py"))
def test_result_pages_read_in_korean_with_a_finished_run(page, workspace):
    make_finished_run(workspace)
    at = open_page(page, lang="ko")
    assert english_sentences(at) == []


def test_the_link_language_is_used_and_written_back():
    at = open_page(None, lang="ko")
    assert at.session_state["language"] == "ko"
    assert at.query_params["lang"] == "ko"
    assert at.sidebar.radio(key="language_switch").value == "ko"
    assert at.button(key="home_train_first").label == "첫 모델 학습하기"


def test_the_home_page_fits_the_particle_to_the_network_it_names():
    at = open_page(None, lang="ko")
    caption = next(c.value for c in at.caption if "LeNet-5" in c.value)
    assert "LeNet-5를 3 에포크" in caption and "(를)" not in caption, caption


def test_switching_to_english_in_the_sidebar_changes_page_and_address():
    at = open_page(None, lang="ko")
    at.sidebar.radio(key="language_switch").set_value("en").run()
    assert at.session_state["language"] == "en"
    assert "lang" not in at.query_params                   # English is what this browser gets anyway
    assert at.button(key="home_train_first").label == "Train a first model"


def test_switching_to_korean_in_the_sidebar_puts_it_in_the_address():
    at = new_app().run()
    at.sidebar.radio(key="language_switch").set_value("ko").run()
    assert at.session_state["language"] == "ko"
    assert at.query_params["lang"] == "ko"
    assert at.button(key="home_train_first").label == "첫 모델 학습하기"


def test_without_a_link_or_browser_language_the_app_is_english():
    at = new_app().run()
    assert at.session_state["language"] == "en"
    assert "lang" not in at.query_params
    assert at.title[0].value == "CNN Lab" and at.button(key="home_train_first").label == "Train a first model"


def test_the_language_holds_on_page_only_reruns():
    """After the first run AppTest runs only the page script (no app.py): the session's language
    still applies, through set_language_source."""
    at = open_page("pages/mistakes.py", lang="ko")
    at.run()
    assert at.title[0].value == "틀린 예측"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_reads_in_korean_in_presentation_mode(page):
    """Presentation mode adds the guided demo bar and "More settings": all of it in Korean too."""
    at = open_page(None if page == "pages/home.py" else page, lang="ko", query={"present": "1"})
    assert english_sentences(at) == []
    assert at.session_state["presentation_mode"] is True


def korean_demo_bar(url_path):
    """The guided demo bar alone in Korean, as app.py draws it above the page at ``url_path``."""
    import streamlit as st

    from cnn_core.i18n import set_language
    from components.guided_demo import demo_bar
    from components.presentation import PRESENT_KEY

    set_language("ko")
    st.session_state[PRESENT_KEY] = True
    demo_bar(url_path)


@pytest.mark.parametrize("url_path", ("", "data", "model_builder", "training", "evaluation", "mistakes", "try_it"))
def test_the_guided_demo_bar_reads_in_korean(url_path):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(korean_demo_bar, args=(url_path,)).run()
    assert not at.exception, [e.value for e in at.exception]
    texts = [m.value for m in at.markdown] + [at.button(key="guided_demo_next").label]
    assert all(re.search("[가-힣]", t) for t in texts), texts
    assert not ENGLISH_RUN.findall(" ".join(texts))
    assert at.button(key="guided_demo_next").label == ("처음부터 다시" if url_path == "try_it" else "다음 단계")


def test_the_preset_picker_shows_the_presets_korean_names():
    at = open_page("pages/model_builder.py", lang="ko")
    shown = list(at.selectbox(key="spec_preset").options)   # the options as the picker shows them
    assert "MLP (합성곱 없음)" in shown and "MLP (no convolutions)" not in shown
    english = open_page("pages/model_builder.py")
    assert "MLP (no convolutions)" in english.selectbox(key="spec_preset").options


def _sidebar_widget_keys(at) -> list[str]:
    """The sidebar's widget keys, top to bottom."""
    keys: list[str] = []

    def walk(node) -> None:
        if getattr(node, "key", None):
            keys.append(node.key)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.sidebar)
    return keys


def test_the_language_switch_sits_below_the_data_set_picker():
    # Above it, the switch pushed the picker to the bottom edge of a 1280x720 projector screen.
    at = new_app().run()
    keys = _sidebar_widget_keys(at)
    assert "sidebar_dataset" in keys and "language_switch" in keys
    assert keys.index("sidebar_dataset") < keys.index("language_switch")
    assert at.sidebar.radio(key="language_switch").label == "Language"


def test_classroom_words_read_in_korean():
    from cnn_core.i18n import set_language
    from cnn_core.queue_place import QueuePlace
    from cnn_core.time_left import range_text

    set_language("ko")
    try:
        assert range_text((21.0, 38.0)) == "약 20–40초"
        assert range_text((40.0, 150.0)) == "약 40초 – 3분"
        assert QueuePlace(place=3, seconds_to_start=None).text() == "대기 순서 3번째"
    finally:
        set_language("en")
    assert range_text((21.0, 38.0)) == "about 20–40 s"


def test_the_share_link_carries_the_pages_language():
    korean = open_page("pages/model_builder.py", lang="ko")
    assert "lang=ko" in korean.code[-1].value and "preset=" in korean.code[-1].value
    english = open_page("pages/model_builder.py")
    assert "lang=" not in english.code[-1].value and "preset=" in english.code[-1].value


def test_a_stored_run_message_reads_in_the_readers_language(workspace):
    """The worker stores message ids and counts; each reader sees them in their own language.
    A record written by an older version (plain English) still shows as it was written."""
    from cnn_core.run_record import resume_hint
    from cnn_core.runs import RunStore
    from cnn_core.stored_messages import stored_plural

    store = RunStore(workspace)
    run_id = make_finished_run(workspace, status="interrupted", predictions=False)
    store.set_status(run_id, "interrupted", stored_plural("Training was cut off after {count} epoch.",
                                                          "Training was cut off after {count} epochs.", 3)
                     + resume_hint(2))
    korean = open_page("pages/training.py", lang="ko", session={"active_run_id": run_id})
    assert korean.warning[0].value == ("3 에포크 뒤에 학습이 끊겼습니다. 이어서 학습할 수 있습니다: 마지막으로 저장한 "
                                       "2번째 에포크 다음부터 계속합니다.")
    english = open_page("pages/training.py", session={"active_run_id": run_id})
    assert english.warning[0].value == ("Training was cut off after 3 epochs. It can be resumed: training continues "
                                        "after epoch 2, its last save.")
    store.set_status(run_id, "interrupted", "Training was cut off after 3 epoch(s). Old words {kept}.")
    older = open_page("pages/training.py", lang="ko", session={"active_run_id": run_id})
    assert older.warning[0].value == "Training was cut off after 3 epoch(s). Old words {kept}."


def test_the_reasons_files_were_skipped_read_in_korean(workspace):
    from test_page_data import class_zip, upload_zip

    from cnn_core.i18n import set_language

    at = open_page("pages/data.py", lang="ko")
    set_language("ko")   # AppTest shows the page's widgets' values (format_func) again in this thread
    try:
        upload_zip(at, class_zip({"pets/cats/broken.png": b"not a picture", "pets/readme.txt": b"hi"}), "pets")
    finally:
        set_language("en")
    assert not at.exception, [e.value for e in at.exception]
    reasons = {row["file"]: row["reason"] for frame in at.main.dataframe for row in frame.value.to_dict("records")
               if "reason" in row}
    assert reasons["pets/readme.txt"].startswith("이미지 파일이 아님")
    assert reasons["pets/cats/broken.png"].startswith("이미지가 아님")
    assert not any(ENGLISH_RUN.search(ALLOWED.sub(" ", r)) for r in reasons.values()), reasons
