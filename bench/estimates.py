"""How good is the engine's time-left estimate? Its error after the first epoch, measured.

Two cases, trained through :func:`cnn_core.training.run_training` (the job queue's engine):

* **one-click run**: the home page's first model (default preset, default data set, 3 epochs);
  at the end of its first epoch the estimate of the time left (``progress.seconds_left``, what
  the Training page shows) is compared with the time training really took after that moment;
* **4-run sweep**: four runs of the same cost (learning rates 0.003, 0.001, 0.0003, 0.0001),
  one after another as the queue trains them; at the end of the first run's first epoch the
  time left for the whole sweep is estimated as the first run's time left plus, for each of the
  three others, :func:`cnn_core.time_left.estimate_run_seconds` with the first run's measured
  batch time, epoch overhead and start-up (data loading and model building until the first
  batch ended; testing and saving a run's model are not known yet at that moment and are left
  out). Compared with the time the last run's training really ended.

Run (from the repository root)::

    python bench/estimates.py [--epochs 3] [--dataset mnist_sample]

The last line is the headline: ``estimate error after the first epoch: one-click 12%,
4-run sweep 18% (target within 30%)``. On a 2-core machine shared with other processes every
duration varies with the load, and so does the error; the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from cnn_core.datasets import DEFAULT_DATASET_ID  # noqa: E402
from cnn_core.model import DEFAULT_PRESET, PRESETS  # noqa: E402
from cnn_core.run_status import RunStatus  # noqa: E402
from cnn_core.runs import RunStore  # noqa: E402
from cnn_core.time_left import estimate_run_seconds  # noqa: E402
from cnn_core.training import TrainingRequest, run_training  # noqa: E402

TARGET = 0.30
SWEEP_RATES = (0.003, 0.001, 0.0003, 0.0001)


class Watch(keras.callbacks.Callback):
    """Notes, after the first epoch, the engine's estimate and the clock; and when training ends.

    Placed after CNN Lab's callbacks, so the first epoch's progress point is already written.
    """

    def __init__(self, store: RunStore):
        super().__init__()
        self.store = store
        self.first_batch_end: float | None = None
        self.after_first_epoch: float | None = None
        self.estimate: float | None = None
        self.progress: dict = {}
        self.ended: float | None = None

    def on_train_batch_end(self, batch, logs=None):
        if self.first_batch_end is None:
            self.first_batch_end = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        if self.after_first_epoch is None:
            self.after_first_epoch = time.monotonic()
            run = self.store.list_runs(status=RunStatus.RUNNING)[0]
            self.progress = dict(run.progress)
            self.estimate = run.live_progress.seconds_left

    def on_train_end(self, logs=None):
        self.ended = time.monotonic()


def train(store: RunStore, request: TrainingRequest) -> tuple[Watch, float, float]:
    """Train one run; returns its watch, its start time and the time run_training returned."""
    watch = Watch(store)
    started = time.monotonic()
    record = run_training(request, store, extra_callbacks=[watch])
    if record.status != RunStatus.FINISHED:
        sys.exit(f"the run did not finish: {record.status}: {record.message}")
    return watch, started, time.monotonic()


def error(estimate: float | None, actual: float) -> float:
    if estimate is None:
        sys.exit("no estimate after the first epoch (still 'estimating…')")
    return abs(estimate - actual) / actual


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--dataset", default=DEFAULT_DATASET_ID)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    store = RunStore(tempfile.mkdtemp(prefix="cnnlab-bench-estimates-"))
    spec = PRESETS[DEFAULT_PRESET].replace(epochs=args.epochs)

    # warm TensorFlow up once, as the app's background warm-up does before the first click
    train(store, TrainingRequest(args.dataset, spec.replace(epochs=1)))

    watch, _, _ = train(store, TrainingRequest(args.dataset, spec, preset=DEFAULT_PRESET))
    actual = watch.ended - watch.after_first_epoch
    one_click = error(watch.estimate, actual)
    print(f"one-click run ({DEFAULT_PRESET}, {args.epochs} epochs, {args.dataset}): estimate after epoch 1 "
          f"{watch.estimate:.1f} s, actual {actual:.1f} s, error {one_click:.0%}")

    runs = [train(store, TrainingRequest(args.dataset, spec.replace(learning_rate=rate), preset=DEFAULT_PRESET))
            for rate in SWEEP_RATES]
    first, started, _ = runs[0]
    progress = first.progress
    startup = first.first_batch_end - started
    per_run = estimate_run_seconds(epochs=args.epochs, batches=int(progress["batches"]),
                                   seconds_per_batch=float(progress["seconds_per_batch"]),
                                   epoch_overhead=float(progress.get("epoch_overhead") or 0.0),
                                   startup_seconds=startup)
    sweep_estimate = first.estimate + (len(SWEEP_RATES) - 1) * per_run
    sweep_actual = runs[-1][0].ended - first.after_first_epoch
    sweep = error(sweep_estimate, sweep_actual)
    print(f"4-run sweep: estimate after run 1's epoch 1 {sweep_estimate:.1f} s "
          f"(start-up measured {startup:.1f} s a run), actual {sweep_actual:.1f} s, error {sweep:.0%}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(f"estimate error after the first epoch: one-click {one_click:.0%}, 4-run sweep {sweep:.0%} "
          f"(target within {TARGET:.0%})")


if __name__ == "__main__":
    main()
