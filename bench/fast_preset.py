"""How good is the "fast" preset? Train it on CIFAR-10 and print test accuracy and time.

Trains ``PRESETS["fast"]`` (with the fast augmentation) through the real engine
(``cnn_core.training.run_training``) on all 50,000 training images of the shared CIFAR-10 JPEG
folders, with no validation split, in a temporary workspace, then scores the 1,000-image test
sample. The last line printed is e.g. ``test accuracy 0.884 in 571 s`` (training seconds as
recorded by the engine: data loading and test prediction excluded).

Usage (from the repository root)::

    python bench/fast_preset.py                      # the fast preset, ~10 min on 2 idle cores
    python bench/fast_preset.py --baseline-epochs 3  # also a short cifar10_tutorial run first
    python bench/fast_preset.py --epochs 1           # smoke test with fewer epochs

The machine must be otherwise idle for the time to mean anything: training on 2 cores slows
down in proportion to anything else running. The script prints the load average before and
after and the process CPU seconds, so a contended run can be recognised (and roughly corrected:
CPU seconds / cores is close to the idle-machine time).
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
DEFAULT_DATA = REPO.parent / "shared" / "datasets" / "cifar10"

def _load_avg() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def _fast_augment():
    """The augmentation the fast preset was tuned with (flips and up to 4 px shifts)."""
    from cnn_core.augment import AugmentSpec
    from cnn_core.model import PRESET_AUGMENTS

    return AugmentSpec.from_dict(PRESET_AUGMENTS["fast"])


def train(data: str, preset: str, store, *, epochs: int | None, augment_spec) -> tuple[float, float]:
    from cnn_core.model import PRESETS
    from cnn_core.preprocessing import PreprocessSpec
    from cnn_core.training import TrainingRequest, run_training

    spec = PRESETS[preset]
    if epochs is not None:
        spec = spec.replace(epochs=epochs)
    request = TrainingRequest(
        dataset_id=data, model=spec, augment=augment_spec, preset=preset,
        preprocess=PreprocessSpec(scaling="standardize_channel", validation_fraction=0.0),
        name=f"bench {preset}",
    )

    def on_epoch(epoch, total, metrics):
        print(f"  {preset} epoch {epoch}/{total}: loss {metrics.get('loss', float('nan')):.3f} "
              f"accuracy {metrics.get('accuracy', float('nan')):.3f} "
              f"({metrics.get('seconds', float('nan')):.0f} s, load {_load_avg()})", flush=True)

    print(f"{preset}: {spec.to_dict()}", flush=True)
    cpu0 = time.process_time()
    record = run_training(request, store, on_epoch=on_epoch, on_status=lambda s: print("  " + s, flush=True))
    cpu = time.process_time() - cpu0
    if record.status != "finished" or record.test_accuracy is None:
        raise SystemExit(f"{preset} run ended as {record.status}: {record.message}")
    print(f"  {preset}: test accuracy {record.test_accuracy:.3f}, training {record.train_seconds:.0f} s, "
          f"process CPU {cpu:.0f} s (all phases), load {_load_avg()}", flush=True)
    return float(record.test_accuracy), float(record.train_seconds)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA),
                        help="CIFAR-10 folder with train/ and test/ class folders")
    parser.add_argument("--epochs", type=int, default=None, help="override the preset's epochs")
    parser.add_argument("--baseline-epochs", type=int, default=0,
                        help="also train cifar10_tutorial for this many epochs (0 = skip)")
    args = parser.parse_args(argv)
    if not Path(args.data, "train").is_dir():
        raise SystemExit(f"No CIFAR-10 folder at {args.data} (expected train/ and test/ inside). "
                         "Pass --data PATH.")

    with tempfile.TemporaryDirectory(prefix="cnnlab_bench_") as tmp:
        os.environ["CNN_LAB_WORKSPACE"] = tmp
        os.environ.setdefault("KERAS_HOME", str(Path(tmp) / "keras"))
        from cnn_core.augment import AugmentSpec
        from cnn_core.runs import RunStore

        store = RunStore(Path(tmp))
        print(f"load average at start {_load_avg()} on {os.cpu_count()} CPUs", flush=True)
        if args.baseline_epochs > 0:
            acc, secs = train(args.data, "cifar10_tutorial", store, epochs=args.baseline_epochs,
                              augment_spec=AugmentSpec())
            print(f"baseline cifar10_tutorial ({args.baseline_epochs} epochs): "
                  f"test accuracy {acc:.3f} in {secs:.0f} s", flush=True)
        acc, secs = train(args.data, "fast", store, epochs=args.epochs, augment_spec=_fast_augment())
    print(f"test accuracy {acc:.3f} in {secs:.0f} s", flush=True)


if __name__ == "__main__":
    main()
