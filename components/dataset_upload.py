"""Bringing your own pictures in: a ZIP with one folder per class, or a few loose pictures.

The work happens in button callbacks (before the page redraws), so a new data set can become
the sidebar's choice at once. What happened is kept in session state and shown under the form;
an unsafe or broken upload shows the engine's plain message and nothing else changes.

An upload belongs to the browser session that made it: other sessions do not list it until its
owner shares it with the class (:func:`share_form`).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from cnn_core.errors import CnnLabError
from cnn_core.i18n import N_, _, ngettext
from cnn_core.image_formats import UPLOAD_TYPES, formats_text
from cnn_core.stored_messages import message_text
from cnn_core.workspace import workspace_path
from components import state
from components.language import column_labels
from components.session_identity import starter, visible_dataset_ids

RESULT_KEY = "data_upload_result"
USER_PREFIX = "user:"


def select_dataset(dataset_id: str) -> None:
    """Make ``dataset_id`` the sidebar's data set (call from a callback, before the sidebar draws)."""
    st.session_state[state.DATASET_KEY] = dataset_id
    st.session_state["sidebar_dataset"] = dataset_id


def _report(kind: str, message: str, details: list | None = None) -> None:
    st.session_state[RESULT_KEY] = {"kind": kind, "message": message, "details": details or []}


def show_result(form: str) -> None:
    """Show what the last upload did, once (the next interaction clears it)."""
    result = st.session_state.get(RESULT_KEY)
    if not result or result.get("form") != form:
        return
    del st.session_state[RESULT_KEY]
    {"error": st.error, "success": st.success, "warning": st.warning}[result["kind"]](result["message"])
    if result["details"]:
        with st.expander(ngettext("{count} file was skipped", "{count} files were skipped", len(result["details"]))):
            st.dataframe([{"file": f, "reason": message_text(r)} for f, r in result["details"]], hide_index=True,
                         column_config=column_labels([N_("file"), N_("reason")]))


def _import_zip() -> None:
    from cnn_core.uploads import import_image_zip_report

    uploaded = st.session_state.get("data_zip_file")
    name = (st.session_state.get("data_zip_name") or "").strip()
    if uploaded is None:
        _report("warning", _("Choose a ZIP file first."))
    else:
        try:
            report = import_image_zip_report(uploaded.getvalue(), name or Path(uploaded.name).stem,
                                             workspace_path(), starter=starter())
            select_dataset(USER_PREFIX + report.name)
            classes = ", ".join(f"{c} ({n})" for c, n in report.class_counts.items())
            _report("success", ngettext("Added the data set '{name}' with {count} picture: {classes}. It is "
                                        "now selected in the sidebar.",
                                        "Added the data set '{name}' with {count} pictures: {classes}. It is "
                                        "now selected in the sidebar.", report.n_images, name=report.name,
                                        classes=classes), report.skipped)
        except CnnLabError as error:
            _report("error", str(error))
        except Exception as error:  # noqa: BLE001 - a bad upload must not break the page
            _report("error", _("This ZIP file could not be read ({error}). Check that it is a ZIP of pictures.",
                               error=error))
    st.session_state[RESULT_KEY]["form"] = "zip"


def skipped_files(dataset) -> list[tuple[str, str]]:
    """Files left out of ``dataset``: unreadable ones, plus those its ZIP import left out."""
    skipped = list(dataset.skipped)
    if str(dataset.id).startswith(USER_PREFIX):
        from cnn_core.datasets import user_datasets_dir
        from cnn_core.uploads import read_import_report

        report = read_import_report(user_datasets_dir(workspace_path()) / dataset.id.removeprefix(USER_PREFIX))
        skipped += [tuple(s) for s in (report.skipped if report else []) if tuple(s) not in skipped]
    return skipped


def zip_upload_form() -> None:
    st.subheader(_("Upload a ZIP"))
    st.caption(_("One folder per class inside the ZIP, e.g. cats/…jpg and dogs/…jpg. {formats} pictures; at "
                 "least a few per class.", formats=formats_text("and")))
    st.file_uploader(_("ZIP file"), type=["zip"], key="data_zip_file",
                     help=_("A ZIP archive made from a folder that holds one sub-folder per class."))
    st.text_input(_("Name for the data set"), key="data_zip_name", placeholder=_("e.g. my pets"),
                  help=_("How the data set is called in the sidebar. Empty: the ZIP's file name."))
    st.button(_("Add data set"), key="data_zip_add", icon=":material/upload:", on_click=_import_zip,
              help=_("Unpacks the pictures into CNN Lab's workspace and selects the new data set."))
    show_result("zip")


NEW_SET = N_("+ new data set")


