"""What does one keyboard step on a model builder slider cost? Measured in real Chromium.

Starts ``streamlit run app.py`` on a temporary workspace (helpers from ``bench/ui.py``), opens the
model builder on Shapes and moves the "Filters in the first block" slider with the arrow keys,
as a person would: one key press, then the next ``--gap`` seconds later. Measures

* **per step**: from a key press until the app has finished the rerun it caused (median);
* **6 -> 32**: from the first key press to the value 32 shown with the app idle (the issue's
  "filters 6 -> 32 took 4.6 s").

Run (from the repository root)::

    python bench/slider_steps.py [--gap 0.3] [--rounds 3]

The last line is the headline: ``filters 6 -> 32 by keyboard: 2.1 s (5 steps), 0.35 s per
step; load average ...``. On a 2-core machine shared with other work every figure grows with the
load, which is printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO))

from ui import CHROMIUM_ARGS, IDLE, chromium_path, load, start_server, wait_healthy  # noqa: E402

SLIDER = "Filters in the first block"


def thumb_of(page):
    main = page.get_by_test_id("stMain")
    slider = main.get_by_test_id("stSlider").filter(
        has=page.get_by_test_id("stWidgetLabel").get_by_text(SLIDER, exact=True))
    return slider, slider.get_by_role("slider")


def wait_idle(page) -> None:
    page.wait_for_timeout(120)   # the rerun a key press starts may not have begun yet
    page.wait_for_selector(IDLE, timeout=120_000)


def one_round(page, url: str, gap: float) -> tuple[float, list[float], int]:
    page.goto(f"{url}/model_builder?dataset=shapes&preset=lenet")
    page.get_by_test_id("stMain").get_by_text("Sized for", exact=False).first.wait_for(timeout=180_000)
    wait_idle(page)
    slider, thumb = thumb_of(page)
    steps: list[float] = []
    thumb.focus()
    started = time.perf_counter()
    count = 0
    while slider.get_by_test_id("stSliderThumbValue").inner_text().strip() != "32":
        pressed = time.perf_counter()
        thumb.press("ArrowRight")
        count += 1
        page.wait_for_timeout(gap * 1000)
        wait_idle(page)
        steps.append(time.perf_counter() - pressed - gap)
        if count > 20:
            sys.exit("the slider did not reach 32 in 20 steps")
    total = time.perf_counter() - started
    return total, steps, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gap", type=float, default=0.3, help="seconds between key presses")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    print(f"load average before: {load()} (1/5/15 min)")
    workspace = Path(tempfile.mkdtemp(prefix="cnn-lab-slider-"))
    process, url, _ = start_server(workspace, workspace / "streamlit.log")
    try:
        wait_healthy(process, url, workspace / "streamlit.log")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            one_round(page, url, args.gap)  # warm-up: caches, the cost-estimate timing
            totals, steps, counts = [], [], []
            for _ in range(args.rounds):
                total, step_times, count = one_round(page, url, args.gap)
                totals.append(total)
                steps.extend(step_times)
                counts.append(count)
                print(f"6 -> 32: {total:.2f} s in {count} steps; steps {[round(s, 2) for s in step_times]}")
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=15)
    print(f"filters 6 -> 32 by keyboard: {statistics.median(totals):.2f} s ({counts[0]} steps, {args.gap} s "
          f"between presses), {statistics.median(steps):.2f} s per step after the press; load average {load()}")


if __name__ == "__main__":
    main()
