"""AppTest: the Training page never praises a run stuck at chance level (issue 10 item 1)."""

from __future__ import annotations

from chance_run import make_chance_run
from page_helpers import open_page


def test_a_run_flat_at_chance_is_called_guessing_with_the_cause_not_going_well(workspace):
    make_chance_run(workspace)
    at = open_page("pages/training.py", dataset_id="mnist_sample")
    shown = " ".join(e.value for kind in ("success", "info", "warning", "error") for e in at.main.get(kind))
    assert "going well" not in shown and "levelled off" not in shown
    reading = [e.value for e in at.main.error if "chance level" in e.value]
    assert reading, shown
    assert "10%" in reading[0] and "learning rate (1) is far too high" in reading[0]