def _user_sets() -> list[str]:
    from cnn_core.datasets import list_datasets

    ids = [i.id for i in list_datasets(workspace_path()) if i.id.startswith(USER_PREFIX)]
    return visible_dataset_ids(ids, workspace_path())   # one's own uploads and shared ones


def _add_images() -> None:
    from cnn_core.uploads import import_image_files

    dataset_id = st.session_state.get("data_add_set")
    name = (st.session_state.get("data_add_new_name") or "").strip() if dataset_id == NEW_SET \
        else str(dataset_id or "").removeprefix(USER_PREFIX)
    class_name = (st.session_state.get("data_add_class") or "").strip()
    files = st.session_state.get("data_add_files") or []
    if not name or not class_name or not files:
        _report("warning", _("Choose or name a data set, type a class name and pick some pictures first."))
    else:
        try:
            report = import_image_files([(f.name, f.getvalue()) for f in files], class_name, name,
                                        workspace_path(), starter=starter())
            st.session_state["data_add_set"] = USER_PREFIX + report.name
            if len(report.class_counts) >= 2:
                select_dataset(USER_PREFIX + report.name)
                where = _("It is now selected in the sidebar.")
            else:
                where = _("Add pictures of at least one more class to train on it.")
            kind = "success" if report.n_images else "error"
            _report(kind, ngettext("Added {count} picture to the class '{name}' of '{dataset}'.",
                                   "Added {count} pictures to the class '{name}' of '{dataset}'.", report.n_images,
                                   name=class_name, dataset=report.name) + " " + where, report.skipped)
        except CnnLabError as error:
            _report("error", str(error))
    st.session_state[RESULT_KEY]["form"] = "images"


def add_images_form() -> None:
    st.subheader(_("Add a few pictures"))
    st.caption(_("No ZIP? Add pictures class by class: pick your data set (or start a new one), type the "
               "class name and choose the pictures. A new class name creates the class."))
    sets = [*_user_sets(), NEW_SET]
    current = state.dataset_id()
    if st.session_state.get("data_add_set") not in sets:
        st.session_state["data_add_set"] = current if current in sets else sets[0]
    chosen = st.selectbox(_("Your data set"), sets, key="data_add_set",
                          format_func=lambda i: _(NEW_SET) if i == NEW_SET else i.removeprefix(USER_PREFIX),
                          help=_("Which of your data sets gets the pictures, or a new one."))
    if chosen == NEW_SET:
        st.text_input(_("Name of the new data set"), key="data_add_new_name", placeholder=_("e.g. fruit"),
                      help=_("How the new data set is called in the sidebar."))
    st.text_input(_("Class"), key="data_add_class", placeholder=_("e.g. apples"),
                  help=_("An existing class name adds to it; a new name creates a new class."))
    st.file_uploader(_("Pictures"), type=list(UPLOAD_TYPES), accept_multiple_files=True, key="data_add_files",
                     help=_("Pick one or more picture files from your computer ({formats}).",
                            formats=formats_text()))
    st.button(_("Add pictures"), key="data_add_button", icon=":material/add_photo_alternate:",
              on_click=_add_images, help=_("Copies the pictures into the class folder."))
    show_result("images")


def _own_uploads() -> list[str]:
    from cnn_core.datasets import user_datasets_dir
    from cnn_core.uploads import dataset_owner

    me = starter()
    base = user_datasets_dir(workspace_path())
    return [i for i in _user_sets()
            if (owner := dataset_owner(base / i.removeprefix(USER_PREFIX))) is not None
            and owner.session_id == me.session_id]


def _share_changed(dataset_id: str, key: str) -> None:
    from cnn_core.uploads import share_user_dataset

    try:
        share_user_dataset(dataset_id.removeprefix(USER_PREFIX), bool(st.session_state.get(key)),
                           starter(), workspace_path())
    except CnnLabError as error:
        _report("error", str(error))
        st.session_state[RESULT_KEY]["form"] = "share"


def share_form() -> None:
    """Switches that show one's own uploads to the whole class (others see them marked with
    one's name); nothing to show when this session uploaded nothing."""
    from cnn_core.datasets import user_datasets_dir
    from cnn_core.uploads import dataset_owner

    own = _own_uploads()
    if not own:
        return
    st.caption(_("Your uploads are yours alone until you share them: then everyone on this server "
                 "can pick them in the sidebar, marked with your name."))
    base = user_datasets_dir(workspace_path())
    for dataset_id in own:
        key = "data_share_" + dataset_id
        owner = dataset_owner(base / dataset_id.removeprefix(USER_PREFIX))
        st.session_state[key] = bool(owner and owner.shared)
        st.toggle(_("Share '{name}' with the class", name=dataset_id.removeprefix(USER_PREFIX)), key=key,
                  on_change=_share_changed, args=(dataset_id, key),
                  help=_("Others can train on it and see its pictures. Only you can add to it or delete it."))
    show_result("share")
