"""Choosing a training run, with labels a person can read, and the table of past runs.

Lists hold the runs this browser session may see, its own first (``visible_runs``); a run another
session shared is marked with who started it ("by Ann").
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

import streamlit as st

from cnn_core.content_cache import ContentCache
from cnn_core.dataset_names import dataset_name
from cnn_core.i18n import N_, _, current_language
from cnn_core.model.presets import preset_name
from cnn_core.run_record import RunRecord
from cnn_core.run_status import RunStatus
from components.session_identity import is_own, session_id, started_by, visible_runs  # noqa: F401 - pages list runs through it

STATUS_WORDS = {
    RunStatus.QUEUED: N_("waiting"), RunStatus.RUNNING: N_("training"), RunStatus.PAUSED: N_("paused"),
    RunStatus.STOPPING: N_("stopping"), RunStatus.STOPPED: N_("stopped"), RunStatus.FINISHED: N_("finished"),
    RunStatus.DIVERGED: N_("diverged"), RunStatus.FAILED: N_("failed"), RunStatus.INTERRUPTED: N_("interrupted"),
}


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def duration(seconds: float | None) -> str:
    """``"45 s"``, ``"3 min 20 s"``, ``"1 h 05 min"``; ``"–"`` when unknown."""
    if seconds is None:
        return "–"
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return _("{seconds} s", seconds=seconds)
    if seconds < 3600:
        return _("{minutes} min {seconds:02d} s", minutes=seconds // 60, seconds=seconds % 60)
    return _("{hours} h {minutes:02d} min", hours=seconds // 3600, minutes=seconds % 3600 // 60)


def when(timestamp: float | None) -> str:
    return "–" if not timestamp else time.strftime("%d %b %H:%M", time.localtime(timestamp))


def dataset_of(run: RunRecord) -> str:
    dataset = (run.config or {}).get("dataset") if isinstance(run.config, dict) else None
    return str((dataset.get("id") if isinstance(dataset, dict) else None) or "?")   # damaged: "?"


def run_label(run: RunRecord) -> str:
    """One line: name, status and the score that matters, e.g. ``"my model · finished · test 91.2%"``."""
    parts = [run.name or run.id, _(STATUS_WORDS.get(run.status, run.status))]
    if who := started_by(run):
        parts.insert(1, who)
    if run.test_accuracy is not None:
        parts.append(_("test {percent}", percent=percent(run.test_accuracy)))
    elif run.best_val_accuracy is not None:
        parts.append(_("validation {percent}", percent=percent(run.best_val_accuracy)))
    parts.append(when(run.created_at))
    return " · ".join(parts)


def run_labels(runs: Sequence[RunRecord]) -> dict[str, str]:
    """``{run id: run_label(run)}``, made while the page runs: a selectbox's ``format_func`` may
    be called later, outside the script run, where the session (and so "by Ann") is unknown."""
    return {run.id: run_label(run) for run in runs}


def pick_run(runs: Sequence[RunRecord], *, key: str, default_id: str | None = None,
             label: str = N_("Training run"), memory: str | None = None,
             help: str = N_("Which trained model to look at. The newest is at the top.")) -> RunRecord | None:
    """A selectbox of ``runs`` (newest first); returns the chosen record (None when empty).

    The choice is remembered under ``memory`` (pages sharing it show the same run) until the
    default changes, e.g. because a newer run became the active one.
    """
    if not runs:
        return None
    by_id = {run.id: run for run in runs}
    ids = list(by_id)
    default = default_id if default_id in by_id else ids[0]
    memory = memory or key + "_choice"
    remembered, default_then = st.session_state.get(memory) or (None, None)
    current = remembered if remembered in by_id and default_then == default else default
    if st.session_state.get(key) not in by_id:
        st.session_state[key] = current
    chosen = st.selectbox(_(label), ids, key=key, format_func=run_labels(runs).__getitem__, help=_(help))
    st.session_state[memory] = (chosen, default)
    return by_id[chosen]


def default_finished_run(runs: Sequence[RunRecord], active_id: str | None) -> str | None:
    """The active run if it is among ``runs`` (finished ones), else the newest of them."""
    ids = [run.id for run in runs]
    if active_id in ids:
        return active_id
    return ids[0] if ids else None


def comparable_runs(runs: Sequence[RunRecord]) -> list[str]:
    """Ids to pre-select for comparing: the two newest finished runs on the same data set (same
    options and classes, so their test pictures match and the Ensemble tab can combine them);
    else the newest finished run alone; else the newest run. ``runs`` newest first."""
    finished = [run for run in runs if run.status == RunStatus.FINISHED and run.test_accuracy is not None]
    groups: dict[str, list[str]] = {}
    for run in finished:
        config = run.config or {}
        key = json.dumps([config.get("dataset"), config.get("class_names")], sort_keys=True, default=str)
        groups.setdefault(key, []).append(run.id)
        if len(groups[key]) == 2:
            return groups[key]
    return [(finished or list(runs))[0].id] if runs else []


#: Tables already made, by what they show (the Training page's live view redraws its table every
#: poll, while its rows change about once an epoch).
_TABLES = ContentCache(max_entries=64)


def runs_table(runs: Sequence[RunRecord]) -> list[dict]:
    """Rows for the table of past runs, as readable text ("–" where there is no value yet); a
    "started by" column when some run was started by another session.

    Made once for each content (the runs' shown fields, the language, who looks) and kept
    (:class:`~cnn_core.content_cache.ContentCache`): do not change the rows.
    """
    key = (tuple(_row_key(run) for run in runs), current_language(), session_id())
    return _TABLES.get_or_make(key, lambda: _runs_table(runs))


def _row_key(run: RunRecord) -> tuple:
    """Everything of ``run`` its row shows (see :func:`_runs_table`)."""
    config = run.config if isinstance(run.config, dict) else {}
    return (run.id, run.name, run.status, run.session_id, run.started_by, dataset_of(run), str(config.get("preset")),
            run.epochs_done, run.epochs_planned, run.best_val_accuracy, run.test_accuracy, run.train_seconds,
            run.started_at, run.created_at)


def _runs_table(runs: Sequence[RunRecord]) -> list[dict]:
    others = any(started_by(run) for run in runs)
    return [{
        N_("run"): run.name or run.id,
        **({N_("started by"): _starter_word(run)} if others else {}),
        N_("status"): _(STATUS_WORDS.get(run.status, run.status)),
        N_("data set"): dataset_name(dataset_of(run)),
        N_("preset"): preset_name(run.config.get("preset")),
        N_("epochs"): _("{done} of {planned}", done=run.epochs_done, planned=run.epochs_planned),
        N_("best validation accuracy"): percent(run.best_val_accuracy),
        N_("test accuracy"): percent(run.test_accuracy),
        N_("training time"): duration(run.train_seconds),
        N_("started"): when(run.started_at or run.created_at),
    } for run in runs]


def _starter_word(run: RunRecord) -> str:
    if started_by(run):
        return run.started_by or _("someone else")
    return _("you") if is_own(run) else "–"


RUNS_TABLE_COLUMNS = {
    "best validation accuracy": st.column_config.TextColumn(
        help=N_("The best score on the validation pictures (held back from training) in any epoch.")),
    "test accuracy": st.column_config.TextColumn(
        help=N_("Share of the test pictures (never seen in training) the final model got right.")),
    "epochs": st.column_config.TextColumn(help=N_("Passes over the training pictures: done of planned.")),
    "training time": st.column_config.TextColumn(help=N_("Time spent training, without pauses.")),
}
