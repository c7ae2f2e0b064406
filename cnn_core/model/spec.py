"""The model settings (:class:`ModelSpec`): plain numbers and names a page edits with sliders.

No Keras here: the spec, its checks and its one-line description load instantly.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from cnn_core.errors import SpecError
from cnn_core.i18n import N_, _
from cnn_core.preprocessing import LABEL_ENCODINGS  # noqa: F401 - re-exported for cnn_core.model
from cnn_core.settings import check_fields, replace_checked, setting, spec_from_dict

ACTIVATIONS = ("relu", "elu", "gelu", "leaky_relu", "swish", "tanh", "sigmoid")
PADDINGS = ("same", "valid")
POOLINGS = ("max", "average", "none")
HEADS = ("flatten", "global_average", "global_max")
POOL_POSITIONS = ("after_last_conv", "after_first_conv")
TEST_TIME_AUGMENTATIONS = ("off", "flip", "flip_shift")
PRECISIONS = ("float32", "bfloat16", "auto")
OPTIMIZERS = ("adam", "adamw", "sgd", "muon", "rmsprop")
LR_SCHEDULES = ("constant", "one_cycle", "cosine", "triangle")

#: The model builder's sections, in the order they are drawn.
LAYERS, REGULARISATION, OPTIMISATION = N_("Layers"), N_("Regularisation"), N_("Optimisation")
TESTING = N_("Testing")
DROPOUT_LADDER = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass(frozen=True)
class ModelSpec:
    """Everything that defines a model and how it is trained; plain values only.

    Every field is declared once with :func:`cnn_core.settings.setting` (range, label, help,
    widget, sweep values); validation, parsing, links, forms and sweeps read that declaration.

    ``conv_blocks == 0`` means a plain multi-layer perceptron (flatten + dense layers).
    Block ``i`` (counting from 0) has ``convs_per_block`` convolutions with
    ``round(filters * filter_growth ** i)`` filters each; ``stride`` applies to the first
    convolution of each block; ``pooling`` halves the feature map at the end of each block.
    ``batch_norm`` puts batch normalisation between each convolution and its activation (conv
    layers only). Dense layer ``j`` (from 0) has ``round(dense_units * dense_shrink ** j)`` units.
    ``momentum`` and ``nesterov`` apply to ``sgd`` and ``muon`` only; ``muon`` moves the
    convolution filters by Muon steps of ``muon_rate`` (see :mod:`cnn_core.model.muon`).
    ``weight_decay`` is AdamW's decoupled decay for ``adamw`` and Keras' ``weight_decay``
    optimizer argument for the others.
    ``label_smoothing > 0`` needs one-hot labels (see :func:`cnn_core.model.optimizers.needs_onehot`).
    """

    # -- Layers --------------------------------------------------------------------------------
    conv_blocks: int = setting(
        2, demo=True, kind="int", low=0, high=8, group=LAYERS, label=N_("Convolution blocks"),
        help=N_("How many times the network looks for patterns and then shrinks the picture. "
             "0 = no convolutions at all (a plain dense network)."),
        hint=N_("Use 0 (no convolutions, a plain dense network) to 8."),
        sweep=(1, 2, 3), sweep_choices=(0, 1, 2, 3, 4), sweep_rank=3)
    filters: int = setting(
        32, demo=True, kind="int", low=1, high=1024, scale="log", group=LAYERS,
        label=N_("Filters in the first block"),
        help=N_("How many different small patterns (edges, spots...) the first block can learn to "
             "spot. More = more capable but slower."),
        hint=N_("Typical values are 16 to 128."), ladder=(4, 8, 16, 32, 64, 128, 256, 512, 1024),
        sweep=(16, 32, 64), sweep_range=(8, 64), sweep_rank=2)
    filter_growth: float = setting(
        2.0, kind="float", low=0.5, high=4.0, group=LAYERS, label=N_("Filter growth per block"),
        help=N_("Each block gets this many times the filters of the block before (2 = doubles), so "
             "later blocks can spot more complex patterns."),
        hint=N_("2 doubles the filters at each block."), show="times",
        ladder=(0.5, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0), sweep=(1.0, 1.5, 2.0),
        sweep_range=(1.0, 2.0), sweep_rank=18)
    convs_per_block: int = setting(
        1, kind="int", low=1, high=4, group=LAYERS, label=N_("Convolutions per block"),
        help=N_("How many pattern-finding layers sit in a row before each shrinking step."))
    kernel_size: int = setting(
        3, kind="int", low=1, high=11, unit="pixels", group=LAYERS, label=N_("Filter size (pixels)"),
        help=N_("How big a patch of the picture each filter looks at (3 = a 3x3 patch)."),
        hint=N_("Typical values are 3 or 5."), show="square", ladder=(1, 3, 5, 7, 9, 11),
        sweep=(3, 5), sweep_choices=(1, 3, 5, 7), sweep_rank=10)
    stride: int = setting(
        1, kind="int", low=1, high=4, group=LAYERS, label=N_("Stride"),
        help=N_("How many pixels a filter jumps between looks; 2 halves the picture size."),
        hint=N_("1 looks at every position; 2 halves the image."), ladder=(1, 2, 3, 4))
    padding: str = setting(
        "same", kind="choice", choices=PADDINGS, group=LAYERS, label=N_("Padding"),
        help=N_("'same' adds a border so the picture keeps its size; 'valid' lets each convolution "
             "trim the edges."))
    activation: str = setting(
        "relu", kind="choice", choices=ACTIVATIONS, widget="selectbox", group=LAYERS,
        label=N_("Activation"),
        help=N_("The small bend each neuron applies to its sum; relu is a good default."),
        sweep=("relu", "tanh"), sweep_rank=14)
    pooling: str = setting(
        "max", kind="choice", choices=POOLINGS, group=LAYERS, label=N_("Pooling"),
        help=N_("How each block shrinks the picture by half: keep the strongest signal (max), the "
             "average, or do not shrink (none)."), sweep=("max", "average"), sweep_rank=15)
    pool_position: str = setting(
        "after_last_conv", kind="choice", choices=POOL_POSITIONS, group=LAYERS,
        words={"after_last_conv": N_("after the block's last conv"),
               "after_first_conv": N_("after the block's first conv")},
        label=N_("Where each block shrinks"),
        help=N_("Shrink after the first convolution of a block and the later ones work on a "
                "quarter of the pixels: about half the computing, little accuracy lost."),
        sweep=("after_last_conv", "after_first_conv"), sweep_rank=21)
    whitening_stem: bool = setting(
        False, kind="bool", group=LAYERS, label=N_("Patch-whitening first layer"),
        help=N_("A fixed first layer, computed from the training pictures when training starts, "
                "that evens out 2x2 pixel patterns so the network learns faster."),
        # (ignored without conv blocks: a plain dense network has no convolutions to feed)
        sweep=(False, True), sweep_rank=22)
    head: str = setting(
        "flatten", kind="choice", choices=HEADS,
        words={"global_average": N_("global average"), "global_max": N_("global max")},
        group=LAYERS, label=N_("From maps to answer"),
        help=N_("'flatten' keeps every position; 'global average' keeps one number per filter (far "
                "fewer parameters); 'global max' keeps each filter's strongest answer."),
        sweep=("global_average", "global_max"), sweep_rank=25)
    dense_layers: int = setting(
        1, kind="int", low=0, high=5, group=LAYERS, label=N_("Dense layers"),
        help=N_("Fully connected layers that combine the patterns found into a decision, before the "
             "final answer layer."), sweep=(1, 2), sweep_choices=(0, 1, 2, 3), sweep_rank=17)
    dense_units: int = setting(
        128, kind="int", low=1, high=4096, scale="log", group=LAYERS,
        label=N_("Units in the first dense layer"), help=N_("How many neurons the first dense layer has."),
        hint=N_("Typical values are 64 to 512."),
        ladder=(8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096), sweep=(64, 128, 256),
        sweep_range=(32, 256), sweep_rank=9)
    dense_shrink: float = setting(
        1.0, kind="float", low=0.1, high=1.0, group=LAYERS, label=N_("Dense layer shrink"),
        help=N_("Each further dense layer has this share of the neurons of the one before (1 = all "
             "the same size)."), hint=N_("1 keeps every dense layer the same size."), show="times",
        ladder=(0.25, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1.0))
    # -- Regularisation ------------------------------------------------------------------------
    batch_norm: bool = setting(
        False, kind="bool", group=REGULARISATION, label=N_("Batch normalisation"),
        help=N_("Re-centres the numbers after each convolution; often trains faster and more "
             "stably."), sweep=(False, True), sweep_rank=11)
    bn_scale: bool = setting(
        True, kind="bool", group=REGULARISATION, label=N_("Batch-norm scale"),
        help=N_("Lets batch normalisation learn how much to stretch each map; off keeps only "
                "the shift, which trains a little faster with high learning rates."),
        sweep=(True, False), sweep_rank=23)
    conv_dropout: float = setting(
        0.0, demo=True, kind="float", low=0.0, high=0.9, group=REGULARISATION,
        label=N_("Dropout after convolutions"),
        help=N_("Randomly switches off this share of feature maps while training, so the network "
             "cannot rely on a few of them."), hint=N_("0 turns dropout off; 0.1 to 0.5 is usual."),
        show="percent", ladder=DROPOUT_LADDER, sweep=(0.0, 0.1, 0.25),
        sweep_range=(0.0, 0.3), sweep_rank=5)
    dense_dropout: float = setting(
        0.0, demo=True, kind="float", low=0.0, high=0.9, group=REGULARISATION,
        label=N_("Dropout in dense layers"),
        help=N_("Randomly switches off this share of dense neurons while training; fights "
             "memorising the training images."), hint=N_("0 turns dropout off; 0.1 to 0.5 is usual."),
        show="percent", ladder=DROPOUT_LADDER, sweep=(0.0, 0.25, 0.5),
        sweep_range=(0.0, 0.5), sweep_rank=4)
    weight_decay: float = setting(
        0.0, kind="float", low=0.0, high=0.5, scale="log", group=REGULARISATION,
        label=N_("Weight decay"),
        help=N_("Gently pulls all weights towards zero; keeps the model simple. 'off' is fine to "
             "start."), hint=N_("0 turns it off; 0.0001 to 0.05 is usual."), show="off_or_number",
        ladder=(0.0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.05, 0.1, 0.5),
        sweep=(0.0, 0.0001, 0.001), sweep_range=(0.0, 0.001), sweep_rank=12)
    label_smoothing: float = setting(
        0.0, kind="float", low=0.0, high=0.5, group=REGULARISATION, label=N_("Label smoothing"),
        help=N_("Asks for 90% instead of 100% certainty (at 0.1), so the model is less "
             "over-confident."), hint=N_("0 turns it off; 0.1 is usual."), show="off_or_number",
        ladder=(0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5), sweep=(0.0, 0.1),
        sweep_range=(0.0, 0.2), sweep_rank=13)
    early_stopping_patience: int = setting(
        0, kind="int", low=0, high=1000, unit="epochs", widget_range=(0, 20),
        group=REGULARISATION, label=N_("Early stopping"),
        help=N_("Stop when the validation accuracy has not improved for this many epochs (0 = "
             "never stop early)."), hint=N_("0 turns early stopping off."), show="off_or_epochs")
    # -- Optimisation --------------------------------------------------------------------------
    optimizer: str = setting(
        "adam", kind="choice", choices=OPTIMIZERS, widget="selectbox", group=OPTIMISATION,
        words={"adam": N_("Adam"), "adamw": N_("AdamW"), "sgd": N_("SGD with momentum"),
               "muon": N_("Muon filters + SGD"), "rmsprop": N_("RMSprop")},
        label=N_("Optimiser"),
        help=N_("The rule that nudges the weights after each batch; Adam is a safe default."),
        sweep=("adam", "sgd"), sweep_rank=7)
    learning_rate: float = setting(
        1e-3, demo=True, kind="float", low=0.0, high=1.0, low_open=True, scale="log", group=OPTIMISATION,
        label=N_("Learning rate"),
        help=N_("How big each nudge is. Too small: slow; too large: the training goes wild. 0.001 "
             "suits Adam."), hint=N_("Typical values are 0.0001 to 0.01."), show="number",
        ladder=(1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1,
                0.2, 0.5, 1.0),
        sweep=(0.0003, 0.001, 0.003), sweep_range=(0.0001, 0.01), sweep_rank=1)
    momentum: float = setting(
        0.9, kind="float", low=0.0, high=0.999, widget_range=(0.0, 0.99), step=0.01,
        group=OPTIMISATION, label=N_("Momentum"),
        help=N_("For SGD (with Muon, for all but the filters): how much of the previous step is "
             "carried into the next, like a rolling ball."), hint=N_("0.9 is usual."),
        sweep=(0.8, 0.9, 0.95), sweep_range=(0.5, 0.99), sweep_rank=19)
    nesterov: bool = setting(
        False, kind="bool", group=OPTIMISATION, label=N_("Nesterov momentum"),
        help=N_("For SGD (with Muon, for all but the filters): looks one step ahead before nudging; "
             "often a little faster."))
    muon_rate: float = setting(
        0.05, kind="float", low=0.0, high=1.0, low_open=True, scale="log", group=OPTIMISATION,
        label=N_("Muon filter step"),
        help=N_("For Muon: how far each step turns the convolution filters, as a share of their "
                "size, at the schedule's peak; the rest learns by SGD at the learning rate."),
        hint=N_("0.02 to 0.1 is usual."), show="number",
        ladder=(0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2, 0.5, 1.0),
        sweep=(0.02, 0.05, 0.1), sweep_range=(0.01, 0.2), sweep_rank=27)
    lr_schedule: str = setting(
        "constant", kind="choice", choices=LR_SCHEDULES, widget="selectbox", group=OPTIMISATION,
        words={"constant": N_("constant"), "one_cycle": N_("one cycle"), "cosine": N_("cosine decay"),
               "triangle": N_("triangle")},
        label=N_("Learning-rate schedule"),
        help=N_("Keep the rate constant, or warm up then cool down (one cycle), or slowly lower it "
                "(cosine), or rise then fall in straight lines to zero (triangle)."),
        sweep=("constant", "one_cycle", "cosine", "triangle"), sweep_rank=16)
    batch_size: int = setting(
        64, kind="int", low=1, high=4096, scale="log", group=OPTIMISATION,
        label=N_("Batch size"),
        help=N_("How many images the model looks at before each nudge of the weights."),
        hint=N_("Typical values are 32 to 256."), ladder=(8, 16, 32, 64, 128, 256, 512, 1024),
        sweep=(32, 64, 128), sweep_range=(16, 128), sweep_rank=6)
    hard_share: float = setting(
        1.0, kind="float", low=0.0, high=1.0, low_open=True, group=OPTIMISATION,
        label=N_("Learn from the hardest"),
        help=N_("Each step scores more pictures and learns only from this share of them that the "
                "model gets most wrong: epochs get shorter and the time goes where there is still "
                "something to learn."),
        hint=N_("100% learns from every picture; 33% is a good start."), show="percent",
        ladder=(0.1, 0.2, 0.25, 0.33, 0.5, 0.75, 1.0), sweep=(1.0, 0.5, 0.33),
        sweep_range=(0.25, 1.0), sweep_rank=28)
    precision: str = setting(
        "float32", kind="choice", choices=PRECISIONS, group=OPTIMISATION,
        words={"float32": N_("32-bit"), "bfloat16": N_("16-bit (bfloat16)"),
               "auto": N_("Automatic")},
        label=N_("Number precision"),
        help=N_("16-bit computes with 16-bit numbers while keeping the weights in 32 bits: about 1.2 "
                "to 2 times faster on processors with bfloat16 units (Intel Xeon since 2020, AMD "
                "since Zen 4, recent NVIDIA GPUs), 2 to 20 times slower elsewhere, most laptops "
                "included. Automatic picks 16-bit where it is faster, else 32-bit."),
        sweep=("float32", "bfloat16"), sweep_rank=26)
    epochs: int = setting(
        10, demo=True, kind="int", low=1, high=1000, widget_range=(1, 100), group=OPTIMISATION,
        label=N_("Epochs"), help=N_("How many times training goes through all training images."),
        sweep=(3, 5, 10), sweep_range=(3, 10), sweep_rank=8)
    time_limit: int = setting(
        0, kind="int", low=0, high=1440, group=OPTIMISATION, label=N_("Time limit"),
        help=N_("Trains only as many of the epochs as fit into this many minutes on this computer "
                "(timed on a few batches first), the last one cut short when only part of it "
                "fits, with the learning-rate schedule fitted to them."),
        hint=N_("0 turns it off: all epochs are trained."), show="off_or_minutes",
        ladder=(0, 1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120))
    seed: int = setting(
        42, kind="int", low=0, high=2**31 - 1, widget="number", step=1, group=OPTIMISATION,
        label=N_("Random seed"),
        help=N_("Same seed + same settings = the same result; change it to see how much luck "
             "matters."), sweep=(1, 2, 3), sweep_range=(0, 1000), sweep_rank=20)
    # -- Testing -------------------------------------------------------------------------------
    test_time_augmentation: str = setting(
        "off", kind="choice", choices=TEST_TIME_AUGMENTATIONS, group=TESTING,
        words={"off": N_("off"), "flip": N_("mirror"),
               "flip_shift": N_("mirror + 1-pixel shifts")},
        label=N_("Test-time augmentation"),
        help=N_("Scores each test picture as the average answer over its mirror image (and "
                "1-pixel shifts): a little more accurate, 2 or 6 times slower to score."),
        sweep=("off", "flip"), sweep_rank=24)

    # -- dict round trip ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of every setting."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ModelSpec":
        """Spec from a dict: missing settings get their defaults, unknown ones are refused.

        Values are converted to the setting's kind (``3.0`` -> ``3`` for whole-number settings),
        then the spec is validated; a value of the wrong kind or out of range raises
        :class:`SpecError` naming the setting.
        """
        return spec_from_dict(cls, d)

    def replace(self, **changes: Any) -> "ModelSpec":
        """A copy with some settings changed (unknown names raise :class:`SpecError`)."""
        return replace_checked(self, changes, what="model setting")

    # -- validation ---------------------------------------------------------------------------

    def validate(self) -> "ModelSpec":
        """Raise :class:`SpecError` naming the first setting out of range; return self if fine.

        Each setting is checked against its declaration, then the settings against each other.
        """
        check_fields(self)
        if self.kernel_size % 2 == 0:
            raise SpecError(
                "kernel_size",
                "The kernel size must be an odd number (1, 3, 5, 7, 9 or 11), not {kernel_size}, so each "
                "filter has a centre pixel.",
                kernel_size=self.kernel_size
            )
        if self.conv_blocks > 0:
            last = block_filters(self, self.conv_blocks - 1)
            if last > 4096:
                widths = " -> ".join(f"{block_filters(self, i):,}" for i in range(self.conv_blocks))
                raise SpecError(
                    "filter_growth",
                    "The last conv block would have {last} filters: each block has {growth} times "
                    "the filters of the block before, so the {blocks} blocks have {widths} "
                    "filters. The maximum is 4,096. Lower the filter growth, the filters or the "
                    "conv blocks.", last=format(last, ","), growth=_growth_words(self.filter_growth),
                    blocks=self.conv_blocks, widths=widths,
                )
        if self.conv_blocks == 0 and self.head in ("global_average", "global_max"):
            raise SpecError(
                "head",
                _("A model without conv blocks has no feature maps to pool: the '{head}' head "
                  "would keep only one number per colour of each image. Set the head to "
                  "'flatten', or add a conv block.", head=self.head),
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
        from cnn_core.i18n import ngettext

        parts.append(ngettext("batch {batch}, {count} epoch", "batch {batch}, {count} epochs",
                              self.epochs, batch=self.batch_size))
        return ", ".join(parts)


def _growth_words(growth: float) -> str:
    """``2.0`` -> ``"2"``, ``16 / 6`` -> ``"about 2.7"``: a factor people read at a glance."""
    rounded = round(float(growth), 1)
    if abs(rounded - float(growth)) < 1e-9:
        return f"{rounded:g}"
    return _("about {factor}", factor=format(rounded, "g"))


def block_filters(spec: ModelSpec, block: int) -> int:
    """Filters of each convolution in conv block ``block`` (0-based)."""
    return max(1, int(round(spec.filters * spec.filter_growth ** block)))


def dense_units_at(spec: ModelSpec, layer: int) -> int:
    """Units of dense layer ``layer`` (0-based)."""
    return max(1, int(round(spec.dense_units * spec.dense_shrink ** layer)))
