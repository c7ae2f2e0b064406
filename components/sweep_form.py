"""Sweeps in the app: the form that queues one (model builder) and the view that follows it (compare page).

A sweep trains several models that differ in one or two settings (every combination of listed
values), or in random values drawn within ranges. The form shows how many runs it will queue and
roughly how long they take before anything starts; :func:`cnn_core.sweeps.launch_sweep` checks
every run first, and a setting that cannot work is shown in plain words, nothing queued.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import streamlit as st

from cnn_core import sweep_spec, sweeps
from cnn_core.dataset_names import dataset_name
from cnn_core.errors import CnnLabError, SpecError
from cnn_core.i18n import N_, _, ngettext
from cnn_core.poll_intervals import group_seconds
from components import state
from components.feedback import engine_errors
from components.language import column_labels


@dataclass(frozen=True)
class SweepSetting:
    """A setting a sweep can vary: ``choices`` (picked from a list) or numbers (typed, or a range)."""

    name: str
    grid_default: tuple
    choices: tuple = ()
    low: float | None = None
    high: float | None = None


def sweep_settings() -> dict[str, SweepSetting]:
    """The settings declared sweepable in :class:`cnn_core.model.ModelSpec`, with the values a
    sweep tries first, the choices to pick from or the range to draw from."""
    from cnn_core.model import ModelSpec
    from cnn_core.settings import sweepable

    out = {}
    for decl in sweepable(ModelSpec):
        low, high = decl.sweep_range or (None, None)
        out[decl.name] = SweepSetting(decl.name, tuple(decl.sweep), decl.sweep_options(), low, high)
    return out


SWEEP_SETTINGS = sweep_settings()
MODE_WORDS = {"grid": N_("Every combination of values I list"), "random": N_("Random values within ranges")}
MAX_RANDOM_SETTINGS = 4


def setting_label(name: str) -> str:
    from components.spec_form import label_of

    return label_of(name) or name.replace("_", " ")


def _show(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"  # typed back by parse_values: kept in English
    return f"{value:g}" if isinstance(value, float) else str(value)


def parse_values(setting: str, text: str) -> list:
    """``"0.001, 0.01"`` -> ``[0.001, 0.01]`` as the setting's type; SpecError names a bad value."""
    pieces = [p for p in re.split(r"[,;\s]+", text or "") if p]
    if not pieces:
        raise SpecError(setting, "Give at least one value for {setting}, separated by commas.",
                        setting=setting_label(setting))
    return [sweep_spec.coerce_setting_value(setting, piece) for piece in pieces]


def _grid_values(key: str, s: SweepSetting) -> list:
    label = setting_label(s.name)
    if s.choices:
        return st.multiselect(_("Values of “{setting}”", setting=label), list(s.choices), default=list(s.grid_default),
                              key=f"{key}_grid_{s.name}", format_func=_show,
                              help=_("Each value picked gives its own run (times the other setting's values)."))
    text = st.text_input(_("Values of “{setting}”", setting=label), value=", ".join(_show(v) for v in s.grid_default),
                         key=f"{key}_grid_{s.name}",
                         help=_("Separate values with commas. Each value gives its own run."))
    return parse_values(s.name, text)


def _random_range(key: str, s: SweepSetting) -> dict:
    label = setting_label(s.name)
    if s.choices:
        return {"choices": st.multiselect(_("Values of “{setting}” to draw from", setting=label), list(s.choices),
                                          default=list(s.grid_default), key=f"{key}_rand_{s.name}",
                                          format_func=_show, help=_("Each run gets one of these, at random."))}
    low_col, high_col = st.columns(2)
    low = low_col.text_input(_("Lowest “{setting}”", setting=label), value=_show(s.low), key=f"{key}_low_{s.name}",
                             help=_("The smallest value a run may get."))
    high = high_col.text_input(_("Highest “{setting}”", setting=label), value=_show(s.high), key=f"{key}_high_{s.name}",
                               help=_("The largest value a run may get."))
    return {"low": sweep_spec.coerce_setting_value(s.name, low), "high": sweep_spec.coerce_setting_value(s.name, high)}


def _as_dict(base_spec) -> dict:
    return base_spec.to_dict() if hasattr(base_spec, "to_dict") else dict(base_spec or {})


def _link_to_compare(label: str) -> None:
    from streamlit.errors import StreamlitAPIException

    try:
        st.page_link("pages/compare.py", label=label, icon=":material/compare_arrows:")
    except StreamlitAPIException:  # the compare page is not part of this app's navigation
        st.caption(_("Follow it on the Compare page."))


