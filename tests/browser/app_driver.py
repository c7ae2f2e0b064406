"""Helpers that drive the app in the browser: wait for reruns, navigate, pick, slide, read charts.

Streamlit widgets are found by their ``data-testid`` (``stSelectbox``, ``stSlider``,
``stPlotlyChart``...) and their label text, never by generated CSS class names.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1400, "height": 1000}
#: A 1024x768 projector (XGA), the narrowest screen a class is shown CNN Lab on.
XGA = {"width": 1024, "height": 768}


class Clock:
    """Prints how long each step of a journey took (shown with ``-s`` or when a test fails)."""

    def __init__(self):
        self.start = self.last = time.monotonic()

    def __call__(self, step: str) -> None:
        now = time.monotonic()
        print(f"{now - self.start:6.1f} s (+{now - self.last:5.1f} s) {step}")
        self.last = now


def main(page):
    """The page's main area (``stMain``), where pages draw; the sidebar is ``stSidebar``."""
    return page.get_by_test_id("stMain")


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
    link = page.get_by_test_id("stSidebarNav").get_by_role("link", name=label, exact=True)
    link.click()
    try:
        wait_for_path(page, url_path, min(timeout, 15_000))
    except Exception:   # noqa: BLE001 - Playwright's TimeoutError
        # A timer's rerun that reaches Streamlit right after the click is folded into it and
        # keeps the old page (the app holds its own timer back, state.another_run_requested;
        # the browser's fragment timers it cannot): click again, as a person would.
        print(f"the click on {label!r} was lost; clicking again", flush=True)
        link.click()
        wait_for_path(page, url_path, timeout)
    page.get_by_test_id("stMain").get_by_role("heading", name=heading or label, exact=True).wait_for(timeout=timeout)
    wait_for_app(page, timeout)


def wait_for_path(page, url_path: str, timeout: float = 60_000) -> None:
    """Wait until the address bar shows page ``url_path`` (whatever query string a page adds)."""
    wanted = "/" + url_path.strip("/")
    page.wait_for_url(lambda url: urlsplit(url).path.rstrip("/") == wanted.rstrip("/")
                      or (url_path.strip("/") == "" and urlsplit(url).path in ("", "/")), timeout=timeout)


def widget(scope, testid: str, label: str):
    """The widget (``stSlider``, ``stSelectbox``...) in ``scope`` whose label reads ``label`` exactly."""
    return scope.get_by_test_id(testid).filter(
        has=scope.page.get_by_test_id("stWidgetLabel").get_by_text(label, exact=True))


def metric(scope, label: str):
    """The ``st.metric`` labelled ``label`` drawn by the latest run (not a stale leftover of the
    run before, which Streamlit keeps on screen until the new run replaces it)."""
    return scope.locator("[data-testid=stElementContainer][data-stale=false] [data-testid=stMetric]").filter(
        has=scope.page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True))


def expander(scope, title: str):
    """The ``st.expander`` whose header reads ``title``."""
    return scope.get_by_test_id("stExpander").filter(
        has=scope.page.locator("summary").get_by_text(title, exact=True))


def choose(page, selectbox, option: str) -> None:
    """Pick ``option`` in a Streamlit selectbox (its ``stSelectbox`` element) and wait until it shows."""
    from playwright.sync_api import expect

    # Scrolled into view first: a click that has to scroll the sidebar (taller with the language
    # switch, at 1280x720) focuses the box but its list does not open.
    selectbox.scroll_into_view_if_needed()
    selectbox.click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(selectbox.locator("input")).to_have_value(option)


def choose_dataset(page, name: str) -> None:
    """Pick a data set in the sidebar picker (by its display name, e.g. "Shapes")."""
    choose(page, widget(page.get_by_test_id("stSidebar"), "stSelectbox", "Data set"), name)
    wait_for_app(page)


def set_slider(page, slider, value: int) -> None:
    """Move an integer ``st.slider`` (its ``stSlider`` element) to ``value`` with the keyboard,
    from whichever end is nearer (every key press may start a rerun)."""
    from playwright.sync_api import expect

    thumb = slider.get_by_role("slider")
    low, high = int(thumb.get_attribute("min")), int(thumb.get_attribute("max"))
    thumb.focus()
    if value - low <= high - value:
        thumb.press("Home")
        for _ in range(value - low):
            thumb.press("ArrowRight")
    else:
        thumb.press("End")
        for _ in range(high - value):
            thumb.press("ArrowLeft")
    expect(slider.get_by_test_id("stSliderThumbValue")).to_have_text(str(value))


def wait_for_images(page, minimum: int = 1, timeout: float = 60_000) -> list[int]:
    """Wait until the main area shows at least ``minimum`` ``st.image`` pictures and every one has
    loaded; returns their natural widths (0 = broken). A picture that fails to load shows up as
    a timeout listing the widths."""
    script = """n => {
        const imgs = [...document.querySelectorAll('[data-testid=stMain] [data-testid=stImage] img')];
        return imgs.length >= n && imgs.every(i => i.complete && i.naturalWidth > 0);
    }"""
    read = """() => [...document.querySelectorAll('[data-testid=stMain] [data-testid=stImage] img')]
        .map(i => i.complete ? i.naturalWidth : 0)"""
    try:
        page.wait_for_function(script, arg=minimum, timeout=timeout, polling=250)
    except Exception as error:  # noqa: BLE001 - report what did load
        raise AssertionError(f"pictures did not all load within {timeout / 1000:.0f} s; widths: "
                             f"{page.evaluate(read)}") from error
    return page.evaluate(read)


