"""AppTest of presentation mode: ?present=1 turns it on, the model builder shows only the demo's
settings up front (the rest under "More settings"), and the guided demo bar reads out its step."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from cnn_core.model import ModelSpec
from cnn_core.settings import declared, demo_settings
from components.guided_demo import STEPS
from components.presentation import PRESENT_KEY, QUERY_PARAM, TOGGLE_KEY, URL_READ_KEY
from page_helpers import new_app, open_page
from test_page_model_builder import WIDGET_KINDS

pytest.importorskip("tensorflow")


def setting_widgets(block) -> list[str]:
    """Keys of the model-setting widgets drawn in ``block`` (and its children)."""
    keys = [w.key for kind in WIDGET_KINDS for w in block.get(kind) if w.key and w.key.startswith("spec_")]
    return [k for k in keys if k != "spec_preset"]


def builder(presenting: bool) -> AppTest:
    at = new_app()
    at.session_state["dataset_id"] = "shapes"
    at.session_state[PRESENT_KEY] = presenting
    at.run()
    at.switch_page("pages/model_builder.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_present_in_the_address_turns_presentation_mode_on_and_stays_in_the_address():
    at = new_app()
    at.query_params[QUERY_PARAM] = "1"
    at.session_state["dataset_id"] = "shapes"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state[PRESENT_KEY] is True
    assert at.sidebar.toggle(key=TOGGLE_KEY).value is True
    assert at.query_params[QUERY_PARAM] in ("1", ["1"])
    # Home is not a step of the demo: the bar invites to start it
    bar = " ".join(m.value for m in at.main.markdown)
    assert "Guided demo" in bar and f"{len(STEPS)} steps" in bar
    assert [b.label for b in at.main.button if b.key == "guided_demo_next"] == ["Next step"]


def test_switched_on_in_the_session_it_writes_present_into_the_address():
    at = new_app()
    at.session_state["dataset_id"] = "shapes"
    at.session_state[URL_READ_KEY] = True   # the address was read on an earlier run
    at.session_state[PRESENT_KEY] = True    # and the switch turned on since
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.query_params[QUERY_PARAM] in ("1", ["1"])


def test_present_0_in_the_address_turns_it_off():
    at = new_app()
    at.query_params[QUERY_PARAM] = "0"
    at.session_state["dataset_id"] = "shapes"
    at.session_state[PRESENT_KEY] = True
    at.run()
    assert at.session_state[PRESENT_KEY] is False
    assert QUERY_PARAM not in at.query_params


def test_without_present_there_is_no_guided_demo_and_the_switch_is_off():
    at = open_page(None)
    assert at.sidebar.toggle(key=TOGGLE_KEY).value is False
    assert not [b for b in at.main.button if b.key == "guided_demo_next"]
    assert QUERY_PARAM not in at.query_params


def test_presentation_mode_shows_only_the_demo_settings_and_the_rest_under_more_settings():
    at = builder(presenting=True)
    every = [f"spec_{name}" for name in declared(ModelSpec)]
    demo = [f"spec_{d.name}" for d in demo_settings(ModelSpec)]
    expanders = {e.label: e for e in at.main.expander}
    assert "More settings" in expanders and not expanders["More settings"].proto.expanded
    assert not {"Layers", "Regularisation", "Optimisation"} & set(expanders)
    more = setting_widgets(expanders["More settings"])
    assert sorted(more) == sorted(set(every) - set(demo))
    up_front = [k for k in setting_widgets(at.main) if k not in more]
    assert sorted(up_front) == sorted(demo)  # filters, layers, dropout, learning rate, epochs


def test_without_presentation_mode_every_setting_sits_in_its_group():
    at = builder(presenting=False)
    labels = [e.label for e in at.main.expander]
    assert "More settings" not in labels and {"Layers", "Regularisation", "Optimisation"} <= set(labels)
    in_groups = [k for e in at.main.expander if e.label != "More settings" for k in setting_widgets(e)]
    assert sorted(in_groups) == sorted(f"spec_{name}" for name in declared(ModelSpec))


def test_a_setting_in_error_opens_more_settings_and_shows_its_message_there():
    at = builder(presenting=True)
    more = next(e for e in at.main.expander if e.label == "More settings")
    assert not more.proto.expanded and not at.main.error
    # LeNet's 'valid' 5x5 convolutions after a stride of 4: the shape walk names "padding"
    at.main.select_slider(key="spec_stride").set_value(4).run()
    more = next(e for e in at.main.expander if e.label == "More settings")
    assert more.proto.expanded
    assert len(more.error) == 1 and "padding" in more.error[0].value


def bar_script(url_path: str, presenting: bool) -> None:
    """The guided demo bar alone, as app.py draws it above the page at ``url_path``."""
    import streamlit as st

    from components.guided_demo import demo_bar
    from components.presentation import PRESENT_KEY

    st.session_state[PRESENT_KEY] = presenting
    demo_bar(url_path)


@pytest.mark.parametrize("index", range(len(STEPS)))
def test_the_guided_demo_bar_shows_the_step_and_what_to_say(index):
    step = STEPS[index]
    at = AppTest.from_function(bar_script, args=(step.url_path, True))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    text = [m.value for m in at.markdown]
    assert f"Step {index + 1} of {len(STEPS)}: {step.title}" in text[0]
    assert text[1] == " ".join(step.script)
    button = next(b for b in at.button if b.key == "guided_demo_next")
    assert button.label == ("Start again" if index == len(STEPS) - 1 else "Next step")


def test_the_guided_demo_bar_is_hidden_outside_presentation_mode():
    at = AppTest.from_function(bar_script, args=("model_builder", False))
    at.run()
    assert not at.exception and not at.markdown and not at.button


def test_the_train_step_asks_to_wait_while_the_model_still_trains(workspace):
    from cnn_core.runs import RunStore

    store = RunStore(workspace)
    run_id = store.create_run({"dataset": {"id": "shapes"}, "model": {"epochs": 3}}, name="live")
    store.set_status(run_id, "running")
    at = AppTest.from_function(bar_script, args=("training", True))
    at.session_state["active_run_id"] = run_id
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [c.value for c in at.caption if "Still training" in c.value]
    store.set_status(run_id, "finished")
    at.run()
    assert not at.caption