def render_sweep_form(base_spec, dataset_id: str, *, key: str = "sweep") -> str | None:
    """Choose what to vary, see how many runs that makes, and queue them all.

    Args:
        base_spec: the model every run starts from (a ModelSpec or its dict).
        dataset_id: the data set every run trains on.
        key: prefix of the widget keys (two forms on one page need different keys).

    Returns:
        The id of the sweep queued by this click, else None.
    """
    st.caption(_("Train several versions of this model that differ in one or two settings, to see which "
               "value works best. The runs train one after the other."))
    mode = st.radio(_("How to pick the values"), list(MODE_WORDS), format_func=lambda m: _(MODE_WORDS[m]), horizontal=True,
                    key=f"{key}_mode", help=_("A grid trains every combination of the values you list; random "
                    "draws values within ranges, which covers more ground when you vary several settings."))
    grid = mode == "grid"
    names = st.multiselect(
        _("Settings to vary") + (_(" (one or two)") if grid else ""), list(SWEEP_SETTINGS),
        default=["learning_rate"], max_selections=2 if grid else MAX_RANDOM_SETTINGS, key=f"{key}_settings_{mode}",
        format_func=setting_label, help=_("Every other setting stays as it is in the model above."))
    sweep, specs, error, combos = None, [], None, []
    try:
        values = {}
        for name in names:
            s = SWEEP_SETTINGS[name]
            values[name] = _grid_values(key, s) if grid else _random_range(key, s)
        draws, seed, preset = 8, 0, st.session_state.get(state.PRESET_KEY)
        if not grid:
            left, right = st.columns(2)
            draws = int(left.number_input(_("Number of runs to draw"), 1, sweep_spec.MAX_SWEEP_RUNS, 8, key=f"{key}_draws",
                                          help=_("How many random combinations to train.")))
            seed = int(right.number_input(_("Random seed of the draws"), 0, 2**31 - 1, 0, key=f"{key}_seed",
                                          help=_("The same seed draws the same values again.")))
        if names:
            sweep = sweep_spec.SweepSpec(base=_as_dict(base_spec), mode=mode, grid=values if grid else (),
                                     ranges=() if grid else values, draws=draws, seed=seed, preset=preset)
            specs = sweep_spec.expand_sweep(sweep)
            combos = sweep_spec.sweep_combinations(sweep)
            sweeps.check_sweep_for_dataset(specs, dataset_id, combos, state.run_store().workspace)
    except CnnLabError as caught:
        error = caught
    name = st.text_input(_("Sweep name (optional)"), key=f"{key}_name",
                         help=_("Shown on the Compare page; leave empty to name it after what it varies."))
    if error is not None:
        st.error(str(error), icon=":material/error:")
    elif not names:
        st.info(_("Pick at least one setting to vary."), icon=":material/tune:")
    else:
        from components.run_estimate import time_range_text

        took = time_range_text([spec.to_dict() for spec in specs], dataset_id)
        st.markdown(ngettext("This sweep queues **{count} run**, {took} in all.",
                             "This sweep queues **{count} runs**, {took} in all.", len(specs), took=took))
        st.dataframe([{setting_label(k): _show(v) for k, v in combo.items()} for combo in combos],
                     hide_index=True, height=min(300, 38 + 35 * len(combos)), key=f"{key}_preview")
        st.caption(_("One row per run: the values it will train with. Times are estimates for this computer."))
    launched = None
    if st.button(_("Queue sweep"), key=f"{key}_queue", type="primary", icon=":material/playlist_add:",
                 disabled=sweep is None or error is not None,
                 help=_("Adds every run to the training queue; they train one after the other in the background.")):
        from components.launch import current_augment_spec
        from components.session_identity import starter

        with engine_errors(_("The sweep was not queued: ")):
            store = state.run_store()
            launched = sweeps.launch_sweep(state.job_queue(), store, dataset_id, sweep,   # the teacher's limits apply
                                           augment=current_augment_spec(), name=name or None, starter=starter())
            record = sweeps.load_sweep(store, launched)
            if record.run_ids:
                state.set_active_run(record.run_ids[0])
            st.session_state[f"{key}_launched"] = launched
    last = st.session_state.get(f"{key}_launched")
    if last:
        try:
            record = sweeps.load_sweep(state.run_store(), last)
        except CnnLabError:
            st.session_state.pop(f"{key}_launched", None)
        else:
            st.success(ngettext("Queued “{name}”: {count} run.", "Queued “{name}”: {count} runs.",
                                len(record.run_ids), name=record.name), icon=":material/check_circle:")
            _link_to_compare(_("Follow the sweep on the Compare page"))
    return launched


# --------------------------------------------------------------------------- following sweeps

