"""Run export/import: a faithful round trip, and hostile archives refused with nothing left behind."""

from __future__ import annotations

import io
import json
import os
import zipfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnn_core.errors import RunStateError, UnsafeArchiveError  # noqa: E402
from cnn_core.exchange import (  # noqa: E402
    ArchiveLimits,
    check_model_config,
    export_run,
    import_run,
    inspect_keras_file,
)
from cnn_core.runs import RunStore  # noqa: E402

CLASSES = ["circle", "square", "triangle"]
# the test model is compiled but never trained: Keras notes that its optimizer has no state
pytestmark = pytest.mark.filterwarnings("ignore:Skipping variable loading:UserWarning")


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory) -> bytes:
    """A tiny real CNN Lab model (with its one-cycle learning-rate schedule) as model.keras."""
    import keras

    from cnn_core.model import PRESETS, build_model, compile_model

    spec = PRESETS["fast"].replace(conv_blocks=1, filters=2, dense_units=4, epochs=1)
    keras.utils.set_random_seed(0)
    model = build_model(spec, (8, 8, 1), 3)
    compile_model(model, spec, steps_per_epoch=5, label_encoding="integer")
    path = tmp_path_factory.mktemp("model") / "model.keras"
    model.save(path)
    return path.read_bytes()


@pytest.fixture
def store(workspace) -> RunStore:
    return RunStore(workspace)


@pytest.fixture
def run_id(store, model_bytes) -> str:
    from cnn_core.model import PRESETS

    config = {"dataset": {"id": "shapes"}, "model": PRESETS["fast"].to_dict(), "preset": "fast",
              "augment": {"flip": "horizontal"}, "preprocess": {"scaling": "divide_255"}}
    run_id = store.create_run(config, name="original run", sweep_id="sweep-x")
    store.set_status(run_id, "running")
    store.add_epoch(run_id, 1, {"loss": 1.1, "accuracy": 0.4, "val_loss": 1.0, "val_accuracy": 0.5,
                                "learning_rate": 0.003, "seconds": 1.5, "extra_metric": 7.0})
    store.add_epoch(run_id, 2, {"loss": 0.8, "accuracy": 0.6, "val_loss": 0.9, "val_accuracy": 0.65,
                                "learning_rate": 0.001, "seconds": 1.4})
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=20).astype(np.float32)
    store.save_predictions(run_id, probs, rng.integers(0, 3, size=20))
    (store.run_dir(run_id) / "dataset.json").write_text(json.dumps({"class_names": CLASSES}))
    store.model_path(run_id).write_bytes(model_bytes)
    store.set_result(run_id, test_accuracy=0.6, test_loss=0.95, train_seconds=2.9)
    store.set_status(run_id, "finished", "Trained 2 epochs.")
    return run_id


