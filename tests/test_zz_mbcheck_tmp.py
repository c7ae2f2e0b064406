from streamlit.testing.v1 import AppTest
def test_mb(workspace):
    at = AppTest.from_file("/tmp/mb_check.py", default_timeout=120)
    at.query_params["dataset"] = "shapes"; at.query_params["preset"] = "fast"; at.query_params["filters"] = "16"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    print(at.query_params, at.session_state["model_spec"]["filters"], at.code[0].value)
    print([m.value for m in at.main.markdown if "queues" in m.value])
    at.radio(key="sweep_mode").set_value("random").run()
    assert not at.exception, [e.value for e in at.exception]
    at.multiselect(key="sweep_settings_random").set_value(["learning_rate", "dense_dropout", "optimizer"]).run()
    assert not at.exception, [e.value for e in at.exception]
    print([m.value for m in at.main.markdown if "queues" in m.value])
    print([e.value for e in at.error])
