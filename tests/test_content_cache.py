"""The cache of things built from a reading (the live view's curve figure and runs table)."""

from __future__ import annotations

import threading

import pytest

from cnn_core.content_cache import ContentCache, epochs_key
from cnn_core.runs import RunStore


def test_an_unchanged_key_finds_the_value_made_before_and_a_changed_one_makes_it_anew():
    cache = ContentCache()
    made = []
    first = cache.get_or_make(("run", 1), lambda: made.append(1) or object())
    assert cache.get_or_make(("run", 1), lambda: made.append(2) or object()) is first
    other = cache.get_or_make(("run", 2), lambda: made.append(3) or object())
    assert other is not first and made == [1, 3] and cache.made == 2


def test_the_least_recently_used_value_goes_first_when_full():
    cache = ContentCache(max_entries=2)
    cache.get_or_make("a", lambda: "A")
    cache.get_or_make("b", lambda: "B")
    cache.get_or_make("a", lambda: "never")       # "a" used again: "b" is now the oldest
    cache.get_or_make("c", lambda: "C")
    assert len(cache) == 2
    assert cache.get_or_make("a", lambda: "again") == "A"
    assert cache.get_or_make("b", lambda: "B again") == "B again"
    with pytest.raises(ValueError):
        ContentCache(max_entries=0)


def test_threads_share_one_cache_safely():
    cache = ContentCache(max_entries=8)
    errors = []

    def use(n):
        try:
            for i in range(200):
                assert cache.get_or_make(i % 12, lambda i=i: i % 12) == i % 12
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=use, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(cache) == 8


def test_the_epochs_key_changes_with_a_new_epoch_and_with_an_epoch_recorded_again(workspace):
    store = RunStore(workspace)
    run_id = store.create_run({"model": {"epochs": 3}}, name="r")
    store.add_epoch(run_id, 1, {"loss": 1.0, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.4})
    one = epochs_key(store.epochs(run_id))
    assert epochs_key(store.epochs(run_id)) == one           # read again, unchanged: same key
    store.add_epoch(run_id, 2, {"loss": 0.8, "accuracy": 0.6, "val_loss": 0.9, "val_accuracy": 0.5})
    two = epochs_key(store.epochs(run_id))
    assert two != one
    store.delete_epochs_after(run_id, 1)                       # resumed from epoch 1: epoch 2 again
    store.add_epoch(run_id, 2, {"loss": 0.7, "accuracy": 0.6, "val_loss": 0.9, "val_accuracy": 0.5})
    assert epochs_key(store.epochs(run_id)) not in (one, two)
    hash(epochs_key(store.epochs(run_id)))
