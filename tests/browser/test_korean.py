"""A Korean classroom (issue 13): the one-click demo through to Mistakes, all in Korean.

Opened by a shared link (``?lang=ko``): the home page, the first model, its training, the
evaluation and the mistakes read in Korean, the address keeps ``lang=ko`` while the user moves
between pages, and Hangul renders as letters, not as the boxes a browser draws when no font
has the glyphs (checked on screenshots of rendered text and on a canvas).
"""

from __future__ import annotations

import io
import re
import time
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from playwright.sync_api import expect

from app_driver import (XGA, Clock, cut_labels, main, open_page, screenshot, wait_for_app, wait_for_images,
                        wait_for_path, window_size)

pytestmark = pytest.mark.browser

TRAINING_TIMEOUT = 300  # s: 3 epochs of the MNIST sample, TensorFlow's first import included, on a loaded machine
#: Sentences of the English pages that must not show on the Korean ones.
ENGLISH = ("Train a first model", "Confusion matrix", "The test pictures the model labelled wrongly",
           "Look closer", "Solid lines: the training pictures")


def _lang(page) -> str | None:
    return (parse_qs(urlsplit(page.url).query).get("lang") or [None])[0]


def _ink(page, text: str, testid: str) -> np.ndarray:
    """A screenshot of ``text`` drawn by the page in its own font, as a gray pixel array."""
    from PIL import Image

    page.evaluate("""([text, testid]) => {
        const span = document.createElement('span');
        span.textContent = text;
        span.dataset.testid = testid;
        span.style.cssText = 'position:fixed;left:400px;top:300px;font-size:40px;background:#fff;color:#000;'
                             + 'z-index:2147483647;padding:4px;font-family:inherit';
        document.body.appendChild(span);
    }""", [text, testid])
    span = page.locator(f"span[data-testid={testid}]")
    png = span.screenshot()
    span.evaluate("el => el.remove()")
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"))


def assert_hangul_renders(page) -> None:
    """Three syllables drawn by the page differ from each other and from the box of a character
    no font has; a page without a Korean font draws all four as the same box."""
    syllables = [_ink(page, ch, f"hangul-{i}") for i, ch in enumerate("합성곱")]
    box = _ink(page, "\u0378", "no-glyph")      # an unassigned code point: always a box (or nothing)
    for glyph in syllables:
        assert (glyph < 128).sum() > 20, "a Hangul syllable left no ink"
    shapes = {glyph.tobytes() for glyph in syllables}
    assert len(shapes) == 3, "the three Hangul syllables look alike: boxes, not letters"
    assert all(glyph.shape != box.shape or not np.array_equal(glyph, box) for glyph in syllables)
    widths = page.evaluate("""() => {
        const ctx = document.createElement('canvas').getContext('2d');
        ctx.font = '40px ' + getComputedStyle(document.querySelector('[data-testid=stMain] h1')).fontFamily;
        return ['합', '성', '곱', '\\u0378'].map(ch => ctx.measureText(ch).width);
    }""")
    assert min(widths[:3]) > 0.6 * 40, f"Hangul drawn too narrow for real glyphs: {widths}"


def test_the_one_click_demo_through_to_mistakes_in_korean(page, app_server, run_store):
    clock = Clock()
    page.goto(f"{app_server.url}/?lang=ko")
    body = main(page)
    expect(body.get_by_role("heading", name="CNN Lab", exact=True)).to_be_visible()
    wait_for_app(page)
    expect(body.get_by_role("button", name="첫 모델 학습하기")).to_be_visible()
    expect(page.get_by_test_id("stSidebarNav").get_by_role("link", name="틀린 예측", exact=True)).to_be_visible()
    assert _lang(page) == "ko"
    assert_hangul_renders(page)
    with window_size(page, XGA):   # a 1024x768 projector: the step cards' titles whole, lines broken between words
        assert not cut_labels(page), cut_labels(page)
        breaks = page.evaluate("() => [...document.querySelectorAll('[data-testid=stMain] p')]"
                               ".map(p => getComputedStyle(p).wordBreak)")
        assert breaks and set(breaks) == {"keep-all"}, f"Korean lines may break inside a word: {set(breaks)}"
    screenshot(page, "korean-home")
    clock("home in Korean, Hangul renders")

    body.get_by_role("button", name="첫 모델 학습하기").click()
    wait_for_path(page, "training")
    expect(body.get_by_role("heading", name="학습", exact=True)).to_be_visible()
    runs = run_store.list_runs()
    assert len(runs) == 1 and runs[0].name == "나의 첫 모델"
    deadline = time.monotonic() + TRAINING_TIMEOUT
    while run_store.get(runs[0].id).status != "finished" and time.monotonic() < deadline:
        time.sleep(1)  # polls the store, as the page does
    assert run_store.get(runs[0].id).status == "finished", run_store.get(runs[0].id).status
    expect(body.get_by_text(re.compile(r"^완료: "))).to_be_visible(timeout=60_000)
    expect(body.get_by_text("실선: 학습 그림", exact=False)).to_be_visible()
    assert _lang(page) == "ko"
    screenshot(page, "korean-training")
    clock("first model trained, training page in Korean")

    open_page(page, "평가", "evaluation")
    expect(body.get_by_role("heading", name="혼동 행렬", exact=True)).to_be_visible()
    expect(body.get_by_test_id("stMetricLabel").get_by_text("테스트 정확도", exact=True)).to_be_visible()
    assert _lang(page) == "ko"
    screenshot(page, "korean-evaluation")
    clock("evaluation in Korean")

    open_page(page, "틀린 예측", "mistakes")
    wait_for_images(page, minimum=4)
    expect(body.get_by_role("heading", name="자세히 보기", exact=True)).to_be_visible()
    expect(body.get_by_text(re.compile("틀린 예측 \\d+개 중"))).to_be_visible()
    text = body.inner_text()
    assert not [sentence for sentence in ENGLISH if sentence in text]
    assert _lang(page) == "ko"
    screenshot(page, "korean-mistakes")
    clock("mistakes in Korean")


def test_the_sidebar_switch_changes_language_and_address(page, app_server):
    page.goto(app_server.url)
    body = main(page)
    expect(body.get_by_role("button", name="Train a first model")).to_be_visible()
    wait_for_app(page)
    assert _lang(page) is None  # Chromium here speaks English: no need to say so in the address
    page.get_by_test_id("stSidebar").get_by_text("한국어", exact=True).click()
    expect(body.get_by_role("button", name="첫 모델 학습하기")).to_be_visible()
    wait_for_app(page)
    page.wait_for_url(re.compile(r"[?&]lang=ko"))
    page.reload()                                   # the address alone brings Korean back
    expect(main(page).get_by_role("button", name="첫 모델 학습하기")).to_be_visible()
