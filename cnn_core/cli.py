"""``python -m cnn_core``: the engine from a terminal.

Commands::

    python -m cnn_core datasets
    python -m cnn_core train --dataset shapes --preset fast --epochs 3 --set learning_rate=0.01 \\
                             --augment flip=horizontal --augment rotation=0.05
    python -m cnn_core runs [--status finished]
    python -m cnn_core evaluate RUN_ID
    python -m cnn_core resume RUN_ID
    python -m cnn_core stop RUN_ID
    python -m cnn_core predict RUN_ID IMAGE [IMAGE ...] [--top 3] [--fit crop|pad] [--json]

Every command takes ``--workspace DIR`` (default: ``$CNN_LAB_WORKSPACE`` or ``./workspace``).
Mistakes a user can make (an unknown setting, a missing data set...) print a plain message on
stderr and exit with status 2. ``train``/``resume`` exit 0 when the run finished, 1 when it
diverged or failed, 130 when stopped with Ctrl-C (the first Ctrl-C stops after the current batch
and saves the run; a second one quits at once).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import signal
import sys
import time
from typing import Any, Sequence

from cnn_core.errors import CnnLabError, SpecError

_TRUE = {"1", "true", "yes", "on", "y"}
_FALSE = {"0", "false", "no", "off", "n"}


# --------------------------------------------------------------------------- value parsing

def parse_assignment(text: str) -> tuple[str, str]:
    """``"key=value"`` -> ``("key", "value")``."""
    key, sep, value = text.partition("=")
    key = key.strip().replace("-", "_")
    if not sep or not key:
        raise SpecError(key or text, f"'{text}' is not a setting. Write it as name=value, "
                                     "for example learning_rate=0.01.")
    return key, value.strip()


def parse_value(key: str, text: str, default: Any) -> Any:
    """Convert ``text`` to the type of the field's default value (bool, int, float or str)."""
    if isinstance(default, bool):
        lowered = text.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise SpecError(key, f"{key} is on or off: write {key}=true or {key}=false, not '{text}'.")
    if isinstance(default, int):
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or number != int(number):
            raise SpecError(key, f"{key} needs a whole number, such as {default}, not '{text}'.")
        return int(number)
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            raise SpecError(key, f"{key} needs a number, such as {default}, not '{text}'.") from None
    if default is None and text.lower() in ("none", "null", ""):
        return None
    return text


def apply_settings(spec_or_specs: Any, assignments: Sequence[str], what: str = "setting"):
    """Apply ``key=value`` texts to one frozen spec or a tuple of specs (first owner of the key
    wins). Returns the changed spec(s). Unknown keys raise :class:`SpecError` naming the key."""
    specs = list(spec_or_specs) if isinstance(spec_or_specs, (tuple, list)) else [spec_or_specs]
    changes: list[dict] = [{} for _ in specs]
    for text in assignments:
        key, raw = parse_assignment(text)
        for index, spec in enumerate(specs):
            names = {f.name for f in dataclasses.fields(spec)}
            if key in names:
                changes[index][key] = parse_value(key, raw, getattr(spec, key))
                break
        else:
            known = sorted({f.name for spec in specs for f in dataclasses.fields(spec)})
            raise SpecError(key, f"Unknown {what} '{key}'. You can set: {', '.join(known)}.")
    new = [dataclasses.replace(spec, **change) if change else spec
           for spec, change in zip(specs, changes)]
    return tuple(new) if isinstance(spec_or_specs, (tuple, list)) else new[0]


def parse_image_size(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    parts = text.lower().replace("×", "x").split("x")
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) == 1:
        numbers = numbers * 2
    if len(numbers) != 2 or min(numbers) < 1:
        raise SpecError("image_size", f"Image size '{text}' is not valid. Write HEIGHTxWIDTH, "
                                      "for example 32x32, or one number for square images.")
    return numbers[0], numbers[1]


# --------------------------------------------------------------------------- printing

