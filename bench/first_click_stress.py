"""Stress loop for issue 10 item 12: fresh servers, one "Train a first model" click each.

Each round starts ``streamlit run app.py`` on an empty workspace, opens home in headless
Chromium, clicks "Train a first model" as soon as home is drawn, and waits (bounded) for the
first point on the training chart, then for "Finished". A round fails when the chart or the
ending does not show in time, or the page goes blank; the failure's screenshot, the server log's
tail and the page's JavaScript errors are printed. Every server's log is also scanned for
tracebacks ("Exception", "Traceback", "partially initialized module").

Run (from the repository root)::

    python bench/first_click_stress.py [--rounds 5] [--timeout 120]

The last line is the headline: ``first-click stress: 0 of 5 rounds failed (first point median 6.1 s)``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ui  # noqa: E402  (bench/ui.py: server start, Chromium, chart polling)

PROBLEMS = ("Traceback", "Exception", "partially initialized module", "Error")


def one_round(playwright, timeout: float) -> tuple[float | None, str]:
    workspace = Path(tempfile.mkdtemp(prefix="cnnlab-stress-"))
    log_path = workspace / "streamlit.log"
    process, url, _ = ui.start_server(workspace, log_path)
    browser = playwright.chromium.launch(executable_path=ui.chromium_path(), headless=True,
                                         args=ui.CHROMIUM_ARGS)
    errors: list[str] = []
    try:
        ui.wait_healthy(process, url, log_path)
        page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
        page.on("pageerror", lambda error: errors.append(str(error)[:300]))
        page.goto(url)
        ui.wait_rendered(page, "CNN Lab", ui.PAGES[0][3])
        started = time.perf_counter()
        page.get_by_role("button", name="Train a first model").click()
        try:
            page.wait_for_function(ui.CHART_POINTS, arg=1, timeout=timeout * 1000, polling=100)
            first = time.perf_counter() - started
            page.get_by_text("Finished:", exact=False).first.wait_for(timeout=timeout * 1000)
        except Exception as error:  # noqa: BLE001 - report what the page showed
            shot = ui.REPO / "test-artifacts" / f"stress-fail-{int(time.time())}.png"
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot))
            body = page.locator("body").inner_text()[:300].replace("\n", " | ")
            return None, f"{type(error).__name__}; page text: {body!r}; js errors: {errors[:3]}; shot {shot}"
        log = log_path.read_text(errors="replace")
        found = [line for line in log.splitlines() if any(p in line for p in PROBLEMS)
                 and "cuInit" not in line and "absl" not in line]
        return first, ("log: " + " / ".join(found[:3])) if found else ""
    finally:
        browser.close()
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per wait")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    print(f"load average before: {ui.load()}")
    firsts, failures = [], 0
    with sync_playwright() as playwright:
        for number in range(1, args.rounds + 1):
            first, note = one_round(playwright, args.timeout)
            if first is None:
                failures += 1
                print(f"round {number}: FAILED {note}")
            else:
                firsts.append(first)
                print(f"round {number}: first point {first:.1f} s {note}")
    median = f"{statistics.median(firsts):.1f} s" if firsts else "–"
    print(f"first-click stress: {failures} of {args.rounds} rounds failed (first point median {median})")


if __name__ == "__main__":
    main()
