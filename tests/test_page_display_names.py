"""AppTest: people read data set and preset names, never the ids the engine keeps (issue 10 QA).

The default one-click run carries the name of the preset it came from (not "custom"), and runs,
captions and tables call the data set by the name the sidebar shows.
"""

from __future__ import annotations

from page_helpers import open_page, stop_run


def shown_text(at) -> str:
    return " ".join(str(e.value) for kind in ("caption", "markdown", "info", "subheader")
                    for e in at.main.get(kind))


def test_start_training_with_untouched_settings_records_the_default_preset_and_shows_names(workspace):
    from cnn_core.model import DEFAULT_PRESET
    from cnn_core.model.presets import preset_name
    from cnn_core.runs import RunStore

    at = open_page("pages/training.py", "mnist_sample")   # the model builder was never opened
    at.button(key="train_start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    run_id = at.session_state["active_run_id"]
    try:
        run = RunStore(workspace).get(run_id)
        assert run.config["preset"] == DEFAULT_PRESET
        assert run.name.startswith(f"MNIST sample · {preset_name(DEFAULT_PRESET)} · ")
    finally:
        stop_run(workspace, run_id)
    at.run()
    text = shown_text(at)
    assert f"preset **{preset_name(DEFAULT_PRESET)}**" in text and "Data set **MNIST sample**" in text
    assert "mnist_sample" not in text and "**custom" not in text


def test_settings_changed_by_hand_are_custom_settings(workspace):
    from cnn_core.model import PRESETS
    from cnn_core.runs import RunStore

    at = open_page("pages/training.py", "shapes")
    at.session_state["model_spec"] = PRESETS["lenet"].replace(filters=7).to_dict()
    at.button(key="train_start").click().run()
    run_id = at.session_state["active_run_id"]
    try:
        assert RunStore(workspace).get(run_id).config["preset"] is None
    finally:
        stop_run(workspace, run_id)


def test_the_preset_picker_shows_readable_preset_names():
    from cnn_core.model import PRESETS
    from cnn_core.model.presets import preset_name

    at = open_page("pages/model_builder.py", "shapes")
    picker = at.selectbox(key="spec_preset")
    assert picker.options == [preset_name(p) for p in PRESETS]
    assert "LeNet-5" in picker.options and "lenet" not in picker.options
    assert picker.value == "lenet"            # the id stays the value (links, run records)
    picker.select("mlp").run()
    assert not at.exception and at.slider(key="spec_conv_blocks").value == 0
