"""AppTest of the mistakes page, on a run written straight into the run store (no training)."""

from __future__ import annotations


import numpy as np

from page_helpers import open_page
from run_fixtures import (
    MISTAKE_CONFIDENCES, figure, image_captions, image_count, known_probabilities, make_finished_run,
    shapes_test_set,
)

PAGE = "pages/mistakes.py"
#: Every 16th test picture is a mistake: about 60 on the 1,000 Shapes test pictures, so they all fit
#: on the largest grid page (96) and fewer than one page of 24 are 95% sure.
EVERY = 16


def wrong():
    """(test index, true, predicted, confidence) of every mistake the fixture run makes."""
    y_true, names = shapes_test_set()
    probs = known_probabilities(y_true, len(names), EVERY)
    pred = probs.argmax(1)
    idx = np.flatnonzero(pred != y_true)
    return idx, y_true[idx], pred[idx], probs[idx, pred[idx]], names


def grid_captions(at) -> list[str]:
    """Captions of the grid (the last image drawn is the large one under "Look closer")."""
    return image_captions(at)[:-1]


def test_empty_state_points_to_the_model_builder():
    at = open_page(PAGE)
    assert "no mistakes to look at" in at.info[0].value
    assert "model_builder" in [link.proto.page for link in at.get("page_link")]


def test_grid_shows_the_mistakes_page_by_page(workspace):
    make_finished_run(workspace, every=EVERY)
    idx, true, pred, conf, names = wrong()
    at = open_page(PAGE)
    # grid (page size 24) + the large picture under "Look closer"
    assert image_count(at) == 24 + 1
    at.select_slider(key="mis_count").set_value(96).run()
    assert image_count(at) == len(idx) + 1
    captions = grid_captions(at)
    assert captions[0].endswith("(95%)")  # most confident first
    first = idx[np.argmax(conf)]
    assert captions[0] == f"{names[true[idx == first][0]]} → {names[pred[idx == first][0]]} (95%)"
    assert any(f"{len(idx)} of {len(idx)} mistakes" in c.value for c in at.caption)


def test_filters_reduce_the_grid(workspace):
    make_finished_run(workspace, every=EVERY)
    idx, true, pred, conf, names = wrong()
    at = open_page(PAGE)
    at.select_slider(key="mis_count").set_value(96)
    at.multiselect(key="mis_true").set_value(["circle"]).run()
    assert image_count(at) == int(np.sum(true == 0)) + 1
    assert all(c.startswith("circle →") for c in grid_captions(at))
    at.multiselect(key="mis_true").set_value([])
    at.multiselect(key="mis_pred").set_value(["star", "square"]).run()
    assert image_count(at) == int(np.sum(np.isin(pred, [1, 4]))) + 1
    at.multiselect(key="mis_pred").set_value([])
    at.slider(key="mis_conf").set_value((90, 100)).run()
    high = int(np.sum(conf >= 0.9))
    assert 0 < high < 24
    assert image_count(at) == high + 1
    assert all(c.endswith("(95%)") for c in grid_captions(at))
    at.slider(key="mis_conf").set_value((0, 10)).run()
    assert image_count(at) == 0 and "No mistakes match" in at.info[0].value
    assert not at.exception


def test_random_order_and_reshuffle(workspace):
    make_finished_run(workspace, every=EVERY)
    at = open_page(PAGE)
    assert at.button(key="mis_shuffle").disabled
    at.radio(key="mis_order").set_value("random").run()
    first = grid_captions(at)
    at.button(key="mis_shuffle").click().run()
    second = grid_captions(at)
    assert len(first) == len(second) == 24 and first != second


def test_choosing_one_shows_its_probabilities(workspace):
    make_finished_run(workspace, every=EVERY)
    idx, true, pred, conf, names = wrong()
    y_true, _ = shapes_test_set()
    probs = known_probabilities(y_true, len(names), EVERY)
    at = open_page(PAGE)
    picker = at.selectbox(key="mis_pick")
    assert picker.help and len(picker.options) == 24
    choice = int(idx[conf == MISTAKE_CONFIDENCES[1]][0])
    at.select_slider(key="mis_count").set_value(96).run()
    at.selectbox(key="mis_pick").set_value(choice).run()
    chart = figure(at.get("plotly_chart")[0])
    bars = chart["data"][0]
    assert bars["type"] == "bar" and len(bars["x"]) == len(names)
    assert np.allclose(bars["x"], probs[choice] * 100)
    assert f"{names[y_true[choice]]} (true)" in bars["y"]
    assert image_captions(at)[-1] == f"{names[y_true[choice]]} → {names[probs[choice].argmax()]} (70%)"


def save_run_model(workspace, run_id: str, spec) -> None:
    """Give a fixture run an untrained model.keras for its data set (shapes: 32x32 RGB, 5 classes)."""
    import keras

    from cnn_core.model import build_model
    from cnn_core.runs import RunStore

    keras.utils.set_random_seed(0)
    build_model(spec, (32, 32, 3), len(shapes_test_set()[1])).save(RunStore(workspace).model_path(run_id))


def explain_captions(at) -> list[str]:
    """Captions of the pictures under "Why did it say that?" (after the grid and the large picture)."""
    return image_captions(at)[25:]


def test_why_did_it_say_that_shows_grad_cam_for_a_cnn(workspace):
    from cnn_core.model import ModelSpec

    run_id = make_finished_run(workspace, every=EVERY)
    save_run_model(workspace, run_id, ModelSpec(conv_blocks=2, filters=4, dense_layers=0))
    at = open_page(PAGE)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Why did it say that?" in [h.value for h in at.subheader]
    assert any("Grad-CAM" in c.value for c in at.caption)
    idx, true, pred, conf, names = wrong()
    first = idx[np.argmax(conf)]   # the page picks the most confident mistake first
    overlays, maps = explain_captions(at)[:2], explain_captions(at)[2:]
    assert len(overlays) == 2 and all(c.startswith(("Where it saw signs of", "Nothing in this picture"))
                                      for c in overlays)
    assert names[pred[idx == first][0]] in overlays[0] and names[true[idx == first][0]] in overlays[1]
    assert at.expander[0].label == "What the first layer sees"
    assert len(maps) == 4 and maps[0] == "filter response 1"   # the first layer has 4 filters
    assert image_count(at) == 24 + 1 + 2 + 4
    # another picture: the maps follow the choice, and nothing breaks
    at.selectbox(key="mis_pick").set_value(int(idx[conf == MISTAKE_CONFIDENCES[2]][1])).run()
    assert not at.exception and len(explain_captions(at)) == 6


def test_why_did_it_say_that_falls_back_to_saliency_for_an_mlp(workspace):
    from cnn_core.model import ModelSpec

    run_id = make_finished_run(workspace, every=EVERY)
    save_run_model(workspace, run_id, ModelSpec(conv_blocks=0, dense_layers=1, dense_units=8))
    at = open_page(PAGE)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("no convolution layers (it is an MLP)" in i.value and "saliency" in i.value for i in at.info)
    overlays = explain_captions(at)
    assert len(overlays) == 2 and all("Pixels that mattered most for" in c or "Nothing in" in c
                                      for c in overlays)
    assert not at.expander


def test_why_did_it_say_that_without_a_saved_model_says_so(workspace):
    make_finished_run(workspace, every=EVERY)
    at = open_page(PAGE)
    assert not at.exception and not at.error
    assert any("kept no trained model" in i.value for i in at.info)
    assert image_count(at) == 24 + 1
