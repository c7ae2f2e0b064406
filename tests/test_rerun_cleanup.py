"""Streamlit's end-of-run clean-up must not clear the Keras session the training thread uses."""

from __future__ import annotations

import keras
import pytest
from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

from components import rerun_cleanup

STREAMLIT_HOOK = script_runner._clean_problem_modules  # noqa: SLF001 - taken before any test replaces it
SCRIPT = "import keras\nimport streamlit as st\nst.write('a run that has Keras imported')"


@pytest.fixture
def clear_session_calls(monkeypatch):
    """Counts calls of keras.backend.clear_session (what Streamlit calls after a run); puts
    Streamlit's own hook back for the test."""
    calls = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *a, **k: calls.append(1))
    monkeypatch.setattr(script_runner, "_clean_problem_modules", STREAMLIT_HOOK)
    return calls


def test_streamlit_clears_the_keras_session_after_every_run_by_default(clear_session_calls):
    at = AppTest.from_string(SCRIPT).run()
    assert not at.exception
    assert clear_session_calls, "Streamlit no longer clears the Keras session: rerun_cleanup may be dropped"


def test_kept_session_is_not_cleared_after_runs(clear_session_calls):
    assert rerun_cleanup.keep_keras_session() is True, "Streamlit moved its clean-up hook"
    assert rerun_cleanup.keep_keras_session() is True  # twice is harmless
    at = AppTest.from_string(SCRIPT).run()
    at.run()
    assert not at.exception
    assert clear_session_calls == []


def test_the_app_keeps_the_session_from_its_first_run(clear_session_calls):
    """app.py protects the training thread before any page (or a training run) uses Keras."""
    from page_helpers import new_app

    at = new_app()
    at.session_state["dataset_id"] = "shapes"
    at.run()
    assert not at.exception
    assert script_runner._clean_problem_modules is not STREAMLIT_HOOK  # noqa: SLF001
    at.switch_page("pages/model_builder.py").run()  # builds a Keras model for its summary
    assert not at.exception
    assert clear_session_calls == []


def test_matplotlib_figures_are_still_closed(clear_session_calls, monkeypatch):
    closed = []

    class FakePyplot:
        @staticmethod
        def close(which):
            closed.append(which)

    monkeypatch.setitem(__import__("sys").modules, "matplotlib.pyplot", FakePyplot)
    rerun_cleanup.keep_keras_session()
    script_runner._clean_problem_modules()  # noqa: SLF001
    assert closed == ["all"]
