"""Try it in the real app: train the one-click model, then show it a drawing made with mouse moves,
an uploaded digit PNG, and a photo from Chromium's fake camera.

The one-click model is LeNet on the offline MNIST sample (3 epochs). The fake camera is a second
Chromium started with ``--use-fake-device-for-media-stream --use-fake-ui-for-media-stream`` (a
synthetic video and an automatic "allow"), on the same server.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app_driver import Clock, main, open_page, plotly_traces, screenshot, wait_for_app, wait_for_images
from conftest import CHROMIUM_ARGS, chromium_path

pytestmark = pytest.mark.browser

TRAINED_WITHIN = 600_000    # ms: the one-click model (3 epochs) on a loaded 2-core machine
SENTENCE = re.compile(r"^It thinks this is an? \d, \d+% sure\.")
DIGITS = [str(d) for d in range(10)]


def launch_camera_browser(browser):
    """A second Chromium with a fake camera, from the same Playwright as the ``browser`` fixture
    (one process may run only one sync Playwright). Started only when needed: two browsers next to
    a training run are a lot for 2 cores."""
    return browser.browser_type.launch(
        executable_path=chromium_path(), headless=True,
        args=CHROMIUM_ARGS + ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"])


def train_one_click_model(page, app_server, run_store) -> str:
    page.goto(app_server.url)
    expect(main(page).get_by_role("heading", name="CNN Lab", exact=True)).to_be_visible()
    wait_for_app(page)
    page.on("crash", lambda *_: print("the browser tab crashed", flush=True))
    main(page).get_by_role("button", name="Train a first model").click()
    # the first click imports TensorFlow on a fresh server: allow a loaded machine its time
    expect(main(page).get_by_role("heading", name="Training", exact=True)).to_be_visible(timeout=180_000)
    expect(main(page).get_by_text(re.compile(r"^Finished:")).first).to_be_visible(timeout=TRAINED_WITHIN)
    runs = run_store.list_runs()
    assert len(runs) == 1 and runs[0].status == "finished" and runs[0].config["dataset"]["id"] == "mnist_sample"
    return runs[0].id


def expect_answer(page) -> str:
    """Wait for the sentence and the ranked bars; returns the sentence."""
    sentence = main(page).get_by_text(SENTENCE).first
    expect(sentence).to_be_visible()
    wait_for_app(page)
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stMain] .js-plotly-plot')]"
                           ".some(gd => gd.data && gd.data.some(t => t.type === 'bar'))", polling=500)
    bars = [t for chart in main(page).get_by_test_id("stPlotlyChart").all() for t in (plotly_traces(chart) or [])
            if t["type"] == "bar"]
    assert len(bars) == 1 and set(bars[0]["y"]) <= set(DIGITS) and len(bars[0]["y"]) == 10
    assert bars[0]["x"] == sorted(bars[0]["x"], reverse=True) and abs(sum(bars[0]["x"]) - 100) < 0.5
    text = sentence.inner_text()
    assert re.match(rf"It thinks this is an? {bars[0]['y'][0]},", text)   # the sentence names the top bar
    return text


def draw_a_one(page) -> None:
    """A vertical stroke down the middle of the canvas, made of mouse moves."""
    canvas = page.locator("canvas.upper-canvas").first
    canvas.scroll_into_view_if_needed()
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    x = box["x"] + box["width"] * 0.5
    page.mouse.move(x, box["y"] + box["height"] * 0.15)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(x + step * 0.3, box["y"] + box["height"] * (0.15 + 0.035 * step))
    page.mouse.up()


def test_try_a_drawing_an_upload_and_the_camera(page, browser, app_server, run_store, tmp_path):
    clock = Clock()
    train_one_click_model(page, app_server, run_store)
    clock("one-click model trained")

    open_page(page, "Try it", "try_it")
    body = main(page)
    expect(body.get_by_text("Nothing drawn yet", exact=False)).to_be_visible()  # digits: drawing first
    draw_a_one(page)
    expect_answer(page)
    expect(body.get_by_text("Made to look like the training digits", exact=False)).to_be_visible()
    expect(body.get_by_role("heading", name="Why did it say that?", exact=True)).to_be_visible()
    screenshot(page, "try-it-drawing")
    clock("drawing answered")

    from PIL import Image

    from cnn_core.datasets import load_dataset

    digits = load_dataset("mnist_sample")
    path = tmp_path / "digit.png"
    Image.fromarray(digits.x_test[0][..., 0]).save(path)
    body.get_by_text("Upload pictures", exact=True).click()
    wait_for_app(page)
    body.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(str(path))
    expect(body.get_by_text("digit.png, as the model sees it", exact=False)).to_be_visible()
    expect_answer(page)
    wait_for_images(page, minimum=3)   # the picture and the two heatmaps
    screenshot(page, "try-it-upload")
    clock("upload answered")

    camera_browser = launch_camera_browser(browser)
    context = camera_browser.new_context(viewport={"width": 1400, "height": 1000}, permissions=["camera"])
    # The same person in a second window: runs are private to the one who started them (a class
    # shares one server), and the seat cookie says who that is.
    seat = [c for c in page.context.cookies() if c["name"].startswith("cnn_lab_")]
    assert seat, "the app should have given this browser a seat cookie"
    context.add_cookies(seat)
    try:
        camera_page = context.new_page()
        camera_page.goto(app_server.url + "/try_it")
        expect(main(camera_page).get_by_role("heading", name="Try it", exact=True)).to_be_visible(timeout=60_000)
        wait_for_app(camera_page)
        main(camera_page).get_by_text("Take a photo", exact=True).click()
        wait_for_app(camera_page)
        shoot = main(camera_page).get_by_role("button", name="Take Photo")
        expect(shoot).to_be_enabled(timeout=60_000)
        camera_page.wait_for_function(  # the fake camera's video is playing (not a black first frame)
            "() => { const v = document.querySelector('[data-testid=stCameraInput] video');"
            " return !!v && v.readyState >= 2 && v.currentTime > 1; }", timeout=60_000, polling=250)
        shoot.click()
        expect_answer(camera_page)
        expect(main(camera_page).get_by_text("camera photo, as the model sees it", exact=False)).to_be_visible()
        screenshot(camera_page, "try-it-camera")
    finally:
        context.close()
        camera_browser.close()
    clock("camera photo answered")
