"""``python -m cnn_core``: settings parsing, user errors, and a real training end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnn_core import cli
from cnn_core.errors import SpecError
from cnn_core.runs import RunStore

ROOT = Path(__file__).resolve().parent.parent
TINY_SETTINGS = ["conv_blocks=1", "filters=4", "dense_layers=0", "batch_size=64",
                 "learning_rate=0.01", "lr_schedule=constant", "batch_norm=false",
                 "test_time_augmentation=off"]   # stored predictions = model.predict


def set_args(settings):
    return [arg for s in settings for arg in ("--set", s)]


def test_values_are_parsed_to_the_settings_type():
    from cnn_core.augment import AugmentSpec
    from cnn_core.model import PRESETS
    from cnn_core.preprocessing import PreprocessSpec

    model, pre = cli.apply_settings(
        (PRESETS["lenet"], PreprocessSpec()),
        ["filters=8", "learning_rate=3e-4", "batch_norm=yes", "optimizer=sgd", "validation_fraction=0.2",
         "dense-units=64"])
    assert (model.filters, model.learning_rate, model.batch_norm, model.optimizer, model.dense_units) == \
        (8, 3e-4, True, "sgd", 64)
    assert isinstance(model.filters, int) and pre.validation_fraction == 0.2
    assert cli.apply_settings(AugmentSpec(), ["flip=horizontal", "rotation=0.1"]).rotation == 0.1

    with pytest.raises(SpecError) as info:
        cli.apply_settings((PRESETS["lenet"], PreprocessSpec()), ["filterz=3"])
    assert info.value.setting == "filterz" and "filters" in str(info.value)   # lists what exists
    for bad, setting in (("filters=2.5", "filters"), ("batch_norm=maybe", "batch_norm"),
                         ("learning_rate=fast", "learning_rate"), ("novalue", "novalue")):
        with pytest.raises(SpecError) as info:
            cli.apply_settings(PRESETS["lenet"], [bad])
        assert info.value.setting == setting
    assert cli.parse_image_size("16x20") == (16, 20) and cli.parse_image_size("24") == (24, 24)
    with pytest.raises(SpecError):
        cli.parse_image_size("big")


def test_user_errors_print_a_plain_message_and_exit_2(capsys, workspace):
    code = cli.main(["train", "--dataset", "shapes", "--preset", "lenet", "--set", "bogus=1"])
    err = capsys.readouterr().err
    assert code == 2 and "bogus" in err and "Traceback" not in err
    assert cli.main(["train", "--dataset", "shapes", "--preset", "nope"]) == 2
    assert "lenet" in capsys.readouterr().err                      # says which presets exist
    assert cli.main(["evaluate", "20990101-000000-0000"]) == 2
    assert "no run" in capsys.readouterr().err
    assert RunStore().list_runs() == []                            # nothing half-created


def test_training_in_16_bits_without_bfloat16_units_is_warned_about(capsys, workspace, monkeypatch):
    from cnn_core import device
    from cnn_core.model.number_precision import precision_warning

    monkeypatch.setattr(device, "has_bfloat16_units", lambda: False)
    args = ["train", "--dataset", "shapes", "--preset", "lenet", "--epochs", "1"]
    assert cli.main([*args, "--set", "precision=bfloat16"]) == 0
    assert precision_warning("bfloat16") in capsys.readouterr().err
    assert cli.main([*args, "--set", "precision=auto"]) == 0
    assert "bfloat16 units" not in capsys.readouterr().err
    assert [r.config["model"]["precision"] for r in RunStore().list_runs()] in (
        ["bfloat16", "auto"], ["auto", "bfloat16"])


def test_impossible_spec_fails_the_run_and_exits_2(capsys, workspace):
    code = cli.main(["train", "--dataset", "shapes", "--preset", "lenet",
                     *set_args(["conv_blocks=8", "filter_growth=1", "padding=valid",
                                "kernel_size=5"])])
    captured = capsys.readouterr()
    assert code == 2 and "failed" in captured.err
    [run] = RunStore().list_runs()
    assert run.status == "failed" and run.epochs_done == 0


def test_datasets_and_workspace_option(capsys, tmp_path, workspace):
    assert cli.main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "shapes" in out and "mnist_sample" in out and "offline" in out
    other = tmp_path / "other"
    RunStore(other).create_run({"model": {"epochs": 1}}, name="elsewhere")
    for argv in (["--workspace", str(other), "runs"], ["runs", "--workspace", str(other)]):
        assert cli.main(argv) == 0
        assert "elsewhere" in capsys.readouterr().out
    assert cli.main(["runs"]) == 0
    assert "No runs yet" in capsys.readouterr().out


def test_train_end_to_end_in_a_subprocess(workspace, capsys):
    cmd = [sys.executable, "-m", "cnn_core", "train", "--dataset", "shapes", "--preset", "fast",
           "--epochs", "2", "--name", "from the cli", *set_args(TINY_SETTINGS),
           "--augment", "flip=horizontal", "--workspace", str(workspace)]
    env = {k: v for k, v in os.environ.items() if k != "CNN_LAB_WORKSPACE"}
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=240, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert [line.split()[1] for line in lines if line.startswith("epoch ")] == ["1/2", "2/2"]
    assert "val_accuracy" in next(line for line in lines if line.startswith("epoch 2/2"))
    assert lines[-1].startswith("run id: ")
    run_id = lines[-1].split()[-1]

    store = RunStore(workspace)
    record = store.get(run_id)
    assert record.status == "finished" and record.name == "from the cli"
    assert record.config["augment"]["flip"] == "horizontal" and record.config["model"]["filters"] == 4
    assert record.owner is not None and [e["epoch"] for e in store.epochs(run_id)] == [1, 2]
    probs, y_true = store.load_predictions(run_id)
    assert probs.shape == (len(y_true), 5)

    from cnn_core.datasets import load_dataset
    from cnn_core.model import load_model

    model = load_model(store.model_path(run_id))
    x_test = load_dataset("shapes").x_test
    np.testing.assert_allclose(model.predict(x_test[:8].astype("float32"), verbose=0), probs[:8],
                               atol=1e-4)

    assert cli.main(["runs"]) == 0
    out = capsys.readouterr().out
    assert run_id in out and "finished" in out and "2/2" in out
    assert cli.main(["evaluate", run_id]) == 0
    out = capsys.readouterr().out
    assert f"accuracy {record.test_accuracy:.4f}" in out and "loss" in out
    assert "circle" in out and "precision" in out                # per-class report with names
    assert cli.main(["resume", run_id]) == 2                       # finished: nothing to resume
    assert "only interrupted or stopped" in capsys.readouterr().err


def test_resume_command_continues_a_stopped_run(workspace, capsys):
    from cnn_core.model import ModelSpec
    from cnn_core.training import JobControl, TrainingRequest, run_training

    store = RunStore()
    control = JobControl()
    spec = ModelSpec(conv_blocks=1, filters=4, dense_layers=0, batch_size=64, epochs=2)
    record = run_training(TrainingRequest("shapes", spec), store, control,
                          on_epoch=lambda e, n, m: control.request_stop())
    assert record.status == "stopped" and record.epochs_done == 1
    assert cli.main(["resume", record.id]) == 0
    out = capsys.readouterr().out
    assert "Resuming after epoch 1 of 2" in out and "epoch 2/2" in out and "epoch 1/2" not in out
    assert store.get(record.id).status == "finished" and store.get(record.id).epochs_done == 2


def test_stop_command_asks_a_running_run_through_the_store(workspace, capsys):
    store = RunStore()
    running = store.create_run({"model": {"epochs": 3}})
    store.set_status(running, "running")
    assert cli.main(["stop", running]) == 0
    assert store.status(running) == "stopping"        # the training process's callback obeys this
    waiting = store.create_run({"model": {"epochs": 3}})
    assert cli.main(["stop", waiting]) == 0 and store.status(waiting) == "stopped"
    assert cli.main(["stop", waiting]) == 2
    assert "nothing to stop" in capsys.readouterr().err