def rebuild(data: bytes, replace: dict | None = None, *, fix_manifest: bool = True,
            manifest: dict | None = None, extra: list | None = None) -> bytes:
    """The export with members replaced (None deletes), the manifest's hashes recomputed."""
    import hashlib

    replace = replace or {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    for name, value in replace.items():
        if value is None:
            members.pop(name, None)
        else:
            members[name] = value
    man = json.loads(members["manifest.json"])
    if fix_manifest:
        man["files"] = {n: {"sha256": hashlib.sha256(b).hexdigest(), "bytes": len(b)}
                        for n, b in members.items() if n != "manifest.json"}
    man.update(manifest or {})
    members["manifest.json"] = json.dumps(man).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, value in members.items():
            zf.writestr(name, value)
        for info, value in extra or []:
            zf.writestr(info, value)
    return out.getvalue()


def keras_file(config: dict | None = None, extra: dict | None = None, base: bytes | None = None) -> bytes:
    """A .keras zip: ``base``'s members with config.json and extra members replaced."""
    members = {}
    if base is not None:
        with zipfile.ZipFile(io.BytesIO(base)) as zf:
            members = {n: zf.read(n) for n in zf.namelist()}
    if config is not None:
        members["config.json"] = json.dumps(config).encode()
    members.update(extra or {})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, value in members.items():
            zf.writestr(name, value)
    return out.getvalue()


def leftovers(store: RunStore) -> list[str]:
    return sorted(p.name for p in store.workspace.iterdir() if p.name.startswith(".import-")) + \
        sorted(p.name for p in store.runs_root.iterdir())


# --------------------------------------------------------------------------- round trip

def test_export_holds_every_part(store, run_id):
    data = export_run(store, run_id)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
        png = zf.read("confusion_matrix.png")
    assert names == {"manifest.json", "config.json", "run.json", "epochs.json", "dataset.json",
                     "model.keras", "predictions.npz", "confusion_matrix.png"}
    assert manifest["format"] == "cnn-lab-run" and manifest["version"] == 1
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width > 100 and image.height > 100


def test_round_trip_keeps_metrics_predictions_and_model(store, run_id, tmp_path):
    path = tmp_path / "run.zip"
    data = export_run(store, run_id, path=path)
    assert path.read_bytes() == data
    new_id = import_run(store, data)
    assert new_id != run_id
    original, imported = store.get(run_id), store.get(new_id)
    assert imported.status == "finished" and imported.name == "original run"
    assert imported.sweep_id is None and "sweep" not in imported.config
    assert imported.config["imported"]["from_run_id"] == run_id
    assert {k: v for k, v in imported.config.items() if k != "imported"} == original.config
    assert store.epochs(new_id) == store.epochs(run_id)
    for key in ("test_accuracy", "test_loss", "train_seconds", "best_val_accuracy", "epochs_done"):
        assert getattr(imported, key) == getattr(original, key)
    for a, b in zip(store.load_predictions(run_id), store.load_predictions(new_id)):
        np.testing.assert_array_equal(a, b)
    assert (store.run_dir(new_id) / "dataset.json").read_bytes() == (store.run_dir(run_id) / "dataset.json").read_bytes()
    assert store.class_names(new_id) == CLASSES

    import keras

    x = np.random.default_rng(1).integers(0, 255, size=(4, 8, 8, 1)).astype("float32")
    before = keras.saving.load_model(store.model_path(run_id)).predict(x, verbose=0)
    after = keras.saving.load_model(store.model_path(new_id)).predict(x, verbose=0)
    np.testing.assert_allclose(before, after)

    # from a path, with a new name
    other = import_run(store, path, name="from a friend")
    assert store.get(other).name == "from a friend"
    assert not [p for p in store.workspace.iterdir() if p.name.startswith(".import-")]


def test_a_run_still_training_is_not_exported(store, run_id):
    store.set_status(run_id, "running")
    with pytest.raises(RunStateError, match="once training has ended"):
        export_run(store, run_id)


def test_a_run_without_model_or_predictions_round_trips(store):
    run_id = store.create_run({"dataset": {"id": "shapes"}, "model": {"epochs": 3}}, name="failed one")
    store.set_status(run_id, "failed", "out of memory")
    new_id = import_run(store, export_run(store, run_id))
    assert store.get(new_id).status == "finished" and not store.has_predictions(new_id)
    assert not store.model_path(new_id).exists()


# --------------------------------------------------------------------------- hostile archives

def refused(store, data, match, **kwargs):
    before = leftovers(store)
    with pytest.raises(UnsafeArchiveError, match=match):
        import_run(store, data, **kwargs)
    assert leftovers(store) == before, "nothing half-imported remains"


def test_path_traversal_absolute_paths_and_links_are_refused(store, run_id):
    data = export_run(store, run_id)
    refused(store, rebuild(data, extra=[("../evil.json", b"{}")]), "outside its folder")
    refused(store, rebuild(data, extra=[("dir/../../evil.json", b"{}")]), "outside its folder")
    refused(store, rebuild(data, extra=[("/etc/cron.d/evil", b"x")]), "absolute path")
    refused(store, rebuild(data, extra=[("C:/Windows/evil", b"x")]), "absolute path")
    link = zipfile.ZipInfo("config_link.json")
    link.external_attr = (0o120777 << 16)
    refused(store, rebuild(data, extra=[(link, b"/etc/passwd")]), "link")
    refused(store, rebuild(data, extra=[("notes.txt", b"hello")]), "not part of a CNN Lab run")


def test_oversized_members_and_zip_bombs_are_refused(store, run_id):
    data = export_run(store, run_id)
    refused(store, data, "limit", limits=ArchiveLimits(json_bytes=200))
    refused(store, data, "unpacks to more than", limits=ArchiveLimits(total_bytes=10_000))
    refused(store, data, "at most 3 are accepted", limits=ArchiveLimits(members=3))
    bomb = rebuild(data, {"epochs.json": b"[" + b" " * (20 * 1024 * 1024) + b"]"})
    assert len(bomb) < 2 * 1024 * 1024
    refused(store, bomb, "zip bombs")


def set_declared_size(data: bytes, name: str, size: int) -> bytes:
    """The archive with ``name``'s uncompressed size in the central directory set to ``size``."""
    data = bytearray(data)
    pos = 0
    while True:
        pos = data.find(b"PK\x01\x02", pos)
        assert pos >= 0, name
        name_length = int.from_bytes(data[pos + 28:pos + 30], "little")
        if bytes(data[pos + 46:pos + 46 + name_length]).decode() == name:
            data[pos + 24:pos + 28] = size.to_bytes(4, "little")
            return bytes(data)
        pos += 4


def test_header_lying_about_size_is_refused(store, run_id):
    data = set_declared_size(export_run(store, run_id), "run.json", 10)
    refused(store, data, "cannot be read|more than its header")


def test_unknown_version_tampering_and_junk_are_refused(store, run_id):
    data = export_run(store, run_id)
    refused(store, rebuild(data, manifest={"version": 99}), "version 99")
    refused(store, rebuild(data, manifest={"format": "something-else"}), "not a CNN Lab run export")
    refused(store, rebuild(data, {"run.json": b'{"test_accuracy": 1.0}'}, fix_manifest=False), "changed or damaged")
    refused(store, rebuild(data, {"config.json": None}), "no config.json")
    refused(store, rebuild(data, {"epochs.json": b'[{"epoch": "one"}]'}), "epoch number")
    refused(store, rebuild(data, {"config.json": b'{"model": {"wings": 2}}'}), "do not fit")
    refused(store, b"this is not a zip file", "not a ZIP archive")
    refused(store, b"", "not a ZIP archive")


def test_a_lambda_model_is_refused_before_loading(store, run_id, tmp_path):
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda t: t * 2)])
    path = tmp_path / "lambda.keras"
    model.save(path)
    data = rebuild(export_run(store, run_id), {"model.keras": path.read_bytes()})
    refused(store, data, "Lambda layer")