def _results_table(results, labels: Mapping[str, str]):
    """The results as shown: the swept values (``labels``: setting -> its words in the form) and
    the scores first."""
    settings = list(labels)
    shown = results.drop(columns=["run_id"]).copy()
    for column in ("test_accuracy", "best_val_accuracy"):
        shown[column] = shown[column] * 100
    order = [*settings, "test_accuracy", "best_val_accuracy", "status", "train_seconds", "name"]
    shown = shown[[c for c in order if c in shown] + [c for c in shown if c not in order]]
    return shown.rename(columns={"name": N_("run"), "test_accuracy": N_("test accuracy"),
                                 "best_val_accuracy": N_("best validation accuracy"),
                                 "train_seconds": N_("training time (s)"), **labels})


RESULT_COLUMNS = {
    "test accuracy": st.column_config.NumberColumn(format="%.1f%%", help=N_("Share of the test pictures it got "
                                                                            "right.")),
    "best validation accuracy": st.column_config.NumberColumn(
        format="%.1f%%", help=N_("Its best score on the validation pictures in any epoch.")),
    "training time (s)": st.column_config.NumberColumn(format="%.0f", help=N_("Seconds of training.")),
}


def _counts_text(counts: Mapping[str, int]) -> str:
    from components.run_picker import STATUS_WORDS

    return " · ".join(f"{n} {_(STATUS_WORDS.get(status, status))}" for status, n in counts.items() if n)


def sweep_overview(store) -> None:
    """Pick a sweep; its progress, a Stop button, its results table and chart (live while it runs)."""
    from components.session_identity import starter

    records = sweeps.list_sweeps(store, viewer=starter())   # never another's private sweep
    if not records:
        st.info(_("No sweeps yet. In the Model builder, open “Sweep: try several values” to train several "
                "versions of a model at once."), icon=":material/tune:")
        return
    by_id = {r.id: r for r in records}
    if st.session_state.get("sweep_view") not in by_id:
        st.session_state["sweep_view"] = records[0].id
    from components.run_picker import when

    chosen = st.selectbox(_("Sweep"), list(by_id), key="sweep_view",
                          format_func=lambda i: f"{by_id[i].name} · {when(by_id[i].created_at)}",
                          help=_("Sweeps of this workspace, newest first."))
    record = by_id[chosen]
    seconds = group_seconds(sweeps.sweep_runs(store, record.id))

    @st.fragment(run_every=seconds)
    def live() -> None:
        _sweep_live(store, record, seconds)

    live()


def _sweep_live(store, record, seconds: float | None) -> None:
    """The sweep's progress, Stop button, chart and table; ``seconds`` is the view's polling
    interval at the page run (:func:`cnn_core.poll_intervals.group_seconds`)."""
    from components import compare_charts
    from components.session_identity import starter

    runs = sweeps.sweep_runs(store, record.id)
    # it ended, or its runs were paused or continued elsewhere: a page run picks the new rate
    if seconds is not None and group_seconds(runs) != seconds:
        st.rerun()
    status = sweeps.sweep_status(store, record.id, runs)
    st.progress(status.fraction_done, text=ngettext("{done} of {count} run done", "{done} of {count} runs done",
                                                    status.total, done=status.done))
    st.caption(_("{counts} · data set **{dataset}** · varies ", counts=_counts_text(status.counts),
                 dataset=dataset_name(record.dataset_id)) + ", ".join(setting_label(s) for s in record.spec.settings))
    if not status.is_done and st.button(_("Stop sweep"), key="sweep_stop", icon=":material/stop_circle:",
                                        help=_("Stops the run training now and takes the waiting runs off "
                                             "the queue. Finished runs are kept.")):
        with engine_errors(_("The sweep could not be stopped: ")):
            stopped = sweeps.stop_sweep(state.job_queue(), store, record.id, starter=starter())
            st.session_state["sweep_stopped_note"] = ngettext(
                "Stopped {count} run of “{name}”.", "Stopped {count} runs of “{name}”.", len(stopped),
                name=record.name)
            st.rerun()
    note = st.session_state.pop("sweep_stopped_note", None)
    if note:
        st.success(note, icon=":material/stop_circle:")
    results = sweeps.sweep_results(store, record.id)
    settings = [s for s in record.spec.settings if s in results]
    labels = {s: setting_label(s) for s in settings}
    figure = compare_charts.sweep_figure(results, settings, record.spec.mode, labels,
                                         n_test=compare_charts.results_n_test(store, results))
    if figure is not None:
        st.plotly_chart(figure, key="sweep_chart", config={"displayModeBar": False})
        st.caption(_("How well each combination did: brighter or higher is better. Runs that have not "
                   "finished are left out until they have a score."))
    else:
        st.caption(_("The chart appears when the first run of the sweep has a score."))
    st.dataframe(table := _results_table(results, labels), hide_index=True, key="sweep_results",
                 column_config=column_labels(table.columns, RESULT_COLUMNS))
    st.caption(_("One row per run of the sweep. Click a column header to sort."))


__all__ = ["SWEEP_SETTINGS", "parse_values", "render_sweep_form", "sweep_overview"]
