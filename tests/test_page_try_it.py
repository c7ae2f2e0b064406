"""AppTest of the Try it page: no run, uploads (one, many, bad), a drawing (canvas value injected),
a test picture, the kernel editor. Runs are written into the run store with small untrained models."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from page_helpers import open_page
from run_fixtures import figure, make_finished_run

PAGE = "pages/try_it.py"


def png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def shapes_run(workspace, conv_blocks: int = 1) -> str:
    """A finished run of the shapes set (32x32 RGB, 5 classes) with an untrained saved model."""
    import keras

    from cnn_core.model import ModelSpec, build_model
    from cnn_core.runs import RunStore

    run_id = make_finished_run(workspace)
    keras.utils.set_random_seed(0)
    spec = ModelSpec(conv_blocks=conv_blocks, filters=4, dense_layers=0 if conv_blocks else 1, dense_units=8)
    build_model(spec, (32, 32, 3), 5).save(RunStore(workspace).model_path(run_id))
    return run_id


def digits_run(workspace) -> str:
    """A finished run of the MNIST sample (28x28 gray, digits 0-9) with an untrained saved model."""
    import keras

    from cnn_core.datasets import load_dataset
    from cnn_core.model import ModelSpec, build_model
    from cnn_core.runs import RunStore

    store = RunStore(workspace)
    run_id = store.create_run({"dataset": {"id": "mnist_sample"}, "model": {"epochs": 1}}, name="digits")
    y_test = load_dataset("mnist_sample").y_test.astype(np.int64)
    store.save_predictions(run_id, np.full((len(y_test), 10), 0.1), y_test, class_names=[str(d) for d in range(10)])
    store.set_status(run_id, "finished", "Trained 1 epoch.")
    keras.utils.set_random_seed(0)
    build_model(ModelSpec(conv_blocks=2, filters=4, dense_layers=0), (28, 28, 1), 10).save(store.model_path(run_id))
    return run_id


def sentences(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith(("**It thinks this is a ", "**It thinks this is an "))]


def no_trouble(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_without_a_finished_run_it_says_what_to_do_instead():
    at = open_page(PAGE)
    no_trouble(at)
    assert "nothing to try" in at.info[0].value
    assert {"home", "model_builder"} <= {link.proto.page.rsplit("/", 1)[-1].removesuffix(".py")
                                         for link in at.get("page_link")}


def test_one_upload_gives_ranked_bars_a_sentence_and_grad_cam(workspace):
    shapes_run(workspace)
    at = open_page(PAGE)
    no_trouble(at)
    assert at.radio(key="try_source").value == "upload" and "draw" not in at.radio(key="try_source").options
    picture = np.zeros((60, 90, 3), np.uint8)
    picture[20:40, 30:60] = (200, 50, 50)
    at.file_uploader(key="try_upload").set_value(("red.png", png(picture), "image/png")).run()
    no_trouble(at)
    said = sentences(at)
    assert len(said) == 1 and "sure" in said[0]
    bars = figure(at.get("plotly_chart")[0])["data"][0]
    assert len(bars["x"]) == 5 and list(bars["x"]) == sorted(bars["x"], reverse=True)
    assert abs(sum(bars["x"]) - 100) < 0.01 and bars["y"][0] in said[0]
    assert "Why did it say that?" in [h.value for h in at.subheader]
    captions = [c for image in at.main.image for c in image.captions]
    assert any("as the model sees it (32x32" in c for c in captions)
    assert sum("Where it saw signs of" in c or "Nothing in this picture" in c for c in captions) == 2
    assert [e.label for e in at.expander] == ["The convolution itself", "Feature maps of every convolution layer",
                                             "The learned filters of the first layer", "Layer by layer"]


def test_many_uploads_give_a_table_and_a_csv_and_bad_files_are_named(workspace):
    shapes_run(workspace)
    at = open_page(PAGE)
    rng = np.random.default_rng(0)
    files = [(f"p{i}.png", png(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)), "image/png") for i in range(4)]
    files.append(("notes.png", b"not a picture at all", "image/png"))
    files.append(("dot.png", png(np.zeros((1, 1, 3), np.uint8)), "image/png"))
    at.file_uploader(key="try_upload").set_value(files).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 2 and "not a picture CNN Lab can read" in errors[0] and "too small" in errors[1]
    table = at.dataframe[0].value
    assert list(table["picture"]) == [f"p{i}.png" for i in range(4)]
    assert table["confidence"].between(0, 1).all()
    assert len(at.get("download_button")) == 1
    assert "4 pictures" in [h.value for h in at.subheader]
    at.selectbox(key="try_pick").set_value(2).run()
    assert not at.exception and any("p2.png, as the model sees it" in c
                                    for image in at.main.image for c in image.captions)


def test_a_drawing_is_made_to_look_like_a_training_digit(workspace):
    digits_run(workspace)
    at = open_page(PAGE, dataset_id="mnist_sample")
    no_trouble(at)
    assert at.radio(key="try_source").value == "draw"
    assert any("Nothing drawn yet" in i.value for i in at.info)
    drawing = np.full((280, 280, 4), 255, np.uint8)
    drawing[40:240, 120:150, :3] = 0                     # a "1", drawn dark on white
    url = "data:image/png;base64," + base64.b64encode(png(drawing)).decode()
    at.session_state["try_canvas"] = {"drawing": {"raw": {"objects": [{"type": "path"}]}, "data": url}}
    at.run()
    no_trouble(at)
    assert len(sentences(at)) == 1
    assert any("Made to look like the training digits" in c.value for c in at.caption)
    at.session_state["try_canvas"] = {"drawing": {"raw": {"objects": [{"type": "path"}]},
                                                  "data": "data:image/png;base64," + base64.b64encode(
                                                      png(np.full((280, 280, 4), 255, np.uint8))).decode()}}
    at.run()
    assert not at.exception and any("The picture is empty" in e.value for e in at.error)


def test_a_random_test_picture_needs_no_input_and_says_if_it_was_right(workspace):
    shapes_run(workspace)
    at = open_page(PAGE)
    at.radio(key="try_source").set_value("test").run()
    no_trouble(at)
    assert len(sentences(at)) == 1
    assert any(c.value.startswith(("Right: it really is", "Wrong: it really is")) for c in at.caption)
    first = [c for image in at.main.image for c in image.captions][0]
    at.button(key="try_next_test").click().run()
    assert [c for image in at.main.image for c in image.captions][0] != first


def test_the_kernel_editor_changes_the_arithmetic(workspace):
    shapes_run(workspace)
    at = open_page(PAGE)
    at.radio(key="try_source").set_value("test").run()
    assert at.selectbox(key="try_kernel").value == "sharpen"
    assert at.code[0].value.count("×") == 9 and "(-1)×" in at.code[0].value
    at.selectbox(key="try_kernel").set_value("identity").run()
    formula = at.code[0].value
    centre = formula.split(" + ")[4]                    # the middle term: 1 × the pixel itself
    assert centre.startswith("1×") and formula.endswith("= " + centre.split("×")[1])
    at.number_input(key="try_k_identity_11").set_value(2.0).run()
    doubled = at.code[0].value
    assert doubled.split(" + ")[4].startswith("2×")
    value = float(doubled.split(" + ")[4].split("×")[1])
    assert float(doubled.rsplit("= ", 1)[1]) == pytest.approx(2 * value, abs=0.01)


def test_an_mlp_gets_saliency_and_no_feature_maps(workspace):
    shapes_run(workspace, conv_blocks=0)
    at = open_page(PAGE)
    at.radio(key="try_source").set_value("test").run()
    no_trouble(at)
    captions = [c for image in at.main.image for c in image.captions]
    assert sum("Pixels that mattered most for" in c or "Nothing in this picture" in c for c in captions) == 2
    assert any("no convolution layers (it is an MLP): it has no feature maps" in i.value for i in at.info)


@pytest.mark.parametrize("problem", ["missing", "damaged"])
def test_a_run_without_a_usable_model_is_explained(workspace, problem):
    from cnn_core.runs import RunStore

    run_id = shapes_run(workspace)
    if problem == "missing":
        RunStore(workspace).model_path(run_id).unlink()
    else:
        RunStore(workspace).model_path(run_id).write_bytes(b"half a zip file")
    at = open_page(PAGE)
    assert not at.exception
    assert len(at.error) == 1 and at.error[0].value.startswith("This run's model cannot be used:")


def test_a_camera_photo_of_a_digit_is_answered_and_a_colour_photo_warned_about(workspace):
    digits_run(workspace)
    at = open_page(PAGE, dataset_id="mnist_sample")
    at.radio(key="try_source").set_value("camera").run()
    assert not at.exception and any("allow it" in c.value for c in at.caption)   # what to do if refused
    photo = np.zeros((240, 320, 3), np.uint8)
    photo[...] = (30, 120, 220)                          # a blue wall...
    photo[60:180, 150:175] = (250, 250, 250)             # ...with a white stroke on it
    buf = io.BytesIO()
    Image.fromarray(photo).save(buf, format="JPEG", quality=95)
    at.camera_input(key="try_camera").set_value(("photo.jpg", buf.getvalue(), "image/jpeg")).run()
    no_trouble(at)
    assert len(sentences(at)) == 1
    assert any("This is a colour picture, but the model only ever saw gray ones" in w.value for w in at.warning)


def controls(at) -> set[str]:
    keys = {r.key for r in at.main.radio} | {t.key for t in at.main.toggle}
    return keys & {"try_fit", "try_digit"}


def test_a_random_test_picture_shows_no_controls_that_do_nothing_for_it(workspace):
    shapes_run(workspace)
    at = open_page(PAGE)
    assert controls(at) == {"try_fit"}                     # an upload of any shape: crop or pad
    at.radio(key="try_source").set_value("test").run()
    no_trouble(at)
    assert controls(at) == set()
    assert any("nothing to adjust" in c.value for c in at.caption)
    at.radio(key="try_source").set_value("upload").run()
    assert controls(at) == {"try_fit"}


def test_a_digit_model_offers_fit_only_when_it_changes_the_picture(workspace):
    digits_run(workspace)
    at = open_page(PAGE, dataset_id="mnist_sample")
    no_trouble(at)
    assert at.radio(key="try_source").value == "draw"
    assert controls(at) == {"try_digit"}                   # a square drawing, made digit-like
    at.radio(key="try_source").set_value("upload").run()
    assert controls(at) == {"try_digit"}                   # digit-like pictures are square already
    at.toggle(key="try_digit").set_value(False).run()
    assert controls(at) == {"try_digit", "try_fit"}        # as it is: crop or pad matters
    at.radio(key="try_source").set_value("test").run()
    assert controls(at) == set()
