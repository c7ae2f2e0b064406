"""The command line in Korean and English: ``--lang``, ``CNN_LAB_LANG``, ``LANG``; ``--help`` and
the lines printed for people follow it."""

from __future__ import annotations

import pytest

from cnn_core import cli, i18n
from cnn_core.cli.cli_language import requested_language
from cnn_core.i18n import set_language
from cnn_core.runs import RunStore


@pytest.fixture(autouse=True)
def no_language_chosen(monkeypatch):
    """Each test starts with no language chosen in this thread and no language in the environment."""
    for variable in ("CNN_LAB_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    i18n._language.set("")
    yield
    set_language("en")


def help_text(argv, capsys) -> str:
    with pytest.raises(SystemExit) as done:
        cli.main(argv)
    assert done.value.code == 0
    return capsys.readouterr().out


def test_the_language_is_lang_flag_then_cnn_lab_lang_then_the_locale(monkeypatch):
    assert requested_language(["runs"]) == "en"
    monkeypatch.setenv("LANG", "ko_KR.UTF-8")
    assert requested_language(["runs"]) == "ko"
    monkeypatch.setenv("CNN_LAB_LANG", "en")
    assert requested_language(["runs"]) == "en"                      # CNN_LAB_LANG beats LANG
    assert requested_language(["--lang", "ko", "runs"]) == "ko"      # the flag beats both
    assert requested_language(["runs", "--lang=ko"]) == "ko"          # also after the command
    assert requested_language(["runs", "--", "--lang", "ko"]) == "en"


def test_help_in_korean_shows_korean(capsys):
    text = help_text(["--lang", "ko", "--help"], capsys)
    assert "사용법:" in text and "터미널에서 쓰는 CNN Lab." in text
    assert "옵션:" in text and "이 도움말을 보여 주고 끝내기" in text
    assert "작업 폴더" in text and "실행 목록" in text                # --workspace and the runs command
    assert "usage:" not in text and "show this help" not in text


def test_a_commands_help_follows_cnn_lab_lang(monkeypatch, capsys):
    monkeypatch.setenv("CNN_LAB_LANG", "ko")
    text = help_text(["train", "--help"], capsys)
    assert "데이터셋 id 또는 폴더 경로" in text and "에포크 수" in text and "실행 이름" in text
    assert "number of epochs" not in text
    english = help_text(["train", "--help", "--lang", "en"], capsys)
    assert "usage:" in english and "number of epochs" in english and "에포크" not in english


def test_printed_result_lines_are_in_korean(workspace, capsys):
    store = RunStore()
    run_id = store.create_run({"model": {"epochs": 3}}, name="first")
    assert cli.main(["--lang", "ko", "rename", run_id, "고양이 분류"]) == 0
    assert capsys.readouterr().out.strip() == f"실행 {run_id}의 이름을 '고양이 분류'로 바꿨습니다."
    assert cli.main(["runs", "--lang", "ko"]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split()[:3] == ["id", "이름", "상태"] and "고양이 분류" in table


def test_a_finished_runs_report_line_is_in_korean(workspace, capsys):
    from cnn_core.cli.run_commands import _report_run
    from cnn_core.stored_messages import stored_plural

    store = RunStore()
    run_id = store.create_run({"model": {"epochs": 2}})
    store.set_result(run_id, test_accuracy=0.875, test_loss=0.4, train_seconds=12.0)
    store.set_status(run_id, "finished", stored_plural("Trained {count} epoch.", "Trained {count} epochs.", 2))
    set_language("ko")
    assert _report_run(store.get(run_id)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["완료: 2 에포크를 학습했습니다. 테스트 정확도 0.8750, 테스트 손실 0.4000, 학습 시간 12.0s",
                     f"실행 id: {run_id}"]


def test_the_language_chosen_by_a_command_does_not_stay_behind(workspace, capsys):
    set_language("en")
    assert cli.main(["--lang", "ko", "runs"]) == 0
    assert "아직 실행이 없습니다" in capsys.readouterr().out
    assert i18n.current_language() == "en"
