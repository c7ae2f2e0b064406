"""What one poll of the Training page's live view costs the server, in CPU milliseconds.

A temporary workspace gets ``--runs`` finished runs (``--epochs`` epochs each, as a class would
leave them) and one live run that the session follows. The Training page is opened with AppTest
and run again ``--repeats`` times: each run after the first executes only the page script (see
tests/page_helpers.py), which is the live view's fragment plus the page's title, so its CPU time
is what one poll costs (AppTest's tree parsing instead of the server's protobuf sending).
A breakdown times the pieces the fragment calls, outside Streamlit.

Nothing trains; one process, light (a few seconds of CPU). Run:
    python bench/live_view_cost.py [--runs 60] [--epochs 15] [--repeats 30]
Also printed: the sidebar's run card fragment on the same run, each timed in the script thread.
The last line is the headline, e.g. ``live view poll: median 21.0 ms CPU (fragment alone)``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["CNN_LAB_WORKSPACE"] = tempfile.mkdtemp(prefix="cnnlab-live-view-")
os.environ.setdefault("CNN_LAB_PRELOAD_TENSORFLOW", "0")

CURVE = [(1.4 - 0.05 * k, 0.45 + 0.02 * k, 1.2 - 0.04 * k, 0.55 + 0.02 * k) for k in range(40)]


def fill_workspace(runs: int, epochs: int) -> str:
    """``runs`` finished runs and one running run (8 epochs in, mid-epoch); returns the live run's id."""
    from cnn_core.runs import RunStore

    store = RunStore()
    config = {"dataset": {"id": "shapes"}, "preset": "fast",
              "model": {"epochs": epochs, "batch_size": 32, "learning_rate": 0.001}}
    for number in range(runs):
        run_id = store.create_run(config, name=f"run {number}")
        store.set_status(run_id, "running")
        store.add_epochs(run_id, [{"epoch": e + 1, "loss": l, "accuracy": a, "val_loss": vl, "val_accuracy": va,
                                   "seconds": 2.0} for e, (l, a, vl, va) in enumerate(CURVE[:epochs])])
        store.set_result(run_id, test_accuracy=0.8, test_loss=0.5, train_seconds=30.0)
        store.set_status(run_id, "finished", f"Trained {epochs} epochs.")
    live = store.create_run({**config, "model": {**config["model"], "epochs": 20}}, name="live run")
    store.set_status(live, "running")
    store.add_epochs(live, [{"epoch": e + 1, "loss": l, "accuracy": a, "val_loss": vl, "val_accuracy": va,
                             "seconds": 2.0} for e, (l, a, vl, va) in enumerate(CURVE[:8])])
    store.set_progress(live, phase="training", epoch=9, epochs=20, batch=5, batches=12, seconds_left=30.0)
    return live


#: CPU seconds of each run of a fragment, by the name of its function ("draw": the Training page's
#: live view; "card": the sidebar's run card), timed in the script thread.
FRAGMENT_TIMES: dict[str, list[float]] = {}


def time_fragments() -> None:
    """Wrap ``st.fragment`` so every run of a fragment's function records its thread CPU time."""
    import functools

    import streamlit as st

    real = st.fragment

    def timing_fragment(func=None, **options):
        def decorate(function):
            @functools.wraps(function)   # same name and qualname: the same fragment identity
            def timed(*args, **kwargs):
                started = time.thread_time()
                try:
                    return function(*args, **kwargs)
                finally:
                    FRAGMENT_TIMES.setdefault(function.__name__, []).append(time.thread_time() - started)
            return real(timed, **options)
        return decorate(func) if func is not None else decorate

    st.fragment = timing_fragment


