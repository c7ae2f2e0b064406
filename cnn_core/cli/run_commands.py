"""Commands about single runs: ``datasets``, ``train``, ``resume``, ``runs``, ``evaluate``, ``stop``,
``predict``, ``delete``, ``rename``."""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import time

from cnn_core.cli.parsing import add_training_options, apply_settings, dataset_and_options
from cnn_core.cli.tables import format_epoch_line, format_number, format_table
from cnn_core.i18n import N_, _
from cnn_core import run_admin
from cnn_core.errors import SpecError
from cnn_core.predict_command import add_predict_arguments
from cnn_core.run_status import RESULT_STATUSES, RUN_STATUSES, RunStatus


def _print_epoch(epoch: int, epochs: int, metrics: dict) -> None:
    print(format_epoch_line(epoch, epochs, metrics), flush=True)


def _print_status(line: str) -> None:
    print(line, flush=True)


# --------------------------------------------------------------------------- commands

def cmd_datasets(args) -> int:
    from cnn_core.datasets import list_datasets
    from cnn_core.workspace import workspace_path

    infos = list_datasets(workspace_path(args.workspace))
    rows = []
    for info in infos:
        shape = "x".join(str(v) for v in info.image_shape) if info.image_shape else "-"
        rows.append([info.id, info.name, _("yes") if info.offline else _("no"),
                     info.n_classes if info.n_classes is not None else "-", shape, info.kind])
    print(format_table(rows, [_("id"), _("name"), _("offline"), _("classes"), _("shape"), _("kind")]))
    return 0


def _build_request(args):
    from cnn_core.augment import AugmentSpec
    from cnn_core.model import PRESET_AUGMENTS, PRESETS
    from cnn_core.preprocessing import PreprocessSpec
    from cnn_core.training import TrainingRequest

    if args.preset not in PRESETS:
        raise SpecError("preset", "Unknown preset '{preset}'. Choose one of: {presets}.",
                                  preset=args.preset, presets=', '.join(sorted(PRESETS)))
    model = PRESETS[args.preset]
    model, preprocess = apply_settings((model, PreprocessSpec()), args.set or [])
    if args.epochs is not None:
        model = dataclasses.replace(model, epochs=args.epochs)
    # A preset tuned with augmentation (the fast one) trains with it unless --augment says otherwise.
    base_augment = AugmentSpec.from_dict(PRESET_AUGMENTS.get(args.preset, {}))
    augment = apply_settings(base_augment, args.augment or [], what="augmentation setting")
    dataset, options = dataset_and_options(args)
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
        print("\n" + _("Stopping after the current batch… (Ctrl-C again to quit at once)"),
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
    if record.status in RESULT_STATUSES:
        acc = "-" if record.test_accuracy is None else f"{record.test_accuracy:.4f}"
        loss = "-" if record.test_loss is None else f"{record.test_loss:.4f}"
        secs = "-" if record.train_seconds is None else f"{record.train_seconds:.1f}s"
        print(_("{status}: {message} test accuracy {accuracy}, test loss {loss}, training time {time}",
                status=_(record.status), message=record.shown_message, accuracy=acc, loss=loss, time=secs))
    else:
        print(_("{status}: {message}", status=_(record.status), message=record.shown_message), file=sys.stderr)
    print(_("run id: {run}", run=record.id))
    if record.status == RunStatus.FINISHED:
        return 0
    if record.status == RunStatus.STOPPED:
        return 130
    if record.status == RunStatus.FAILED and record.progress.get("user_error"):
        return 2
    return 1


def cmd_train(args) -> int:
    request = _build_request(args)   # SpecError before any run is created
    from cnn_core.model.number_precision import precision_warning
    from cnn_core.runs import RunStore
    from cnn_core.training import JobControl, run_training

    slow = precision_warning(request.model.precision)
    if slow:
        print(slow, file=sys.stderr, flush=True)
    store = RunStore(args.workspace)
    control = JobControl()
    with _CtrlC(control):
        record = run_training(request, store, control, on_epoch=_print_epoch,
                              on_status=_print_status)
    return _report_run(record)


def cmd_resume(args) -> int:
    from cnn_core.run_resume import prepare_resume
    from cnn_core.runs import RunStore
    from cnn_core.training import JobControl, run_training

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
        rows.append([r.id, r.name, _(r.status), f"{r.epochs_done}/{r.epochs_planned}",
                     format_number(r.best_val_accuracy), format_number(r.test_accuracy), created])
    if not rows:
        print(_("No runs yet. Train one with: python -m cnn_core train --dataset shapes --preset fast"))
        return 0
    print(format_table(rows, [_("id"), _("name"), _("status"), _("epochs"), _("best val acc"), _("test acc"),
                              _("created")]))
    return 0


def cmd_evaluate(args) -> int:
    from cnn_core.evaluation import evaluate_run
    from cnn_core.runs import RunStore

    store = RunStore(args.workspace)
    record = store.get(args.run_id)
    ev = evaluate_run(store, args.run_id)
    print(_("run {run} ({name}, {status})", run=record.id, name=record.name, status=_(record.status)))
    print(_("accuracy {accuracy}", accuracy=format(ev.accuracy, ".4f")))
    print(_("loss {loss}", loss=format(ev.loss, ".4f")))
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
    if record.status == RunStatus.QUEUED:
        store.set_status(args.run_id, RunStatus.STOPPED, N_("Stopped before it started."),
                         expected=(RunStatus.QUEUED,))
    elif not store.set_status(args.run_id, RunStatus.STOPPING, N_("Stopping after the current batch…"),
                              expected=(RunStatus.RUNNING, RunStatus.PAUSED)):
        from cnn_core.errors import RunStateError

        raise RunStateError("Run '{name}' is {status}; there is nothing to stop.",
                            name=record.name, status=record.status)
    print(_("Asked run {run} to stop.", run=args.run_id))
    return 0


def add_run_commands(sub, common: argparse.ArgumentParser) -> None:
    """Add the run commands to the subparsers of ``python -m cnn_core`` (``common`` gives each
    a ``--workspace`` option)."""
    p = sub.add_parser("datasets", parents=[common], help=_("list data sets"))
    p.set_defaults(func=cmd_datasets)

    p = sub.add_parser("train", parents=[common], help=_("train a model and store the run"))
    add_training_options(p)
    p.add_argument("--name", default=None, help=_("a name for the run"))
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("runs", parents=[common], help=_("list runs"))
    p.add_argument("--status", default=None, choices=RUN_STATUSES, help=_("only runs with this status"))
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("evaluate", parents=[common], help=_("test accuracy and per-class report"))
    p.add_argument("run_id")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("resume", parents=[common], help=_("continue an interrupted or stopped run"))
    p.add_argument("run_id")
    p.set_defaults(func=cmd_resume)

    p = sub.add_parser("stop", parents=[common], help=_("ask a run training elsewhere to stop"))
    p.add_argument("run_id")
    p.set_defaults(func=cmd_stop)

    add_predict_arguments(sub.add_parser("predict", parents=[common],
                                         help=_("ask a finished run's model what your pictures show")))

    p = sub.add_parser("delete", parents=[common], help=_("delete a run (also a damaged one)"))
    p.add_argument("run_id")
    p.set_defaults(func=lambda a: print(run_admin.delete_run(run_admin.open_store(a.workspace), a.run_id)))

    p = sub.add_parser("rename", parents=[common], help=_("give a run a new name"))
    p.add_argument("run_id")
    p.add_argument("name")
    p.set_defaults(func=lambda a: print(run_admin.rename_run(run_admin.open_store(a.workspace),
                                                             a.run_id, a.name)))
