"""One server for a whole class: the teacher's limits, and who sees and steers which run.

The teacher's settings (:class:`ClassroomSettings`) are declared once, like every spec, with
:func:`cnn_core.settings.setting`; the environment variable (``CNN_LAB_`` + the name in capitals)
and the command-line flag (``--`` + the name with dashes) of each are derived from that
declaration. The command line wins over the environment::

    CNN_LAB_MAX_PARALLEL_TRAININGS=2 streamlit run app.py -- --max-student-epochs 5

A run started in the app records its :class:`~cnn_core.run_record.Starter` (the browser session
and the name typed in the sidebar). A session sees its own runs first, then the runs others
shared and the runs nobody started from a browser (the command line, imports, older runs); it may
pause, stop or resume only its own (and those nobody owns). These rules live here, in the
engine, so the queue enforces them whatever the page shows.

Each run trains in a process of its own (``training_process`` 1, the default;
:mod:`cnn_core.training_process`), so the pages never wait for it; with 0 it trains in a thread
of the server process. ``training_nice`` (default 10) is the nice value of that process (or of
the training threads), so the pages stay quick while runs train; it is applied by
:mod:`cnn_core.training_priority` and :mod:`cnn_core.training_process`.

This module imports nothing heavy.

Example:
    >>> settings = teacher_settings(environ={"CNN_LAB_MAX_STUDENT_EPOCHS": "5"}, argv=[])
    >>> settings.max_student_epochs, settings.max_queued_per_session, settings.training_nice
    (5, 1, 10)
    >>> teacher_settings(environ={}, argv=["--max-parallel-trainings", "2"]).max_parallel_trainings
    2
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from cnn_core.errors import NotYoursError, QueueLimitError, SpecError
from cnn_core.i18n import N_, _, ngettext
from cnn_core.run_record import RunRecord, Starter
from cnn_core.settings import check_fields, coerce, declared, parse_text, setting

ENV_PREFIX = "CNN_LAB_"


@dataclass(frozen=True)
class ClassroomSettings:
    """What the teacher allows on a shared server (0 means "no limit" where it says so)."""

    max_parallel_trainings: int = setting(
        1, kind="int", low=1, high=32, label=N_("Trainings at once"),
        help=N_("How many runs train at the same time. More than one only helps on a machine with "
                "many cores or a GPU; the others wait in line."))
    max_student_epochs: int = setting(
        0, kind="int", low=0, high=10_000, label=N_("Most epochs a run may ask for"),
        help=N_("Runs started from a browser may ask for at most this many epochs (0: no limit). "
                "Keeps one long run from holding the line."))
    max_queued_per_session: int = setting(
        1, kind="int", low=0, high=1_000, label=N_("Waiting runs per person"),
        help=N_("How many runs one browser session may have waiting in line at once (0: no limit). "
                "A run that trains already does not count."))
    training_nice: int = setting(
        10, kind="int", low=0, high=19, label=N_("Training's CPU priority (nice)"),
        help=N_("Training threads run at this nice value (0-19; higher yields more), so pages stay "
                "quick for everyone while runs train (0: normal priority). Linux only."))
    training_process: int = setting(
        1, kind="int", low=0, high=1, label=N_("Train in a process of its own"),
        help=N_("1: each run trains in a separate process, so pages never wait for it (best for a "
                "class); 0: runs train inside the app's own process (each starts a few seconds "
                "sooner)."))

    def validate(self) -> None:
        check_fields(self)


def environment_variable(name: str) -> str:
    """``max_student_epochs`` -> ``CNN_LAB_MAX_STUDENT_EPOCHS``."""
    return ENV_PREFIX + name.upper()


def command_line_flag(name: str) -> str:
    """``max_student_epochs`` -> ``--max-student-epochs``."""
    return "--" + name.replace("_", "-")


def settings_parser() -> argparse.ArgumentParser:
    """The teacher's flags, derived from :class:`ClassroomSettings` (``--help`` lists them)."""
    parser = argparse.ArgumentParser(prog="streamlit run app.py --", add_help=False,
                                     description="CNN Lab for a class on one server.")
    for name, decl in declared(ClassroomSettings).items():
        parser.add_argument(command_line_flag(name), dest=name, default=None, metavar="N",
                            help=f"{decl.help} (also {environment_variable(name)})")
    return parser


#: Flags given to the app's command line (``streamlit run app.py -- --flag N``); see
#: :func:`use_command_line`.
_command_line: dict[str, str] = {}


def use_command_line(argv: Sequence[str]) -> None:
    """Remember the teacher's flags among ``argv`` (others are ignored) for this process.

    Raises:
        SpecError: a flag's value is not a whole number in range, named in plain words.
    """
    known, _rest = settings_parser().parse_known_args(list(argv))
    given = {name: value for name, value in vars(known).items() if value is not None}
    _read(given, lambda name: command_line_flag(name))   # refuse bad values now, not at first use
    _command_line.clear()
    _command_line.update(given)


