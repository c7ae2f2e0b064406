"""The hostile corpus (tests/hostile_corpus.py) against every door an archive comes in by.

Each case asserts its exact outcome (refused with which words, or which member skipped for which
reason), that no message shows a server path, that nothing was written outside the workspace and
that nothing is left behind. Time and memory over the corpus are measured by bench/hostile.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import hostile_corpus as corpus
from cnn_core import datasets
from cnn_core.errors import CnnLabError, DatasetError, UnsafeArchiveError
from cnn_core.exchange import import_run
from cnn_core.runs import RunStore
from cnn_core.uploads import import_image_zip_report
from cnn_core.stored_messages import message_text

pytestmark = pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning",
                                        "ignore:Skipping variable loading:UserWarning")


@pytest.fixture(autouse=True)
def no_ghostscript(monkeypatch):
    """Fails the test if Pillow so much as starts reading a file as PostScript (the reader's
    errors would be swallowed as "not an image", so the calls are counted instead)."""
    from PIL import EpsImagePlugin

    calls = []

    def record(*args, **kwargs):
        calls.append(args)
        raise SyntaxError("not read in a test")

    monkeypatch.setattr(EpsImagePlugin.EpsImageFile, "_open", record)
    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", record)
    yield
    assert not calls, "an uploaded file reached Pillow's EPS reader (Ghostscript)"
    datasets.clear_dataset_cache()


def tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def outside_workspace(tmp_path: Path, workspace: Path) -> set[str]:
    return {p for p in tree(tmp_path) if not p.startswith(workspace.name)}


@pytest.mark.parametrize("case", corpus.dataset_cases(), ids=lambda c: c.name)
def test_hostile_data_set_zip(case, workspace, tmp_path):
    before = outside_workspace(tmp_path, workspace)
    if case.outcome == "refused":
        with pytest.raises(CnnLabError) as err:
            import_image_zip_report(case.data, "upload", workspace)
        message = str(err.value)
        assert case.words in message
        assert str(tmp_path) not in message and "/tmp" not in message.replace("'/tmp/evil.png'", "")
        assert not (workspace / "datasets").exists() or not os.listdir(workspace / "datasets")
    else:
        report = import_image_zip_report(case.data, "upload", workspace)
        if case.outcome == "skipped":
            assert case.words in message_text(dict(report.skipped)[case.member])
        assert sorted(os.listdir(workspace / "datasets")) == ["upload"]
        ds = datasets.load_dataset("user:upload", workspace=workspace)
        assert ds.class_names == ["cats", "dogs"]
    assert outside_workspace(tmp_path, workspace) == before
    assert not list(tmp_path.rglob("evil*"))


def test_16_bit_and_cmyk_pictures_load_with_their_brightness(workspace):
    files = {**corpus.pets(), "cats/deep.png": corpus.png(65535, (8, 8), "I;16"),
             "cats/mid.png": corpus.png(257 * 100, (8, 8), "I;16"), "dogs/cmyk.jpg": corpus.cmyk_jpeg()}
    import_image_zip_report(corpus.zip_bytes(files), "deep", workspace)
    from cnn_core.image_decoding import decode_images

    root = workspace / "datasets" / "deep"
    images, ok, skipped = decode_images([str(root / "cats/deep.png"), str(root / "cats/mid.png"),
                                         str(root / "dogs/cmyk.jpg")], (8, 8), False)
    assert ok.all() and not skipped
    assert images[0].min() == 255 and images[1].min() == 100 and images[1].max() == 100
    red, green, blue = images[2][..., 0].mean(), images[2][..., 1].mean(), images[2][..., 2].mean()
    assert red > 200 and green < 60 and blue < 60       # CMYK (0, 255, 255, 0) is red


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory) -> bytes:
    import keras

    from cnn_core.model import PRESETS, build_model, compile_model

    spec = PRESETS["fast"].replace(conv_blocks=1, filters=2, dense_units=4, epochs=1)
    model = build_model(spec, (8, 8, 1), 3)
    compile_model(model, spec, steps_per_epoch=5, label_encoding="integer")
    path = tmp_path_factory.mktemp("model") / "model.keras"
    model.save(path)
    return path.read_bytes()


def refused_run(store: RunStore, data: bytes, words: str, tmp_path: Path) -> str:
    before = outside_workspace(tmp_path, store.workspace)
    with pytest.raises(UnsafeArchiveError) as err:
        import_run(store, data)
    message = str(err.value)
    assert words in message, message
    assert str(tmp_path) not in message
    assert store.list_runs() == [] and os.listdir(store.runs_root) == []
    assert not [p for p in os.listdir(store.workspace) if p.startswith(".import")]
    assert outside_workspace(tmp_path, store.workspace) == before
    return message


@pytest.mark.parametrize("case", corpus.run_cases(), ids=lambda c: c.name)
def test_hostile_run_archive(case, workspace, tmp_path):
    refused_run(RunStore(workspace), case.data, case.words, tmp_path)


@pytest.mark.parametrize("path, value, words", corpus.BAD_CONFIG_FIELDS)
def test_a_bad_config_field_is_named_in_the_refusal(path, value, words, workspace, tmp_path):
    message = refused_run(RunStore(workspace), corpus.run_archive(config=corpus.config_with(path, value)),
                          "do not fit this CNN Lab", tmp_path)
    assert f"'{words}" in message or f" {words}" in message


def test_hostile_model_files(model_bytes, workspace, tmp_path):
    store = RunStore(workspace)
    for case in corpus.model_cases(model_bytes):
        refused_run(store, case.data, case.words, tmp_path)
    assert import_run(store, corpus.run_archive(model=model_bytes))   # the real one is welcome


def test_the_largest_allowed_run_imports_in_one_go(workspace):
    store = RunStore(workspace)
    epochs = [{"epoch": i, "loss": 1.0 / i, "val_accuracy": i / 1000} for i in range(1, 1001)]
    probs = np.full((4, 1000), 1 / 1000, np.float32)
    data = corpus.run_archive(epochs=epochs, predictions={"probs": probs, "y_true": np.arange(4)},
                              config={"dataset": {"id": "shapes"}, "model": {"epochs": 1000}})
    run_id = import_run(store, data)
    record = store.get(run_id)
    assert record.epochs_done == 1000 and record.best_val_accuracy == 1.0
    assert [e["epoch"] for e in store.epochs(run_id)] == list(range(1, 1001))


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_leftovers_of_a_dead_process_are_removed_when_the_store_opens(workspace):
    from cnn_core import runs
    from cnn_core.exchange import IMPORTING_MESSAGE

    store = RunStore(workspace)
    keep = store.create_run({"dataset": {"id": "shapes"}}, name="keep")
    pid = dead_pid()
    cut = store.create_run({"dataset": {"id": "shapes"}}, name="cut off", status="failed")
    store.set_status(cut, "failed", IMPORTING_MESSAGE)
    store.set_owner(cut, f"{pid}:1")
    (workspace / "datasets").mkdir()
    leftovers = [workspace / f".import-{pid}-abc", workspace / "datasets" / f".importing-{pid}-abc",
                 workspace / "datasets" / f".importing-{pid}-def.part",
                 store.run_dir(keep) / f".tmp-{pid}-7-model.keras",
                 store.run_dir(keep) / f".config.json.{pid}.7.tmp"]
    alive = [workspace / f".import-{os.getpid()}-mine", store.run_dir(keep) / f".tmp-{os.getpid()}-7-model.keras"]
    for path in leftovers + alive:
        if path.suffix in (".keras", ".tmp", ".part"):
            path.write_bytes(b"half")
        else:
            (path / "x").mkdir(parents=True)
    runs._checked_workspaces.discard(store.workspace)    # as a fresh process would
    RunStore(workspace)
    assert not any(p.exists() for p in leftovers)
    assert all(p.exists() for p in alive)
    assert store.exists(keep) and not store.exists(cut) and not store.run_dir(cut).exists()


def test_an_upload_with_an_empty_test_split_is_refused_plainly(workspace):
    files = {"cats/0.png": corpus.png(10), "dogs/0.png": corpus.png(200)}
    import_image_zip_report(corpus.zip_bytes(files), "tiny", workspace)
    with pytest.raises(DatasetError, match="too small to hold out test images"):
        datasets.load_dataset("user:tiny", workspace=workspace, test_fraction=0.2)


def cli(*args, workspace=None):
    env = dict(os.environ)
    return subprocess.run([sys.executable, "-m", "cnn_core", *args], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent, env=env, timeout=300)


def test_cli_deletes_and_renames_runs_even_damaged_ones(workspace):
    store = RunStore(workspace)
    bad = store.create_run({"dataset": {"id": ["x"]}, "preset": {"a": 1}}, name="broken", status="finished")
    good = store.create_run({"dataset": {"id": "shapes"}}, name="good", status="finished")
    done = cli("rename", good, "  better\u200f name ", "--workspace", str(workspace))
    assert done.returncode == 0 and store.get(good).name == "better name"
    done = cli("delete", bad, "--workspace", str(workspace))
    assert done.returncode == 0 and "Deleted run" in done.stdout
    assert not store.exists(bad) and not store.run_dir(bad).exists()
    assert cli("delete", bad, "--workspace", str(workspace)).returncode == 2


def test_cli_refuses_a_bogus_status_and_a_bad_workspace_in_one_line(workspace, tmp_path):
    done = cli("runs", "--status", "bogus", "--workspace", str(workspace))
    assert done.returncode == 2 and "invalid choice: 'bogus'" in done.stderr
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    done = cli("runs", "--workspace", str(not_a_folder))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0 and "cannot be used" in done.stderr


def test_an_import_killed_half_way_leaves_nothing_after_the_next_start(workspace, tmp_path):
    import signal

    from cnn_core import runs

    archive = tmp_path / "run.zip"
    archive.write_bytes(corpus.run_archive())
    child = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        "from cnn_core import exchange\n"
        "from cnn_core.runs import RunStore\n"
        "store = RunStore(sys.argv[1])\n"
        "def stuck(*args):\n"
        "    print('half way', flush=True)\n"
        "    time.sleep(120)\n"
        "store.add_epochs = stuck\n"
        "exchange.import_run(store, open(sys.argv[2], 'rb').read())\n"),
        str(workspace), str(archive)], stdout=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parent.parent)
    try:
        assert child.stdout.readline().strip() == "half way"
        store = RunStore(workspace)
        assert len(store.list_runs()) == 1          # the half run exists while it is imported...
        assert [p for p in os.listdir(workspace) if p.startswith(".import-")]
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    runs._checked_workspaces.discard(store.workspace)    # the next start of the app or CLI
    store = RunStore(workspace)
    assert store.list_runs() == [] and os.listdir(store.runs_root) == []   # ...and is gone after
    assert not [p for p in os.listdir(workspace) if p.startswith(".import")]