def format_table(rows: list[list[Any]], header: list[str]) -> str:
    cells = [[str(c) for c in header]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def format_epoch_line(epoch: int, epochs: int, metrics: dict) -> str:
    parts = [f"epoch {epoch}/{epochs}"]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        if metrics.get(key) is not None:
            parts.append(f"{key} {_fmt(metrics[key])}")
    if metrics.get("learning_rate") is not None:
        parts.append(f"lr {metrics['learning_rate']:.3g}")
    if metrics.get("seconds") is not None:
        parts.append(f"{metrics['seconds']:.1f}s")
    return "  ".join(parts)


def _print_epoch(epoch: int, epochs: int, metrics: dict) -> None:
    print(format_epoch_line(epoch, epochs, metrics), flush=True)


def _print_status(line: str) -> None:
    print(line, flush=True)


# --------------------------------------------------------------------------- commands

def cmd_datasets(args) -> int:
    from cnn_core.datasets import list_datasets
    from cnn_core.runs import workspace_path

    infos = list_datasets(workspace_path(args.workspace))
    rows = []
    for info in infos:
        shape = "x".join(str(v) for v in info.image_shape) if info.image_shape else "-"
        rows.append([info.id, info.name, "yes" if info.offline else "no",
                     info.n_classes if info.n_classes is not None else "-", shape, info.kind])
    print(format_table(rows, ["id", "name", "offline", "classes", "shape", "kind"]))
    return 0


def _build_request(args):
    from cnn_core.augment import AugmentSpec
    from cnn_core.models import PRESET_AUGMENTS, PRESETS
    from cnn_core.preprocessing import PreprocessSpec
    from cnn_core.training import TrainingRequest

    if args.preset not in PRESETS:
        raise SpecError("preset", f"Unknown preset '{args.preset}'. Choose one of: "
                                  f"{', '.join(sorted(PRESETS))}.")
    model = PRESETS[args.preset]
    model, preprocess = apply_settings((model, PreprocessSpec()), args.set or [])
    if args.epochs is not None:
        model = dataclasses.replace(model, epochs=args.epochs)
    # A preset tuned with augmentation (the fast one) trains with it unless --augment says otherwise.
    base_augment = AugmentSpec.from_dict(PRESET_AUGMENTS.get(args.preset, {}))
    augment = apply_settings(base_augment, args.augment or [], what="augmentation setting")
    options: dict = {}
    size = parse_image_size(args.image_size)
    if size:
        options["image_size"] = size
    if args.color_mode:
        options["color_mode"] = args.color_mode
    dataset = args.dataset
    if os.path.isdir(dataset):
        dataset = os.path.abspath(dataset)
    request = TrainingRequest(dataset_id=dataset, model=model, preprocess=preprocess,
                              augment=augment, dataset_options=options, preset=args.preset,
                              name=args.name)
    request.validate()
    return request


class _CtrlC:
    """First Ctrl-C: stop after the current batch (run saved, resumable). Second: quit now."""

    def __init__(self, control):
        self.control = control
        self.previous = None

    def __enter__(self):
        if threading_is_main():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.control.stop_requested:
            raise KeyboardInterrupt
        print("\nStopping after the current batch… (Ctrl-C again to quit at once)",
              file=sys.stderr, flush=True)
        self.control.request_stop()

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False


def threading_is_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _report_run(record) -> int:
    if record.status == "finished" or record.status == "stopped":
        acc = "-" if record.test_accuracy is None else f"{record.test_accuracy:.4f}"
        loss = "-" if record.test_loss is None else f"{record.test_loss:.4f}"
        secs = "-" if record.train_seconds is None else f"{record.train_seconds:.1f}s"
        print(f"{record.status}: {record.message} test accuracy {acc}, test loss {loss}, "
              f"training time {secs}")
    else:
        print(f"{record.status}: {record.message}", file=sys.stderr)
    print(f"run id: {record.id}")
    if record.status == "finished":
        return 0
    if record.status == "stopped":
        return 130
    if record.status == "failed" and record.progress.get("user_error"):
        return 2
    return 1


def cmd_train(args) -> int:
    request = _build_request(args)   # SpecError before any run is created
    from cnn_core.runs import RunStore
    from cnn_core.training import JobControl, run_training

    store = RunStore(args.workspace)
    control = JobControl()
    with _CtrlC(control):
        record = run_training(request, store, control, on_epoch=_print_epoch,
                              on_status=_print_status)
    return _report_run(record)


def cmd_resume(args) -> int:
    from cnn_core.runs import RunStore
    from cnn_core.training import JobControl, prepare_resume, run_training

    store = RunStore(args.workspace)
    prepare_resume(store, args.run_id)
    control = JobControl()
    with _CtrlC(control):
        record = run_training(args.run_id, store, control, on_epoch=_print_epoch,
                              on_status=_print_status)
    return _report_run(record)


def cmd_runs(args) -> int:
    from cnn_core.runs import RunStore

    store = RunStore(args.workspace)
    rows = []
    for r in store.list_runs(status=args.status):
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created_at))
        rows.append([r.id, r.name, r.status, f"{r.epochs_done}/{r.epochs_planned}",
                     _fmt(r.best_val_accuracy), _fmt(r.test_accuracy), created])
    if not rows:
        print("No runs yet. Train one with: python -m cnn_core train --dataset shapes --preset fast")
        return 0
    print(format_table(rows, ["id", "name", "status", "epochs", "best val acc", "test acc", "created"]))
    return 0


