"""AppTest of the compare page: runs made directly in the run store on ``shapes`` (no training).

Table and filters, overlaid curves, what changed between two runs, parallel coordinates, the
ensemble's accuracy, MLP vs CNN pairs, a sweep's results, export / import (and a hostile ZIP),
rename and delete, and the empty state.
"""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
from streamlit.testing.v1 import AppTest

from page_helpers import open_page
from run_fixtures import CURVE, figure, known_probabilities, shapes_test_set

PAGE = "pages/compare.py"


def make_run(workspace, name: str, *, learning_rate: float = 0.001, preset: str = "fast", every: int = 8,
             status: str = "finished", train_seconds: float = 6.0, extra: dict | None = None) -> str:
    """A finished ``shapes`` run with the fixture curve and known test predictions."""
    from cnn_core.runs import RunStore

    store = RunStore(workspace)
    config = {"dataset": {"id": "shapes"}, "preset": preset,
              "model": {"epochs": len(CURVE), "batch_size": 32, "learning_rate": learning_rate}, **(extra or {})}
    run_id = store.create_run(config, name=name)
    store.set_status(run_id, "running")
    for number, (loss, acc, val_loss, val_acc) in enumerate(CURVE, start=1):
        store.add_epoch(run_id, number, {"loss": loss, "accuracy": acc, "val_loss": val_loss,
                                         "val_accuracy": val_acc, "seconds": 2.0})
    y_true, names = shapes_test_set()
    probs = known_probabilities(y_true, len(names), every)
    store.save_predictions(run_id, probs, y_true, class_names=names)
    store.set_result(run_id, test_accuracy=float(np.mean(probs.argmax(1) == y_true)), test_loss=0.5,
                     train_seconds=train_seconds)
    store.set_status(run_id, status, "Trained.")
    return run_id


def open_compare(**session) -> AppTest:
    at = open_page(None)
    for key, value in session.items():
        at.session_state[key] = value
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at, kinds=("info", "warning", "error", "success", "caption", "markdown")) -> str:
    return " ".join(str(e.value) for kind in kinds for e in at.main.get(kind))


def chart(at, key: str) -> dict:
    return figure(next(c for c in at.get("plotly_chart") if c.proto.id and key in c.proto.id))


