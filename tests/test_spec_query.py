"""AppTest of the link <-> settings sync, on a script drawn like the model builder's settings column."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

pytest.importorskip("tensorflow")


def builder_script():
    """Like app.py around the model builder: read the link before the page, write the URL after."""
    import streamlit as st

    from components import spec_form
    from components.spec_query import share_link_caption, sync_with_url, write_url

    page = st.session_state.get("test_page", "model_builder")
    sync_with_url(page)
    if page == "model_builder":
        spec_form.preset_picker()
        values = spec_form.spec_form(spec_form.pending_spec())
        spec_form.save_spec(values)
        share_link_caption()
    st.write("drawn")
    write_url()


def run_builder(params: dict | None = None, **session) -> AppTest:
    at = AppTest.from_function(builder_script, default_timeout=60)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_link_sets_the_session_specs_and_the_widgets():
    from cnn_core.model import PRESETS

    at = run_builder({"dataset": "digits", "preset": "lenet", "learning_rate": "0.01", "aug_flip": "horizontal"})
    spec = at.session_state["model_spec"]
    assert spec == PRESETS["lenet"].replace(learning_rate=0.01).to_dict()
    assert at.select_slider(key="spec_learning_rate").value == 0.01
    assert at.selectbox(key="spec_preset").value == "lenet"
    assert at.session_state["preset"] is None  # lenet with a change is no longer lenet itself
    assert at.session_state["augment_spec"]["flip"] == "horizontal"
    assert at.session_state["dataset_id"] == "digits"
    assert not at.warning
    # written back unchanged: the URL reproduces the setup
    assert at.query_params == {"dataset": "digits", "preset": "lenet", "learning_rate": "0.01",
                               "aug_flip": "horizontal"}
    assert "learning_rate=0.01" in at.code[0].value


def test_what_a_link_cannot_use_is_a_warning_and_the_url_is_cleaned():
    from cnn_core.model import ModelSpec

    at = run_builder({"preset": "nope", "learning_rate": "fast", "filters": "16", "dataset": "no_such_set",
                      "page_specific": "kept"})
    warning = at.warning[0].value
    assert "nope" in warning and "learning_rate" in warning and "no_such_set" in warning
    spec = at.session_state["model_spec"]
    assert spec["filters"] == 16 and spec["learning_rate"] == ModelSpec().learning_rate
    assert at.query_params["filters"] == "16" and "learning_rate" not in at.query_params
    assert at.query_params["page_specific"] == "kept"  # not ours: left alone
    at.select_slider(key="spec_filters").set_value(32).run()
    assert not at.warning  # the settings moved on from the link


def test_session_settings_are_written_to_the_url_and_follow_changes():
    from cnn_core.model import PRESETS

    spec = PRESETS["lenet"].replace(learning_rate=0.01).to_dict()
    at = run_builder(model_spec=spec, preset=None, model_builder_base_preset="lenet", dataset_id="shapes")
    assert at.query_params == {"dataset": "shapes", "preset": "lenet", "learning_rate": "0.01"}
    at.select_slider(key="spec_filters").set_value(16).run()
    assert at.query_params["filters"] == "16"
    at.select_slider(key="spec_learning_rate").set_value(0.001).run()  # lenet's own value again
    assert "learning_rate" not in at.query_params
    assert at.code[0].value.endswith("?dataset=shapes&preset=lenet&filters=16")


def test_a_link_is_read_once_per_session_and_no_link_keeps_the_session():
    from cnn_core.model import PRESETS

    mine = PRESETS["mlp"].replace(epochs=4).to_dict()
    at = run_builder(model_spec=mine, model_builder_base_preset="mlp", dataset_id="shapes")
    assert at.session_state["model_spec"] == mine  # no link: nothing replaced
    at.query_params["learning_rate"] = "0.5"
    at.run()
    assert at.session_state["model_spec"]["learning_rate"] == mine["learning_rate"]  # read only once


def test_the_link_warning_goes_once_the_user_leaves_the_page_it_opened():
    at = run_builder({"learning_rate": "fast"})
    assert "learning_rate" in at.warning[0].value
    at.session_state["test_page"] = "training"
    at.run()
    assert not at.warning
    at.session_state["test_page"] = "model_builder"  # back, the link's settings unchanged
    at.run()
    assert not at.warning


def test_the_followed_run_is_in_the_link_and_a_link_to_a_run_follows_it(workspace):
    from tests.run_fixtures import make_finished_run

    run_id = make_finished_run(workspace, predictions=False)
    at = run_builder({"run": run_id, "dataset": "shapes"})
    assert at.session_state["active_run_id"] == run_id
    assert at.query_params["run"] == run_id and not at.warning
    missing = run_builder({"run": "no-such-run"})
    assert "no-such-run" in missing.warning[0].value
    assert "run" not in missing.query_params  # not followed, so not written back
