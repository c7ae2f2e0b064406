"""Memory of training: peak RSS on CIFAR-10, and RSS growth over ten runs in one process.

Part 1 (a fresh child process): load CIFAR-10 from the JPEG class folders in
``/work/shared/datasets/cifar10`` with ``load_dataset`` on the folder (45,000 training images
after the validation split, 1,000 test images), then train the ``cifar10_tutorial`` preset for a
few epochs through ``run_training``. Reported: the process's peak resident memory (VmHWM).

Part 2 (another fresh child process): ten ``run_training`` runs in a row on the small built-in
``shapes`` data set. Reported: RSS (VmRSS) after run 10 compared with after run 1 (run 1 warms up
TensorFlow and the caches; growth after that would be a leak).

Part 3 (peer, a third child process): the same ten trainings with Keras alone (build, compile,
fit, predict; no run store, callbacks or saving). Keras 3 / TensorFlow 2.x keep a few MB per
``fit`` in one process even after ``clear_session`` (keras-team/keras#17458), so this is the
floor to compare part 2 with.

Figures come from /proc/self/status (no psutil). Run:
    python bench/memory.py [--epochs 2] [--subset 0] [--cifar DIR]
The last line printed is the headline, e.g. ``peak RSS 1.9 GB, RSS growth over 10 runs 4.2%``.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_CIFAR = Path("/work/shared/datasets/cifar10")


def proc_status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def child_cifar(args) -> None:
    from cnn_core.model import PRESETS
    from cnn_core.runs import RunStore
    from cnn_core.training import TrainingRequest, run_training

    store = RunStore(tempfile.mkdtemp(prefix="cnnlab-bench-memory-"))
    spec = PRESETS["cifar10_tutorial"].replace(epochs=args.epochs)
    start = time.monotonic()
    record = run_training(TrainingRequest(str(args.cifar), spec, preset="cifar10_tutorial"), store,
                          on_epoch=lambda e, n, m: print(
                              f"  epoch {e}/{n} accuracy {m['accuracy']:.3f} "
                              f"val_accuracy {m['val_accuracy']:.3f} {m['seconds']:.0f}s", flush=True))
    info = store.dataset_info(record.id) or {}
    print(f"  {record.status}: {info.get('n_train')} training images, test accuracy "
          f"{record.test_accuracy}, {time.monotonic() - start:.0f}s in all", flush=True)
    print(f"RESULT peak_kb {proc_status_kb('VmHWM')}")


def child_runs(args) -> None:
    from cnn_core.model import ModelSpec
    from cnn_core.runs import RunStore
    from cnn_core.training import TrainingRequest, run_training

    store = RunStore(tempfile.mkdtemp(prefix="cnnlab-bench-memory-"))
    spec = ModelSpec(conv_blocks=2, filters=16, dense_layers=1, dense_units=64, batch_size=64,
                     epochs=1)
    rss = []
    for i in range(10):
        record = run_training(TrainingRequest("shapes", spec), store)
        if record.status != "finished":
            raise SystemExit(f"run {i + 1} ended as {record.status}: {record.message}")
        gc.collect()
        rss.append(proc_status_kb("VmRSS"))
        print(f"  run {i + 1}: RSS {rss[-1] / 1024:.0f} MB", flush=True)
    print(f"RESULT first_kb {rss[0]} last_kb {rss[-1]}")


def child_plain(args) -> None:
    """The same ten trainings without CNN Lab: build, compile, fit, predict with Keras alone."""
    import math

    import keras

    from cnn_core.datasets import load_dataset
    from cnn_core.model import ModelSpec, build_model, compile_model
    from cnn_core.preprocessing import fit_scaling, train_validation_split
    from cnn_core.training import make_dataset

    spec = ModelSpec(conv_blocks=2, filters=16, dense_layers=1, dense_units=64, batch_size=64,
                     epochs=1)
    data = load_dataset("shapes")
    x_tr, y_tr, x_val, y_val = train_validation_split(data.x_train, data.y_train, 0.1, 0)
    rss = []
    for i in range(10):
        keras.backend.clear_session(free_memory=False)
        keras.utils.set_random_seed(spec.seed)
        model = build_model(spec, data.image_shape, data.n_classes, fit_scaling("divide_255", x_tr))
        compile_model(model, spec, math.ceil(len(x_tr) / spec.batch_size), "integer")
        model.fit(make_dataset(x_tr, y_tr, 64, shuffle=True, seed=spec.seed),
                  validation_data=make_dataset(x_val, y_val, 64), epochs=1, shuffle=False,
                  verbose=0)
        model.predict(make_dataset(data.x_test, None, 256), verbose=0)
        del model
        gc.collect()
        rss.append(proc_status_kb("VmRSS"))
    print(f"RESULT first_kb {rss[0]} last_kb {rss[-1]}")


def run_child(part: str, args) -> dict:
    cmd = [sys.executable, __file__, "--child", part, "--epochs", str(args.epochs),
           "--cifar", str(args.cifar)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    result = {}
    for line in proc.stdout:
        if line.startswith("RESULT"):
            words = line.split()[1:]
            result = {words[i]: int(words[i + 1]) for i in range(0, len(words), 2)}
        else:
            print(line, end="", flush=True)
    if proc.wait() != 0 or not result:
        raise SystemExit(f"part {part} failed (exit {proc.returncode})")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--cifar", type=Path, default=DEFAULT_CIFAR)
    parser.add_argument("--child", choices=("cifar", "runs", "plain"), default=None)
    args = parser.parse_args()
    if args.child == "cifar":
        return child_cifar(args)
    if args.child == "runs":
        return child_runs(args)
    if args.child == "plain":
        return child_plain(args)

    print(f"part 1: CIFAR-10 from {args.cifar}, cifar10_tutorial preset, {args.epochs} epoch(s)")
    peak_kb = run_child("cifar", args)["peak_kb"]
    print(f"peak RSS while training on CIFAR-10: {peak_kb / 1024 ** 2:.2f} GB")
    print("part 2: ten runs in a row on 'shapes' in one process")
    runs = run_child("runs", args)
    growth = (runs["last_kb"] - runs["first_kb"]) / runs["first_kb"] * 100
    print(f"RSS after run 1 {runs['first_kb'] / 1024:.0f} MB, after run 10 {runs['last_kb'] / 1024:.0f} MB")
    print("part 3 (peer): the same ten trainings with Keras alone (fit + predict, no CNN Lab)")
    plain = run_child("plain", args)
    plain_growth = (plain["last_kb"] - plain["first_kb"]) / plain["first_kb"] * 100
    print(f"Keras alone: RSS after run 1 {plain['first_kb'] / 1024:.0f} MB, after run 10 "
          f"{plain['last_kb'] / 1024:.0f} MB")
    print(f"peak RSS {peak_kb / 1024 ** 2:.1f} GB, RSS growth over 10 runs {growth:.1f}% "
          f"(Keras alone: {plain_growth:.1f}%)")


if __name__ == "__main__":
    main()
