"""The whole setup survives a reload and is one link (issue 10, items 5, 8 and 9), in the real app.

1. Pick Shapes, set dense layers to 1, switch mirror on in Augmentation and press "Use for
   training"; reload: the data set, the model and the augmentation are all still set, and the
   Training page says the next run trains them. The address bar is the link: opened in a new
   browser context (another person), it reproduces the same setup; the run trained from it
   records exactly that setup, and the Training page shows its settings in the sliders' words.
2. A link with a value the app cannot use shows a warning; it goes when the user leaves and
   comes back with a clean URL.
3. The "All runs" table on the Training page agrees with the live panel when a run ends.
"""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from app_driver import (VIEWPORT, Clock, choose_dataset, dataframe_columns, dataframe_rows, expander, main,
                        metric, open_page, screenshot, set_slider, wait_for_app, wait_for_path, widget)
from test_journeys import EPOCH_TIMEOUT, FIRST_EPOCH_TIMEOUT, open_app, sidebar, wait_for_status_text

pytestmark = pytest.mark.browser

LINK_WARNING = "Some settings in the link could not be used"


def query(page) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(page.url).query).items()}


def wait_for_query(page, **wanted: str) -> dict[str, str]:
    """Wait until the address bar carries ``wanted`` (the app writes it after each page run)."""
    page.wait_for_function(
        """wanted => { const q = new URLSearchParams(location.search);
                       return Object.entries(wanted).every(([k, v]) => q.get(k) === v); }""",
        arg=wanted, timeout=30_000, polling=200)
    return query(page)


def mirror_toggle(page):
    """The Augmentation page's "Mirror" switch (an ``st.toggle``: a ``stCheckbox`` element)."""
    return main(page).get_by_test_id("stCheckbox").filter(has_text=re.compile(r"^\s*Mirror\s*$"))


def dense_layers(page):
    return widget(main(page), "stSlider", "Dense layers")


def expect_setup(page, clock, where: str) -> None:
    """Sidebar on Shapes, model builder's dense layers 1, mirror on in Augmentation."""
    expect(widget(sidebar(page), "stSelectbox", "Data set").locator("input")).to_have_value("Shapes")
    open_page(page, "Model builder", "model_builder")
    expect(dense_layers(page).get_by_test_id("stSliderThumbValue")).to_have_text("1")
    open_page(page, "Augmentation", "augmentation")
    expect(mirror_toggle(page).locator("input")).to_be_checked()
    expect(main(page).get_by_text(re.compile(r"^The next training run uses these settings: mirror"))).to_be_visible()
    open_page(page, "Training", "training")
    expect(main(page).get_by_text(re.compile(r"^Next run: data set Shapes"))).to_contain_text(
        "augmentation: mirror left ↔ right")
    clock(f"setup still set ({where})")


