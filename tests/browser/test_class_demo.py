"""In front of a class (issue 10): what the audience sees must be true and must work offline.

1. A run stuck at chance level (the issue's case: MNIST sample, lenet, SGD with momentum,
   learning rate 1, flat 10%) is called guessing, with its likely cause, never "going well".
2. The browser tab icon comes from the app's own server, not from a font server on the internet.

The chance-level run is stored directly in the server's workspace (no training), as the issue
saw it; the page reads it like any run.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from app_driver import main, screenshot, wait_for_app
from chance_run import make_chance_run

pytestmark = pytest.mark.browser


def test_a_run_at_chance_level_is_called_guessing_not_going_well(page, app_server):
    make_chance_run(app_server.workspace, name="learning rate 1")
    page.goto(f"{app_server.url}/training")
    expect(main(page).get_by_role("heading", name="learning rate 1")).to_be_visible()
    wait_for_app(page)
    reading = main(page).get_by_test_id("stAlertContentError").filter(has_text="chance level")
    expect(reading).to_have_count(1)
    expect(reading).to_contain_text("10%")
    expect(reading).to_contain_text("learning rate (1) is far too high")
    expect(main(page)).not_to_contain_text("going well")
    expect(main(page)).not_to_contain_text("levelled off")
    screenshot(page, "training-at-chance-level")


def test_the_tab_icon_is_served_by_the_app_itself(page, app_server):
    elsewhere = []
    page.on("request", lambda request: urlsplit(request.url).hostname not in ("127.0.0.1", None)
            and request.url.startswith("http") and elsewhere.append(request.url))
    page.goto(app_server.url)
    wait_for_app(page)
    # Streamlit sets the icon from the app's page config once the script has run; before that the
    # link holds its own built-in favicon (also local). A file page_icon is served under /media/.
    page.wait_for_function("document.querySelector(\"link[rel='shortcut icon']\").href.includes('/media/')",
                           timeout=30_000)
    href = page.evaluate("document.querySelector(\"link[rel='shortcut icon']\").href")
    assert urlsplit(href).hostname == "127.0.0.1", href
    response = page.request.get(href)
    assert response.ok and response.headers["content-type"].startswith("image/png")
    assert not [url for url in elsewhere if "gstatic" in url or "googleapis" in url], elsewhere