def _read(texts: Mapping[str, str], where) -> dict:
    values = {}
    decls = declared(ClassroomSettings)
    for name, text in texts.items():
        try:
            values[name] = coerce(decls[name], parse_text(ClassroomSettings, name, text))
            ClassroomSettings(**{name: values[name]}).validate()
        except SpecError:
            decl = decls[name]
            raise SpecError(name, _("{where} must be a whole number from {low} to {high}, not "
                                    "'{text}'. {help}", where=where(name), low=decl.low,
                                    high=decl.high, text=text, help=_(decl.help))) from None
    return values


def teacher_settings(environ: Mapping[str, str] | None = None,
                     argv: Sequence[str] | None = None) -> ClassroomSettings:
    """The limits in force: defaults, then the environment, then the command line.

    Args:
        environ: the environment to read (default ``os.environ``).
        argv: command-line arguments to read instead of those given to :func:`use_command_line`.

    Raises:
        SpecError: a value that is not a whole number in its range, naming the variable or flag.
    """
    environ = os.environ if environ is None else environ
    texts = {name: environ[environment_variable(name)] for name in declared(ClassroomSettings)
             if str(environ.get(environment_variable(name), "")).strip()}
    values = _read(texts, environment_variable)
    if argv is None:
        flags = dict(_command_line)
    else:
        known, _rest = settings_parser().parse_known_args(list(argv))
        flags = {name: value for name, value in vars(known).items() if value is not None}
    values.update(_read(flags, command_line_flag))
    return ClassroomSettings(**values)


# --------------------------------------------------------------------------- who sees what

def is_own(run: RunRecord, viewer: Starter | None) -> bool:
    return viewer is not None and run.session_id == viewer.session_id


def can_see(run: RunRecord, viewer: Starter | None) -> bool:
    """Own runs, shared runs and runs no browser session started; everything without a viewer
    (the command line)."""
    return viewer is None or run.session_id is None or run.shared or is_own(run, viewer)


def visible_runs(runs: Iterable[RunRecord], viewer: Starter | None) -> list[RunRecord]:
    """The runs ``viewer`` may see: its own first, then the others', each group in the given
    order (newest first from the store)."""
    runs = list(runs)
    if viewer is None:
        return runs
    own = [run for run in runs if is_own(run, viewer)]
    others = [run for run in runs if not is_own(run, viewer) and can_see(run, viewer)]
    return own + others


def started_by_text(run: RunRecord, viewer: Starter | None) -> str:
    """``"by Ann"`` for a run another session started, ``""`` for one's own and ownerless runs."""
    if run.session_id is None or is_own(run, viewer):
        return ""
    return _("by {name}", name=run.started_by) if run.started_by else _("by someone else")


def check_may_steer(run: RunRecord, viewer: Starter | None, action: str) -> None:
    """Raise :class:`NotYoursError` if ``viewer`` may not ``action`` (a verb: "stop") the run.

    The command line (no viewer) may steer every run; a session its own runs and the runs no
    session started.
    """
    if viewer is None or run.session_id is None or is_own(run, viewer):
        return
    who = run.started_by or _("someone else")
    raise NotYoursError("'{run}' was started by {who}; only they can {action} it. You can "
                        "look at it, and start a run of your own.", run=run.name or run.id,
                        who=who, action=action)


def launch_key(run_id: str | None, sweep_id: str | None, config: Mapping | None) -> str | None:
    """What one click queued a run with: its sweep, its MLP-vs-CNN pair (``comparison_id``), else
    the run alone (``run_id``; None for a run not created yet).

    The runs of one launch count as one request against ``max_queued_per_session``: a sweep or a
    pair is refused while its session has as many requests waiting as allowed, and queued whole
    otherwise (refusing the second run of a pair would make pairs impossible with the default 1).
    """
    config = config if isinstance(config, Mapping) else {}
    return sweep_id or config.get("comparison_id") or run_id


def check_request(epochs: int, waiting_runs: int, settings: ClassroomSettings) -> None:
    """Refuse a run a session asks for beyond the teacher's limits.

    Args:
        epochs: the epochs the run asks for.
        waiting_runs: how many requests of this session wait in line now (the runs of one sweep
            or MLP-vs-CNN pair count as one, see :func:`launch_key`).

    Raises:
        SpecError: more epochs than ``max_student_epochs`` (setting ``epochs``).
        QueueLimitError: the session has ``max_queued_per_session`` runs waiting already.
    """
    most = settings.max_student_epochs
    if most and epochs > most:
        raise SpecError("epochs", ngettext(
            "Your teacher allows at most {count} epoch for a run on this server; this one asks "
            "for {asked}. Choose {count} epoch.",
            "Your teacher allows at most {count} epochs for a run on this server; this one asks "
            "for {asked}. Choose {count} epochs or fewer.", most, asked=epochs))
    limit = settings.max_queued_per_session
    if limit and waiting_runs >= limit:
        raise QueueLimitError(ngettext(
            "You already have a run waiting in line. It starts by itself when its turn comes; "
            "stop it first if you would rather train something else.",
            "You already have {count} runs waiting in line, the most allowed. They start by "
            "themselves when their turn comes; stop one first to queue another.", limit))


__all__ = ["ClassroomSettings", "ENV_PREFIX", "can_see", "check_may_steer", "check_request",
           "command_line_flag", "environment_variable", "is_own", "launch_key", "settings_parser",
           "started_by_text", "teacher_settings", "use_command_line", "visible_runs"]
