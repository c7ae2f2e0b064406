"""How good is the "fast" preset? Train it on CIFAR-10 and print test accuracy and time.

Trains ``PRESETS["fast"]`` (with the fast augmentation) through the real engine
(``cnn_core.training.run_training``) on all 50,000 training images of the shared CIFAR-10 JPEG
folders, with no validation split, in a temporary workspace, then scores the 1,000-image test
sample (with the preset's test-time augmentation, as stored for every page). Printed per run:
test accuracy, training seconds (as recorded by the engine: data loading and test prediction
excluded), peak RSS, and the share of two cores the process got during training (process CPU
seconds / (2 x wall seconds)) and the share other processes took (busy CPU time of the whole
machine from ``/proc/stat`` minus this process's), marked "contended" when others took more than
0.1: a contended time is not a headline. (The process's own share is no test of that: the
bfloat16 preset leaves the cores partly idle by itself, 0.72 on an idle machine.)
Then the same preset with a 2-minute budget (``time_limit=2``: the epochs that fit; the
figure a teacher quotes in class).
The last line printed is e.g. ``test accuracy 0.903 in 571 s``. With several seeds each run is
printed, then the mean with the standard error the 1,000-picture sample alone puts on one run's
figure (:func:`cnn_core.accuracy_noise.standard_error`) and the seeds' own spread.

Usage (from the repository root)::

    python bench/fast_preset.py                      # the fast preset, ~10 min on 2 idle cores
    python bench/fast_preset.py --baseline-epochs 3  # also a short cifar10_tutorial run first
    python bench/fast_preset.py --seed 1 --short-epochs 0   # another seed, no 2-minute run
    python bench/fast_preset.py --seed 42,1,2 --short-epochs 0   # three runs and their mean
    python bench/fast_preset.py --epochs 1 --short-epochs 1 --limit 5000   # smoke test
    python bench/fast_preset.py --set hard_share=1 --epochs 6 --short-epochs 0   # quick, no limit
    python bench/fast_preset.py --set optimizer=muon --set muon_rate=0.1 --widths 64,256,256 --epochs 12

The machine must be otherwise idle for the time to mean anything: training on 2 cores slows
down in proportion to anything else running. The script prints the load average before and
after and the process CPU seconds, so a contended run can be recognised (and roughly corrected:
CPU seconds / cores is close to the idle-machine time).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEFAULT_DATA = REPO.parent / "shared" / "datasets" / "cifar10"

from bench_support import load  # noqa: E402 - python bench/NAME.py puts bench/ on the path
from fast_preset_tuning import use_widths, widths_arg  # noqa: E402


#: Time limit of the "2-minute budget" run: the fast preset with ``time_limit`` 2 keeps the
#: epochs that fit (7 of 28 on 2 AMD EPYC cores: too few to choose the hardest pictures).
SHORT_MINUTES = 2
#: Above this share of two cores taken by other processes the run was slowed by them.
CONTENDED_ABOVE = 0.1


def _machine_busy_seconds() -> float:
    """CPU seconds all processes spent busy since boot (``/proc/stat``; NaN elsewhere)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return float("nan")
    ticks = [int(v) for v in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)          # idle + iowait
    busy = sum(ticks[:8]) - idle                                    # up to steal, no guests
    return busy / os.sysconf("SC_CLK_TCK")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _core_share_callback():
    """A Keras callback measuring process CPU and wall seconds of the fit only (Keras is imported
    here, after the workspace and KERAS_HOME are set)."""
    import keras

    class CoreShare(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.cpu0, self.wall0 = time.process_time(), time.monotonic()
            self.busy0 = _machine_busy_seconds()

        def on_train_end(self, logs=None):
            self.cpu = time.process_time() - self.cpu0
            self.wall = time.monotonic() - self.wall0
            self.busy = _machine_busy_seconds() - self.busy0

        def share(self) -> float:
            """Process CPU seconds / (2 x wall seconds) of the fit."""
            return self.cpu / (2 * self.wall) if getattr(self, "wall", 0) else float("nan")

        def others(self) -> float:
            """The share of two cores other processes were busy during the fit."""
            return max(0.0, self.busy - self.cpu) / (2 * self.wall) if getattr(self, "wall", 0) else float("nan")

    return CoreShare()


def _fast_augment():
    """The augmentation the fast preset was tuned with (flips and up to 4 px shifts)."""
    from cnn_core.augment import AugmentSpec
    from cnn_core.model import PRESET_AUGMENTS

    return AugmentSpec.from_dict(PRESET_AUGMENTS["fast"])


def train(data: str, preset: str, store, *, epochs: int | None,
          augment_spec, seed: int | None = None, settings: tuple[str, ...] = ()) -> "RunFigures":
    """One run of ``preset`` with model ``settings`` changed (``NAME=VALUE``, as after --set)."""
    from cnn_core.cli.parsing import apply_settings
    from cnn_core.model import PRESETS
    from cnn_core.preprocessing import PreprocessSpec
    from cnn_core.training import TrainingRequest, run_training

    spec = apply_settings(PRESETS[preset], settings).validate()
    if epochs is not None:
        spec = spec.replace(epochs=epochs)
    if seed is not None:
        spec = spec.replace(seed=seed)
    request = TrainingRequest(
        dataset_id=data, model=spec,
        augment=augment_spec, preset=preset,
        preprocess=PreprocessSpec(scaling="standardize_channel", validation_fraction=0.0),
        name=f"bench {preset}",
    )

    def on_epoch(epoch, total, metrics):
        print(f"  {preset} epoch {epoch}/{total}: loss {metrics.get('loss', float('nan')):.3f} "
              f"accuracy {metrics.get('accuracy', float('nan')):.3f} "
              f"({metrics.get('seconds', float('nan')):.0f} s, load {load()})", flush=True)

    print(f"{preset}: {spec.to_dict()}", flush=True)
    share = _core_share_callback()
    record = run_training(request, store, on_epoch=on_epoch, extra_callbacks=[share],
                          on_status=lambda s: print("  " + s, flush=True))
    if record.status != "finished" or record.test_accuracy is None:
        raise SystemExit(f"{preset} run ended as {record.status}: {record.message}")
    core_share, others = share.share(), share.others()
    fitted = record.config.get("time_limit_fit")
    if fitted:
        chosen = (f"; a choosing step timed at {fitted['choosing_cost']} warm-up steps"
                  if "choosing_cost" in fitted else "")
        cut = (f", the last cut to {fitted['last_epoch_steps']} of its "
               f"{fitted['steps_per_epoch']} batches" if "last_epoch_steps" in fitted else "")
        print(f"  time limit kept {fitted['epochs']} of {fitted['asked_epochs']} epochs{cut} "
              f"(~{fitted['epoch_seconds']} s each{chosen})", flush=True)
    print(f"  {preset} ({record.epochs_done} epochs): test accuracy {record.test_accuracy:.3f}, training "
          f"{record.train_seconds:.0f} s, {_shares(core_share, others)}, peak RSS "
          f"{_peak_rss_mb():.0f} MB, load {load()}", flush=True)
    from cnn_core.accuracy_noise import n_test_of

    return RunFigures(float(record.test_accuracy), float(record.train_seconds), core_share,
                      others, n_test_of(store, record.id) or 0, record.epochs_done)


class RunFigures(NamedTuple):
    """What one training run of the bench measured."""

    accuracy: float
    seconds: float
    core_share: float
    others: float
    n_test: int
    epochs: int


def _shares(core_share: float, others: float) -> str:
    flag = ", contended: not a headline time" if others > CONTENDED_ABOVE else ""
    return f"core share {core_share:.2f}, others {others:.2f}{flag}"


def _limited_copy(data: str, limit: int, root: Path) -> str:
    """A folder of symlinks to the first ``limit`` training pictures (same share per class) and
    the whole test sample, for smoke tests."""
    classes = sorted(p for p in Path(data, "train").iterdir() if p.is_dir())
    per_class = max(1, limit // max(1, len(classes)))
    for split in ("train", "test"):
        for folder in sorted(p for p in Path(data, split).iterdir() if p.is_dir()):
            target = root / split / folder.name
            target.mkdir(parents=True)
            files = sorted(folder.iterdir())
            for f in files[:per_class] if split == "train" else files:
                (target / f.name).symlink_to(f)
    return str(root)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA),
                        help="CIFAR-10 folder with train/ and test/ class folders")
    parser.add_argument("--epochs", type=int, default=None, help="override the preset's epochs")
    parser.add_argument("--seed", type=_seeds, default=[None],
                        help="override the preset's random seed; several, comma-separated "
                             "(42,1,2), train once each and print the mean")
    parser.add_argument("--short-minutes", type=int, default=SHORT_MINUTES,
                        help="time limit of the short run, the fast preset with time_limit set to "
                             "this (0 = skip it)")
    parser.add_argument("--short-epochs", type=int, default=None,
                        help="at most this many epochs in the short run (0 = skip it)")
    parser.add_argument("--limit", type=int, default=None,
                        help="train on only this many pictures (smoke test; not a figure)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="change a model setting of the fast preset, e.g. optimizer=muon")
    parser.add_argument("--widths", type=widths_arg, default=None, metavar="A,B,C",
                        help="filters of the three conv blocks, e.g. 64,256,256 (not a setting)")
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
        if args.widths:
            use_widths(args.widths)
        if args.limit:
            args.data = _limited_copy(args.data, args.limit, Path(tmp) / "limited")
        print(f"load average at start {load()} on {os.cpu_count()} CPUs", flush=True)
        if args.baseline_epochs > 0:
            base = train(args.data, "cifar10_tutorial", store, epochs=args.baseline_epochs,
                         augment_spec=AugmentSpec())
            print(f"baseline cifar10_tutorial ({args.baseline_epochs} epochs): "
                  f"test accuracy {base.accuracy:.3f} in {base.seconds:.0f} s", flush=True)
        if args.short_minutes > 0 and args.short_epochs != 0:
            short = train(args.data, "fast", store, epochs=args.short_epochs,
                          augment_spec=_fast_augment(), seed=args.seed[0],
                          settings=[*args.set, f"time_limit={args.short_minutes}"])
            print(f"{args.short_minutes}-minute budget ({short.epochs} epochs): test accuracy "
                  f"{short.accuracy:.3f} in {short.seconds:.0f} s "
                  f"({_shares(short.core_share, short.others)})", flush=True)
        runs = []
        for seed in args.seed:
            runs.append(train(args.data, "fast", store, epochs=args.epochs,
                              augment_spec=_fast_augment(), seed=seed, settings=args.set))
    if len(runs) > 1:
        for seed, run in zip(args.seed, runs):
            print(f"seed {seed}: test accuracy {run.accuracy:.3f} in {run.seconds:.0f} s "
                  f"({_shares(run.core_share, run.others)})", flush=True)
    shares = [run.core_share for run in runs]
    print(f"peak RSS {_peak_rss_mb():.0f} MB; core share {min(shares):.2f}-{max(shares):.2f}, "
          f"others at most {max(run.others for run in runs):.2f}", flush=True)
    print(headline([run.accuracy for run in runs], [run.seconds for run in runs],
                   runs[-1].n_test), flush=True)


def headline(accuracies: list[float], seconds: list[float], n_test: int) -> str:
    """The last line: one run's figure, or the mean of several with how far luck moves them.

    >>> headline([0.9], [571], 1000)
    'test accuracy 0.900 in 571 s'
    >>> headline([0.88, 0.9], [560, 570], 1000)
    'test accuracy 0.890 in 565 s (mean of 2 runs; one run ±0.010 from the 1000-picture sample, seeds spread 0.014)'
    """
    import statistics

    from cnn_core.accuracy_noise import standard_error

    acc, secs = statistics.fmean(accuracies), statistics.fmean(seconds)
    line = f"test accuracy {acc:.3f} in {secs:.0f} s"
    if len(accuracies) < 2:
        return line
    sample = f"one run ±{standard_error(acc, n_test):.3f} from the {n_test}-picture sample, " \
        if n_test else ""
    return (f"{line} (mean of {len(accuracies)} runs; {sample}"
            f"seeds spread {statistics.stdev(accuracies):.3f})")


def _seeds(text: str) -> list[int]:
    """``"42,1,2"`` -> ``[42, 1, 2]`` (the ``--seed`` option)."""
    try:
        seeds = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"seeds are whole numbers separated by commas, not {text!r}")
    if not seeds:
        raise argparse.ArgumentTypeError("give at least one seed")
    return seeds


if __name__ == "__main__":
    main()
