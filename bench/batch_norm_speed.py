"""How much does CNN Lab's fused batch norm save? Train steps of the fast preset, both ways.

Builds ``PRESETS["fast"]`` twice, once with CNN Lab's batch norm
(:mod:`cnn_core.model.fused_batch_norm`, TensorFlow's fused kernel) and once with Keras' own
``BatchNormalization``, and times training steps of 256 random pictures, the two alternating
(``--rounds`` times each) so a busy moment hits both alike. Prints each round, the medians, the
share of two cores each got, and last the ratio fused / Keras (below 1: the fused layer is
faster), e.g. ``fused batch norm step ratio 0.55``.

Usage::

    python bench/batch_norm_speed.py              # ~2 minutes on 2 idle cores
    python bench/batch_norm_speed.py --rounds 1 --steps 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_support import load  # noqa: E402 - python bench/NAME.py puts bench/ on the path


def _model(fused: bool, x, batch: int):
    import keras

    import cnn_core.model.build as build
    from cnn_core.model import PRESETS, compile_model
    from cnn_core.preprocessing import fit_scaling

    spec = PRESETS["fast"].replace(batch_size=batch)
    original = build.BatchNormalization
    build.BatchNormalization = original if fused else keras.layers.BatchNormalization
    try:
        model = build.build_model(spec, x.shape[1:], 10, fit_scaling("standardize_channel", x),
                                  train_images=x[:500])
    finally:
        build.BatchNormalization = original
    compile_model(model, spec, 100, "onehot")
    return model


def _time_steps(model, x, y, batch: int, steps: int) -> tuple[float, float]:
    """(seconds a step, share of two cores) over ``steps`` steps of ``batch`` pictures."""
    n = batch * steps
    wall0, cpu0 = time.monotonic(), time.process_time()
    model.fit(x[:n], y[:n], batch_size=batch, epochs=1, verbose=0, shuffle=False)
    wall = time.monotonic() - wall0
    return wall / steps, (time.process_time() - cpu0) / (2 * wall)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args(argv)

    import numpy as np

    from cnn_core.preprocessing import encode_labels

    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (args.batch * args.steps, 32, 32, 3)).astype("uint8")
    y = encode_labels(rng.integers(0, 10, len(x)), 10, "onehot")
    models = {kind: _model(kind == "fused", x, args.batch) for kind in ("fused", "keras")}
    for model in models.values():                       # trace and warm up both
        _time_steps(model, x, y, args.batch, min(3, args.steps))
    seconds: dict[str, list[float]] = {kind: [] for kind in models}
    shares: dict[str, list[float]] = {kind: [] for kind in models}
    print(f"load before {load()}", flush=True)
    for r in range(args.rounds):
        for kind, model in models.items():
            step, share = _time_steps(model, x, y, args.batch, args.steps)
            seconds[kind].append(step)
            shares[kind].append(share)
            print(f"round {r + 1} {kind}: {step * 1000:.0f} ms a step, core share {share:.2f}", flush=True)
    medians = {kind: statistics.median(v) for kind, v in seconds.items()}
    for kind in models:
        print(f"{kind} batch norm: median {medians[kind] * 1000:.0f} ms a step of {args.batch}, "
              f"core share {statistics.median(shares[kind]):.2f}")
    print(f"load after {load()}")
    print(f"fused batch norm step ratio {medians['fused'] / medians['keras']:.2f}")


if __name__ == "__main__":
    main()
