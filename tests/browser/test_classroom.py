"""Two people on one server (issue 13, part 3): two browser contexts are two sessions.

Ann types her name, uploads a ZIP of pictures and has a trained run; Ben, in another browser
context, sees neither in his lists until Ann shares them, and then sees them marked with her
name. A reload keeps Ann's identity (the cookie), so she still finds her own upload and run.
"""

from __future__ import annotations

import io
import sqlite3
import time
import zipfile

import pytest
from playwright.sync_api import expect

from app_driver import VIEWPORT, main, open_page, screenshot, type_text, wait_for_app, widget
from run_fixtures import make_finished_run

from cnn_core.runs import RunStore

pytestmark = pytest.mark.browser


def pets_zip(path):
    from PIL import Image

    with zipfile.ZipFile(path, "w") as zf:
        for cls, colour in (("cats", (200, 40, 40)), ("dogs", (40, 40, 200))):
            for i in range(4):
                png = io.BytesIO()
                Image.new("RGB", (16, 16), tuple(min(255, c + i * 10) for c in colour)).save(png, "PNG")
                zf.writestr(f"{cls}/{i}.png", png.getvalue())
    return path


def wait_until(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def sidebar(page):
    return page.get_by_test_id("stSidebar")


def dataset_options(page) -> list[str]:
    """The names the sidebar's data set picker offers (opened and closed again)."""
    box = widget(sidebar(page), "stSelectbox", "Data set")
    box.click()
    options = page.get_by_role("option")
    expect(options.first).to_be_visible()
    names = options.all_inner_texts()
    page.keyboard.press("Escape")
    return names


def open_app(context, url):
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    wait_for_app(page, 120_000)
    return page


def runs_listed(page) -> str:
    """The text of the Training page's main area (the followed run and the runs table)."""
    open_page(page, "Training", "training")
    return main(page).inner_text()


def test_one_persons_upload_and_run_reach_another_only_when_shared(browser, app_server, tmp_path):
    ann_context = browser.new_context(viewport=VIEWPORT)
    ben_context = browser.new_context(viewport=VIEWPORT)
    try:
        ann = open_app(ann_context, app_server.url)
        type_text(ann, widget(sidebar(ann), "stTextInput", "Your name"), "Ann")
        wait_for_app(ann)
        # Ann uploads a ZIP of pictures: it becomes her sidebar's data set.
        open_page(ann, "Data sets", "data")
        body = main(ann)
        type_text(ann, widget(body, "stTextInput", "Name for the data set"), "ann pets")
        wait_for_app(ann)
        uploader = body.get_by_test_id("stFileUploader").filter(has_text="ZIP file")
        uploader.locator("input[type=file]").set_input_files(str(pets_zip(tmp_path / "pets.zip")))
        expect(uploader.get_by_test_id("stFileChipName")).to_contain_text("pets.zip")
        wait_for_app(ann)
        body.get_by_role("button", name="Add data set").click()
        expect(body.get_by_test_id("stAlertContentSuccess")).to_contain_text("ann_pets")
        wait_for_app(ann)
        assert "ann_pets" in dataset_options(ann)
        # The browser keeps Ann's seat: the server knows her by it after a reload too.
        seat = next(c["value"] for c in ann_context.cookies() if c["name"] == "cnn_lab_seat")
        run_id = make_finished_run(app_server.workspace, name="anns model")
        with sqlite3.connect(app_server.workspace / "runs.sqlite") as conn:
            conn.execute("UPDATE runs SET session_id = ?, started_by = 'Ann' WHERE id = ?", (seat, run_id))

        # Ben, in another browser, sees neither.
        ben = open_app(ben_context, app_server.url)
        assert "ann_pets" not in " ".join(dataset_options(ben))
        assert "anns model" not in runs_listed(ben)
        screenshot(ben, "classroom-ben-before-sharing")

        # Ann reloads: still her upload and her run, and her name in the sidebar. (The name reaches
        # the browser's cookie through a script the sidebar draws; give a loaded machine its time.)
        for _attempt in range(60):
            if any(c["name"] == "cnn_lab_name" and c["value"] == "Ann" for c in ann_context.cookies()):
                break
            ann.wait_for_timeout(500)
        assert any(c["name"] == "cnn_lab_name" and c["value"] == "Ann" for c in ann_context.cookies()), \
            "the sidebar never wrote Ann's name into the browser's cookie"
        ann.reload()
        wait_for_app(ann, 120_000)
        expect(widget(sidebar(ann), "stTextInput", "Your name").locator("input")).to_have_value("Ann")
        assert "ann_pets" in dataset_options(ann)
        assert "anns model" in runs_listed(ann)
        # She shares both.
        toggle = main(ann).get_by_test_id("stCheckbox").filter(has_text="Share with the class")
        toggle.click()
        wait_until(lambda: RunStore(app_server.workspace).get(run_id).shared)
        wait_for_app(ann)
        open_page(ann, "Data sets", "data")
        main(ann).get_by_test_id("stCheckbox").filter(has_text="Share 'ann_pets' with the class").click()
        wait_for_app(ann)

        # Ben reloads: now both are his to look at, marked as Ann's.
        ben.reload()
        wait_for_app(ben, 120_000)
        assert any("ann_pets" in name and "by Ann" in name for name in dataset_options(ben))
        listed = runs_listed(ben)
        assert "anns model" in listed
        expect(main(ben).get_by_text("Started by Ann and shared with the class.")).to_be_visible()
        expect(main(ben).get_by_role("button", name="Stop")).to_have_count(0)
        screenshot(ben, "classroom-ben-after-sharing")
    finally:
        ann_context.close()
        ben_context.close()
