"""The pure-Python shape walk: :func:`check_spec` and :func:`plan_summary`, no TensorFlow.

:func:`check_spec` walks the layer shapes and says, before any training, which setting cannot
work with the chosen images (for example too many pooling steps for 28x28 pixels).
:func:`plan_summary` gives the layer table and totals :func:`cnn_core.model.summary.summarize`
would give for the built model, fast enough for every slider move.

Example:
    >>> from cnn_core.model.presets import PRESETS
    >>> plan_summary(PRESETS["lenet"], (28, 28, 1), 10).total_params
    44426
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from cnn_core.errors import CnnLabError, SpecError
from cnn_core.i18n import _
from cnn_core.model.spec import ModelSpec, block_filters, dense_units_at

#: Pooling layers halve the feature map (2x2 windows, stride 2).
POOL_SIZE = 2
#: The patch-whitening first layer looks at 2x2 patches (no padding: 32x32 -> 31x31).
WHITENING_PATCH = 2
#: Batch-norm running averages follow the data faster than Keras' default 0.99: small data sets
#: have few steps per epoch, and 0.99 left validation accuracy at chance for several epochs.
BN_MOMENTUM = 0.9
#: Models above this many weights are refused: they would not fit in a laptop's memory for long.
MAX_PARAMS = 50_000_000


@dataclass
class LayerRow:
    """One line of a model summary. ``output_shape`` leaves out the batch size."""

    name: str
    type: str
    output_shape: str
    params: int
    flops: int = 0  # addition: floating-point operations per image (forward pass)
    frozen_params: int = 0  # weights training does not change (batch-norm statistics, whitening)


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


def shape_text(shape) -> str:
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
def conv_flops(ho, wo, k, cin, cout, bias: bool, act: bool) -> int:
    return 2 * ho * wo * k * k * cin * cout + (ho * wo * cout) * (int(bias) + int(act))


def dense_flops(n_in, n_out, bias: bool, act: bool) -> int:
    return 2 * n_in * n_out + n_out * (int(bias) + int(act))


def _validate_shape(input_shape, n_classes) -> tuple[int, int, int]:
    try:
        h, w, c = (int(v) for v in input_shape)
    except (TypeError, ValueError):
        raise CnnLabError(
            "Images must have a height, width and channel count, e.g. (28, 28, 1); got {input_shape!r}.",
            input_shape=input_shape
        ) from None
    if min(h, w, c) < 1:
        raise CnnLabError("Images of shape {input_shape} have no pixels.",
                          input_shape=tuple(input_shape))
    if int(n_classes) < 2:
        raise CnnLabError(
            "A classifier needs at least 2 classes; this data set has {n_classes}. Pick a data set "
            "with two or more classes.",
            n_classes=n_classes
        )
    return h, w, c


def pools_after(spec: ModelSpec, conv: int) -> bool:
    """Whether the pooling step of a block comes right after its convolution ``conv`` (from 1).

    ``pool_position="after_last_conv"``: after the block's last convolution (and after its
    batch norm and activation); ``"after_first_conv"``: straight after the first convolution,
    before its batch norm (airbench's conv -> pool -> BN -> activation).
    """
    return spec.pooling != "none" and spec.pool_position == "after_first_conv" and conv == 1


def pools_at_block_end(spec: ModelSpec) -> bool:
    """Whether the pooling step comes at the end of the block (the classic layout)."""
    return spec.pooling != "none" and spec.pool_position == "after_last_conv"


def whitening_filters(channels: int) -> int:
    """Filters of the patch-whitening layer: each eigenvector of a 2x2 patch, and its negative."""
    return 2 * WHITENING_PATCH ** 2 * int(channels)


def _pool_row(spec, rows, b, h, w, c, history, image_size, odd_halvings: list[str]) -> tuple[int, int]:
    """Append block ``b``'s pooling row; the new (h, w). SpecError when nothing is left.
    ``odd_halvings`` collects the pooling steps that dropped a row or column ("7x7 -> 3x3")."""
    from cnn_core.i18n import _, ngettext

    h0, w0 = image_size
    if h < POOL_SIZE or w < POOL_SIZE:
        blocks_ok = _max_blocks(spec, (h0, w0, 1))
        message = _("The image shrinks to nothing after block {block}: {size} pixels "
                    "halve at each pooling step ({steps} -> nothing).", block=b,
                    size=f"{h0}x{w0}", steps=" -> ".join(history))
        if odd_halvings:
            message += " " + _("An odd size cannot be halved evenly, so pooling drops its "
                               "last row or column ({examples}).",
                               examples=", ".join(odd_halvings))
        message += " " + ngettext("Use at most {count} conv block, or set pooling to 'none'.",
                                  "Use at most {count} conv blocks, or set pooling to 'none'.",
                                  blocks_ok)
        raise SpecError("conv_blocks", message)
    if h % POOL_SIZE or w % POOL_SIZE:
        odd_halvings.append(f"{h}x{w} -> {h // POOL_SIZE}x{w // POOL_SIZE}")
    h, w = h // POOL_SIZE, w // POOL_SIZE
    history.append(f"{h}x{w}")
    kind = "MaxPooling2D" if spec.pooling == "max" else "AveragePooling2D"
    rows.append(LayerRow(f"block{b}_pool", kind, shape_text((h, w, c)), 0,
                         POOL_SIZE * POOL_SIZE * h * w * c))
    return h, w


def _plan(spec: ModelSpec, input_shape, n_classes: int) -> list[LayerRow]:
    """Walk the layers in plain Python; raise SpecError when a setting cannot work."""
    h0, w0, c = _validate_shape(input_shape, n_classes)
    h, w = h0, w0
    rows = [LayerRow("image", "InputLayer", shape_text((h, w, c)), 0, 0),
            LayerRow("scaling", "Rescaling", shape_text((h, w, c)), 0, 2 * h * w * c)]
    k, s = spec.kernel_size, spec.stride
    history = [f"{h}x{w}"]
    odd_halvings: list[str] = []   # "7x7 -> 3x3": pooling steps that dropped a row or column
    if spec.conv_blocks > 0 and spec.whitening_stem:
        if h < WHITENING_PATCH or w < WHITENING_PATCH:
            raise SpecError("whitening_stem", _(
                "The {h}x{w} images are smaller than the 2x2 patches the whitening layer "
                "looks at. Switch the patch-whitening first layer off.", h=h, w=w))
        cout = whitening_filters(c)
        h, w = h - WHITENING_PATCH + 1, w - WHITENING_PATCH + 1
        rows.append(LayerRow("whitening", "Conv2D", shape_text((h, w, cout)),
                             WHITENING_PATCH ** 2 * c * cout,
                             conv_flops(h, w, WHITENING_PATCH, c, cout, bias=False, act=False),
                             frozen_params=WHITENING_PATCH ** 2 * c * cout))
        rows.append(LayerRow("whitening_act", "Activation", shape_text((h, w, cout)), 0,
                             h * w * cout))
        c = cout
        history.append(f"{h}x{w}")
    for b in range(1, spec.conv_blocks + 1):
        cout = block_filters(spec, b - 1)
        for i in range(1, spec.convs_per_block + 1):
            stride = s if i == 1 else 1
            if spec.padding == "valid" and (h < k or w < k):
                if b == 1 and i == 1:
                    raise SpecError(
                        "kernel_size",
                        "The {k}x{k} kernel is larger than the {h0}x{w0} images, so with 'valid' padding there is "
                        "no position to put it. Use a smaller kernel size, or set padding to 'same'.",
                        k=k, h0=h0, w0=w0
                    )
                raise SpecError(
                    "padding",
                    "With 'valid' padding each {k}x{k} convolution trims {k2} pixels from the feature map, and "
                    "in block {b} it is only {h}x{w} pixels, smaller than the kernel ({history}). Set padding "
                    "to 'same', use a smaller kernel size, or use fewer conv blocks.",
                    k=k, k2=k - 1, b=b, h=h, w=w, history=' -> '.join(history)
                )
            if stride > 1 and (stride > h or stride > w):
                raise SpecError(
                    "stride",
                    "A stride of {stride} is larger than the {h}x{w} feature map in block {b}, so the filter "
                    "could only be placed once ({history}). Use a smaller stride or fewer conv blocks.",
                    stride=stride, h=h, w=w, b=b, history=' -> '.join(history)
                )
            ho, wo = _conv_out(h, k, stride, spec.padding), _conv_out(w, k, stride, spec.padding)
            params = k * k * c * cout + (0 if spec.batch_norm else cout)
            flops = conv_flops(ho, wo, k, c, cout, bias=not spec.batch_norm,
                                act=not spec.batch_norm)
            rows.append(LayerRow(f"block{b}_conv{i}", "Conv2D", shape_text((ho, wo, cout)),
                                 params, flops))
            h, w, c = ho, wo, cout
            if (h, w) != tuple(map(int, history[-1].split("x"))):
                history.append(f"{h}x{w}")
            if pools_after(spec, i):
                h, w = _pool_row(spec, rows, b, h, w, c, history, (h0, w0), odd_halvings)
            if spec.batch_norm:
                rows.append(LayerRow(f"block{b}_bn{i}", "BatchNormalization",
                                     shape_text((h, w, c)), (4 if spec.bn_scale else 3) * c,
                                     2 * h * w * c, frozen_params=2 * c))
                rows.append(LayerRow(f"block{b}_act{i}", "Activation",
                                     shape_text((h, w, c)), 0, h * w * c))
        if pools_at_block_end(spec):
            h, w = _pool_row(spec, rows, b, h, w, c, history, (h0, w0), odd_halvings)
        if spec.conv_dropout > 0:
            rows.append(LayerRow(f"block{b}_dropout", "Dropout", shape_text((h, w, c)), 0, 0))
    if spec.conv_blocks > 0 and spec.head in ("global_average", "global_max"):
        kind = "GlobalAveragePooling2D" if spec.head == "global_average" else "GlobalMaxPooling2D"
        rows.append(LayerRow("global_pool", kind, shape_text((c,)), 0, h * w * c))
        n = c
    else:
        n = h * w * c
        rows.append(LayerRow("flatten", "Flatten", shape_text((n,)), 0, 0))
    flatten_units = n
    for j in range(1, spec.dense_layers + 1):
        units = dense_units_at(spec, j - 1)
        rows.append(LayerRow(f"dense{j}", "Dense", shape_text((units,)), n * units + units,
                             dense_flops(n, units, True, True)))
        n = units
        if spec.dense_dropout > 0:
            rows.append(LayerRow(f"dense{j}_dropout", "Dropout", shape_text((n,)), 0, 0))
    rows.append(LayerRow("output", "Dense", shape_text((n_classes,)),
                         n * n_classes + n_classes, dense_flops(n, n_classes, True, True)))
    total = sum(r.params for r in rows)
    if total > MAX_PARAMS:
        first_dense = next((r for r in rows if r.type == "Dense"), None)
        if spec.conv_blocks > 0 and first_dense and first_dense.params > total / 2 \
                and spec.head == "flatten":
            raise SpecError(
                "head",
                "The model would have {total:,.0f} million weights, mostly between the flattened feature "
                "map ({flatten_units:,} values) and the first dense layer. Set the head to "
                "'global_average', add pooling or conv blocks, or use fewer dense units.",
                total=total / 1000000.0, flatten_units=flatten_units
            )
        setting = "dense_units" if spec.conv_blocks == 0 else "filters"
        raise SpecError(
            setting,
            "The model would have {total:,.0f} million weights; the limit is {max_params:.0f} million. "
            "Use fewer {setting_}.",
            total=total / 1000000.0, max_params=MAX_PARAMS / 1000000.0, setting_=setting.replace('_', ' ')
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
    frozen = sum(r.frozen_params for r in rows)
    return ModelSummary(rows, total, total - frozen, sum(r.flops for r in rows))
