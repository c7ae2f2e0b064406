"""``sweep`` and ``compare`` from the terminal: option parsing, plain errors, a real 2-run sweep."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cnn_core.cli import main, parse_grid_option, parse_range_option
from cnn_core.errors import SpecError
from cnn_core.sweep_spec import SettingRange

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--preset", "fast", "--set", "conv_blocks=1", "--set", "filters=4", "--set", "dense_units=8",
        "--set", "batch_size=128", "--epochs", "1", "--image-size", "16x16"]


def test_grid_and_range_options():
    assert parse_grid_option("learning_rate=0.001, 0.01") == ("learning_rate", ["0.001", "0.01"])
    assert parse_range_option("dense_dropout=0:0.5") == ("dense_dropout", SettingRange(low=0.0, high=0.5))
    assert parse_range_option("learning_rate=0.0001:0.01:log") == (
        "learning_rate", SettingRange(low=0.0001, high=0.01, scale="log"))
    assert parse_range_option("filters=8:32") == ("filters", SettingRange(low=8, high=32))
    assert parse_range_option("optimizer=adam,sgd") == ("optimizer", SettingRange(choices=("adam", "sgd")))
    for bad in ("learning_rate", "learning_rate=", "=0.1"):
        with pytest.raises(SpecError):
            parse_grid_option(bad)
    with pytest.raises(SpecError) as caught:
        parse_range_option("filters=few:many")
    assert caught.value.setting == "filters"


@pytest.mark.parametrize("argv, words", [
    (["sweep", "--dataset", "shapes"], "Say what to vary"),
    (["sweep", "--grid", "filters=8,16", "--random", "3", "--range", "seed=0:9"], "not both"),
    (["sweep", "--range", "dense_dropout=0:0.5"], "--random N"),
    (["sweep", "--grid", "filters=8,0"], "filters=0"),
    (["sweep", "--grid", "wings=1,2"], "wings"),
    (["sweep", "--preset", "resnet", "--grid", "filters=8"], "Unknown preset"),
    (["sweep", "--set", "wings=2", "--grid", "filters=8"], "wings"),
    (["sweep", "--grid", "filters=8,16", "--grid", "seed=1,2", "--grid", "epochs=1,2"], "at most 2"),
    (["compare", "no-such-run"], "no run with id"),
])
def test_mistakes_print_a_plain_message_and_exit_2(argv, words, capsys, workspace):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and words in err
    assert not (workspace / "sweeps").exists() or not any((workspace / "sweeps").iterdir())


def test_sweep_end_to_end_then_compare(workspace, capsys):
    env = dict(os.environ, CNN_LAB_WORKSPACE=str(workspace), TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, "-m", "cnn_core", "sweep", "--dataset", "shapes", *TINY,
         "--grid", "learning_rate=0.003,0.01", "--name", "two rates"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Sweep of 2 runs on shapes, varying learning_rate." in out
    assert re.search(r"\[1/2\] learning_rate=0\.003: finished, test accuracy \d+\.\d%", out), out
    assert re.search(r"\[2/2\] learning_rate=0\.01: finished", out), out
    assert "learning_rate" in out.split("Sweep sweep-")[1] and "Best: learning_rate=" in out

    from cnn_core.runs import RunStore
    from cnn_core.sweeps import list_sweeps

    store = RunStore(workspace)
    [sweep] = list_sweeps(store)
    assert sweep.name == "two rates" and len(sweep.run_ids) == 2
    assert all(store.get(r).status == "finished" and store.get(r).sweep_id == sweep.id for r in sweep.run_ids)

    from cnn_core.cli import main as cnn_core_main

    capsys.readouterr()
    assert cnn_core_main(["compare", *sweep.run_ids]) == 0
    out = capsys.readouterr().out
    first, second = sweep.run_ids
    assert first in out and second in out
    assert f"{first} -> {second}: Learning rate: 0.003 -> 0.01; test accuracy" in out
    assert re.search(r"Ensemble of 2 runs: test accuracy \d+\.\d%", out), out


def test_python_m_cnn_core_has_the_commands():
    from cnn_core.cli import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices
    assert {"datasets", "train", "resume", "runs", "evaluate", "stop", "sweep", "compare"} <= set(commands)
