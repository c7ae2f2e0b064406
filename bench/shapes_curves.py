"""How fast do the presets learn the built-in Shapes set? Accuracy per epoch, test accuracy, time.

Trains each named preset (default: lenet, mlp, fast) on ``shapes`` through the real engine
(``cnn_core.training.run_training``) with the same number of epochs each, in a temporary
workspace, and prints the validation accuracy after every epoch, the test accuracy and the
training seconds. The MLP-vs-CNN comparison of the Compare page is the ``mlp`` / ``lenet`` pair
here. The last line is the headline, e.g.
``shapes test accuracy after 5 epochs: lenet 0.93, mlp 0.41, fast 0.95``.

Usage (from the repository root)::

    python bench/shapes_curves.py                       # lenet, mlp, fast; 5 epochs each
    python bench/shapes_curves.py --presets lenet mlp --epochs 3
    python bench/shapes_curves.py --dataset mnist_sample

Times are only meaningful on an otherwise idle machine; the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _load_avg() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def train(dataset: str, preset: str, epochs: int, store) -> tuple[list[float], float, float]:
    """One run of ``preset`` (its own augmentation) on ``dataset``: (val accuracy per epoch, test
    accuracy, training seconds)."""
    from cnn_core.augment import AugmentSpec
    from cnn_core.model import PRESET_AUGMENTS, PRESETS
    from cnn_core.training import TrainingRequest, run_training

    request = TrainingRequest(dataset_id=dataset, model=PRESETS[preset].replace(epochs=epochs),
                              augment=AugmentSpec.from_dict(PRESET_AUGMENTS.get(preset, {})),
                              preset=preset, name=f"bench {preset}")
    curve: list[float] = []

    def on_epoch(epoch, total, metrics):
        curve.append(float(metrics.get("val_accuracy", float("nan"))))
        print(f"  {preset} epoch {epoch}/{total}: accuracy {metrics.get('accuracy', float('nan')):.3f} "
              f"validation {curve[-1]:.3f} ({metrics.get('seconds', float('nan')):.1f} s, "
              f"load {_load_avg()})", flush=True)

    record = run_training(request, store, on_epoch=on_epoch)
    if record.status != "finished" or record.test_accuracy is None:
        raise SystemExit(f"{preset} run ended as {record.status}: {record.message}")
    return curve, float(record.test_accuracy), float(record.train_seconds)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="shapes")
    parser.add_argument("--presets", nargs="+", default=["lenet", "mlp", "fast"])
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args(argv)
    results = {}
    with tempfile.TemporaryDirectory(prefix="cnnlab_bench_") as tmp:
        os.environ["CNN_LAB_WORKSPACE"] = tmp
        from cnn_core.model import plan_summary, PRESETS
        from cnn_core.datasets import load_dataset
        from cnn_core.runs import RunStore

        store = RunStore(Path(tmp))
        ds = load_dataset(args.dataset)
        print(f"{args.dataset}: {len(ds.y_train)} training, {len(ds.y_test)} test pictures; "
              f"load average {_load_avg()} on {os.cpu_count()} CPUs", flush=True)
        for preset in args.presets:
            params = plan_summary(PRESETS[preset], ds.x_train.shape[1:], len(ds.class_names)).total_params
            start = time.monotonic()
            curve, test, seconds = train(args.dataset, preset, args.epochs, store)
            print(f"{preset}: {params:,} parameters; validation accuracy per epoch "
                  f"{', '.join(f'{v:.2f}' for v in curve)}; test {test:.3f}; training {seconds:.1f} s "
                  f"(wall {time.monotonic() - start:.0f} s)", flush=True)
            results[preset] = test
    print(f"{args.dataset} test accuracy after {args.epochs} epochs: "
          + ", ".join(f"{p} {a:.2f}" for p, a in results.items()), flush=True)


if __name__ == "__main__":
    main()
