"""Which model settings have an effect, given the others: the one place that knows it.

A setting can be meaningless for a model: an MLP (``conv_blocks == 0``) has no filters, kernel,
padding or pooling; with no dense layers there are no dense units; momentum is SGD's. The model
builder greys such settings out, and "what changed" between two runs leaves out a setting that
one of them does not use (an MLP has no "Filter size" to change from).

Example:
    >>> sorted(unused_settings({"conv_blocks": 0, "dense_layers": 2, "optimizer": "adam"}))[:3]
    ['batch_norm', 'conv_dropout', 'convs_per_block']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Settings of the convolution layers: no effect on a model without them (an MLP).
CONVOLUTION_SETTINGS = ("filters", "filter_growth", "convs_per_block", "kernel_size", "stride",
                        "padding", "pooling", "conv_dropout", "head", "batch_norm")
#: Settings of SGD (and of Muon, which moves all but the filters by SGD).
SGD_SETTINGS = ("momentum", "nesterov")
#: Settings of Muon only.
MUON_SETTINGS = ("muon_rate",)


def is_used(name: str, spec: Mapping[str, Any]) -> bool:
    """Whether model setting ``name`` has an effect on a model with settings ``spec`` (a
    :class:`ModelSpec` as a dict; missing values count as "used")."""
    if name in CONVOLUTION_SETTINGS:
        return spec.get("conv_blocks", 1) != 0
    if name in ("dense_units", "dense_dropout"):
        return spec.get("dense_layers", 1) != 0
    if name == "dense_shrink":
        return spec.get("dense_layers", 1) >= 2
    if name in SGD_SETTINGS:
        return spec.get("optimizer", "sgd") in ("sgd", "muon")
    if name in MUON_SETTINGS:
        return spec.get("optimizer", "muon") == "muon" and spec.get("conv_blocks", 1) != 0
    return True


def unused_settings(spec: Mapping[str, Any]) -> set[str]:
    """The model settings that have no effect with ``spec``'s other choices."""
    from cnn_core.settings import declared
    from cnn_core.model.spec import ModelSpec

    return {name for name in declared(ModelSpec) if not is_used(name, spec)}


__all__ = ["CONVOLUTION_SETTINGS", "MUON_SETTINGS", "SGD_SETTINGS", "is_used", "unused_settings"]
