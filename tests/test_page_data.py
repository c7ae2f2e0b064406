"""AppTest of the data set page: image grid, class filter, charts, facts, and uploading your own images."""

from __future__ import annotations

import io
import zipfile
import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

from page_helpers import open_page


def open_data_page(dataset_id: str = "shapes") -> AppTest:
    return open_page("pages/data.py", dataset_id, timeout=60)


def grid_captions(at: AppTest) -> list[str]:
    return [caption for image in at.main.image for caption in image.captions]


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.main.metric}


def png_bytes(color: tuple[int, int, int], size: int = 12) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((size, size, 3), color, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def class_zip(extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(6):
            archive.writestr(f"pets/cats/cat{i}.png", png_bytes((200, 40 + i, 40)))
            archive.writestr(f"pets/dogs/dog{i}.png", png_bytes((40, 40 + i, 200)))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def upload_zip(at: AppTest, data: bytes, name: str) -> AppTest:
    at.file_uploader(key="data_zip_file").set_value((f"{name}.zip", data, "application/zip"))
    at.text_input(key="data_zip_name").set_value(name)
    return at.button(key="data_zip_add").click().run()


def test_facts_charts_and_grid_size_follow_the_sliders():
    from cnn_core.datasets import load_dataset

    dataset = load_dataset("shapes")
    at = open_data_page()
    shown = metrics(at)
    h, w, c = dataset.image_shape
    assert shown["Picture size"] == f"{w}×{h} px"
    assert shown["Colour channels"] == str(c)
    assert shown["Classes"] == str(dataset.n_classes)
    assert shown["Training pictures"] == f"{len(dataset.y_train):,}"
    assert shown["Test pictures"] == f"{len(dataset.y_test):,}"
    assert len(at.get("plotly_chart")) == 2
    assert len(grid_captions(at)) == 3 * 8
    assert set(grid_captions(at)) <= set(dataset.class_names)

    at.slider(key="data_rows").set_value(2).run()
    assert len(grid_captions(at)) == 2 * 8
    at.slider(key="data_columns").set_value(5).run()
    assert len(grid_captions(at)) == 2 * 5
    assert not at.exception


def test_class_filter_shows_only_that_class_and_shuffle_draws_new_images():
    from cnn_core.datasets import load_dataset

    chosen = load_dataset("shapes").class_names[1]
    at = open_data_page()
    at.selectbox(key="data_class").select(chosen).run()
    captions = grid_captions(at)
    assert captions and set(captions) == {chosen}
    before = [url for image in at.main.image for url in image.value]
    at.button(key="data_shuffle").click().run()
    after = [url for image in at.main.image for url in image.value]
    assert len(after) == len(before) and after != before
    assert set(grid_captions(at)) == {chosen}


def test_every_control_and_chart_is_explained():
    at = open_data_page()
    for widget in [*at.main.slider, *at.main.selectbox, *at.main.button, *at.main.file_uploader]:
        assert widget.help, widget.label
    assert all(m.help for m in at.main.metric)
    assert len(at.main.caption) >= 4


def test_zip_upload_creates_and_selects_a_user_data_set(workspace):
    at = open_data_page()
    upload_zip(at, class_zip({"pets/cats/broken.png": b"not a picture"}), "pets")
    assert not at.exception
    assert at.session_state["dataset_id"] == "user:pets"
    assert any("pets" in s.value for s in at.main.success)
    assert metrics(at)["Classes"] == "2"
    assert set(grid_captions(at)) == {"cats", "dogs"}
    # the sidebar picker's own state follows, so it shows the new set on the next page too
    # (AppTest draws only the page after switch_page, so the picker itself is not in the tree)
    assert at.session_state["sidebar_dataset"] == "user:pets"
    assert (workspace / "datasets" / "pets").is_dir()
    assert any("skipped" in e.label for e in at.main.expander)  # the broken file is listed


def test_unsafe_or_broken_zip_shows_the_message_and_the_page_keeps_working(workspace):
    at = open_data_page()
    upload_zip(at, class_zip({"../../evil.png": png_bytes((1, 2, 3))}), "evil")
    assert not at.exception
    assert at.main.error, "a traversal ZIP must be refused with a message"
    assert at.session_state["dataset_id"] == "shapes"
    assert not (workspace / "datasets" / "evil").exists()
    assert not (workspace.parent / "evil.png").exists()
    assert len(grid_captions(at)) == 24  # the page still works

    upload_zip(at, b"this is no zip file", "junk")
    assert not at.exception and at.main.error
    assert at.session_state["dataset_id"] == "shapes"


def test_add_loose_pictures_to_a_new_class(workspace):
    at = open_data_page()
    upload_zip(at, class_zip(), "pets")
    at.selectbox(key="data_add_set").select("user:pets")
    at.text_input(key="data_add_class").set_value("birds")
    at.file_uploader(key="data_add_files").set_value(
        [(f"bird{i}.png", png_bytes((30, 200, 30)), "image/png") for i in range(4)]
    )
    at.button(key="data_add_button").click().run()
    assert not at.exception, at.exception
    assert metrics(at)["Classes"] == "3"
    assert any("Added 4 pictures to the class 'birds'" in m.value for m in at.main.success)
    assert len(list((workspace / "datasets" / "pets" / "birds").glob("*.png"))) == 4


def test_unknown_data_set_shows_an_error_and_the_upload_forms():
    at = open_data_page("user:does-not-exist")
    assert not at.exception
    assert at.main.error
    assert at.file_uploader(key="data_zip_file")
    assert not at.main.image


def test_download_set_offline_shows_what_to_do(monkeypatch):
    import urllib.error

    import cnn_core.dataset_downloads

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network in this test")

    monkeypatch.setattr(cnn_core.dataset_downloads, "_urlopen", offline)
    at = open_data_page("cifar10")
    assert not at.exception
    message = " ".join(e.value for e in at.main.error)
    assert "CIFAR-10" in message and "built-in" in message
    assert at.file_uploader(key="data_zip_file")  # the rest of the page still works