def frame(at, column: str):
    """The first table drawn with a column named ``column`` (tables without a selection have no key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def runs_table(at):
    return frame(at, "data set")


def metric(at, label: str):
    return next(m for m in at.main.metric if m.label == label)


def test_empty_state_points_to_the_model_builder_and_offers_import():
    at = open_compare()
    assert "No runs yet" in at.info[0].value
    assert "model_builder" in [link.proto.page for link in at.get("page_link")]
    assert at.file_uploader(key="transfer_import_file")
    assert not at.dataframe and not at.get("plotly_chart")


def test_table_filters_curves_what_changed_and_parallel_coordinates(workspace):
    older = make_run(workspace, "slow learner", learning_rate=0.001, train_seconds=6.0)
    newer = make_run(workspace, "fast learner", learning_rate=0.01, train_seconds=9.0, every=4)
    make_run(workspace, "lenet stopped", preset="lenet", status="stopped")
    at = open_compare()
    table = runs_table(at)
    assert len(table) == 3 and list(table["run"]) == ["lenet stopped", "fast learner", "slow learner"]
    assert {"status", "data set", "preset", "test accuracy", "learning rate"} <= set(table.columns)
    assert set(table["data set"]) == {"Shapes"}                  # display names, not ids
    assert table.loc[table["run"] == "lenet stopped", "preset"].tolist() == ["LeNet-5"]

    at.multiselect(key="compare_f_status").set_value(["finished"]).run()
    assert list(runs_table(at)["run"]) == ["fast learner", "slow learner"]
    at.multiselect(key="compare_f_status").set_value([]).run()
    at.multiselect(key="compare_f_preset").set_value(["lenet"]).run()
    assert list(runs_table(at)["run"]) == ["lenet stopped"]
    at.multiselect(key="compare_f_preset").set_value([]).run()

    # the two newest finished runs are picked at first; pick them explicitly anyway
    at.multiselect(key="compare_runs").set_value([older, newer]).run()
    assert not at.exception
    curves = chart(at, "compare_curves")["data"]
    assert len(curves) == 2 * 4  # loss, val_loss, accuracy, val_accuracy per run
    assert {t["name"] for t in curves} == {"slow learner", "fast learner"}
    assert {t["line"]["dash"] for t in curves} == {"solid", "dash"}
    assert len({t["line"]["color"] for t in curves}) == 2
    card = texts(at, ("markdown",))
    assert "What changed" in card and "Learning rate: 0.001 → 0.01" in card
    assert metric(at, "Training time").delta.startswith("+3")

    parallel = chart(at, "compare_parallel")["data"][0]
    assert parallel["type"] == "parcoords"
    labels = [d["label"] for d in parallel["dimensions"]]
    assert "Learning rate (log)" in labels and "Preset" in labels and labels[-1] == "test accuracy (%)"
    preset_axis = next(d for d in parallel["dimensions"] if d["label"] == "Preset")
    assert "LeNet-5" in preset_axis["ticktext"] and "lenet" not in preset_axis["ticktext"]
    assert len(parallel["dimensions"][-1]["values"]) == 3
    controls = [*at.main.multiselect, *at.main.selectbox, *at.main.select_slider, *at.main.text_input,
                *at.main.checkbox, *at.main.button, *at.main.file_uploader, *at.main.metric]
    assert controls and all(e.help for e in controls), [e.label for e in controls if not e.help]


def test_ensemble_accuracy_is_the_engine_value(workspace):
    from cnn_core.evaluation import evaluate_ensemble
    from cnn_core.runs import RunStore

    a = make_run(workspace, "model a", every=8)
    b = make_run(workspace, "model b", every=3, learning_rate=0.003)
    c = make_run(workspace, "model c", every=5, learning_rate=0.0003)
    at = open_compare(compare_runs=[a, b, c])
    expected = evaluate_ensemble(RunStore(workspace), [a, b, c]).accuracy
    assert metric(at, "Ensemble test accuracy").value == f"{expected * 100:.1f}%"
    members = frame(at, "member")
    assert list(members["member"]) == ["model a", "model b", "model c"]
    assert chart(at, "compare_ensemble_confusion")["data"][0]["type"] == "heatmap"
    assert "What changed" not in texts(at, ("markdown",))  # only for exactly two runs


def test_rename_delete_and_a_running_run_is_refused(workspace):
    from cnn_core.runs import RunStore

    keep = make_run(workspace, "keep me")
    doomed = make_run(workspace, "delete me")
    store = RunStore(workspace)
    at = open_compare()
    at.selectbox(key="transfer_rename_run").set_value(keep).run()
    at.text_input(key=f"transfer_name_{keep}").set_value("kept and renamed")
    at.button(key="transfer_rename").click().run()
    assert store.get(keep).name == "kept and renamed"
    assert "Renamed" in texts(at, ("success",))

    at.selectbox(key="transfer_delete_run").set_value(doomed).run()
    assert at.button(key="transfer_delete").disabled  # not confirmed yet
    at.checkbox(key=f"transfer_sure_{doomed}").check().run()
    at.button(key="transfer_delete").click().run()
    assert not store.exists(doomed) and not store.run_dir(doomed).exists()
    assert list(runs_table(at)["run"]) == ["kept and renamed"]

    busy = store.create_run({"dataset": {"id": "shapes"}, "model": {"epochs": 3}}, name="still training")
    store.set_status(busy, "running")
    at.run()
    at.selectbox(key="transfer_delete_run").set_value(busy).run()
    at.checkbox(key=f"transfer_sure_{busy}").check().run()
    at.button(key="transfer_delete").click().run()
    assert "Stop it first" in texts(at, ("error",))
    assert store.exists(busy) and not at.exception


def test_a_damaged_stored_run_is_listed_apart_and_can_be_deleted(workspace):
    from cnn_core.runs import RunStore

    good = make_run(workspace, "good run")
    store = RunStore(workspace)
    bad = store.create_run({"dataset": {"id": ["not", "text"]}, "preset": {"a": 1},
                            "model": {"epochs": 3}}, name="broken run")
    store.set_status(bad, "finished", "made by hand")
    at = open_compare()
    assert list(runs_table(at)["run"]) == ["good run"]
    warning = texts(at, ("warning",))
    assert "1 stored run cannot be shown" in warning
    assert "dataset.id" in texts(at, ("markdown",))
    at.button(key=f"transfer_damaged_delete_{bad}").click().run()
    assert not at.exception and not store.exists(bad) and not store.run_dir(bad).exists()
    assert store.exists(good) and "Deleted the damaged run" in texts(at, ("success",))
    assert "cannot be shown" not in texts(at, ("warning",))


def test_export_then_import_adds_a_run_and_a_hostile_zip_is_refused(workspace):
    from cnn_core.exchange import export_run
    from cnn_core.runs import RunStore

    run_id = make_run(workspace, "shared run")
    store = RunStore(workspace)
    at = open_compare()
    assert [e for e in at.main.get("download_button")]  # the export button is drawn
    data = export_run(store, run_id)
    at.file_uploader(key="transfer_import_file").set_value(("run.zip", data, "application/zip")).run()
    at.text_input(key="transfer_import_name").set_value("from a friend")
    at.button(key="transfer_import").click().run()
    assert not at.exception
    names = [r.name for r in store.list_runs()]
    assert sorted(names) == ["from a friend", "shared run"]
    assert "Imported" in texts(at, ("success",))
    assert len(runs_table(at)) == 2

    hostile = io.BytesIO()
    with zipfile.ZipFile(hostile, "w") as zf:
        zf.writestr("manifest.json", json.dumps({"format": "cnn-lab-run", "version": 1}))
        zf.writestr("../../evil.json", "{}")
    at.file_uploader(key="transfer_import_file").set_value(("evil.zip", hostile.getvalue(), "application/zip")).run()
    at.button(key="transfer_import").click().run()
    assert "outside its folder" in texts(at, ("error",))
    assert len(store.list_runs()) == 2 and not at.exception
    assert not runs_table(at).empty  # the page goes on


def test_mlp_vs_cnn_pair_side_by_side(workspace):
    from cnn_core.model import PRESETS, plan_summary
    from cnn_core.runs import RunStore
    from cnn_core.workspace import atomic_write_json

    store = RunStore(workspace)
    y_true, names = shapes_test_set()
    ids = []
    for preset in ("mlp", "lenet"):
        run_id = make_run(workspace, f"pair {preset}", preset=preset, every=3 if preset == "mlp" else 10,
                          extra={"comparison": "mlp_vs_cnn", "comparison_id": "pair-1"})
        store.update_config(run_id, model=PRESETS[preset].replace(epochs=3).to_dict())
        atomic_write_json(store.run_dir(run_id) / "dataset.json", {"class_names": names, "image_shape": [32, 32, 3]})
        ids.append(run_id)
    at = open_compare()
    assert at.button(key="compare_mlp_cnn").help
    shown = [m for m in at.main.metric if m.label == "Parameters"]
    expected = [plan_summary(PRESETS[p].replace(epochs=3), (32, 32, 3), len(names)).total_params
                for p in ("mlp", "lenet")]
    from components.model_summary import human_count

    assert [m.value for m in shown] == [human_count(n) for n in expected]
    cnn_accuracy = [m for m in at.main.metric if m.label == "Test accuracy"][-1]
    assert "vs the MLP" in cnn_accuracy.delta


def test_sweep_results_heatmap_and_progress(workspace):
    from cnn_core.model import PRESETS
    from cnn_core.runs import RunStore
    from cnn_core.sweep_spec import SweepSpec
    from cnn_core.sweeps import SweepRecord, run_config_tag, save_sweep_record

    store = RunStore(workspace)
    spec = SweepSpec(base=PRESETS["fast"], grid={"learning_rate": [0.001, 0.01], "batch_size": [32, 64]})
    record = SweepRecord(id="sweep-test", name="lr x batch", created_at=1.0, dataset_id="shapes", spec=spec,
                         augment={}, run_ids=[], values=[])
    for k, (lr, bs) in enumerate([(0.001, 32), (0.001, 64), (0.01, 32), (0.01, 64)]):
        run_id = make_run(workspace, f"lr {lr} bs {bs}", learning_rate=lr, every=3 + k)
        store.update_config(run_id, model={"epochs": 3, "batch_size": bs, "learning_rate": lr},
                            sweep=run_config_tag(record.id, {"learning_rate": lr, "batch_size": bs}))
        record.run_ids.append(run_id)
        record.values.append({"learning_rate": lr, "batch_size": bs})
    save_sweep_record(store, record)
    at = open_compare()
    assert at.selectbox(key="sweep_view").value == "sweep-test"
    assert "4 of 4 runs done" in str(at.get("progress")[0].proto.text)
    figure = chart(at, "sweep_chart")
    heat = figure["data"][0]
    assert heat["type"] == "heatmap" and len(heat["z"]) == 2 and len(heat["z"][0]) == 2
    # axes and columns in the form's words, the swept values and the scores first
    assert figure["layout"]["yaxis"]["title"]["text"] == "Learning rate"
    assert figure["layout"]["xaxis"]["title"]["text"] == "Batch size"
    results = frame(at, "Learning rate")
    assert len(results) == 4
    assert list(results.columns[:4]) == ["Learning rate", "Batch size", "test accuracy", "best validation accuracy"]
    assert not [b for b in at.main.button if b.key == "sweep_stop"]  # nothing left to stop