def test_foreign_modules_functions_and_pickles_in_models_are_refused(store, run_id, model_bytes):
    data = export_run(store, run_id)
    config = json.loads(zipfile.ZipFile(io.BytesIO(model_bytes)).read("config.json"))

    evil = json.loads(json.dumps(config))
    evil["config"]["layers"][1]["module"] = "os"
    evil["config"]["layers"][1]["class_name"] = "system"
    refused(store, rebuild(data, {"model.keras": keras_file(evil, base=model_bytes)}), "module 'os'")

    evil = json.loads(json.dumps(config))
    evil["config"]["layers"][1]["registered_name"] = "evil>Payload"
    refused(store, rebuild(data, {"model.keras": keras_file(evil, base=model_bytes)}), "evil>Payload")

    evil = json.loads(json.dumps(config))
    evil["config"]["layers"][1]["config"]["function"] = {"class_name": "x", "config": {"code": "AAAA"}}
    refused(store, rebuild(data, {"model.keras": keras_file(evil, base=model_bytes)}), "function")

    import pickle

    pickled = keras_file(extra={"payload.pkl": pickle.dumps({"a": 1})}, base=model_bytes)
    refused(store, rebuild(data, {"model.keras": pickled}), "pickled")

    not_h5 = keras_file(extra={"model.weights.h5": b"not hdf5"}, base=model_bytes)
    refused(store, rebuild(data, {"model.keras": not_h5}), "HDF5")


def test_pickled_predictions_are_refused(store, run_id):
    buf = io.BytesIO()
    np.savez(buf, probs=np.array([{"evil": 1}], dtype=object), y_true=np.array([0]))
    refused(store, rebuild(export_run(store, run_id), {"predictions.npz": buf.getvalue()}), "pickled")


def test_a_failure_while_writing_leaves_nothing(store, run_id, monkeypatch):
    data = export_run(store, run_id)
    runs_before = [r.id for r in store.list_runs()]

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store, "add_epochs", broken)
    with pytest.raises(OSError):
        import_run(store, data)
    assert [r.id for r in store.list_runs()] == runs_before
    assert sorted(p.name for p in store.runs_root.iterdir() if not p.name.startswith(".")) == [run_id]
    assert not [p for p in store.workspace.iterdir() if p.name.startswith(".import-")]


def test_model_inspection_allows_cnn_lab_models(model_bytes):
    config = inspect_keras_file(model_bytes)
    # the fast preset's triangle schedule is CNN Lab's registered class, allowed by name
    assert "OneCycleSchedule" in json.dumps(config)
    check_model_config({"module": "keras.layers", "class_name": "Dense", "registered_name": None})
    check_model_config({"module": "keras.activations", "class_name": "function", "registered_name": "relu"})
    with pytest.raises(UnsafeArchiveError):
        check_model_config({"module": "cnn_core.models", "class_name": "build_model", "registered_name": None},
                           {"cnn_core>OneCycleSchedule"}, {"cnn_core.models"})