def page_poll_ms(live: str, repeats: int) -> tuple[list[float], list[float], list[float]]:
    """Page-script CPU per run (ms), the live view's fragment alone, and the sidebar card's."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["dataset_id"] = "shapes"
    at.session_state["active_run_id"] = live
    at.run()
    at.switch_page("pages/training.py").run()
    assert not at.exception, at.exception
    assert at.subheader[0].value == "live run", [s.value for s in at.subheader]
    at.run()   # warm
    FRAGMENT_TIMES.clear()
    times = []
    for _repeat in range(repeats):
        started = time.process_time()
        at.run()
        times.append((time.process_time() - started) * 1000)
    assert not at.exception, at.exception
    draw = [t * 1000 for t in FRAGMENT_TIMES.get("draw", [])]
    card = AppTest.from_function(_sidebar_card_only, default_timeout=60)
    card.session_state["active_run_id"] = live
    card.run()
    for name in CARD_NAMES:
        FRAGMENT_TIMES.pop(name, None)
    for _repeat in range(repeats):
        card.run()
    assert not card.exception, card.exception
    return times, draw, [t * 1000 for name in CARD_NAMES for t in FRAGMENT_TIMES.get(name, [])]


#: The card's fragment function: "card" (defined per page run), "active_run_card" (before issue 13).
CARD_NAMES = ("card", "active_run_card")


def _sidebar_card_only() -> None:
    from components.sidebar import active_run_card

    active_run_card()


def piece_ms(function, repeats: int = 50) -> float:
    function()
    started = time.process_time()
    for _repeat in range(repeats):
        function()
    return (time.process_time() - started) * 1000 / repeats


def breakdown(live: str) -> dict[str, float]:
    """The pieces one poll calls, each timed alone (ms CPU)."""
    import plotly.io

    from cnn_core import classroom
    from cnn_core.curve_reading import read_run
    from cnn_core.run_record import Starter
    from cnn_core.runs import RunStore
    from components.run_charts import curves_figure
    from components import run_picker

    runs_table = getattr(run_picker, "_runs_table", run_picker.runs_table)   # the build, not its cache
    store = RunStore()
    me = Starter("0" * 24)
    run = store.get(live)
    epochs = store.epochs(live)
    figure = curves_figure(epochs, 3)
    return {
        "store.get": piece_ms(lambda: store.get(live)),
        "list_runs + visible_runs": piece_ms(lambda: classroom.visible_runs(store.list_runs(), me)),
        "store.epochs": piece_ms(lambda: store.epochs(live)),
        "read_run": piece_ms(lambda: read_run(store, run, epochs)),
        "curves_figure (build)": piece_ms(lambda: curves_figure(epochs, 3), 20),
        "figure to JSON": piece_ms(lambda: plotly.io.to_json(figure, validate=False), 20),
        "runs_table (build)": piece_ms(lambda: runs_table(store.list_runs()), 20),
        **kept_pieces(store, epochs),
    }


def kept_pieces(store, epochs) -> dict[str, float]:
    """The same two builds through their caches, when this version has them."""
    try:
        from components.run_charts import shared_curves_figure
    except ImportError:
        return {}
    from components.run_picker import runs_table

    return {"shared_curves_figure (kept)": piece_ms(lambda: shared_curves_figure(epochs, 3)),
            "runs_table (kept)": piece_ms(lambda: runs_table(store.list_runs()))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60, help="finished runs in the workspace (a class's)")
    parser.add_argument("--epochs", type=int, default=15, help="epochs of each finished run")
    parser.add_argument("--repeats", type=int, default=30, help="polls timed")
    args = parser.parse_args()
    live = fill_workspace(args.runs, args.epochs)
    for name, ms in breakdown(live).items():
        print(f"  {name:<26} {ms:7.2f} ms")
    time_fragments()
    times, draw, card = page_poll_ms(live, args.repeats)
    print(f"load {'/'.join(f'{v:.2f}' for v in os.getloadavg())}; {args.runs} finished runs, {args.repeats} polls")
    print(f"  Training page script (AppTest, with its compile): median {statistics.median(times):.1f} ms CPU")
    if card:
        print(f"  sidebar run card fragment: median {statistics.median(card):.1f} ms CPU")
    print(f"live view poll: median {statistics.median(draw):.1f} ms CPU (fragment alone)")


if __name__ == "__main__":
    main()
