"""AppTest of the Compare page in front of a class (issue 10): it pre-selects runs that can be
combined, says when a difference is only the test set's noise, and shows MLP vs CNN with an equal
budget and both parameter counts. Runs are made directly in the run store (no training)."""

from __future__ import annotations

import re

from run_fixtures import end_held_trainings, hold_trainings
from test_page_compare import chart, metric, make_run, open_compare, texts


def test_preselects_the_newest_runs_that_can_be_combined_not_two_data_sets(workspace):
    from cnn_core.runs import RunStore

    older = make_run(workspace, "shapes a", every=8)
    newer = make_run(workspace, "shapes b", every=5, learning_rate=0.01)
    other = make_run(workspace, "digits run", every=4)
    RunStore(workspace).update_config(other, dataset={"id": "digits"})  # the newest run, another data set
    at = open_compare()
    assert at.multiselect(key="compare_runs").value == [newer, older]
    assert not at.main.error, [e.value for e in at.main.error]
    assert metric(at, "Ensemble test accuracy").value.endswith("%")


def test_what_changed_calls_a_difference_within_the_test_sets_noise_no_real_difference(workspace):
    a = make_run(workspace, "a", every=8)                        # 87.5% of the shapes test set
    b = make_run(workspace, "b", every=7, learning_rate=0.01)    # 85.7%: within the noise
    at = open_compare(compare_runs=[a, b])
    delta = metric(at, "Test accuracy").delta
    assert "points" in delta and "no real difference" in delta
    assert "too small to tell these runs apart" in texts(at, ("caption",))

    c = make_run(workspace, "c", every=2, learning_rate=0.003)   # 50%: a real difference
    at = open_compare(compare_runs=[a, c])
    assert "no real difference" not in metric(at, "Test accuracy").delta


def test_mlp_vs_cnn_defaults_to_shapes_and_says_the_budget_and_both_parameter_counts(workspace):
    from cnn_core.comparison import equal_budget
    from cnn_core.model import PRESETS
    from cnn_core.runs import RunStore
    from cnn_core.workspace import atomic_write_json
    from run_fixtures import shapes_test_set

    store = RunStore(workspace)
    y_true, names = shapes_test_set()
    budget = equal_budget(PRESETS["mlp"].replace(epochs=5), PRESETS["lenet"].replace(epochs=5))
    for preset, every in (("mlp", 2), ("lenet", 10)):
        run_id = make_run(workspace, f"pair {preset}", preset=preset, every=every,
                          extra={"comparison": "mlp_vs_cnn", "comparison_id": "pair-1", "comparison_budget": budget})
        store.update_config(run_id, model=PRESETS[preset].replace(epochs=5).to_dict())
        atomic_write_json(store.run_dir(run_id) / "dataset.json",
                          {"class_names": names, "image_shape": [32, 32, 3], "n_test": len(y_true)})
    at = open_compare(dataset_id="mnist_sample")
    choice = at.radio(key="compare_mlp_dataset")
    assert choice.value == "shapes" and choice.options == ["Shapes (recommended)", "MNIST sample (sidebar)"]
    shown = texts(at, ("caption", "markdown"))
    assert "Equal budget" in shown and "5 epochs" in shown
    assert "only the convolutions differ" not in shown
    assert "What differs is the network" in shown and "the MLP none" in shown
    assert "Units in the first dense layer: 256 (MLP) vs 120 (CNN)" in shown
    assert "LeNet-5" in shown and "· lenet ·" not in shown
    assert f"equal budget: {budget}" in shown
    assert "times as many numbers as the CNN" in shown
    assert len([m for m in at.main.metric if m.label == "Parameters"]) == 2
    cnn = [m for m in at.main.metric if m.label == "Test accuracy"][-1]
    assert "vs the MLP" in cnn.delta and "no real difference" not in cnn.delta


def test_sweep_heatmap_marks_cells_within_noise_of_the_best(workspace):
    from cnn_core.model import PRESETS
    from cnn_core.runs import RunStore
    from cnn_core.workspace import atomic_write_json
    from cnn_core.sweep_spec import SweepSpec
    from cnn_core.sweeps import SweepRecord, run_config_tag, save_sweep_record

    store = RunStore(workspace)
    spec = SweepSpec(base=PRESETS["fast"], grid={"learning_rate": [0.001, 0.01], "batch_size": [32, 64]})
    record = SweepRecord(id="sweep-noise", name="lr x batch", created_at=1.0, dataset_id="shapes", spec=spec,
                         augment={}, run_ids=[], values=[])
    # every 8th, 7th, 2nd, 3rd picture wrong: 87.5%, 85.7% (within noise of the best), 50%, 66.7%
    for (lr, bs), every in zip([(0.001, 32), (0.001, 64), (0.01, 32), (0.01, 64)], (8, 7, 2, 3)):
        run_id = make_run(workspace, f"lr {lr} bs {bs}", learning_rate=lr, every=every)
        store.update_config(run_id, model={"epochs": 3, "batch_size": bs, "learning_rate": lr},
                            sweep=run_config_tag(record.id, {"learning_rate": lr, "batch_size": bs}))
        atomic_write_json(store.run_dir(run_id) / "dataset.json", {"n_test": 1000})
        record.run_ids.append(run_id)
        record.values.append({"learning_rate": lr, "batch_size": bs})
    save_sweep_record(store, record)
    figure = chart(open_compare(), "sweep_chart")
    # each cell's number is wrapped in a <span> of the text colour that reads on that cell (presentation mode)
    cells = [[re.sub(r"<[^>]+>", "", cell) for cell in row] for row in figure["data"][0]["text"]]
    assert cells[0][0] == "87.5%" and cells[0][1].endswith("≈") and not cells[1][0].endswith("≈")
    assert "no real difference from the best" in figure["layout"]["title"]["text"]


def _pair_form() -> None:
    import streamlit as st

    from components import state
    from components.mlp_vs_cnn import mlp_vs_cnn_view

    st.session_state.setdefault(state.DATASET_KEY, "shapes")
    mlp_vs_cnn_view(state.run_store())


def test_a_second_mlp_vs_cnn_pair_is_refused_in_plain_words_while_the_first_waits(workspace, monkeypatch):
    """The pair is one request under the teacher's per-person limit (one waiting by default); the
    pair is that person's, and another session does not see it."""

    from streamlit.testing.v1 import AppTest

    from cnn_core.runs import RunStore

    release = hold_trainings(monkeypatch)   # each run stays "training" until released
    at = AppTest.from_function(_pair_form, default_timeout=120)
    at.run()
    at.select_slider(key="compare_mlp_epochs").set_value(1)
    at.button(key="compare_mlp_cnn").click().run()
    store = RunStore(workspace)
    try:
        assert "Queued both runs" in texts(at, ("success",))
        mine = at.session_state["classroom_session_id"]
        assert [run.session_id for run in store.list_runs()] == [mine, mine]
        at.button(key="compare_mlp_cnn").click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert "The comparison was not queued: You already have a run waiting in line" in texts(at, ("error",))
        assert len(store.list_runs()) == 2
        other = AppTest.from_function(_pair_form, default_timeout=120)
        other.run()                                   # another person: no pair of theirs to show
        assert "appear here side by side once queued" in texts(other, ("caption",))
    finally:
        end_held_trainings(workspace, release)
