"""``sweep`` and ``compare``: exploring hyperparameters from the terminal.

Commands::

    python -m cnn_core sweep --dataset shapes --preset fast --epochs 2 \\
        --grid learning_rate=0.001,0.01 --grid filters=16,32
    python -m cnn_core sweep --dataset shapes --preset fast --random 6 \\
        --range learning_rate=0.0001:0.01 --range dense_dropout=0:0.5 --range optimizer=adam,sgd
    python -m cnn_core compare RUN_ID RUN_ID [RUN_ID ...]

``sweep`` trains the runs one after the other in this process, printing a line per run and the
results table at the end; the runs and the sweep appear in the app. ``compare`` prints the runs
side by side, what changed from the first run to each other one, and the accuracy of all of them
together as an ensemble (their averaged probabilities).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from cnn_core.cli.parsing import (
    add_training_options, apply_settings, dataset_and_options, parse_grid_option, parse_range_option,
)
from cnn_core.cli.tables import describe_values, format_cell, format_frame
from cnn_core.errors import CnnLabError, SpecError
from cnn_core.i18n import _, ngettext
from cnn_core.run_status import RunStatus


def build_sweep(args):
    """``(SweepSpec, AugmentSpec, PreprocessSpec)`` from the ``sweep`` command's options."""
    import dataclasses

    from cnn_core.augment import AugmentSpec
    from cnn_core.model import PRESETS
    from cnn_core.preprocessing import PreprocessSpec
    from cnn_core.sweep_spec import SweepSpec

    if args.preset not in PRESETS:
        raise SpecError("preset", "Unknown preset '{preset}'. Choose one of: {presets}.",
                                  preset=args.preset, presets=', '.join(sorted(PRESETS)))
    model, preprocess = apply_settings((PRESETS[args.preset], PreprocessSpec()), args.set or [])
    if args.epochs is not None:
        model = dataclasses.replace(model, epochs=args.epochs)
    augment = apply_settings(AugmentSpec(), args.augment or [], what="augmentation setting")
    grid = [parse_grid_option(text) for text in args.grid or []]
    ranges = [parse_range_option(text) for text in args.range or []]
    if args.random is not None:
        if grid:
            raise SpecError("grid", "Use either --grid (every combination) or --random N with "
                                    "--range (random draws), not both.")
        sweep = SweepSpec(base=model, mode="random", draws=args.random, ranges=ranges,
                          seed=args.seed, preset=args.preset)
    else:
        if ranges:
            raise SpecError("range", "--range draws random values: add --random N to say how "
                                     "many runs to draw.")
        if not grid:
            raise SpecError("grid", "Say what to vary: --grid learning_rate=0.001,0.01 (every "
                                    "value is tried) or --random 8 --range learning_rate=0.0001:0.01.")
        sweep = SweepSpec(base=model, mode="grid", grid=grid, preset=args.preset)
    sweep.validate()
    return sweep, augment, preprocess



def cmd_sweep(args) -> int:
    """Train every run of the sweep in order; exit 0 when all finished, 1 when some did not."""
    from cnn_core.runs import RunStore
    from cnn_core.sweep_spec import expand_sweep
    from cnn_core.sweeps import run_sweep, sweep_results

    sweep, augment, preprocess = build_sweep(args)
    total = len(expand_sweep(sweep))  # SpecError here, before any run exists
    store = RunStore(getattr(args, "workspace", None))
    print(ngettext("Sweep of {count} run on {dataset}, varying {settings}.",
                   "Sweep of {count} runs on {dataset}, varying {settings}.", total,
                   dataset=args.dataset, settings=", ".join(sweep.settings)), flush=True)

    def on_start(index: int, count: int, values: dict) -> None:
        print(f"[{index + 1}/{count}] {describe_values(values)} …", flush=True)

    def on_run(index: int, count: int, values: dict, record) -> None:
        result = _("test accuracy {accuracy}", accuracy=format_cell(record.test_accuracy, percent=True))
        seconds = f"{record.train_seconds:.1f}s" if record.train_seconds is not None else "-"
        line = (f"[{index + 1}/{count}] {describe_values(values)}: {_(record.status)}, {result}, {seconds} "
                + _("(run {run})", run=record.id))
        if record.status != RunStatus.FINISHED:
            line += f"\n    {record.shown_message}"
        print(line, flush=True)

    dataset, options = dataset_and_options(args)
    sweep_id = run_sweep(store, dataset, sweep, augment=augment, name=args.name, on_run=on_run,
                         on_start=on_start, preprocess=preprocess, dataset_options=options)
    results = sweep_results(store, sweep_id)
    print()
    print(_("Sweep {sweep}:", sweep=sweep_id))
    print(format_frame(results.drop(columns=["name"])))
    finished = results["status"].eq(RunStatus.FINISHED)
    if finished.any() and results.loc[finished, "test_accuracy"].notna().any():
        best = results.loc[results.loc[finished, "test_accuracy"].idxmax()]
        values = {s: best[s] for s in sweep.settings}
        print(_("Best: {values} with test accuracy {accuracy} (run {run}).", values=describe_values(values),
                accuracy=format_cell(best["test_accuracy"], percent=True), run=best["run_id"]))
    return 0 if finished.all() else 1


