"""class_names: the class limit, look-alike names, and the one reader of a run's class names."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnn_core.class_names import MAX_CLASSES, check_class_names, run_class_names
from cnn_core.errors import DatasetError
from cnn_core.runs import RunStore


def test_the_class_limit_and_look_alikes():
    assert check_class_names(["a", "b"], "x") == ["a", "b"]
    assert len(check_class_names([str(i) for i in range(MAX_CLASSES)], "x")) == MAX_CLASSES
    with pytest.raises(DatasetError, match=f"at most {MAX_CLASSES:,}"):
        check_class_names([str(i) for i in range(MAX_CLASSES + 1)], "x")
    with pytest.raises(DatasetError, match="look the same on screen"):
        check_class_names(["caf\u00e9", "cafe\u0301"], "the folder")
    with pytest.raises(DatasetError, match="hidden characters"):
        check_class_names(["dog", "\u200fcat"], "the folder")


def test_a_run_reads_its_names_from_dataset_json_then_older_copies(workspace):
    store = RunStore(workspace)
    run_id = store.create_run({"dataset": {"id": "shapes", "class_names": ["old", "older"]}})
    assert run_class_names(store, run_id, 2) == ["old", "older"]          # an old run's config copy
    assert run_class_names(store, run_id, 3) == ["0", "1", "2"]           # names that do not fit
    store.save_predictions(run_id, np.full((1, 2), 0.5), [0], class_names=["npz", "copy"])
    assert run_class_names(store, run_id, 2) == ["old", "older"]
    (store.run_dir(run_id) / "dataset.json").write_text(json.dumps({"class_names": ["cat", "dog"]}))
    assert run_class_names(store, run_id, 2) == ["cat", "dog"]            # the one stored place wins