def test_the_whole_setup_survives_a_reload_and_is_one_link(page, browser, app_server, run_store):
    clock = Clock()
    open_app(page, app_server)
    choose_dataset(page, "Shapes")
    open_page(page, "Model builder", "model_builder")
    set_slider(page, dense_layers(page), 1)
    wait_for_app(page)
    open_page(page, "Augmentation", "augmentation")
    mirror_toggle(page).locator("label").first.click()
    expect(mirror_toggle(page).locator("input")).to_be_checked()
    wait_for_app(page)
    main(page).get_by_role("button", name="Use for training").click()
    expect(main(page).get_by_text(re.compile(r"^The next training run uses these settings: mirror"))).to_be_visible()
    wait_for_app(page)
    link = wait_for_query(page, dataset="shapes", dense_layers="1", aug_flip="horizontal")
    clock(f"set up: {link}")

    page.reload()
    expect(main(page).get_by_role("heading", name="Augmentation", exact=True)).to_be_visible()
    wait_for_app(page)
    expect_setup(page, clock, "after a reload")

    shared = page.url
    other = browser.new_context(viewport=VIEWPORT).new_page()
    try:
        other.goto(shared)
        expect(main(other).get_by_role("heading", name="Training", exact=True)).to_be_visible()
        wait_for_app(other)
        expect_setup(other, clock, "the shared link in a new browser context")
        # What it trains is what the screen shows, and the run shows it in the sliders' words.
        before = {run.id for run in run_store.list_runs()}
        main(other).get_by_role("button", name="Start training").click()
        expect(main(other).get_by_text(re.compile(r"^Data set \w+ · preset"))).to_contain_text(
            "augmentation: mirror left ↔ right", timeout=FIRST_EPOCH_TIMEOUT)
        run = next(r for r in run_store.list_runs() if r.id not in before)
        assert run.config["dataset"]["id"] == "shapes"
        assert run.config["model"]["dense_layers"] == 1
        assert run.config["augment"]["flip"] == "horizontal"
        settings = expander(main(other), "Every setting this run trained with")
        settings.locator("summary").click()
        for line in ("Dense layers: 1", "Mirror: left ↔ right", "Data set: Shapes", "Validation share: 10%"):
            expect(settings.get_by_text(line, exact=True)).to_be_visible()
        wait_for_query(other, run=run.id)   # the followed run is part of the link too
        screenshot(other, "setup-shared-link-run-settings")
        clock("shared link trained exactly the setup")
    finally:
        other.context.close()


def test_a_link_warning_goes_after_leaving_and_coming_back(page, app_server):
    page.goto(f"{app_server.url}/model_builder?learning_rate=fast&dataset=shapes")
    expect(main(page).get_by_role("heading", name="Model builder", exact=True)).to_be_visible()
    wait_for_app(page)
    expect(main(page).get_by_text(LINK_WARNING)).to_be_visible()
    expect(widget(sidebar(page), "stSelectbox", "Data set").locator("input")).to_have_value("Shapes")
    open_page(page, "Home", "", heading="CNN Lab")
    expect(main(page).get_by_text(LINK_WARNING)).to_have_count(0)
    open_page(page, "Model builder", "model_builder")
    expect(main(page).get_by_text(re.compile(r"^Sized for "))).to_be_visible()
    expect(main(page).get_by_text(LINK_WARNING)).to_have_count(0)
    assert "learning_rate" not in query(page)   # the URL is the setup on screen, cleaned


def test_the_runs_table_agrees_with_the_live_panel_when_a_run_ends(page, app_server, run_store):
    clock = Clock()
    open_app(page, app_server)
    choose_dataset(page, "Shapes")
    open_page(page, "Model builder", "model_builder")
    expander(main(page), "Optimisation").locator("summary").click()
    set_slider(page, widget(main(page), "stSlider", "Epochs"), 3)
    wait_for_app(page)
    main(page).get_by_role("button", name="Train this model").click()
    wait_for_path(page, "training")
    wait_for_status_text(page, r"^Finished:", timeout=FIRST_EPOCH_TIMEOUT + 3 * EPOCH_TIMEOUT)
    clock("run finished")
    expect(metric(main(page), "Epochs done")).to_contain_text("3 of 3")
    table = main(page).get_by_test_id("stDataFrame").first
    expect(table).to_be_visible()
    deadline = time.monotonic() + 15   # the table is drawn by the same fragment run as the panel
    while True:   # (the page run that follows a run's end redraws it: its header can be empty a moment)
        columns, rows = dataframe_columns(table), dataframe_rows(table)
        shown = (rows[0][columns.index("epochs") - (len(columns) - len(rows[0]))]
                 if rows and "epochs" in columns else None)
        if shown == "3 of 3":
            break
        assert time.monotonic() < deadline, f"the All runs table says {shown!r} while the panel says 3 of 3"
        page.wait_for_timeout(300)
    screenshot(page, "runs-table-agrees")
    clock("table agrees")
