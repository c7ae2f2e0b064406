"""TensorFlow's CUDA / oneDNN start-up noise stays out of the CLI's output, unless the user set
TF_CPP_MIN_LOG_LEVEL themselves (then it is theirs). Each test starts a fresh Python process,
since TensorFlow prints those lines once, when it is first imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cnn_core.tensorflow_quiet import NOISE, is_noise

ROOT = Path(__file__).resolve().parent.parent
NOISY_WORDS = ("cuda drivers", "cuInit", "oneDNN", "absl::InitializeLog", "cpu_feature_guard")


def run(args, env_changes: dict, cwd) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env.update(env_changes)
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=600)


def test_the_cli_trains_without_tensorflows_start_up_noise(tmp_path):
    done = run(["-m", "cnn_core", "--workspace", str(tmp_path / "ws"), "train", "--dataset", "digits",
                "--preset", "mlp", "--epochs", "1", "--set", "dense_units=8"], {}, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    output = done.stdout + done.stderr
    assert not [word for word in NOISY_WORDS if word in output], output[-3000:]


def test_a_users_own_log_level_is_kept_and_the_noise_is_theirs(tmp_path):
    code = ("import os, cnn_core, tensorflow as tf; tf.constant(1.0) + 1; "
            "print(os.environ['TF_CPP_MIN_LOG_LEVEL'])")
    done = run(["-c", code], {"TF_CPP_MIN_LOG_LEVEL": "0"}, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "0"
    assert any(word in done.stderr for word in NOISY_WORDS)   # what TensorFlow says on this machine


def test_real_errors_are_not_taken_for_noise():
    assert is_noise("I0000 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.")
    assert not is_noise("Traceback (most recent call last):")
    assert not is_noise("MemoryError: cannot allocate")
    assert all(is_noise(part) for part in NOISE)
