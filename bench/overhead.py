"""Overhead of CNN Lab's training machinery compared with a plain ``model.fit``.

Both sides train the same model (same spec, same seed) on the same prepared arrays through the
same tf.data pipeline (``cnn_core.training.make_dataset``) with the same batch size and
validation data. The plain side calls ``model.fit(..., verbose=0)`` with no callbacks; the CNN
Lab side calls ``run_training`` (LiveMetricsCallback with progress points and stop/pause checks,
SQLite epoch rows, an atomic checkpoint each epoch, TensorBoard logs, EarlyStopping off).

Timed: the ``fit`` call only, on both sides. Data set loading, model building, the final test
prediction and saving ``model.keras`` are excluded from both (for run_training the figure is the
run's stored ``train_seconds``, which is exactly the duration of its ``fit`` call).
The order alternates (plain first, then CNN Lab first, ...) and the ratio is of the medians.

Run:  python bench/overhead.py [--dataset mnist_sample] [--preset lenet] [--epochs 15] [--repeats 5]
The last line printed is the headline, e.g. ``overhead ratio 1.01x``.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402

from cnn_core import model as models  # noqa: E402
from cnn_core.preprocessing import PreprocessSpec  # noqa: E402
from cnn_core.runs import RunStore  # noqa: E402
from cnn_core.training import (  # noqa: E402
    TrainingRequest,
    load_request_dataset,
    make_dataset,
    prepare_data,
    run_training,
)


def plain_fit_seconds(request: TrainingRequest, dataset) -> float:
    spec = request.model
    keras.backend.clear_session()
    keras.utils.set_random_seed(int(spec.seed))
    data = prepare_data(request, dataset)
    steps = max(1, math.ceil(len(data.x_train) / spec.batch_size))
    model = models.build_model(spec, dataset.image_shape, dataset.n_classes, data.scaling)
    models.compile_model(model, spec, steps, data.label_encoding)
    train_ds = make_dataset(data.x_train, data.y_train_encoded, spec.batch_size, shuffle=True,
                            seed=int(spec.seed))
    val_ds = make_dataset(data.x_val, data.y_val_encoded, spec.batch_size) if len(data.x_val) else None
    start, cpu = time.monotonic(), time.process_time()
    model.fit(train_ds, validation_data=val_ds, epochs=spec.epochs, shuffle=False, verbose=0)
    return time.monotonic() - start, time.process_time() - cpu


class _CpuClock(keras.callbacks.Callback):
    """Process CPU time from the start to the end of fit (all threads)."""

    def on_train_begin(self, logs=None):
        self.start = time.process_time()

    def on_train_end(self, logs=None):
        self.seconds = time.process_time() - self.start


def lab_fit_seconds(request: TrainingRequest, store: RunStore) -> tuple[float, float, float]:
    """(fit wall seconds, fit CPU seconds, seconds spent inside CNN Lab's callbacks)."""
    clock = _CpuClock()   # reads the process CPU clock at fit's start and end, nothing else
    record = run_training(request, store, extra_callbacks=[clock])
    if record.status != "finished":
        raise SystemExit(f"run ended as {record.status}: {record.message}")
    return float(record.train_seconds), clock.seconds, float(record.progress["callback_seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist_sample")
    parser.add_argument("--preset", default="lenet")
    parser.add_argument("--epochs", type=int, default=15,
                        help="epochs per fit; 15 gives ~7 s fits, long enough to see past this VM's noise")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    spec = models.PRESETS[args.preset].replace(epochs=args.epochs)
    request = TrainingRequest(args.dataset, spec, PreprocessSpec(), preset=args.preset)
    workspace = Path(tempfile.mkdtemp(prefix="cnnlab-bench-overhead-"))
    store = RunStore(workspace)
    dataset = load_request_dataset(request, store)
    print(f"data set {dataset.id}: {len(dataset.x_train)} training images {dataset.image_shape}, "
          f"preset {args.preset}, {args.epochs} epochs, batch {spec.batch_size}")

    # Warm-up (first tf.function traces, kernel caches, SQLite file), not timed.
    plain_fit_seconds(TrainingRequest(args.dataset, spec.replace(epochs=1)), dataset)
    lab_fit_seconds(TrainingRequest(args.dataset, spec.replace(epochs=1)), store)
    print(f"machine load before timing: {open('/proc/loadavg').read().split()[0]} "
          "(timings on a busy machine vary by tens of percent from run to run)")

    plain, lab, plain_cpu, lab_cpu, inside = [], [], [], [], []
    for i in range(args.repeats):
        order = ("plain", "lab") if i % 2 == 0 else ("lab", "plain")
        for side in order:
            if side == "plain":
                wall, cpu = plain_fit_seconds(request, dataset)
                plain.append(wall)
                plain_cpu.append(cpu)
            else:
                wall, cpu, own = lab_fit_seconds(request, store)
                lab.append(wall)
                lab_cpu.append(cpu)
                inside.append(own)
        print(f"repeat {i + 1}: plain fit {plain[-1]:.2f}s ({plain_cpu[-1]:.2f}s CPU), "
              f"run_training fit {lab[-1]:.2f}s ({lab_cpu[-1]:.2f}s CPU, {inside[-1]:.3f}s in "
              f"CNN Lab callbacks), ratio {lab[-1] / plain[-1]:.3f}", flush=True)
    median = statistics.median
    ratio = median(lab) / median(plain)
    share = sum(inside) / sum(lab)
    print(f"time inside CNN Lab's callbacks (store writes, snapshots, checkpoints, TensorBoard): "
          f"{share * 100:.1f}% of run_training's fit time (ratio {1 / (1 - share):.3f} if the "
          "rest costs the same as plain fit)")
    print(f"fastest plain fit {min(plain):.2f}s, fastest run_training fit {min(lab):.2f}s "
          f"(ratio {min(lab) / min(plain):.3f}; the minimum is the figure least disturbed by "
          "other programs on the machine)")
    print(f"median plain fit {median(plain):.2f}s, median run_training fit {median(lab):.2f}s; "
          f"CPU time ratio {median(lab_cpu) / median(plain_cpu):.3f} "
          "(timed: the fit call only; loading, building, the final predict and saves excluded "
          "from both)")
    print(f"overhead ratio {ratio:.2f}x")


if __name__ == "__main__":
    main()
