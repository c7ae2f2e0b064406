"""Model settings (:class:`ModelSpec`) -> Keras models, optimizers, summaries and cost estimates.

A :class:`ModelSpec` is a frozen dataclass of plain numbers and names that a page edits with
sliders. :func:`check_spec` walks the layer shapes in plain Python and says, before any training,
which setting cannot work with the chosen images (for example too many pooling steps for 28x28
pixels). :func:`build_model` turns a spec into an uncompiled Keras model whose first layer scales
raw 0..255 pixels, so a saved ``model.keras`` takes images as they are stored.

Keras is imported at module top (the contract allows it): the learning-rate schedules below are
registered Keras objects, so ``keras.models.load_model("model.keras")`` finds them in any process
that imported :mod:`cnn_core.models`. :func:`load_model` does that import for you.

Example:
    >>> spec = PRESETS["lenet"]
    >>> check_spec(spec, (28, 28, 1), 10)          # raises SpecError when it cannot work
    >>> model = build_model(spec, (28, 28, 1), 10)
    >>> compile_model(model, spec, steps_per_epoch=63, label_encoding="integer")
    >>> summarize(model).total_params
    44426
"""

from __future__ import annotations

import dataclasses
import functools
import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Mapping

import keras
import numpy as np

from cnn_core.errors import CnnLabError, SpecError

ACTIVATIONS = ("relu", "elu", "gelu", "leaky_relu", "swish", "tanh", "sigmoid")
PADDINGS = ("same", "valid")
POOLINGS = ("max", "average", "none")
HEADS = ("flatten", "global_average")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
LR_SCHEDULES = ("constant", "one_cycle", "cosine")
LABEL_ENCODINGS = ("integer", "onehot")

#: Pooling layers halve the feature map (2x2 windows, stride 2).
POOL_SIZE = 2
#: Batch-norm running averages follow the data faster than Keras' default 0.99: small data sets
#: have few steps per epoch, and 0.99 left validation accuracy at chance for several epochs.
BN_MOMENTUM = 0.9
#: Models above this many weights are refused: they would not fit in a laptop's memory for long.
MAX_PARAMS = 50_000_000


def _choices(values) -> str:
    quoted = [f"'{v}'" for v in values]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1] if len(quoted) > 1 else quoted[0]


# ---------------------------------------------------------------------------------------------
# ModelSpec
# ---------------------------------------------------------------------------------------------


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
    ``label_smoothing > 0`` needs one-hot labels (see :func:`needs_onehot`).
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
        raise SpecError(name, f"Unknown {name} {value!r}. Choose {_choices(choices)}.")


def _check_bool(spec, name: str) -> None:
    if not isinstance(getattr(spec, name), (bool, np.bool_)):
        raise SpecError(name, f"{name} must be on or off (true/false).")


# ---------------------------------------------------------------------------------------------
# Presets
# ---------------------------------------------------------------------------------------------

