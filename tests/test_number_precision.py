"""16-bit numbers only where the computer has bfloat16 units: the "auto" precision, its detection
and the model builder's warning. Elsewhere 16-bit training runs 2 to 20 times slower."""

from __future__ import annotations

import os
import stat

import pytest

from cnn_core import device
from cnn_core.model import PRESETS, ModelSpec
from cnn_core.model.number_precision import computed_precision, precision_warning

SMALL = dict(conv_blocks=2, filters=4, convs_per_block=1, batch_norm=True, dense_layers=0,
             epochs=1, batch_size=4)


@pytest.fixture
def bfloat16_units(monkeypatch):
    """Set whether this computer "has" bfloat16 units: ``bfloat16_units(False)``."""
    def set_units(present: bool) -> None:
        monkeypatch.setattr(device, "has_bfloat16_units", lambda: present)
    return set_units


@pytest.mark.parametrize("present, expected", [(True, "bfloat16"), (False, "float32")])
def test_auto_computes_in_16_bits_only_with_bfloat16_units(bfloat16_units, present, expected):
    bfloat16_units(present)
    assert computed_precision("auto") == expected
    assert computed_precision("float32") == "float32"
    assert computed_precision("bfloat16") == "bfloat16"   # asked for: given, with a warning


@pytest.mark.parametrize("present, dtype", [(True, "bfloat16"), (False, "float32")])
def test_a_model_set_to_auto_is_built_in_the_precision_of_the_computer(bfloat16_units, present, dtype):
    from cnn_core.model import build_model

    bfloat16_units(present)
    model = build_model(ModelSpec(**SMALL, precision="auto"), (8, 8, 3), 3)
    assert model.get_layer("block1_conv1").compute_dtype == dtype
    assert model.get_layer("block1_conv1").kernel.dtype == "float32"
    assert model.get_layer("output").compute_dtype == "float32"


def test_the_fast_presets_compute_in_16_bits_only_where_it_is_faster():
    assert PRESETS["fast"].precision == "auto" and PRESETS["quick"].precision == "auto"
    assert "auto" in ModelSpec(**SMALL, precision="auto").validate().to_dict().values()


def test_asking_for_16_bits_without_the_units_is_warned_about(bfloat16_units):
    bfloat16_units(False)
    warning = precision_warning("bfloat16")
    assert warning and "bfloat16" in warning and "slower" in warning
    assert precision_warning("auto") is None and precision_warning("float32") is None
    bfloat16_units(True)
    assert precision_warning("bfloat16") is None


# --- detection -------------------------------------------------------------------------------


def test_the_processor_counts_with_avx512_bf16_from_numpy_or_cpuinfo(tmp_path):
    flags = tmp_path / "cpuinfo"
    flags.write_text("flags\t\t: fpu sse2 avx2 avx512f avx512bw\n")
    assert not device._cpu_has_bfloat16({"AVX512F": True}, str(flags))        # AVX-512 alone: no
    assert device._cpu_has_bfloat16({"AVX512F": True, "AVX512BF16": True}, str(flags))
    flags.write_text("flags\t\t: fpu avx2 avx512f amx_bf16 amx_tile\n")
    assert device._cpu_has_bfloat16({}, str(flags))
    flags.write_text("flags\t\t: fpu avx2 avx512f avx512_bf16\n")
    assert device._cpu_has_bfloat16({}, str(flags))
    assert not device._cpu_has_bfloat16({}, str(tmp_path / "no-such-file"))


def test_numpy_reads_this_processors_instruction_sets():
    features = device._cpu_features()
    assert features and any(features.values())   # SSE2 / NEON at least


@pytest.mark.parametrize("capabilities, expected", [
    (((8, 6),), True), (((9, 0), (8, 0)), True), (((7, 5),), False), (((8, 0), (7, 0)), False),
])
def test_gpus_count_from_compute_capability_8(monkeypatch, capabilities, expected):
    monkeypatch.setattr(device, "_gpu_capabilities", lambda: capabilities)
    monkeypatch.setattr(device, "_cpu_has_bfloat16", lambda: not expected)   # not asked
    assert device.has_bfloat16_units.__wrapped__() is expected


def test_without_a_gpu_the_processor_decides(monkeypatch):
    monkeypatch.setattr(device, "_gpu_capabilities", lambda: None)
    for present in (True, False):
        monkeypatch.setattr(device, "_cpu_has_bfloat16", lambda present=present: present)
        assert device.has_bfloat16_units.__wrapped__() is present


def _fake_nvidia_smi(folder, output: str, status: int = 0) -> None:
    script = folder / "nvidia-smi"
    script.write_text(f"#!/bin/sh\nprintf '{output}'\nexit {status}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


@pytest.mark.skipif(os.name != "posix", reason="the fake driver is a shell script")
def test_the_drivers_compute_capabilities_are_read(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    _fake_nvidia_smi(tmp_path, "8.6\\n7.5\\n")
    assert device._capabilities_from_driver() == ((8, 6), (7, 5))
    _fake_nvidia_smi(tmp_path, "Field compute_cap is not a valid field\\n", status=2)
    assert device._capabilities_from_driver() == ((0, 0),)   # an old driver: no units counted


def test_this_computers_answer_matches_its_flags():
    """The real detection, unpatched: on Linux it agrees with the kernel's flags."""
    if not os.path.exists("/proc/cpuinfo") or device._gpu_capabilities() is not None:
        pytest.skip("needs Linux without a GPU")
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        text = info.read()
    assert device.has_bfloat16_units.__wrapped__() == ("avx512_bf16" in text or "amx_bf16" in text)


# --- the model builder -----------------------------------------------------------------------


def _builder_with_precision(value: str):
    from page_helpers import open_page

    at = open_page("pages/model_builder.py", "shapes")
    widget = next(w for kind in ("radio", "selectbox", "select_slider")
                  for w in at.main.get(kind) if w.key == "spec_precision")
    widget.set_value(value).run()
    assert not at.exception
    return at


@pytest.mark.parametrize("present", [False, True])
def test_the_model_builder_warns_when_16_bits_would_be_slow_here(bfloat16_units, present):
    pytest.importorskip("tensorflow")
    bfloat16_units(present)
    at = _builder_with_precision("bfloat16")
    warnings = [w.value for w in at.main.warning]
    assert (precision_warning("bfloat16") in warnings) is not present
    at = _builder_with_precision("auto")
    assert at.session_state["model_spec"]["precision"] == "auto"
    assert not any("bfloat16 units" in w.value for w in at.main.warning)


def test_precision_words_are_plain():
    from cnn_core.settings import declared, show_value

    decl = declared(ModelSpec)["precision"]
    assert [show_value(decl, v) for v in ("float32", "bfloat16", "auto")] == [
        "32-bit", "16-bit (bfloat16)", "Automatic"]
    assert "Automatic" in decl.help and "laptops" in decl.help
