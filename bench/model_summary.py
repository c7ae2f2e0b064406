"""What one slider step on the model builder costs: the pure shape walk vs building the Keras model.

Walks the Filters slider of the default preset (every value on its list, as keyboard steps do)
and times, per step, :func:`cnn_core.model.plan_summary` (what the page uses now) and
:func:`cnn_core.model.build_model` + :func:`cnn_core.model.summarize` (what it used before),
checking both give the same totals. The last line is e.g.
``per slider step: shape walk 40 µs, Keras build 64 ms (1588x)``.

Usage (from the repository root)::

    python bench/model_summary.py [--repeats 3]

Times depend on the share of the 2 cores this process gets; the ratio is the figure to read.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="walks of the slider (best counts)")
    args = parser.parse_args()

    from cnn_core.model import DEFAULT_PRESET, PRESETS, build_model, plan_summary, summarize
    from cnn_core.settings import declared

    from cnn_core.errors import SpecError

    base = PRESETS[DEFAULT_PRESET]
    shape, classes = (28, 28, 1), 10
    steps = []
    for value in declared(base)["filters"].ladder:  # the values the page can show a summary for
        spec = base.replace(filters=value)
        try:
            plan_summary(spec, shape, classes)
        except SpecError:  # too big to build: the page shows the error instead
            continue
        steps.append(spec)
    summarize(build_model(base, shape, classes))  # imports and warms up Keras once

    def walk(summary_of) -> float:
        start = time.perf_counter()
        for spec in steps:
            summary_of(spec)
        return (time.perf_counter() - start) / len(steps)

    plan = min(walk(lambda s: plan_summary(s, shape, classes)) for _ in range(args.repeats))
    built = min(walk(lambda s: summarize(build_model(s, shape, classes))) for _ in range(args.repeats))
    for spec in steps:
        assert plan_summary(spec, shape, classes).total_params == \
            summarize(build_model(spec, shape, classes)).total_params
    print(f"{len(steps)} steps of the Filters slider on {DEFAULT_PRESET}, best of {args.repeats}; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"per slider step: shape walk {plan * 1e6:.0f} µs, Keras build {built * 1000:.0f} ms "
          f"({built / plan:.0f}x)")


if __name__ == "__main__":
    main()