def cmd_compare(args) -> int:
    """Print the runs side by side, what changed, and their ensemble accuracy."""
    from cnn_core.comparison import differing_settings, runs_table, short_setting_name, what_changed
    from cnn_core.runs import RunStore

    store = RunStore(getattr(args, "workspace", None))
    run_ids = list(dict.fromkeys(args.run_ids))  # the same run twice counts once
    records = [store.get(run_id) for run_id in run_ids]
    table = runs_table(store, run_ids)
    changed = [short_setting_name(n) for n in differing_settings([r.config for r in records])]
    shown = [c for c in changed if c in table.columns and c not in ("dataset", "preset")]
    columns = ["run_id", "name", "dataset", "preset", *shown,
               "status", "best_val_accuracy", "test_accuracy", "train_seconds"]
    print(format_frame(table[columns]))
    if len(records) >= 2:
        print()
        print(_("What changed:"))
        first = records[0]
        for other in records[1:]:
            print(f"  {first.id} -> {other.id}: {what_changed(store, first.id, other.id).summary()}")
        print()
        print(ensemble_line(store, run_ids))
    return 0


def ensemble_line(store, run_ids: Sequence[str]) -> str:
    """``"Ensemble of 3 runs: test accuracy 91.2% (best single run 89.0%)."`` or why there is none."""
    from cnn_core.evaluation import evaluate_ensemble

    usable = [run_id for run_id in run_ids if store.has_predictions(run_id)]
    if len(usable) < 2:
        return _("Ensemble: needs at least two runs with test-set predictions (finished runs).")
    try:
        ensemble = evaluate_ensemble(store, usable)
    except CnnLabError as error:
        return _("Ensemble: not possible ({error})", error=error)
    singles = [store.get(r).test_accuracy for r in usable]
    singles = [s for s in singles if s is not None]
    line = ngettext("Ensemble of {count} run: test accuracy {accuracy}", "Ensemble of {count} runs: test accuracy "
                    "{accuracy}", len(usable), accuracy=format(ensemble.accuracy, ".1%"))
    if singles:
        line += _(" (best single run {accuracy})", accuracy=format(max(singles), ".1%"))
    left_out = len(run_ids) - len(usable)
    if left_out:
        line += ngettext("; {count} run without predictions left out", "; {count} runs without predictions left out",
                         left_out)
    return line + "."


# --------------------------------------------------------------------------- parser

def add_explore_commands(subparsers, common: argparse.ArgumentParser) -> None:
    """Add ``sweep`` and ``compare`` to the subparsers of ``python -m cnn_core``.

    Each sets ``func`` (called as ``func(args) -> exit status``); ``common`` gives each a
    ``--workspace`` option after the command (without overriding one given before it).
    """
    p = subparsers.add_parser(
        "sweep", parents=[common], help=_("train several runs that differ in one or two settings"),
        description=_("Train one run per combination (--grid) or per random draw (--random N with "
                      "--range), in order, and print the results table."),
    )
    add_training_options(p, every_run=True)
    p.add_argument("--grid", action="append", metavar="SETTING=V1,V2,...",
                   help=_("values to try for a setting (at most two settings; every combination runs)"))
    p.add_argument("--random", type=int, default=None, metavar="N", help=_("draw N random runs"))
    p.add_argument("--range", action="append", metavar="SETTING=LOW:HIGH",
                   help=_("where --random draws a setting: LOW:HIGH[:log] or choices A,B,C (repeatable)"))
    p.add_argument("--seed", type=int, default=0, help=_("seed of the random draws (default 0)"))
    p.add_argument("--name", default=None, help=_("a name for the sweep"))
    p.set_defaults(func=cmd_sweep)

    p = subparsers.add_parser(
        "compare", parents=[common], help=_("compare runs: settings, what changed, ensemble accuracy"),
        description=_("Print the runs side by side, what changed from the first run to each other "
                      "one, and the test accuracy of all of them together (an ensemble)."),
    )
    p.add_argument("run_ids", nargs="+", metavar="RUN_ID", help=_("two or more run ids"))
    p.set_defaults(func=cmd_compare)

