"""run_config: every field of a stored run config checked; damaged runs found in a list."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from cnn_core.errors import SpecError
from cnn_core.run_config import check_run_config, config_problem, split_damaged
from hostile_corpus import BAD_CONFIG_FIELDS, config_with


def test_configs_the_app_writes_pass():
    from cnn_core.augment import AugmentSpec
    from cnn_core.model import PRESETS
    from cnn_core.sweeps import run_config_tag
    from cnn_core.training import TrainingRequest

    for name, spec in PRESETS.items():
        request = TrainingRequest("user:my pets", model=spec, preset=name,
                                  augment=AugmentSpec(flip="horizontal", rotation=0.1),
                                  dataset_options={"image_size": (28, 28), "color_mode": "grayscale",
                                                   "test_fraction": 0.2, "seed": 3},
                                  extra_config={"sweep": run_config_tag("s1", {"learning_rate": 0.01}),
                                                "comparison": "mlp_vs_cnn", "comparison_id": "p1"})
        config = request.to_config()
        config["class_names"] = ["cat", "dog"]
        config["imported"] = {"from_run_id": "x", "exported_at": 1.5, "original_status": "finished"}
        assert check_run_config(config) is config


@pytest.mark.parametrize("path, value, words", BAD_CONFIG_FIELDS)
def test_a_bad_field_is_named(path, value, words):
    with pytest.raises(SpecError) as err:
        check_run_config(config_with(path, value))
    assert words in err.value.setting or words in str(err.value)


def test_damaged_runs_are_split_from_the_good_ones_without_importing_keras():
    import subprocess
    import sys

    runs = [SimpleNamespace(id="a", name="ok", config=config_with("preset", "fast")),
            SimpleNamespace(id="b", name="bad", config=config_with("dataset.id", ["x"])),
            SimpleNamespace(id="c", name="bad", config="not a dict")]
    good, damaged = split_damaged(runs)
    assert [r.id for r in good] == ["a"] and [r.id for r, _ in damaged] == ["b", "c"]
    assert "dataset.id" in damaged[0][1] and config_problem(runs[0].config) is None
    code = ("import sys; from cnn_core.run_config import split_damaged; split_damaged([]); "
            "print('keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def spec_fields() -> list[str]:
    import dataclasses

    from cnn_core.augment import AugmentSpec
    from cnn_core.model import ModelSpec
    from cnn_core.preprocessing import PreprocessSpec

    return [f"{section}.{f.name}" for section, cls in (("model", ModelSpec), ("augment", AugmentSpec),
                                                        ("preprocess", PreprocessSpec))
            for f in dataclasses.fields(cls)]


@pytest.mark.parametrize("path", spec_fields())
@pytest.mark.parametrize("value", [{"a": 1}, [1, 2], "x" * 300, 1e300])
def test_every_declared_setting_refuses_a_wrong_value_by_name(path, value):
    try:
        check_run_config(config_with(path, value))
    except SpecError as error:
        assert error.setting == path, (error.setting, str(error))
    else:   # a value the setting really accepts (e.g. a long text where any text goes) is fine
        assert isinstance(value, (str, float)), f"{path} took {value!r:.40}"
