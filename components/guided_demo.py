"""The guided demo: one "Next step" button that walks a room through CNN Lab, page by page.

Data -> Model -> Train -> Evaluation -> Mistakes -> Try it, each with one or two sentences the
presenter can read out (:data:`STEPS`, declared here once). The step on screen is the page on
screen, so the presenter may also jump with the sidebar and "Next step" still goes on from there.
On the way to Train, the one-click first model starts if no model has been trained yet
(:func:`components.launch.launch_first_model`), so Evaluation and Mistakes have something to show.
Shown in presentation mode only (:mod:`components.presentation`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from cnn_core.i18n import N_, _, ngettext
from cnn_core.run_status import ACTIVE_STATUSES, RESULT_STATUSES

NEXT_KEY = "guided_demo_next"
BAR_KEY = "guided_demo"   # the bar's container (CSS class st-key-guided_demo)


@dataclass(frozen=True)
class DemoStep:
    """One stop of the demo: the page it shows, its short title and what the presenter says."""

    key: str
    page: str
    title: str
    script: tuple[str, ...]

    @property
    def url_path(self) -> str:
        """The page's address (``pages/model_builder.py`` -> ``model_builder``), as ``st.Page`` makes it."""
        return Path(self.page).stem


STEPS: tuple[DemoStep, ...] = (
    DemoStep("data", "pages/data.py", N_("Data"), (
        N_("These are the pictures the computer learns from, each labelled with the right answer."),
        N_("Nobody writes rules for it: it only ever sees examples like these."),
    )),
    DemoStep("model", "pages/model_builder.py", N_("Model"), (
        N_("This is the network: layers of small filters that first spot edges, then shapes, then whole objects."),
        N_("A few sliders decide how big it is and how fast it learns."),
    )),
    DemoStep("train", "pages/training.py", N_("Train"), (
        N_("Now it learns: it guesses, is told the right answer, and nudges its numbers, over and over."),
        N_("The curves show it getting better with every pass over the pictures."),
    )),
    DemoStep("evaluation", "pages/evaluation.py", N_("Evaluation"), (
        N_("We test it on pictures it has never seen."),
        N_("Each square counts how often one class was taken for another; the diagonal is where it was right."),
    )),
    DemoStep("mistakes", "pages/mistakes.py", N_("Mistakes"), (
        N_("These are the pictures it got wrong."),
        N_("Some would fool a person too; the heat maps show where the model looked."),
    )),
    DemoStep("try_it", "pages/try_it.py", N_("Try it"), (
        N_("Your turn: draw a picture or upload one, and see what the model says."),
        N_("It answers with how sure it is, not just a guess."),
    )),
)


def step_index(url_path: str) -> int | None:
    """Which step shows the page at ``url_path`` (None for a page outside the demo, e.g. Home)."""
    for index, step in enumerate(STEPS):
        if step.url_path == url_path:
            return index
    return None


def next_step(url_path: str) -> DemoStep:
    """Where "Next step" goes from the page at ``url_path``: the following step; the first one from
    a page outside the demo or from the last step (start again)."""
    index = step_index(url_path)
    return STEPS[0] if index is None or index == len(STEPS) - 1 else STEPS[index + 1]


def needs_first_model(runs: Iterable) -> bool:
    """True when no run has been trained (finished or stopped with a model) and none is training,
    so the demo's Train step has to start one."""
    return not any(run.status in RESULT_STATUSES or run.status in ACTIVE_STATUSES for run in runs)


def still_training() -> bool:
    """Whether the run this session follows is still queued or training (the Training page reruns
    the whole app when it ends, so the bar's hint goes with it)."""
    from components import state

    run_id = state.active_run_id()
    return bool(run_id) and state.run_store().get(run_id).is_active


def go_to(step: DemoStep) -> None:
    """Open ``step``'s page; on the way to Train, start the one-click model if none was trained."""
    if step.key == "train":
        from components import state
        from components.feedback import engine_errors
        from components.launch import launch_first_model

        if needs_first_model(state.run_store().list_runs()):
            with engine_errors(_("Could not start training: ")):
                launch_first_model()
    st.switch_page(step.page)


def demo_bar(url_path: str) -> None:
    """The bar on top of the page in presentation mode: the step, its sentences, "Next step"."""
    from components.state import presenting

    if not presenting():
        return
    index = step_index(url_path)
    with st.container(border=True, key=BAR_KEY):
        text, button = st.columns([2, 1], vertical_alignment="center")   # "Next step" on one line at 1024 px
        with text:
            if index is None:
                st.markdown("**" + _("Guided demo") + "**")
                st.markdown(ngettext("{count} step, from the pictures to a model you can try. "
                                     "Press Next step to begin.",
                                     "{count} steps, from the pictures to a model you can try. "
                                     "Press Next step to begin.", len(STEPS)))
            else:
                step = STEPS[index]
                st.markdown("**" + _("Step {number} of {total}: {title}", number=index + 1, total=len(STEPS),
                                     title=_(step.title)) + "**")
                st.markdown(" ".join(_(sentence) for sentence in step.script))
                if step.key == "train" and still_training():
                    st.caption(_("Still training: wait for “Finished” before the next step, so the next "
                                 "pages have a model to show."))
        last = index == len(STEPS) - 1
        label = _("Start again") if last else _("Next step")
        target = next_step(url_path)
        if button.button(label, key=NEXT_KEY, type="primary", icon=":material/arrow_forward:",
                         help=_("Go to: {title}", title=_(target.title)), width="stretch"):
            go_to(target)


__all__ = ["DemoStep", "STEPS", "demo_bar", "go_to", "needs_first_model", "next_step", "step_index",
           "still_training"]
