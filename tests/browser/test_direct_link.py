"""A bookmark: the very first visit to a fresh server goes straight to a page's address.

Its own module, so its server is fresh: no one has opened the home page before this test.
Streamlit's old pages-folder mode would show that page alone, with Streamlit's own page list
(an "app" entry, lower-case file names) and no CNN Lab sidebar; the app's shell must be there.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app_driver import main, screenshot, wait_for_app, widget

pytestmark = pytest.mark.browser


def test_first_visit_by_a_page_address_shows_the_whole_app(page, app_server):
    page.goto(f"{app_server.url}/model_builder")
    expect(main(page).get_by_role("heading", name="Model builder", exact=True)).to_be_visible()
    wait_for_app(page)
    sidebar = page.get_by_test_id("stSidebar")
    nav = page.get_by_test_id("stSidebarNav")
    for label in ("Home", "Data sets", "Training", "Compare"):
        expect(nav.get_by_role("link", name=label, exact=True)).to_have_count(1)
    expect(nav.get_by_role("link", name="app", exact=True)).to_have_count(0)
    expect(widget(sidebar, "stSelectbox", "Data set")).to_be_visible()
    expect(sidebar).to_contain_text("Training runs on:")
    screenshot(page, "direct-link-model_builder")

    # and the app goes on from there: the sidebar's home link opens the home page
    nav.get_by_role("link", name="Home", exact=True).click()
    expect(main(page).get_by_role("heading", name="CNN Lab", exact=True)).to_be_visible()