def cmd_evaluate(args) -> int:
    from cnn_core.evaluation import evaluate_run
    from cnn_core.runs import RunStore

    store = RunStore(args.workspace)
    record = store.get(args.run_id)
    ev = evaluate_run(store, args.run_id)
    print(f"run {record.id} ({record.name}, {record.status})")
    print(f"accuracy {ev.accuracy:.4f}")
    print(f"loss {ev.loss:.4f}")
    report = ev.report
    try:
        text = report.to_string(index=False, float_format=lambda v: f"{v:.3f}")
    except AttributeError:
        text = str(report)
    print(text)
    return 0


def cmd_stop(args) -> int:
    from cnn_core.runs import RunStore

    store = RunStore(args.workspace)
    record = store.get(args.run_id)
    if record.status == "queued":
        store.set_status(args.run_id, "stopped", "Stopped before it started.", expected=("queued",))
    elif not store.set_status(args.run_id, "stopping", "Stopping after the current batch…",
                              expected=("running", "paused")):
        from cnn_core.errors import RunStateError

        raise RunStateError(f"Run '{record.name}' is {record.status}; there is nothing to stop.")
    print(f"Asked run {args.run_id} to stop.")
    return 0


# --------------------------------------------------------------------------- parser

def build_parser() -> argparse.ArgumentParser:
    workspace_help = "workspace folder (default: $CNN_LAB_WORKSPACE or ./workspace)"
    parser = argparse.ArgumentParser(prog="python -m cnn_core",
                                     description="CNN Lab from the terminal.")
    parser.add_argument("--workspace", default=None, help=workspace_help)
    # --workspace is accepted after the command too, without hiding one given before it
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--workspace", default=argparse.SUPPRESS, help=workspace_help)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("datasets", parents=[common], help="list data sets")
    p.set_defaults(func=cmd_datasets)

    p = sub.add_parser("train", parents=[common], help="train a model and store the run")
    p.add_argument("--dataset", default="mnist_sample", help="data set id or a folder path")
    p.add_argument("--preset", default="lenet", help="model preset to start from")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="change a model or preprocessing setting (repeatable)")
    p.add_argument("--augment", action="append", metavar="KEY=VALUE",
                   help="augmentation setting, e.g. flip=horizontal (repeatable)")
    p.add_argument("--epochs", type=int, default=None, help="number of epochs")
    p.add_argument("--image-size", default=None, help="resize images, e.g. 32x32")
    p.add_argument("--color-mode", default=None, help="grayscale or rgb")
    p.add_argument("--name", default=None, help="a name for the run")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("runs", parents=[common], help="list runs")
    p.add_argument("--status", default=None, help="only runs with this status")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("evaluate", parents=[common], help="test accuracy and per-class report")
    p.add_argument("run_id")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("resume", parents=[common], help="continue an interrupted or stopped run")
    p.add_argument("run_id")
    p.set_defaults(func=cmd_resume)

    p = sub.add_parser("stop", parents=[common], help="ask a run training elsewhere to stop")
    p.add_argument("run_id")
    p.set_defaults(func=cmd_stop)

    from cnn_core.predict_command import add_predict_arguments  # logic in cnn_core/predict_command.py
    add_predict_arguments(sub.add_parser("predict", parents=[common],
                                         help="show a finished run's model picture files"))

    try:  # sweep and compare (cnn_core/cli_explore.py)
        from cnn_core.cli_explore import add_explore_commands
    except ImportError:  # pragma: no cover
        add_explore_commands = None
    if add_explore_commands is not None:
        add_explore_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CnnLabError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
