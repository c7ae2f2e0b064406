"""Messages stored now and read later (run status lines, skipped-file reasons): kept as message
ids and parameters, shown in the reader's language; older plain text shown as it was written."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from cnn_core.errors import DatasetError
from cnn_core.i18n import set_language
from cnn_core.stored_messages import (
    as_message, english_text, error_message, message_text, stored_message, stored_plural, stored_text,
)


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    set_language("en")


def test_a_stored_message_renders_in_the_language_of_whoever_reads_it():
    stored = stored_message("Waiting to resume: continues with epoch {epoch} of {planned} from the save "
                            "after epoch {done}.", epoch=3, planned=5, done=2).to_stored()
    set_language("en")
    assert message_text(stored) == "Waiting to resume: continues with epoch 3 of 5 from the save after epoch 2."
    set_language("ko")
    assert message_text(stored) == "이어서 학습하려고 기다리는 중: 2번째 에포크 뒤의 저장본에서 5 에포크 중 3번째 에포크를 계속합니다."
    assert english_text(stored).startswith("Waiting to resume: continues with epoch 3 of 5")   # logs stay English


def test_plural_forms_joined_sentences_and_a_message_as_parameter():
    message = (stored_plural("Stopped early after {count} of {planned} epochs:",
                             "Stopped early after {count} of {planned} epochs:", 4, planned=10)
               + stored_plural("the {monitored} had not improved for {count} epoch.",
                               "the {monitored} had not improved for {count} epochs.", 1,
                               monitored=stored_message("validation loss")))
    stored = stored_text(message)
    set_language("en")
    assert message_text(stored) == "Stopped early after 4 of 10 epochs: the validation loss had not improved for 1 epoch."
    set_language("ko")
    korean = message_text(stored)
    assert "검증 손실" in korean and "10 에포크 중 4 에포크" in korean and "validation" not in korean


def test_older_plain_text_and_plain_message_ids_show_as_written_or_translated():
    set_language("ko")
    assert message_text("Training was cut off after 2 epoch(s). Odd {braces}") == \
        "Training was cut off after 2 epoch(s). Odd {braces}"                # an old record: as it is
    assert message_text("Stopped before it started.") == "시작하기 전에 중지했습니다."  # an N_ id: translated
    assert message_text("") == "" and message_text(None) == ""
    assert message_text('{"message": broken json') == '{"message": broken json'


def test_numbers_paths_and_numpy_values_survive_storing():
    stored = stored_message("file too large ({size:.0f} MB; the limit is {limit:.0f} MB)",
                            size=np.float32(12.4), limit=10.0).to_stored()
    assert message_text(stored) == "file too large (12 MB; the limit is 10 MB)"
    path = stored_message("Training failed unexpectedly ({error}). The details are in {path}. Try other "
                          "settings, or report the problem with that file.", error="E: x", path=Path("/w/error.log"))
    assert "/w/error.log" in message_text(path.to_stored())
    assert as_message(path.to_stored()) == as_message(path.to_stored())
    assert pickle.loads(pickle.dumps(path)) == path


def test_an_engine_error_is_stored_as_its_message_id_and_parameters():
    error = DatasetError("No data set called {name!r}.", name="nope")
    stored = error_message(error).to_stored()
    assert "{name!r}" in stored                      # the id, not the English sentence
    assert message_text(stored) == str(error)


def test_a_run_status_is_stored_as_ids_and_read_in_each_language(workspace):
    from cnn_core.run_record import resume_hint
    from cnn_core.runs import RunStore

    store = RunStore(workspace)
    run_id = store.create_run({"model": {"epochs": 4}})
    store.set_status(run_id, "interrupted", resume_hint(2))
    record = store.get(run_id)
    assert record.message.startswith('{"message":')
    assert record.shown_message == "It can be resumed: training continues after epoch 2, its last save."
    set_language("ko")
    assert store.get(run_id).shown_message == "이어서 학습할 수 있습니다: 마지막으로 저장한 2번째 에포크 다음부터 계속합니다."


def test_prepare_resume_stores_where_the_run_continues_in_either_language(workspace):
    pytest.importorskip("tensorflow")
    from cnn_core.runs import RunStore
    from cnn_core.training import prepare_resume

    store = RunStore(workspace)
    run_id = store.create_run({"model": {"epochs": 3}})
    store.set_status(run_id, "stopped")
    store.checkpoint_path(run_id).parent.mkdir(parents=True, exist_ok=True)
    store.checkpoint_path(run_id).write_bytes(b"checkpoint")
    store.set_checkpoint_epoch(run_id, 1)
    record = prepare_resume(store, run_id)
    assert record.status == "queued"
    assert record.shown_message == "Waiting to resume: continues with epoch 2 of 3 from the save after epoch 1."
    set_language("ko")
    assert store.get(run_id).shown_message == ("이어서 학습하려고 기다리는 중: 1번째 에포크 뒤의 저장본에서 3 에포크 중 "
                                               "2번째 에포크를 계속합니다.")


def test_skipped_file_reasons_read_in_the_readers_language(tmp_path):
    from PIL import Image

    from cnn_core.datasets import load_dataset

    root = tmp_path / "pets"
    for name in ("cats", "dogs"):
        (root / name).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (8, 8), (40 * i, 90, 20)).save(root / name / f"{i}.png")
    (root / "cats" / "broken.png").write_bytes(b"not a picture")
    (root / "notes.txt").write_text("hello")
    ds = load_dataset(str(root), image_size=(8, 8), test_fraction=0.34)
    reasons = {Path(p).name: r for p, r in ds.skipped}
    assert set(reasons) == {"broken.png", "notes.txt"}
    set_language("en")
    assert message_text(reasons["notes.txt"]) == "not inside a class folder"
    assert message_text(reasons["broken.png"]).startswith("not an image")
    set_language("ko")                       # the same cached data set, read by a Korean session
    assert message_text(reasons["notes.txt"]) == "클래스 폴더 안에 있지 않음"
    assert message_text(reasons["broken.png"]).startswith("이미지가 아님")


def test_what_a_folder_scan_found_reads_in_the_language_the_error_is_shown_in(tmp_path):
    from cnn_core.image_folders import FolderLayoutError, scan_image_folder

    root = tmp_path / "upload"
    (root / "wrap" / "cats").mkdir(parents=True)
    from PIL import Image

    Image.new("RGB", (8, 8)).save(root / "wrap" / "cats" / "0.png")
    with pytest.raises(FolderLayoutError) as raised:
        scan_image_folder(root)
    set_language("en")
    assert str(raised.value.found) == "looked inside 1 wrapping folder (wrap) and found only one class folder with " \
                                      "images ('cats')"
    set_language("ko")
    assert str(raised.value.found) == "감싸는 폴더 1개(wrap) 안을 살펴보고 이미지가 든 클래스 폴더를 하나만 찾음('cats')"
    assert "하나뿐" in str(raised.value)
