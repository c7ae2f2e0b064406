"""AppTest of the classroom pieces: the sidebar's "Your name", own runs first with others' shared
runs marked, and another session's private runs and uploads kept out of the lists."""

from __future__ import annotations

import sqlite3

from page_helpers import new_app, stop_run
from run_fixtures import make_finished_run

from cnn_core.run_record import Starter

ME = Starter("1" * 24, "Ann")
BEN = Starter("2" * 24, "Ben")


def started_by(workspace, run_id: str, starter: Starter, shared: bool = False) -> str:
    """Record ``starter`` as the session that started the stored run (the app does it at submit)."""
    with sqlite3.connect(workspace / "runs.sqlite") as conn:
        conn.execute("UPDATE runs SET session_id = ?, started_by = ?, shared = ? WHERE id = ?",
                     (starter.session_id, starter.name, int(shared), run_id))
    return run_id


def open_as(me: Starter | None, page: str | None = None):
    at = new_app()
    at.session_state["dataset_id"] = "shapes"
    if me is not None:
        at.session_state["classroom_session_id"] = me.session_id
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_name_typed_in_the_sidebar_is_kept_and_recorded_with_a_started_run(workspace):
    at = open_as(None)
    field = at.sidebar.text_input(key="your_name")
    assert field.label == "Your name" and field.value == "" and field.help
    field.set_value("  Minji   Kim ").run()
    assert at.session_state["classroom_name"] == "Minji Kim"
    at.switch_page("pages/training.py").run()               # another page: the name stays
    at.button(key="train_start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    from cnn_core.runs import RunStore

    run = RunStore(workspace).list_runs()[0]
    try:
        assert run.started_by == "Minji Kim"
        assert run.session_id == at.session_state["classroom_session_id"]
    finally:
        stop_run(workspace, run.id)


def test_own_runs_come_first_and_others_shared_runs_are_marked(workspace):
    mine = started_by(workspace, make_finished_run(workspace, name="my run"), ME)
    started_by(workspace, make_finished_run(workspace, name="ben shared"), BEN, shared=True)
    started_by(workspace, make_finished_run(workspace, name="ben private"), BEN)
    make_finished_run(workspace, name="from the command line")   # newest; nobody's
    at = open_as(ME, "pages/training.py")
    table = at.dataframe[0].value
    assert list(table["run"]) == ["my run", "from the command line", "ben shared"]
    assert list(table["started by"]) == ["you", "–", "Ben"]
    assert at.subheader[0].value == "my run"   # the run followed is this session's own
    at.switch_page("pages/evaluation.py").run()
    picker = at.selectbox(key="eval_run")
    labels = list(picker.options)
    assert len(labels) == 3 and labels[0].startswith("my run")
    assert any("ben shared · by Ben" in label for label in labels)
    assert not any("ben private" in label for label in labels)
    assert picker.value == mine


def test_another_sessions_upload_is_not_in_the_sidebar_until_shared(workspace):
    from test_classroom_queue import _pets_zip

    from cnn_core.uploads import import_image_zip_report, share_user_dataset

    report = import_image_zip_report(_pets_zip(), "bens pets", workspace, starter=BEN)
    own = import_image_zip_report(_pets_zip(), "my pets", workspace, starter=ME)
    options = open_as(ME).sidebar.selectbox(key="sidebar_dataset").options
    assert not any(report.name in option for option in options)
    assert any(own.name in option for option in options)
    share_user_dataset(report.name, True, BEN, workspace)
    options = open_as(ME).sidebar.selectbox(key="sidebar_dataset").options
    assert any(report.name in option and "by Ben" in option for option in options)
