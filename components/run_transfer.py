"""Moving runs in and out of the workspace, and tidying it: export, import, rename, delete.

Every action goes through the engine (:mod:`cnn_core.exchange`, :class:`cnn_core.runs.RunStore`),
whose plain messages are shown with ``st.error`` when something is refused (a hostile ZIP, a run
that is still training); the page keeps working. After a change the page reruns so every table
shows it, and a one-time note (:func:`show_note`) says what happened.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from cnn_core import exchange, run_admin
from cnn_core.i18n import _, ngettext
from cnn_core.run_record import RunRecord
from cnn_core.runs import RunStore
from components.feedback import engine_errors
from components.run_picker import run_labels
from components.session_identity import starter

NOTE_KEY = "run_transfer_note"


def show_note() -> None:
    """The note left by the last rename, delete or import (shown once)."""
    note = st.session_state.pop(NOTE_KEY, None)
    if note:
        st.success(note, icon=":material/check_circle:")


def _done(note: str) -> None:
    st.session_state[NOTE_KEY] = note
    st.rerun()


def _pick(runs: Sequence[RunRecord], key: str, label: str, help: str, default_id: str | None) -> RunRecord:
    by_id = {run.id: run for run in runs}
    if st.session_state.get(key) not in by_id:
        st.session_state[key] = default_id if default_id in by_id else next(iter(by_id))
    chosen = st.selectbox(label, list(by_id), key=key, format_func=run_labels(by_id.values()).__getitem__, help=help)
    return by_id[chosen]


def export_button(store: RunStore, runs: Sequence[RunRecord], default_id: str | None = None) -> None:
    """Pick an ended run and download it as one ZIP (made when the button is clicked)."""
    ended = [run for run in runs if not run.is_active]
    if not ended:
        st.caption(_("Runs can be exported once their training has ended."))
        return
    run = _pick(ended, "transfer_export_run", _("Run to export"),
                _("Runs still training or waiting are not listed: export them when they end."), default_id)
    st.download_button(
        _("Download this run as a ZIP"), data=lambda: exchange.export_run(store, run.id),
        file_name=exchange.export_file_name(store, run.id), mime="application/zip", key="transfer_export",
        icon=":material/download:", on_click="ignore",
        help=_("One file with the run's settings, curves, test results and trained model, to keep or to send."),
    )
    st.caption(_("Send the file to someone with CNN Lab: they add it with Import and see the same run."))


def import_form(store: RunStore) -> None:
    """Upload a ZIP made by the export and add it as a new run; refused archives show why."""
    uploaded = st.file_uploader(
        _("Run archive (ZIP)"), type=["zip"], key="transfer_import_file",
        help=_("A ZIP made with “Download this run as a ZIP” in CNN Lab. Other files are refused."))
    name = st.text_input(_("Name for the imported run (optional)"), key="transfer_import_name",
                         help=_("Leave empty to keep the name it had."))
    if st.button(_("Import run"), key="transfer_import", icon=":material/upload:", disabled=uploaded is None,
                 help=_("Checks the archive for anything unsafe, then adds it as a finished run.")):
        with engine_errors(_("This archive was not imported: ")):
            run_id = exchange.import_run(store, uploaded.getvalue(), name=name or None)
            _done(_("Imported “{name}”. It is now in the table of runs.", name=store.get(run_id).name))
    st.caption(_("Imported runs keep their curves, test results and model; they are not trained again."))


def rename_form(store: RunStore, runs: Sequence[RunRecord], default_id: str | None = None) -> None:
    run = _pick(runs, "transfer_rename_run", _("Run to rename"), _("Which run gets a new name."), default_id)
    new_name = st.text_input(_("New name"), value=run.name, key=f"transfer_name_{run.id}",
                             help=_("A name that says what you tried, e.g. “more filters”."))
    if st.button(_("Rename"), key="transfer_rename", icon=":material/edit:", help=_("Only the name changes.")):
        with engine_errors(_("The run was not renamed: ")):
            run_admin.rename_run(store, run.id, new_name, starter=starter())
            _done(_("Renamed to “{name}”.", name=store.get(run.id).name))


def delete_form(store: RunStore, runs: Sequence[RunRecord], default_id: str | None = None) -> None:
    run = _pick(runs, "transfer_delete_run", _("Run to delete"),
                _("Which run to remove with its model, curves and test results."), default_id)
    sure = st.checkbox(_("Yes, delete “{name}” and its files for good", name=run.name), key=f"transfer_sure_{run.id}",
                       help=_("Deleting cannot be undone. Export the run first to keep a copy."))
    if st.button(_("Delete run"), key="transfer_delete", icon=":material/delete:", type="primary", disabled=not sure,
                 help=_("Runs that are still training are refused: stop them first.")):
        with engine_errors(_("The run was not deleted: ")):
            store.delete(run.id, starter=starter())
            _done(_("Deleted “{name}”.", name=run.name))


def damaged_runs(store: RunStore, damaged: Sequence[tuple[RunRecord, str]]) -> None:
    """Runs whose stored settings cannot be read: say why, and offer to delete each one."""
    if not damaged:
        return
    with st.container(border=True):
        st.warning(ngettext("{count} stored run cannot be shown: its settings are damaged (for example an archive "
                            "made by hand). The other runs are shown as usual.",
                            "{count} stored runs cannot be shown: their settings are damaged (for example an archive "
                            "made by hand). The other runs are shown as usual.", len(damaged)),
                   icon=":material/report:")
        for run, problem in damaged:
            name = run.name if isinstance(run.name, str) else run.id
            left, right = st.columns([4, 1], vertical_alignment="center")
            left.markdown(f"**{name[:120]}** (`{run.id}`): {problem}")
            if right.button(_("Delete"), key=f"transfer_damaged_delete_{run.id}", icon=":material/delete:",
                            help=_("Removes this run and its files for good.")):
                with engine_errors(_("The run was not deleted: ")):
                    store.delete(run.id, starter=starter())
                    _done(_("Deleted the damaged run “{name}”.", name=name[:120]))


def transfer_section(store: RunStore, runs: Sequence[RunRecord], default_id: str | None = None) -> None:
    """Export and import side by side, then rename and delete."""
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader(_("Export"))
        export_button(store, runs, default_id)
    with right:
        st.subheader(_("Import"))
        import_form(store)
    st.divider()
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader(_("Rename"))
        rename_form(store, runs, default_id)
    with right:
        st.subheader(_("Delete"))
        delete_form(store, runs, default_id)


__all__ = ["damaged_runs", "delete_form", "export_button", "import_form", "rename_form", "show_note", "transfer_section"]
