"""The model settings (:class:`ModelSpec`): plain numbers and names a page edits with sliders.

No Keras here: the spec, its checks and its one-line description load instantly.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from cnn_core.errors import SpecError

ACTIVATIONS = ("relu", "elu", "gelu", "leaky_relu", "swish", "tanh", "sigmoid")
PADDINGS = ("same", "valid")
POOLINGS = ("max", "average", "none")
HEADS = ("flatten", "global_average")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
LR_SCHEDULES = ("constant", "one_cycle", "cosine")
LABEL_ENCODINGS = ("integer", "onehot")


def choice_list(values) -> str:
    quoted = [f"'{v}'" for v in values]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1] if len(quoted) > 1 else quoted[0]



@dataclass(frozen=True)
class ModelSpec:
    """Everything that defines a model and how it is trained; plain values only.

    ``conv_blocks == 0`` means a plain multi-layer perceptron (flatten + dense layers).
    Block ``i`` (counting from 0) has ``convs_per_block`` convolutions with
    ``round(filters * filter_growth ** i)`` filters each; ``stride`` applies to the first
    convolution of each block; ``pooling`` halves the feature map at the end of each block.
    ``batch_norm`` puts batch normalisation between each convolution and its activation (conv
    layers only). Dense layer ``j`` (from 0) has ``round(dense_units * dense_shrink ** j)`` units.
    ``momentum`` and ``nesterov`` apply to ``sgd`` only. ``weight_decay`` is AdamW's decoupled
    decay for ``adamw`` and Keras' ``weight_decay`` optimizer argument for the others.
    ``label_smoothing > 0`` needs one-hot labels (see :func:`cnn_core.model.optimizers.needs_onehot`).
    """

    conv_blocks: int = 2
    filters: int = 32
    filter_growth: float = 2.0
    convs_per_block: int = 1
    kernel_size: int = 3
    stride: int = 1
    padding: str = "same"
    activation: str = "relu"
    batch_norm: bool = False
    pooling: str = "max"
    conv_dropout: float = 0.0
    head: str = "flatten"
    dense_layers: int = 1
    dense_units: int = 128
    dense_dropout: float = 0.0
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    momentum: float = 0.9
    lr_schedule: str = "constant"
    weight_decay: float = 0.0
    label_smoothing: float = 0.0
    batch_size: int = 64
    epochs: int = 10
    early_stopping_patience: int = 0
    seed: int = 42
    # Additions to the shared contract (defaults keep older stored specs loading unchanged):
    dense_shrink: float = 1.0
    nesterov: bool = False

    # -- dict round trip ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of every setting."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ModelSpec":
        """Spec from a dict: missing settings get their defaults, unknown ones are refused.

        Values are converted to the setting's type (``3.0`` -> ``3`` for whole-number settings);
        a value of the wrong kind raises :class:`SpecError` naming the setting. Ranges are
        checked by :meth:`validate`, not here, so an old stored spec can still be shown.
        """
        return _from_dict(cls, d)

    def replace(self, **changes: Any) -> "ModelSpec":
        """A copy with some settings changed (unknown names raise :class:`SpecError`)."""
        names = {f.name for f in dataclasses.fields(self)}
        for key in changes:
            if key not in names:
                raise SpecError(key, f"'{key}' is not a model setting.")
        return dataclasses.replace(self, **changes)

    # -- validation ---------------------------------------------------------------------------

    def validate(self) -> "ModelSpec":
        """Raise :class:`SpecError` naming the first setting out of range; return self if fine."""
        _check_int(self, "conv_blocks", 0, 8, "Use 0 (no convolutions, a plain dense network) to 8.")
        _check_int(self, "filters", 1, 1024, "Typical values are 16 to 128.")
        _check_float(self, "filter_growth", 0.5, 4.0, "2 doubles the filters at each block.")
        _check_int(self, "convs_per_block", 1, 4)
        _check_int(self, "kernel_size", 1, 11, "Typical values are 3 or 5.")
        if self.kernel_size % 2 == 0:
            raise SpecError(
                "kernel_size",
                f"The kernel size must be an odd number (1, 3, 5, 7, 9 or 11), not "
                f"{self.kernel_size}, so each filter has a centre pixel.",
            )
        _check_int(self, "stride", 1, 4, "1 looks at every position; 2 halves the image.")
        _check_choice(self, "padding", PADDINGS)
        _check_choice(self, "activation", ACTIVATIONS)
        _check_bool(self, "batch_norm")
        _check_choice(self, "pooling", POOLINGS)
        _check_float(self, "conv_dropout", 0.0, 0.9, "0 turns dropout off; 0.1 to 0.5 is usual.")
        _check_choice(self, "head", HEADS)
        _check_int(self, "dense_layers", 0, 5)
        _check_int(self, "dense_units", 1, 4096, "Typical values are 64 to 512.")
        _check_float(self, "dense_shrink", 0.1, 1.0, "1 keeps every dense layer the same size.")
        _check_float(self, "dense_dropout", 0.0, 0.9, "0 turns dropout off; 0.1 to 0.5 is usual.")
        _check_choice(self, "optimizer", OPTIMIZERS)
        _check_float(self, "learning_rate", 0.0, 1.0, "Typical values are 0.0001 to 0.01.",
                     low_open=True)
        _check_float(self, "momentum", 0.0, 0.999, "0.9 is usual.")
        _check_bool(self, "nesterov")
        _check_choice(self, "lr_schedule", LR_SCHEDULES)
        _check_float(self, "weight_decay", 0.0, 0.5, "0 turns it off; 0.0001 to 0.05 is usual.")
        _check_float(self, "label_smoothing", 0.0, 0.5, "0 turns it off; 0.1 is usual.")
        _check_int(self, "batch_size", 1, 4096, "Typical values are 32 to 256.")
        _check_int(self, "epochs", 1, 1000)
        _check_int(self, "early_stopping_patience", 0, 1000, "0 turns early stopping off.")
        _check_int(self, "seed", 0, 2**31 - 1)
        if self.conv_blocks > 0:
            last = block_filters(self, self.conv_blocks - 1)
            if last > 4096:
                raise SpecError(
                    "filter_growth",
                    f"The last conv block would have {last:,} filters ({self.filters} x "
                    f"{self.filter_growth:g} per block over {self.conv_blocks} blocks); the "
                    "maximum is 4,096. Lower the filter growth, the filters or the conv blocks.",
                )
        if self.conv_blocks == 0 and self.head == "global_average":
            raise SpecError(
                "head",
                "A model without conv blocks has no feature maps to average: the 'global_average' "
                "head would keep only the mean colour of each image. Set the head to 'flatten', "
                "or add a conv block.",
            )
        return self

    def describe(self) -> str:
        """One plain line such as ``"2 conv blocks (32-64 filters, 3x3, max pooling), ..."``."""
        parts = []
        if self.conv_blocks:
            widths = "-".join(str(block_filters(self, i)) for i in range(self.conv_blocks))
            pool = "no pooling" if self.pooling == "none" else f"{self.pooling} pooling"
            per = f"{self.convs_per_block} convs per block, " if self.convs_per_block > 1 else ""
            bn = ", batch norm" if self.batch_norm else ""
            parts.append(
                f"{self.conv_blocks} conv block{'s' if self.conv_blocks > 1 else ''} "
                f"({widths} filters, {per}{self.kernel_size}x{self.kernel_size}, {pool}{bn})"
            )
        else:
            parts.append("no convolutions")
        if self.dense_layers:
            units = "/".join(str(dense_units_at(self, j)) for j in range(self.dense_layers))
            parts.append(f"dense {units}")
        parts.append(f"{self.optimizer} lr {self.learning_rate:g}"
                     + ("" if self.lr_schedule == "constant" else f" ({self.lr_schedule})"))
        parts.append(f"batch {self.batch_size}, {self.epochs} epochs")
        return ", ".join(parts)


def block_filters(spec: ModelSpec, block: int) -> int:
    """Filters of each convolution in conv block ``block`` (0-based)."""
    return max(1, int(round(spec.filters * spec.filter_growth ** block)))


def dense_units_at(spec: ModelSpec, layer: int) -> int:
    """Units of dense layer ``layer`` (0-based)."""
    return max(1, int(round(spec.dense_units * spec.dense_shrink ** layer)))


def _from_dict(cls, d: Mapping[str, Any]):
    if not isinstance(d, Mapping):
        raise SpecError("settings", f"Expected a dict of settings, got {type(d).__name__}.")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    defaults = cls()
    values: dict[str, Any] = {}
    for key, value in d.items():
        if key not in fields:
            raise SpecError(
                str(key),
                f"'{key}' is not a known setting. Known settings: {', '.join(fields)}.",
            )
        values[key] = _coerce(key, value, type(getattr(defaults, key)))
    return cls(**values)


def _coerce(key: str, value: Any, kind: type) -> Any:
    if kind is bool:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if value in (0, 1) and not isinstance(value, str):
            return bool(value)
        raise SpecError(key, f"{key} must be on or off (true/false), not {value!r}.")
    if kind is int:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
            raise SpecError(key, f"{key} must be a whole number, not {value!r}.")
        if isinstance(value, (float, np.floating)) and not float(value).is_integer():
            raise SpecError(key, f"{key} must be a whole number, not {value!r}.")
        return int(value)
    if kind is float:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
            raise SpecError(key, f"{key} must be a number, not {value!r}.")
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise SpecError(key, f"{key} must be a name (text), not {value!r}.")
        return value
    return value


def _check_int(spec, name: str, low: int, high: int, hint: str = "") -> None:
    value = getattr(spec, name)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise SpecError(name, f"{name} must be a whole number, not {value!r}.")
    if not low <= value <= high:
        raise SpecError(name, f"{name} must be between {low} and {high}, not {value}. {hint}".strip())


def _check_float(spec, name: str, low: float, high: float, hint: str = "",
                 low_open: bool = False) -> None:
    value = getattr(spec, name)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise SpecError(name, f"{name} must be a number, not {value!r}.")
    if not math.isfinite(value) or value > high or value < low or (low_open and value <= low):
        bracket = "(" if low_open else "["
        raise SpecError(
            name,
            f"{name} must be in {bracket}{low:g}, {high:g}], not {value:g}. {hint}".strip(),
        )


def _check_choice(spec, name: str, choices) -> None:
    value = getattr(spec, name)
    if value not in choices:
        raise SpecError(name, f"Unknown {name} {value!r}. Choose {choice_list(choices)}.")


def _check_bool(spec, name: str) -> None:
    if not isinstance(getattr(spec, name), (bool, np.bool_)):
        raise SpecError(name, f"{name} must be on or off (true/false).")

