"""Predicting new pictures with a finished run (cnn_core/predict.py, the CLI's predict command).

One tiny real run (1 epoch on the built-in ``shapes`` set) is trained for the module.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from cnn_core import predict
from cnn_core.errors import ImageInputError, RunStateError
from cnn_core.model import ModelSpec
from cnn_core.runs import RunStore

TINY = ModelSpec(conv_blocks=1, filters=4, kernel_size=3, pooling="max", dense_layers=0,
                 learning_rate=0.01, batch_size=64, epochs=1, seed=1)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    from cnn_core.training import TrainingRequest, run_training

    store = RunStore(tmp_path_factory.mktemp("predict-workspace"))
    record = run_training(TrainingRequest("shapes", TINY), store)
    assert record.status == "finished", record.message
    return store, record.id


def test_a_test_picture_gets_the_runs_stored_test_prediction(finished):
    from cnn_core.datasets import load_dataset

    store, run_id = finished
    trained = predict.load_trained_model(store, run_id)
    assert trained.image_shape == (32, 32, 3) and len(trained.class_names) == 5
    stored, _ = store.load_predictions(run_id)
    x_test = load_dataset("shapes").x_test
    picks = [0, 7, 123, len(x_test) - 1]
    results = predict.predict_images(trained, [x_test[i] for i in picks], top=5)
    for i, result in zip(picks, results):
        assert np.allclose(result.probabilities, stored[i], atol=1e-4)
        assert result.best[0] == int(stored[i].argmax())
        assert [p for _, _, p in result.ranked] == sorted(result.probabilities, reverse=True)
        assert result.best[1] == trained.class_names[result.best[0]]


def test_the_model_is_loaded_once_and_kept(finished, monkeypatch):
    from cnn_core import explain

    store, run_id = finished
    predict.forget_trained_models()
    calls = []
    real = explain.load_run_model
    monkeypatch.setattr(explain, "load_run_model", lambda *a: calls.append(a) or real(*a))
    first = predict.load_trained_model(store, run_id)
    assert predict.load_trained_model(store, run_id) is first and len(calls) == 1


def test_prepared_uploads_have_exactly_the_models_input(finished):
    store, run_id = finished
    trained = predict.load_trained_model(store, run_id)
    buf = io.BytesIO()
    Image.new("LA", (90, 30), (40, 255)).save(buf, format="PNG")
    for fit in ("crop", "pad"):
        prepared = predict.prepare_images(trained, [buf.getvalue(), np.zeros((50, 20), np.uint8)], fit=fit)
        assert [p.pixels.shape for p in prepared] == [(32, 32, 3)] * 2
        assert all(p.pixels.dtype == np.uint8 for p in prepared)
    with pytest.raises(ImageInputError):
        predict.predict_images(trained, [np.zeros((28, 28, 1), np.uint8)])


def test_the_answer_in_words_and_its_warnings(finished):
    store, run_id = finished
    trained = predict.load_trained_model(store, run_id)
    sure = predict.Prediction(np.array([0.05, 0.92, 0.03]), predict.rank(np.array([0.05, 0.92, 0.03]),
                                                                         ["1", "7", "9"]))
    assert predict.answer_sentence(sure) == "It thinks this is a 7, 92% sure. Next best: 1, 5%."
    assert [predict.article(n) for n in ("8", "11", "18", "7", "80", "apple", "cat", "umbrella")] == \
        ["an", "an", "an", "a", "an", "an", "a", "an"]
    unsure = predict.Prediction(np.full(5, 0.2), predict.rank(np.full(5, 0.2), list(trained.class_names)))
    dark = predict.prepare_image(trained, np.zeros((32, 32, 3), np.uint8))
    look = predict.TrainingLook(brightness=180.0, brightness_spread=10.0, background=230.0)
    said = " ".join(predict.picture_warnings(trained, dark, unsure, look))
    assert "unsure" in said and "much darker" in said and "background is the opposite" in said


def test_a_digit_model_reads_a_drawing_the_mnist_way(finished):
    store, run_id = finished
    trained = predict.load_trained_model(store, run_id)
    digits = predict.TrainedModel("x", trained.model, (28, 28, 1), tuple("0123456789"), "mnist_sample")
    assert digits.digits and not trained.digits
    drawing = np.full((200, 200), 255, np.uint8)
    drawing[20:120, 20:40] = 0
    prepared = predict.prepare_image(digits, drawing, digit=True)
    assert prepared.pixels.shape == (28, 28, 1) and prepared.pixels[0, 0, 0] == 0 and prepared.pixels.max() > 200
    with pytest.raises(ImageInputError, match="empty"):
        predict.prepare_image(digits, np.full((200, 200), 255, np.uint8), digit=True)


def test_runs_without_a_model_say_so(workspace):
    from run_fixtures import make_finished_run

    run_id = make_finished_run(workspace)
    with pytest.raises(RunStateError, match="kept no trained model"):
        predict.load_trained_model(RunStore(workspace), run_id)
    interrupted = make_finished_run(workspace, status="interrupted", predictions=False)
    with pytest.raises(RunStateError, match="interrupted"):
        predict.load_trained_model(RunStore(workspace), interrupted)


def test_cli_predict_prints_ranked_classes_and_json(finished, tmp_path, capsys):
    from cnn_core.cli import main
    from cnn_core.datasets import load_dataset

    store, run_id = finished
    good = tmp_path / "test0.png"
    Image.fromarray(load_dataset("shapes").x_test[0]).save(good)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a picture")
    stored, _ = store.load_predictions(run_id)
    names = store.class_names(run_id)
    assert main(["--workspace", str(store.workspace), "predict", run_id, str(good), "--top", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{good}: It thinks this is a {names[int(stored[0].argmax())]}")
    assert out[1].split()[:2] == ["1.", names[int(stored[0].argmax())]] and out[2].startswith("  2.")
    code = main(["--workspace", str(store.workspace), "predict", run_id, str(good), str(bad),
                 "--json", "--fit", "pad"])
    results = json.loads(capsys.readouterr().out)
    assert code == 2 and len(results) == 2 and len(results[0]["ranked"]) == 3
    assert "not a picture" in results[1]["error"]


def test_cli_predict_says_no_such_file_for_a_missing_file_or_a_folder(finished, tmp_path, capsys):
    from cnn_core.cli import main

    store, run_id = finished
    missing = tmp_path / "nowhere.png"
    code = main(["--workspace", str(store.workspace), "predict", run_id, str(missing), str(tmp_path),
                 "--json"])
    results = json.loads(capsys.readouterr().out)
    assert code == 2
    assert "no file called" in results[0]["error"] and str(missing) in results[0]["error"]
    assert "is a folder" in results[1]["error"]
    assert not any("damaged" in result["error"] for result in results)
