"""Is the fast preset compute-bound here? Its convolutions' rate against the cores' peak.

Times, in the precision the preset computes in (bfloat16; ``--float32`` for the other):

1. a large matrix product (4096 x 4096): the rate the cores reach at best;
2. each of the fast preset's six convolutions alone, forward and both backward products, on a
   batch of 256 at the preset's sizes (the whitening layer's 24 channels at 31x31 in, then
   64-96-144 filters): their rate and their microseconds a picture;
3. the whole training step of the fast preset on random pictures (``model.fit``), in
   microseconds a picture, with the share of two cores it got.

The last line is the convolutions' rate over the matrix product's, e.g.
``convolution rate / matrix-product peak 1.06``: near 1 (or above, with the kernels'
tricks) no kernel or thread setting can make the step much faster; only less work can.
Measured 2026-12-06 on 2 AMD EPYC cores (avx512_bf16, no AMX): matrix product 389-395
GFLOP/s, convolutions 399-411 GFLOP/s (670-689 µs a picture); the step 848 µs a picture at a
core share of 0.94 when the preset learned by SGD, 997 µs at 0.77 with Muon (one run each;
in real epochs the two cost about the same: 38.1 and 38.6 s for 45,000 pictures).

Computers without bfloat16 units, imitated on the same cores (2026-12-06; convolutions' µs a
picture, bfloat16 against float32): oneDNN held to AVX-512 without BF16
(``ONEDNN_MAX_CPU_ISA=AVX512_CORE``, e.g. Intel Skylake to Ice Lake) 3,062 against 1,013;
without oneDNN (``TF_ENABLE_ONEDNN_OPTS=0``: Eigen, the path TensorFlow takes for bfloat16 on
processors without AVX-512, most laptops) 30,041 against 1,847; with the units 670-689 against
1,212. (``ONEDNN_MAX_CPU_ISA=AVX2`` aborts in bfloat16: oneDNN has no such matrix product.) So
the fast presets compute in bfloat16 only where the computer has the units (precision "auto",
:func:`cnn_core.device.has_bfloat16_units`).

Usage::

    python bench/conv_peak.py            # ~1 minute on 2 idle cores
    python bench/conv_peak.py --float32
    TF_ENABLE_ONEDNN_OPTS=0 python bench/conv_peak.py   # as on a laptop without AVX-512
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BATCH = 256
#: (height = width, input channels, filters) of the fast preset's convolutions.
CONVOLUTIONS = [(31, 24, 64), (15, 64, 64), (15, 64, 96), (7, 96, 96), (7, 96, 144),
                (3, 144, 144)]


def _seconds(fn, repeats: int) -> float:
    fn()                                   # traces
    start = time.perf_counter()
    for _ in range(repeats):
        out = fn()
    _ = [o.numpy() for o in (out if isinstance(out, (list, tuple)) else [out])]
    return (time.perf_counter() - start) / repeats


def matmul_rate(dtype, size: int = 4096) -> float:
    import tensorflow as tf

    a = tf.cast(tf.random.normal((size, size)), dtype)
    b = tf.cast(tf.random.normal((size, size)), dtype)
    return 2 * size ** 3 / _seconds(tf.function(lambda: tf.matmul(a, b)), 10)


def convolution_seconds(dtype) -> list[tuple[tuple[int, int, int], float, float]]:
    """((size, in, out), seconds, FLOPs) of each convolution's training work on a batch."""
    import tensorflow as tf

    out = []
    for hw, cin, cout in CONVOLUTIONS:
        x = tf.Variable(tf.random.normal((BATCH, hw, hw, cin)))
        w = tf.Variable(tf.random.normal((3, 3, cin, cout)) * 0.1)

        @tf.function
        def step(x=x, w=w):
            with tf.GradientTape() as tape:
                y = tf.nn.conv2d(tf.cast(x, dtype), tf.cast(w, dtype), 1, "SAME")
                total = tf.reduce_sum(tf.cast(y, tf.float32))
            return tape.gradient(total, [x, w])
        flops = BATCH * hw * hw * cin * cout * 9 * 2 * 3      # forward + two backward products
        out.append(((hw, cin, cout), _seconds(step, 10), flops))
    return out


def step_microseconds(precision: str) -> tuple[float, float]:
    """(µs a picture, share of two cores) of the fast preset's training step."""
    import numpy as np
    import tensorflow as tf

    from cnn_core.model import PRESETS, build_model, compile_model
    from cnn_core.preprocessing import fit_scaling

    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (BATCH * 24, 32, 32, 3)).astype("uint8")
    y = np.eye(10, dtype="float32")[rng.integers(0, 10, len(x))]
    spec = PRESETS["fast"].replace(precision=precision, hard_share=1.0)
    model = build_model(spec, x.shape[1:], 10, fit_scaling("standardize_channel", x),
                        train_images=x[:500])
    compile_model(model, spec, 100, "onehot")
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH).cache().repeat()
    model.fit(data, steps_per_epoch=3, epochs=1, verbose=0)
    wall0, cpu0 = time.monotonic(), time.process_time()
    model.fit(data, steps_per_epoch=20, epochs=1, verbose=0)
    wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
    return wall / (20 * BATCH) * 1e6, cpu / (2 * wall)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--float32", action="store_true", help="time float32 instead of bfloat16")
    args = parser.parse_args(argv)
    import tensorflow as tf

    dtype = tf.float32 if args.float32 else tf.bfloat16
    print(f"load average at start {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", flush=True)
    peak = matmul_rate(dtype)
    print(f"matrix product {peak / 1e9:.0f} GFLOP/s ({dtype.name})", flush=True)
    convs = convolution_seconds(dtype)
    for (hw, cin, cout), seconds, flops in convs:
        print(f"  {hw}x{hw} {cin}->{cout}: {seconds * 1e3:.1f} ms, {flops / seconds / 1e9:.0f} "
              f"GFLOP/s", flush=True)
    seconds = sum(s for _, s, _ in convs)
    rate = sum(f for _, _, f in convs) / seconds
    print(f"convolutions {rate / 1e9:.0f} GFLOP/s, {seconds / BATCH * 1e6:.0f} µs a picture",
          flush=True)
    per_picture, share = step_microseconds(dtype.name)
    print(f"the fast preset's training step {per_picture:.0f} µs a picture (core share "
          f"{share:.2f})")
    print(f"convolution rate / matrix-product peak {rate / peak:.2f}")


if __name__ == "__main__":
    main()