def plotly_traces(chart) -> list[dict] | None:
    """``type``, ``x``, ``y`` and ``z`` (heatmaps) of every trace drawn in a ``stPlotlyChart``
    element, read from Plotly's own graph div; None while the chart is not drawn yet."""
    return chart.evaluate(
        """el => {
            const gd = el.querySelector('.js-plotly-plot');
            if (!gd || !gd.data) return null;
            return gd.data.map(t => ({type: t.type || 'scatter',
                                      x: t.x ? Array.from(t.x) : [], y: t.y ? Array.from(t.y) : [],
                                      z: t.z ? Array.from(t.z, row => Array.from(row)) : null}));
        }"""
    )


def screenshot(page, name: str) -> Path:
    """A PNG of the whole page (Streamlit scrolls inside its own container, so the viewport is
    stretched to the content's height for the shot, then put back)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    try:  # not in the middle of a rerun, when the old elements are still on screen, greyed out
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=15_000)
    except Exception:  # noqa: BLE001 - a shot of a page that never settles is still worth having
        pass
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


@contextmanager
def window_size(page, size: dict, back: dict = VIEWPORT):
    """The page laid out at ``size`` (the browser lays it out again; Streamlit does not rerun),
    then at ``back``."""
    page.set_viewport_size(size)
    page.wait_for_timeout(300)
    try:
        yield
    finally:
        page.set_viewport_size(back)


def cut_labels(page) -> list[str]:
    """The visible labels drawn cut short: buttons, links, tabs, widget and metric labels and
    values whose text is wider than its box while the box hides the rest (Streamlit ends such a
    label with "…"). Each as ``"text [box width < text width]"``."""
    return page.evaluate("""() => {
        const roots = 'button, a, [role=tab], [data-testid=stWidgetLabel], [data-testid=stMetricLabel], '
                    + '[data-testid=stMetricValue]';
        const cut = new Set();
        for (const root of document.querySelectorAll(roots)) {
            const box = root.getBoundingClientRect();
            if (!root.offsetParent || box.width <= 1 || box.height <= 1) continue;   // hidden, or for screen readers
            if (box.right <= 0 || box.left >= window.innerWidth) continue;   // off screen: a folded sidebar
            for (const el of [root, ...root.querySelectorAll('*')]) {
                const style = getComputedStyle(el);
                const hides = style.textOverflow === 'ellipsis' || style.overflowX === 'hidden';
                const text = (el.innerText || '').trim();
                if (hides && text && el.scrollWidth > el.clientWidth + 1) {
                    cut.add(`${text.slice(0, 60)} [${el.clientWidth} < ${el.scrollWidth}]`);
                }
            }
        }
        return [...cut];
    }""")


def multiselect_add(page, multiselect, option: str) -> None:
    """Add ``option`` to a Streamlit multiselect (its ``stMultiSelect`` element), close its list
    and wait until the new chip shows."""
    from playwright.sync_api import expect

    choice = page.get_by_role("option", name=option, exact=True)
    # Streamlit 1.67's react-aria combobox: the first click on its input may only focus it (seen
    # often), and a rerun landing on the click can close the list, before the option shows or
    # between its showing and the click on it (CI, 2026-12-06); then its "Open" chevron opens it.
    attempts = 4
    for attempt in range(attempts):
        if attempt == 0:
            multiselect.get_by_role("combobox").click()
        else:
            multiselect.get_by_role("button", name="Open", exact=True).click()
        try:
            choice.click(timeout=5_000)
            break
        except Exception:  # noqa: BLE001 - the list did not open or closed again: try again
            if attempt == attempts - 1:
                raise
            page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    expect(multiselect_chips(multiselect).filter(has_text=option)).to_have_count(1)


def multiselect_chips(multiselect):
    """The chips of the values picked in a Streamlit multiselect (its ``stMultiSelect`` element)."""
    return multiselect.get_by_test_id("stMultiSelectTagsContainer").locator("[data-tag]")


def type_text(page, text_input, value: str) -> None:
    """Replace the text of an ``st.text_input`` (its ``stTextInput`` element) and press Enter, which
    sends it to the app (a rerun follows)."""
    from playwright.sync_api import expect

    box = text_input.locator("input")
    box.fill(value)
    box.press("Enter")
    expect(box).to_have_value(value)


def dataframe_rows(frame) -> list[list[str]]:
    """The cell texts of the body rows an ``st.dataframe`` (its ``stDataFrame`` element) shows, read
    from the accessible table glide-data-grid keeps behind its canvas (only rows in view). Cells
    hold the values, not their column_config format: ``22.75``, where the canvas draws ``22.8%``."""
    return frame.evaluate(
        """el => [...el.querySelectorAll('table[role=grid] tbody tr')]
                   .map(tr => [...tr.querySelectorAll('td')].map(td => td.textContent.trim()))"""
    )


def dataframe_columns(frame) -> list[str]:
    """The column headers of an ``st.dataframe``'s accessible table (see :func:`dataframe_rows`)."""
    return frame.evaluate(
        """el => [...el.querySelectorAll('table[role=grid] thead th')].map(th => th.textContent.trim())"""
    )