PRESETS: dict[str, ModelSpec] = {
    # conv32 - pool - conv64 - pool - dense128 - dense64 (dropout 0.3 after each dense layer).
    # The tutorial's conv32-conv64-maxpool stacks two convs of different widths before a single
    # pooling step and uses dropout 0.3 then 0.2; one filter count per block and one dense
    # dropout is as close as the spec gets.
    "cifar10_tutorial": ModelSpec(
        conv_blocks=2, filters=32, filter_growth=2.0, convs_per_block=1, kernel_size=3,
        padding="same", activation="relu", pooling="max", head="flatten",
        dense_layers=2, dense_units=128, dense_shrink=0.5, dense_dropout=0.3,
        optimizer="adam", learning_rate=1e-3, batch_size=64, epochs=15,
    ),
    "fashion_mnist_tutorial": ModelSpec(
        conv_blocks=2, filters=32, filter_growth=2.0, convs_per_block=1, kernel_size=3,
        padding="same", activation="relu", pooling="max", head="flatten",
        dense_layers=1, dense_units=128, dense_dropout=0.4,
        optimizer="adam", learning_rate=1e-3, batch_size=64, epochs=10,
    ),
    "lenet": ModelSpec(
        conv_blocks=2, filters=6, filter_growth=16 / 6, convs_per_block=1, kernel_size=5,
        padding="valid", activation="relu", pooling="average", head="flatten",
        dense_layers=2, dense_units=120, dense_shrink=0.7, dense_dropout=0.0,
        optimizer="adam", learning_rate=1e-3, batch_size=32, epochs=10,
    ),
    # Batches of 32 for the two small presets: the built-in sets have a few thousand pictures, and
    # twice the steps per epoch is what makes Shapes learn in 2-3 epochs (bench/shapes_curves.py).
    # mlp keeps lenet's budget (optimizer, rate, batch, epochs) so MLP vs CNN is fair.
    "mlp": ModelSpec(
        conv_blocks=0, head="flatten", dense_layers=2, dense_units=256, dense_dropout=0.2,
        optimizer="adam", learning_rate=1e-3, batch_size=32, epochs=10,
    ),
    # Tuned for CIFAR-10 accuracy per CPU-minute on a 2-core machine (bench/fast_preset.py):
    # 32-64-128 filters, two convs per block, batch norm, global average pooling, SGD with
    # Nesterov momentum and a one-cycle learning rate, label smoothing. Pair it with
    # PRESET_AUGMENTS["fast"] (flips and small shifts).
    "fast": ModelSpec(
        conv_blocks=3, filters=32, filter_growth=2.0, convs_per_block=2, kernel_size=3,
        padding="same", activation="relu", batch_norm=True, pooling="max", head="global_average",
        dense_layers=0, dense_dropout=0.0,
        optimizer="sgd", nesterov=True, momentum=0.9, learning_rate=0.1, lr_schedule="one_cycle",
        weight_decay=0.005, label_smoothing=0.1, batch_size=256, epochs=6,
    ),
}

# Augmentation a preset was tuned with (AugmentSpec settings); presets not named here use none.
PRESET_AUGMENTS: dict[str, dict] = {
    "fast": {"flip": "horizontal", "translation": 0.125},
}

PRESET_DESCRIPTIONS: dict[str, str] = {
    "cifar10_tutorial": "The classic beginner CIFAR-10 network: 32 then 64 filters with max "
                        "pooling, dense layers of 128 and 64 with dropout, trained with Adam.",
    "fashion_mnist_tutorial": "The Fashion-MNIST tutorial network: two convolutions (32 and 64 "
                              "filters), a dense layer of 128 and dropout of 0.4.",
    "lenet": "LeNet-5, the 1998 digit reader: 6 and 16 filters of 5x5 with average pooling, "
             "then dense layers of 120 and 84; small and quick, good for digits.",
    "mlp": "No convolutions at all: the pixels go straight into two dense layers of 256, "
           "a baseline that shows what convolutions add.",
    "fast": "A compact network with batch normalisation, a one-cycle learning rate and "
            "label smoothing, chosen for the best accuracy per minute on a laptop CPU.",
}

DEFAULT_PRESET = "lenet"


# ---------------------------------------------------------------------------------------------
# Shape walk (pure Python): check_spec, plan_summary
# ---------------------------------------------------------------------------------------------


@dataclass
class LayerRow:
    """One line of a model summary. ``output_shape`` leaves out the batch size."""

    name: str
    type: str
    output_shape: str
    params: int
    flops: int = 0  # addition: floating-point operations per image (forward pass)


@dataclass
class ModelSummary:
    """Layer table and totals; ``flops_per_image`` counts one forward pass of one image."""

    rows: list[LayerRow]
    total_params: int
    trainable_params: int
    flops_per_image: int

    def to_records(self) -> list[dict[str, Any]]:
        """Rows as dicts (for ``pandas.DataFrame`` or ``st.dataframe``)."""
        return [dataclasses.asdict(r) for r in self.rows]


def _shape_str(shape) -> str:
    return "(" + ", ".join(str(int(d)) if d is not None else "?" for d in shape) + ")"


