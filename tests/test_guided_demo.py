"""The guided demo's steps (declared once in components/guided_demo.py), where "Next step" goes,
when the Train step starts the one-click model, and the demo's handful of model settings."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from cnn_core.model import ModelSpec
from cnn_core.run_status import RunStatus
from cnn_core.settings import declared, demo_settings
from components.guided_demo import STEPS, needs_first_model, next_step, step_index

ROOT = Path(__file__).resolve().parent.parent


def test_the_demo_walks_data_model_train_evaluation_mistakes_try_it():
    assert [s.title for s in STEPS] == ["Data", "Model", "Train", "Evaluation", "Mistakes", "Try it"]
    assert len({s.key for s in STEPS}) == len(STEPS)


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.key)
def test_every_step_opens_a_page_of_the_app(step):
    assert (ROOT / step.page).is_file()
    assert f'st.Page("{step.page}"' in (ROOT / "app.py").read_text(), f"{step.page} is not in app.py's navigation"
    assert step.url_path == Path(step.page).stem


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.key)
def test_every_step_has_one_or_two_short_sentences_to_read_out(step):
    assert 1 <= len(step.script) <= 2
    for sentence in step.script:
        assert re.fullmatch(r"[A-Z].*[.!?]", sentence), sentence
        assert len(sentence) <= 120, f"too long to read out: {sentence!r}"


def test_next_step_follows_the_page_on_screen():
    assert next_step("").key == "data"            # Home: the demo starts
    assert next_step("compare").key == "data"     # a page outside the demo: start from the top
    for here, there in zip(STEPS, STEPS[1:]):
        assert next_step(here.url_path) == there
    assert next_step("try_it").key == "data"      # the end: start again
    assert step_index("model_builder") == 1 and step_index("augmentation") is None


def run(status: RunStatus):
    return SimpleNamespace(status=status)


def test_the_train_step_starts_the_first_model_only_when_none_was_trained_or_is_training():
    assert needs_first_model([])
    assert needs_first_model([run(RunStatus.FAILED), run(RunStatus.DIVERGED), run(RunStatus.INTERRUPTED)])
    for status in (RunStatus.FINISHED, RunStatus.STOPPED, RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.PAUSED):
        assert not needs_first_model([run(RunStatus.FAILED), run(status)]), status


def test_the_demo_settings_are_filters_layers_dropout_learning_rate_and_epochs():
    names = [d.name for d in demo_settings(ModelSpec)]
    assert names == [n for n in declared(ModelSpec) if n in names]  # declaration order
    assert set(names) == {"conv_blocks", "filters", "conv_dropout", "dense_dropout", "learning_rate", "epochs"}
