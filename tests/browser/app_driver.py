"""Helpers that drive the app in the browser: wait for reruns, navigate, pick, slide, read charts.

Streamlit widgets are found by their ``data-testid`` (``stSelectbox``, ``stSlider``,
``stPlotlyChart``...) and their label text, never by generated CSS class names.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1400, "height": 1000}


def wait_for_app(page, timeout: float = 60_000) -> None:
    """Wait until the app is connected and Streamlit has finished running the script.

    Right after a click the script may not have started yet; callers that need the effect of an
    action should wait for the effect itself (``expect(...)``), then call this.
    """
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=timeout)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout)
    page.wait_for_timeout(200)


def open_page(page, label: str, url_path: str, heading: str | None = None, timeout: float = 60_000) -> None:
    """Click a sidebar navigation link (same browser session, unlike ``page.goto``) and wait until
    that page's title (``heading``, default ``label``) is drawn and the script has finished."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=label, exact=True).click()
    page.wait_for_url(f"**/{url_path}", timeout=timeout)
    page.get_by_test_id("stMain").get_by_role("heading", name=heading or label, exact=True).wait_for(timeout=timeout)
    wait_for_app(page, timeout)


def choose(page, selectbox, option: str) -> None:
    """Pick ``option`` in a Streamlit selectbox (its ``stSelectbox`` element) and wait until it shows."""
    from playwright.sync_api import expect

    selectbox.click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(selectbox.locator("input")).to_have_value(option)


def choose_dataset(page, name: str) -> None:
    """Pick a data set in the sidebar picker (by its display name, e.g. "Shapes")."""
    choose(page, page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="Data set"), name)
    wait_for_app(page)


def set_slider(page, slider, value: int) -> None:
    """Move an integer ``st.slider`` (its ``stSlider`` element) to ``value`` with the keyboard."""
    from playwright.sync_api import expect

    thumb = slider.get_by_role("slider")
    thumb.focus()
    thumb.press("Home")
    low = int(thumb.get_attribute("min") or 0)
    for _ in range(value - low):
        thumb.press("ArrowRight")
    expect(slider.get_by_test_id("stSliderThumbValue")).to_have_text(str(value))


def plotly_traces(chart) -> list[dict] | None:
    """``type``, ``x`` and ``y`` of every trace drawn in a ``stPlotlyChart`` element (read from
    Plotly's own graph div), or None while the chart is not drawn yet."""
    return chart.evaluate(
        """el => {
            const gd = el.querySelector('.js-plotly-plot');
            if (!gd || !gd.data) return null;
            return gd.data.map(t => ({type: t.type || 'scatter',
                                      x: t.x ? Array.from(t.x) : [], y: t.y ? Array.from(t.y) : []}));
        }"""
    )


def screenshot(page, name: str) -> Path:
    """A PNG of the whole page (Streamlit scrolls inside its own container, so the viewport is
    stretched to the content's height for the shot, then put back)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    height = page.evaluate(
        "() => Math.max(window.innerHeight, ...[...document.querySelectorAll("
        "'[data-testid=stMain], [data-testid=stAppViewContainer], [data-testid=stSidebarContent]')]"
        ".map(e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": VIEWPORT["width"], "height": min(int(height), 10_000)})
    try:
        page.wait_for_timeout(400)  # let Plotly re-lay out at the new size
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(VIEWPORT)
    return path