def _conv_out(size: int, kernel: int, stride: int, padding: str) -> int:
    if padding == "same":
        return -(-size // stride)
    return (size - kernel) // stride + 1


# Per-layer FLOP rules shared by the plan and by summarize(), so both agree:
#   Conv2D: 2*Ho*Wo*K*K*Cin*Cout, + Ho*Wo*Cout for the bias, + Ho*Wo*Cout for a fused activation
#   Dense: 2*in*out, + out for the bias, + out for the activation (softmax counted as 1 per unit)
#   Rescaling / BatchNormalization: 2 per output value; Activation: 1 per value
#   Pooling 2x2: 4 per output value; global average pooling: 1 per input value
#   Input, Flatten, Dropout: 0. Unknown layers: 1 per output value (a rough guess).
def _conv_flops(ho, wo, k, cin, cout, bias: bool, act: bool) -> int:
    return 2 * ho * wo * k * k * cin * cout + (ho * wo * cout) * (int(bias) + int(act))


def _dense_flops(n_in, n_out, bias: bool, act: bool) -> int:
    return 2 * n_in * n_out + n_out * (int(bias) + int(act))


def _validate_shape(input_shape, n_classes) -> tuple[int, int, int]:
    try:
        h, w, c = (int(v) for v in input_shape)
    except (TypeError, ValueError):
        raise CnnLabError(
            f"Images must have a height, width and channel count, e.g. (28, 28, 1); got "
            f"{input_shape!r}."
        ) from None
    if min(h, w, c) < 1:
        raise CnnLabError(f"Images of shape {tuple(input_shape)} have no pixels.")
    if int(n_classes) < 2:
        raise CnnLabError(
            f"A classifier needs at least 2 classes; this data set has {n_classes}. "
            "Pick a data set with two or more classes."
        )
    return h, w, c


def _plan(spec: ModelSpec, input_shape, n_classes: int) -> list[LayerRow]:
    """Walk the layers in plain Python; raise SpecError when a setting cannot work."""
    h0, w0, c = _validate_shape(input_shape, n_classes)
    h, w = h0, w0
    rows = [LayerRow("image", "InputLayer", _shape_str((h, w, c)), 0, 0),
            LayerRow("scaling", "Rescaling", _shape_str((h, w, c)), 0, 2 * h * w * c)]
    k, s = spec.kernel_size, spec.stride
    history = [f"{h}x{w}"]
    for b in range(1, spec.conv_blocks + 1):
        cout = block_filters(spec, b - 1)
        for i in range(1, spec.convs_per_block + 1):
            stride = s if i == 1 else 1
            if spec.padding == "valid" and (h < k or w < k):
                if b == 1 and i == 1:
                    raise SpecError(
                        "kernel_size",
                        f"The {k}x{k} kernel is larger than the {h0}x{w0} images, so with 'valid' "
                        "padding there is no position to put it. Use a smaller kernel size, or "
                        "set padding to 'same'.",
                    )
                raise SpecError(
                    "padding",
                    f"With 'valid' padding each {k}x{k} convolution trims {k - 1} pixels from the "
                    f"feature map, and in block {b} it is only {h}x{w} pixels, smaller than the "
                    f"kernel ({' -> '.join(history)}). Set padding to 'same', use a smaller "
                    "kernel size, or use fewer conv blocks.",
                )
            if stride > 1 and (stride > h or stride > w):
                raise SpecError(
                    "stride",
                    f"A stride of {stride} is larger than the {h}x{w} feature map in block {b}, "
                    f"so the filter could only be placed once ({' -> '.join(history)}). Use a "
                    "smaller stride or fewer conv blocks.",
                )
            ho, wo = _conv_out(h, k, stride, spec.padding), _conv_out(w, k, stride, spec.padding)
            params = k * k * c * cout + (0 if spec.batch_norm else cout)
            flops = _conv_flops(ho, wo, k, c, cout, bias=not spec.batch_norm,
                                act=not spec.batch_norm)
            rows.append(LayerRow(f"block{b}_conv{i}", "Conv2D", _shape_str((ho, wo, cout)),
                                 params, flops))
            h, w, c = ho, wo, cout
            if (h, w) != tuple(map(int, history[-1].split("x"))):
                history.append(f"{h}x{w}")
            if spec.batch_norm:
                rows.append(LayerRow(f"block{b}_bn{i}", "BatchNormalization",
                                     _shape_str((h, w, c)), 4 * c, 2 * h * w * c))
                rows.append(LayerRow(f"block{b}_act{i}", "Activation",
                                     _shape_str((h, w, c)), 0, h * w * c))
        if spec.pooling != "none":
            if h < POOL_SIZE or w < POOL_SIZE:
                blocks_ok = _max_blocks(spec, (h0, w0, 1))
                raise SpecError(
                    "conv_blocks",
                    f"The image shrinks to nothing after block {b}: {h0}x{w0} pixels halve at each "
                    f"pooling step ({' -> '.join(history)} -> nothing). Use at most {blocks_ok} "
                    f"conv block{'s' if blocks_ok != 1 else ''}, or set pooling to 'none'.",
                )
            h, w = h // POOL_SIZE, w // POOL_SIZE
            history.append(f"{h}x{w}")
            kind = "MaxPooling2D" if spec.pooling == "max" else "AveragePooling2D"
            rows.append(LayerRow(f"block{b}_pool", kind, _shape_str((h, w, c)), 0,
                                 POOL_SIZE * POOL_SIZE * h * w * c))
        if spec.conv_dropout > 0:
            rows.append(LayerRow(f"block{b}_dropout", "Dropout", _shape_str((h, w, c)), 0, 0))
    if spec.conv_blocks > 0 and spec.head == "global_average":
        rows.append(LayerRow("global_pool", "GlobalAveragePooling2D", _shape_str((c,)), 0,
                             h * w * c))
        n = c
    else:
        n = h * w * c
        rows.append(LayerRow("flatten", "Flatten", _shape_str((n,)), 0, 0))
    flatten_units = n
    for j in range(1, spec.dense_layers + 1):
        units = dense_units_at(spec, j - 1)
        rows.append(LayerRow(f"dense{j}", "Dense", _shape_str((units,)), n * units + units,
                             _dense_flops(n, units, True, True)))
        n = units
        if spec.dense_dropout > 0:
            rows.append(LayerRow(f"dense{j}_dropout", "Dropout", _shape_str((n,)), 0, 0))
    rows.append(LayerRow("output", "Dense", _shape_str((n_classes,)),
                         n * n_classes + n_classes, _dense_flops(n, n_classes, True, True)))
    total = sum(r.params for r in rows)
    if total > MAX_PARAMS:
        first_dense = next((r for r in rows if r.type == "Dense"), None)
        if spec.conv_blocks > 0 and first_dense and first_dense.params > total / 2 \
                and spec.head == "flatten":
            raise SpecError(
                "head",
                f"The model would have {total / 1e6:,.0f} million weights, mostly between the "
                f"flattened feature map ({flatten_units:,} values) and the first dense layer. "
                "Set the head to 'global_average', add pooling or conv blocks, or use fewer "
                "dense units.",
            )
        setting = "dense_units" if spec.conv_blocks == 0 else "filters"
        raise SpecError(
            setting,
            f"The model would have {total / 1e6:,.0f} million weights; the limit is "
            f"{MAX_PARAMS / 1e6:.0f} million. Use fewer {setting.replace('_', ' ')}.",
        )
    return rows


def _max_blocks(spec: ModelSpec, input_shape) -> int:
    """Largest number of conv blocks (with the other settings unchanged) that still fits."""
    best = 0
    for blocks in range(1, spec.conv_blocks):
        try:
            _plan(dataclasses.replace(spec, conv_blocks=blocks, dense_layers=0), input_shape, 2)
        except SpecError:
            break
        best = blocks
    return best


def check_spec(spec: ModelSpec, input_shape, n_classes: int) -> None:
    """Raise :class:`SpecError` naming the setting to change when the spec cannot work.

    Checks ranges (:meth:`ModelSpec.validate`), then walks the feature-map sizes block by block
    in plain Python (no TensorFlow): too many pooling steps for the image size (``conv_blocks``),
    a kernel larger than the image or feature map with 'valid' padding (``kernel_size`` /
    ``padding``), a stride larger than the feature map (``stride``), or a model too large
    to train (``head`` / ``filters`` / ``dense_units``).

    Raises:
        SpecError: with ``.setting`` the field to change and a plain message.
        CnnLabError: when the data set itself cannot be classified (fewer than 2 classes).
    """
    spec.validate()
    _plan(spec, input_shape, n_classes)


def plan_summary(spec: ModelSpec, input_shape, n_classes: int) -> ModelSummary:
    """The summary :func:`summarize` would give for the built model, without building it.

    Assumes the default scaling layer (0 weights); fast enough to redraw on every slider move.
    """
    check_spec(spec, input_shape, n_classes)
    rows = _plan(spec, input_shape, n_classes)
    total = sum(r.params for r in rows)
    bn_stats = sum(r.params // 2 for r in rows if r.type == "BatchNormalization")
    return ModelSummary(rows, total, total - bn_stats, sum(r.flops for r in rows))


# ---------------------------------------------------------------------------------------------
# Building the model
# ---------------------------------------------------------------------------------------------


def build_model(spec: ModelSpec, input_shape, n_classes: int, scaling=None) -> keras.Model:
    """An uncompiled Keras functional model for images of ``input_shape`` (H, W, C).

    The model takes raw pixels (floats or uint8 in 0..255). Its first layer is
    ``scaling.as_layer()`` when a fitted scaling is given (anything with ``as_layer()``, e.g.
    :class:`cnn_core.preprocessing.FittedScaling`), else ``Rescaling(1/255)``. Layer names are
    readable: ``block1_conv1``, ``block1_bn1``, ``block1_act1``, ``block1_pool``,
    ``block1_dropout``, ``flatten`` / ``global_pool``, ``dense1``, ``dense1_dropout``, ``output``.

    Seeds are not set here: the caller calls ``keras.utils.set_random_seed(spec.seed)`` first.

    Raises:
        SpecError: when :func:`check_spec` finds a setting that cannot work.
    """
    check_spec(spec, input_shape, n_classes)
    layers = keras.layers
    h, w, c = (int(v) for v in input_shape)
    inputs = keras.Input(shape=(h, w, c), name="image")
    if scaling is not None:
        x = scaling.as_layer()(inputs)
    else:
        x = layers.Rescaling(1.0 / 255.0, name="scaling")(inputs)
    for b in range(1, spec.conv_blocks + 1):
        filters = block_filters(spec, b - 1)
        for i in range(1, spec.convs_per_block + 1):
            x = layers.Conv2D(
                filters, spec.kernel_size, strides=spec.stride if i == 1 else 1,
                padding=spec.padding, use_bias=not spec.batch_norm,
                activation=None if spec.batch_norm else spec.activation,
                name=f"block{b}_conv{i}",
            )(x)
            if spec.batch_norm:
                x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"block{b}_bn{i}")(x)
                x = layers.Activation(spec.activation, name=f"block{b}_act{i}")(x)
        if spec.pooling == "max":
            x = layers.MaxPooling2D(POOL_SIZE, name=f"block{b}_pool")(x)
        elif spec.pooling == "average":
            x = layers.AveragePooling2D(POOL_SIZE, name=f"block{b}_pool")(x)
        if spec.conv_dropout > 0:
            x = layers.Dropout(spec.conv_dropout, name=f"block{b}_dropout")(x)
    if spec.conv_blocks > 0 and spec.head == "global_average":
        x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    else:
        x = layers.Flatten(name="flatten")(x)
    for j in range(1, spec.dense_layers + 1):
        x = layers.Dense(dense_units_at(spec, j - 1), activation=spec.activation,
                         name=f"dense{j}")(x)
        if spec.dense_dropout > 0:
            x = layers.Dropout(spec.dense_dropout, name=f"dense{j}_dropout")(x)
    outputs = layers.Dense(int(n_classes), activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name="cnn_lab_model")


# ---------------------------------------------------------------------------------------------
# Learning-rate schedules and optimizers
# ---------------------------------------------------------------------------------------------


def _one_cycle_value(step, peak, total, warmup_fraction, start_factor, final_factor, anneal):
    """Plain-Python one-cycle value (mirrors OneCycleSchedule.__call__)."""
    warmup = max(1.0, warmup_fraction * total)
    start, final = peak * start_factor, peak * final_factor
    if step < warmup:
        return start + (peak - start) * step / warmup
    t = min(1.0, (step - warmup) / max(1.0, total - warmup))
    if anneal == "linear":
        return peak + (final - peak) * t
    return final + (peak - final) * 0.5 * (1.0 + math.cos(math.pi * t))


@keras.saving.register_keras_serializable(package="cnn_core")
class OneCycleSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """One-cycle learning rate: linear warm-up to ``peak_learning_rate``, then anneal to ~0.

    Starts at ``peak * start_factor``, rises linearly for the first ``warmup_fraction`` of
    ``total_steps``, then falls to ``peak * final_factor`` by ``total_steps`` along a cosine
    (``anneal="cosine"``) or a straight line (``anneal="linear"``); stays there afterwards.

    Example:
        >>> s = OneCycleSchedule(0.01, total_steps=100)
        >>> round(float(s(30)), 4), round(float(s(100)), 6)
        (0.01, 1e-06)
    """

    def __init__(self, peak_learning_rate: float, total_steps: int, warmup_fraction: float = 0.3,
                 start_factor: float = 0.04, final_factor: float = 1e-4,
                 anneal: str = "cosine"):
        if anneal not in ("cosine", "linear"):
            raise ValueError(f"anneal must be 'cosine' or 'linear', not {anneal!r}")
        self.peak_learning_rate = float(peak_learning_rate)
        self.total_steps = int(max(1, total_steps))
        self.warmup_fraction = float(warmup_fraction)
        self.start_factor = float(start_factor)
        self.final_factor = float(final_factor)
        self.anneal = anneal

    def __call__(self, step):
        ops = keras.ops
        step = ops.cast(step, "float32")
        peak = self.peak_learning_rate
        total = float(self.total_steps)
        warmup = max(1.0, self.warmup_fraction * total)
        start, final = peak * self.start_factor, peak * self.final_factor
        rising = start + (peak - start) * step / warmup
        t = ops.clip((step - warmup) / max(1.0, total - warmup), 0.0, 1.0)
        if self.anneal == "linear":
            falling = peak + (final - peak) * t
        else:
            falling = final + (peak - final) * 0.5 * (1.0 + ops.cos(math.pi * t))
        return ops.where(step < warmup, rising, falling)

    def value_at(self, step: float) -> float:
        """The learning rate at ``step``, in plain Python (for charts)."""
        return _one_cycle_value(step, self.peak_learning_rate, self.total_steps,
                                self.warmup_fraction, self.start_factor, self.final_factor,
                                self.anneal)

    def get_config(self):
        return {
            "peak_learning_rate": self.peak_learning_rate, "total_steps": self.total_steps,
            "warmup_fraction": self.warmup_fraction, "start_factor": self.start_factor,
            "final_factor": self.final_factor, "anneal": self.anneal,
        }


@keras.saving.register_keras_serializable(package="cnn_core")
class CosineSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Cosine decay from ``initial_learning_rate`` to ``initial * final_factor`` over ``total_steps``.

    Example:
        >>> s = CosineSchedule(0.1, total_steps=10)
        >>> round(float(s(5)), 4)
        0.05
    """

    def __init__(self, initial_learning_rate: float, total_steps: int, final_factor: float = 0.0):
        self.initial_learning_rate = float(initial_learning_rate)
        self.total_steps = int(max(1, total_steps))
        self.final_factor = float(final_factor)

    def __call__(self, step):
        ops = keras.ops
        t = ops.clip(ops.cast(step, "float32") / float(self.total_steps), 0.0, 1.0)
        lr0 = self.initial_learning_rate
        final = lr0 * self.final_factor
        return final + (lr0 - final) * 0.5 * (1.0 + ops.cos(math.pi * t))

    def value_at(self, step: float) -> float:
        """The learning rate at ``step``, in plain Python (for charts)."""
        t = min(1.0, max(0.0, step / self.total_steps))
        final = self.initial_learning_rate * self.final_factor
        return final + (self.initial_learning_rate - final) * 0.5 * (1 + math.cos(math.pi * t))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "total_steps": self.total_steps, "final_factor": self.final_factor}


#: Pass to ``keras.models.load_model(custom_objects=...)`` if you prefer explicit objects.
CUSTOM_OBJECTS = {"cnn_core>OneCycleSchedule": OneCycleSchedule,
                  "cnn_core>CosineSchedule": CosineSchedule}


def build_schedule(spec: ModelSpec, steps_per_epoch: int):
    """The learning rate the optimizer gets: a float (``constant``) or a schedule object."""
    total = max(1, int(spec.epochs) * max(1, int(steps_per_epoch)))
    if spec.lr_schedule == "one_cycle":
        return OneCycleSchedule(spec.learning_rate, total)
    if spec.lr_schedule == "cosine":
        return CosineSchedule(spec.learning_rate, total)
    return float(spec.learning_rate)


def learning_rate_curve(spec: ModelSpec, steps_per_epoch: int) -> np.ndarray:
    """Learning rate at the start of each epoch plus the end (``epochs + 1`` values), for charts."""
    schedule = build_schedule(spec, steps_per_epoch)
    steps = [e * max(1, int(steps_per_epoch)) for e in range(spec.epochs + 1)]
    if isinstance(schedule, float):
        return np.full(len(steps), schedule)
    return np.array([schedule.value_at(s) for s in steps])


def build_optimizer(spec: ModelSpec, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """The Keras optimizer of the spec, with its learning-rate schedule.

    ``adam``; ``adamw`` (decoupled ``weight_decay``); ``sgd`` (``momentum``, ``nesterov``);
    ``rmsprop``. For optimizers other than ``adamw`` a non-zero ``weight_decay`` is passed as
    Keras' ``weight_decay`` argument. Schedules span ``spec.epochs * steps_per_epoch`` steps.
    """
    spec.validate()
    lr = build_schedule(spec, steps_per_epoch)
    wd = float(spec.weight_decay) or None
    opt = keras.optimizers
    if spec.optimizer == "adam":
        return opt.Adam(learning_rate=lr, weight_decay=wd)
    if spec.optimizer == "adamw":
        return opt.AdamW(learning_rate=lr, weight_decay=float(spec.weight_decay))
    if spec.optimizer == "sgd":
        return opt.SGD(learning_rate=lr, momentum=float(spec.momentum),
                       nesterov=bool(spec.nesterov) and spec.momentum > 0, weight_decay=wd)
    return opt.RMSprop(learning_rate=lr, weight_decay=wd)


def needs_onehot(spec: ModelSpec, encoding: str) -> bool:
    """Whether labels must be one-hot encoded: chosen so, or needed by label smoothing.

    Keras' sparse (integer-label) cross-entropy has no label smoothing, so with
    ``label_smoothing > 0`` the caller one-hot encodes the labels even when the preprocessing
    spec says ``"integer"``; :func:`compile_model` picks the matching loss.
    """
    if encoding not in LABEL_ENCODINGS:
        raise SpecError("label_encoding",
                        f"Unknown label encoding {encoding!r}. Choose {_choices(LABEL_ENCODINGS)}.")
    return encoding == "onehot" or spec.label_smoothing > 0


def compile_model(model: keras.Model, spec: ModelSpec, steps_per_epoch: int,
                  label_encoding: str) -> None:
    """Compile with the spec's optimizer, a loss matching the labels, and ``accuracy``.

    One-hot labels (see :func:`needs_onehot`) -> ``CategoricalCrossentropy(label_smoothing)``;
    integer labels -> ``SparseCategoricalCrossentropy``.
    """
    if needs_onehot(spec, label_encoding):
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=float(spec.label_smoothing))
    else:
        loss = keras.losses.SparseCategoricalCrossentropy()
    model.compile(optimizer=build_optimizer(spec, steps_per_epoch), loss=loss,
                  metrics=["accuracy"])


def load_model(path, compile: bool = True) -> keras.Model:
    """``keras.models.load_model`` with this module's schedules known (they are registered), in
    safe mode: a file whose layers would run stored Python code (a Lambda) is refused."""
    return keras.models.load_model(path, custom_objects=CUSTOM_OBJECTS, compile=compile, safe_mode=True)


# ---------------------------------------------------------------------------------------------
# Summary of a built model
# ---------------------------------------------------------------------------------------------


def _count(weights) -> int:
    return int(sum(int(np.prod(w.shape)) for w in weights))


def _no_batch(shape) -> tuple:
    return tuple(shape[1:])


def _layer_flops(layer, in_shape, out_shape) -> int:
    out_n = int(np.prod([d for d in out_shape if d is not None]))
    kind = type(layer).__name__
    if kind == "InputLayer":
        return 0
    if isinstance(layer, keras.layers.Conv2D):
        ho, wo, cout = out_shape
        kh, kw = layer.kernel_size
        cin = in_shape[-1]
        act = getattr(layer.activation, "__name__", "linear") != "linear"
        return (2 * ho * wo * kh * kw * cin * cout) + ho * wo * cout * (int(layer.use_bias) + int(act))
    if isinstance(layer, keras.layers.Dense):
        act = getattr(layer.activation, "__name__", "linear") != "linear"
        return _dense_flops(int(in_shape[-1]), int(out_shape[-1]), layer.use_bias, act)
    if isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)):
        return int(np.prod(layer.pool_size)) * out_n
    if isinstance(layer, keras.layers.GlobalAveragePooling2D):
        return int(np.prod(in_shape))
    if isinstance(layer, (keras.layers.Flatten, keras.layers.Dropout, keras.layers.SpatialDropout2D,
                          keras.layers.Reshape)):
        return 0
    if isinstance(layer, (keras.layers.Rescaling, keras.layers.BatchNormalization,
                          keras.layers.Normalization)):
        return 2 * out_n
    return out_n


def summarize(model: keras.Model) -> ModelSummary:
    """Layer rows (name, type, output shape, weights, FLOPs) and totals of a built model.

    ``flops_per_image`` is the forward-pass cost of one image: each convolution
    ``2*H_out*W_out*K*K*C_in*C_out`` and each dense layer ``2*in*out``, plus rough
    element-wise costs (bias, activation, scaling, batch norm, pooling); see the rules above
    ``_conv_flops``. Training costs about three times that per image (forward + backward).
    """
    rows: list[LayerRow] = []
    for layer in model.layers:
        try:
            out_shape = _no_batch(layer.output.shape)
        except (AttributeError, ValueError):
            out_shape = ()
        try:
            in_shape = _no_batch(layer.input.shape) if type(layer).__name__ != "InputLayer" else ()
        except (AttributeError, ValueError):
            in_shape = out_shape
        rows.append(LayerRow(
            name=layer.name, type=type(layer).__name__, output_shape=_shape_str(out_shape),
            params=_count(layer.weights), flops=_layer_flops(layer, in_shape, out_shape),
        ))
    total = _count(model.weights)
    trainable = _count(model.trainable_weights)
    # Optimizer/seed state is not a model weight; keras puts only layer variables in weights.
    return ModelSummary(rows, total, trainable, int(sum(r.flops for r in rows)))


# ---------------------------------------------------------------------------------------------
# Time estimate
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Throughput:
    """What this machine managed in a short timed training step (see :func:`calibrate`)."""

    flops_per_second: float  # training FLOPs (3 x forward) per second, big-batch rate
    seconds_per_step: float  # fixed cost of one training step, whatever the batch size


_CALIBRATION: Throughput | None = None
_CALIBRATION_LOCK = threading.Lock()
_CALIBRATION_SHAPE = (32, 32, 3)


def _calibration_model():
    init = functools.partial(keras.initializers.GlorotUniform, seed=0)
    layers = keras.layers
    inputs = keras.Input(_CALIBRATION_SHAPE)
    x = layers.Conv2D(32, 3, padding="same", activation="relu", kernel_initializer=init())(inputs)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(64, 3, padding="same", activation="relu", kernel_initializer=init())(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(10, activation="softmax", kernel_initializer=init())(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    return model


def calibrate(force: bool = False) -> Throughput:
    """Time a few training steps of a small conv net once per process (cached; ~1 s).

    Uses seeded initializers and its own random numbers, so the global random state that
    training seeds is not touched.
    """
    global _CALIBRATION
    with _CALIBRATION_LOCK:
        if _CALIBRATION is not None and not force:
            return _CALIBRATION
        model = _calibration_model()
        flops = summarize(model).flops_per_image * 3
        rng = np.random.default_rng(0)
        big, small = 64, 2
        xb = rng.uniform(0, 1, (big, *_CALIBRATION_SHAPE)).astype("float32")
        yb = rng.integers(0, 10, big)
        model.train_on_batch(xb, yb)  # traces the step function
        model.train_on_batch(xb[:small], yb[:small])  # traces the small-batch shape

        def timed(x, y, repeats):
            start = time.perf_counter()
            for _ in range(repeats):
                model.train_on_batch(x, y)
            return (time.perf_counter() - start) / repeats

        t_small = min(timed(xb[:small], yb[:small], 3) for _ in range(2))
        t_big = min(timed(xb, yb, 2) for _ in range(2))
        per_image = max((t_big - t_small) / (big - small), 1e-7)
        overhead = max(t_small - small * per_image, 0.0)
        _CALIBRATION = Throughput(flops_per_second=flops / per_image, seconds_per_step=overhead)
        return _CALIBRATION


def estimate_epoch_seconds(spec: ModelSpec, input_shape, n_classes: int, n_train: int) -> float:
    """Rough seconds one training epoch takes on this machine: an estimate, not a promise.

    ``forward FLOPs x 3 (forward + backward) x n_train / measured FLOP rate`` plus a fixed cost
    per batch, both from :func:`calibrate` (one small timed conv net per process). Real times
    vary with layer kinds (the calibration is a conv net), augmentation, other work on the
    machine and, for the first epoch, graph tracing.
    """
    flops = plan_summary(spec, input_shape, n_classes).flops_per_image
    rate = calibrate()
    n_train = max(0, int(n_train))
    steps = math.ceil(n_train / spec.batch_size)
    return steps * rate.seconds_per_step + 3.0 * flops * n_train / rate.flops_per_second
