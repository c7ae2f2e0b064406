"""The model builder's layer table fits a 1280x720 projector: nothing cut off on the right.

Its own module (a fresh server). The browser window is 1280x720; the table must be no wider than
its column, and each layer's explanation must be shown in full (wrapped, not clipped).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app_driver import main, screenshot, wait_for_app

pytestmark = pytest.mark.browser
PROJECTOR = {"width": 1280, "height": 720}


def test_the_layer_table_fits_its_column_at_1280x720(browser, app_server):
    context = browser.new_context(viewport=PROJECTOR)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{app_server.url}/model_builder")
        expect(main(page).get_by_role("heading", name="Layers", exact=True)).to_be_visible()
        wait_for_app(page)
        table = main(page).get_by_test_id("stTable").first
        table.scroll_into_view_if_needed()
        expect(table).to_contain_text("slides small filters over the picture to find patterns")
        sizes = table.evaluate("""element => {
            const inner = element.querySelector('table');
            const column = element.closest('[data-testid="stColumn"]') || element.parentElement;
            const cells = [...element.querySelectorAll('td, th')];
            return {table: inner.getBoundingClientRect().right, column: column.getBoundingClientRect().right,
                    scroll: element.scrollWidth, client: element.clientWidth,
                    clipped: cells.filter(c => c.scrollWidth > c.clientWidth + 1).length,
                    viewport: window.innerWidth};
        }""")
        screenshot(page, "layers-table-1280x720")
        assert sizes["table"] <= sizes["column"] + 1, sizes
        assert sizes["scroll"] <= sizes["client"] + 1, sizes
        assert sizes["clipped"] == 0, sizes
        assert sizes["table"] <= sizes["viewport"], sizes
    finally:
        context.close()
