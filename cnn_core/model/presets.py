"""Named starting points for the model builder, with what each is for."""

from __future__ import annotations

from cnn_core.i18n import N_
from cnn_core.model.spec import ModelSpec

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
    # Tuned for CIFAR-10 accuracy in 10 minutes on 2 CPU cores (bench/fast_preset.py; tuned on
    # held-out training images with bench/fast_preset_tuning.py), after airbench (Keller Jordan,
    # cifar10-airbench): a frozen 2x2 patch-whitening first layer, 64-96-144 filters with two
    # convs per block pooling after the first, batch norm without scale, ReLU, a global-max head,
    # Nesterov SGD on a triangle schedule, label smoothing, mirror + 1 px shifts at test time, and
    # bfloat16 arithmetic (the AMX units of this machine's Xeon: a 64-96-144 step costs what a
    # 32-64-128 step costs in float32) where the computer has bfloat16 units: precision "auto",
    # since elsewhere (most laptops) TensorFlow emulates it 2 to 20 times slower than float32
    # (cnn_core.device.has_bfloat16_units has the figures). Pair it with PRESET_AUGMENTS["fast"]
    # (alternating flip, 2-pixel crop). Held-out tuning, 45,000 training pictures, 5,000 held out:
    # 32-64-128 float32, 4 epochs: peak learning rate 0.1 -> 78.4% (80.0% with mirror + shift
    # TTA), 0.2 -> 80.5% (81.4%), 0.4 -> 78.7% (79.6%); GELU 167 ms a step, ReLU 135 ms: ReLU.
    # 64-96-144 bfloat16, 18 epochs: 88.1% (89.1% with mirror + shift TTA); adding identity-
    # initialised convolutions and a 1/9-scaled output layer: 88.3% (89.1%), not worth it.
    # With batch norm through TensorFlow's fused kernel (cnn_core.model.fused_batch_norm) a step
    # costs ~95 ms instead of ~170, so 28 epochs fit where 18 did. 28 epochs: 90.4% (mirror +
    # shift); with lookahead weight averaging 89.7%; 3-pixel crop 89.9%; 64-128-128 filters
    # 90.5% but ~15% slower a step; 64-256-256 at 13 epochs (same seconds) 89.1%.
    # Also measured at the same seconds, none better: peak rate 0.35 89.7%; momentum 0.9 89.6%;
    # label smoothing 0.1 89.7%; batch 128 (rate 0.1, 25 epochs) 89.9%; batch 512 89.5%; 48-96-192
    # filters 89.8%; batch-norm shifts learning 64x faster (airbench's bias rate) 90.0%; the first
    # 14 of 33 epochs on random 24x24 windows (a 53 ms step) 89.9%; 64-128-128 filters with the
    # first 10 of 28 epochs on 24x24 windows (to fit the seconds) 90.1%; a stride-2 whitening layer
    # that skips the 31x31 stage (96-144-216, 30 epochs, 434 s) 88.1%; block 1 frozen from epoch 14
    # of 35 (FreezeOut; a 55 ms step after, 463 s) 89.5%; weight decay 0.0025 89.4%, 0.01 90.1%;
    # batch-norm epsilon 1e-5 89.8%; the one-cycle schedule (cosine after the warm-up) 90.3%. 42
    # epochs (1.5x the seconds) 90.5%: longer training of this network barely helps (it fits 98%
    # of its augmented training pictures). The 1,000-picture test sample scores ~1 point below
    # held-out: five seeds of bench/fast_preset.py average 89.0%.
    # The Muon optimizer (optimizer="muon") learns faster in short runs (8 epochs: 87.8% against
    # SGD's 86.2%) but not at full length: 28 epochs at muon_rate 0.05 90.1% (with a 3-pixel crop
    # against its over-fitting, 90.1% again), 0.03 89.5%; with it wider networks in the same
    # seconds: 64-256-256 12 epochs 90.5% (muon_rate 0.15: 89.8%), 64-192-192 16 epochs 90.3%,
    # 64-128-128 22 epochs 90.0%, 64-128-256 20 epochs 90.3%; on the test sample the 64-256-256
    # one scored 0.887 and 0.890 (the preset 0.890). So the preset keeps SGD.
    # time_limit=10 keeps the epochs that fit on the computer at hand (cnn_core.time_limit times a
    # few batches first): all 28 on the Xeon with AMX it was tuned on (~19 s an epoch); 14 on 2 AMD
    # EPYC cores (avx512_bf16, no AMX: ~41 s an epoch): on the test sample 0.883 in 576 s and
    # 0.863 in 587 s (14 epochs), 0.868 in 515 s (12).
    # There, in the seconds the limit leaves (45,000 pictures, 5,000 held out, ~530 s): SGD 14
    # epochs 88.3%; Muon 0.1 13 epochs 88.9%; Muon 0.1 learning from the hardest third of each
    # draw after 4 ordinary epochs (hard_share=0.33, cnn_core.hard_examples; 28 epochs of which
    # the first 11 learn from a random third) 90.1% in 555 s. So the preset learns by Muon from
    # the hardest third. On the test sample (bench/fast_preset.py --seed 42,1, all 50,000
    # pictures, 10-minute limit): 0.881 in 555 s (24 epochs), 0.889 in 504 s (23) and, seed 2,
    # 0.883 in 529 s (23), mean 0.884
    # (the SGD preset there: 0.883, 0.863, 0.868); with a 2-minute limit 0.825 in 107 s (7
    # epochs, none choosing; the SGD preset 0.761 in 91 s). Once the time limit timed the
    # choosing steps too (1.59-1.93 warm-up steps instead of the estimated 2.0), it kept 24-25
    # epochs: seeds 42, 1, 2 scored 0.878, 0.887, 0.889 in 557, 574, 548 s (mean 0.885).
    # Held out at the same seconds, none better than the hardest third from epoch 4 with Muon
    # 0.1 (90.1%; seed 1 89.4%): a half 89.5%, Muon 0.15 89.4% (bench/fast_preset_variants.py).
    # Nor other ways of choosing: scoring a 24x24 window 89.0%, each class keeping its share
    # 88.5%, Selective Backprop's soft choice 89.1%, scores remembered for 2 epochs 53.1%.
    # Not measured on the Xeon with AMX.
    # Its 48 epochs are a cap that only faster computers reach: held out, seed 42 (bench/
    # fast_preset_tuning.py), 24 epochs (what 10 minutes keep on the EPYC cores) 89.2% in 501 s,
    # 48 epochs 90.0% in 987 s, so a computer twice as fast (the Xeon with AMX) uses its 10
    # minutes for ~0.8 points more; with the old cap of 28 it stopped after ~5 minutes there.
    # On the test sample all 48 (bench/fast_preset.py --set time_limit=0 --epochs 48 --seed
    # 42,1): 0.895 and 0.888 in 1120 and 1106 s here (mean 0.891; 24-25 epochs: 0.885).
    # Once the limit filled what whole epochs leave with one more cut short (bench/fast_preset.py
    # --seed 42, then --seed 1,2 --short-epochs 0): 24-25 epochs and part of one more, 0.878,
    # 0.882, 0.877 in 572, 547, 567 s (mean 0.879, inside the spread of the 0.878-0.889 before);
    # 2 minutes: 7 epochs and 27 of the 65 batches of an 8th, 0.815 in 115 s.
    "fast": ModelSpec(
        conv_blocks=3, filters=64, filter_growth=1.5, convs_per_block=2, kernel_size=3,
        padding="same", activation="relu", batch_norm=True, bn_scale=False, pooling="max",
        pool_position="after_first_conv", whitening_stem=True, head="global_max",
        dense_layers=0, dense_dropout=0.0,
        optimizer="muon", muon_rate=0.1, nesterov=True, momentum=0.85, learning_rate=0.2,
        lr_schedule="triangle", weight_decay=0.005, label_smoothing=0.2, batch_size=256,
        hard_share=0.33, epochs=48, time_limit=10, test_time_augmentation="flip_shift",
        precision="auto",
    ),
}

# The fast network for a 2-minute class demo: 6 epochs, the filters learning by Muon, which
# learns faster in short runs. bench/fast_preset.py --set optimizer=muon --set muon_rate=0.1
# --epochs 6 --short-epochs 0 --seed 42,1 (test sample, all 50,000 training pictures): 86.0%
# and 85.7% in 127 and 124 s; the fast preset cut to 6 epochs (SGD) 84.2% and 84.1% in 143
# and 117 s, measured right before. Held out, 8 epochs: muon_rate 0.025 86.5%, 0.05 87.5%, 0.1 87.8%.
# Its 2-minute time limit keeps 5 of the 6 epochs there (~20 s each, plus the timing), fewer on
# slower computers: on 2 AMD EPYC cores (~42 s an epoch) 2 and 127 of the 196 batches of a third
# (the limit cuts the last epoch short), bench/fast_preset.py --set hard_share=1 --set
# time_limit=2 --epochs 6 --short-epochs 0 --seed 42,1: 0.829 and 0.821 in 113 and 115 s; with
# whole epochs only (2) 0.823 and 0.806 in 85 and 86 s.
# On computers without bfloat16 units (imitated on those EPYC cores, bench/fast_preset.py
# --set hard_share=1 --set time_limit=2 --epochs 6 --short-epochs 0 --seed 42 --set precision=P):
# through Eigen (TF_ENABLE_ONEDNN_OPTS=0, TensorFlow's bfloat16 path without AVX-512) bfloat16
# planned one 1,237-second epoch for the 2 minutes; float32, what precision "auto" picks there,
# 0.783 in 146 s (contended) for its one whole epoch; once the limit cut a first epoch that
# does not fit, 0.742 in 100 s (151 of 196 batches); oneDNN held to AVX2 (ONEDNN_MAX_CPU_ISA=AVX2), float32:
# 0.794 in 127 s (1 epoch and 62 of 196 batches, ~83 s an epoch).
# It learns from every picture (hard_share=1): runs this short never choose the hardest.
PRESETS["quick"] = PRESETS["fast"].replace(hard_share=1.0, epochs=6, time_limit=2)

# Augmentation a preset was tuned with (AugmentSpec settings); presets not named here use none.
PRESET_AUGMENTS: dict[str, dict] = {
    "fast": {"flip": "alternating", "crop": 2},
    "quick": {"flip": "alternating", "crop": 2},
}

PRESET_DESCRIPTIONS: dict[str, str] = {
    "cifar10_tutorial": N_("The classic beginner CIFAR-10 network: 32 then 64 filters with max "
                        "pooling, dense layers of 128 and 64 with dropout, trained with Adam."),
    "fashion_mnist_tutorial": N_("The Fashion-MNIST tutorial network: two convolutions (32 and 64 "
                              "filters), a dense layer of 128 and dropout of 0.4."),
    "lenet": N_("LeNet-5, the 1998 digit reader: 6 and 16 filters of 5x5 with average pooling, "
             "then dense layers of 120 and 84; small and quick, good for digits."),
    "mlp": N_("No convolutions at all: the pixels go straight into two dense layers of 256, "
           "a baseline that shows what convolutions add."),
    "fast": N_("An airbench-style compact network (patch-whitening first layer, batch norm, "
               "global max pooling) with a triangle learning rate, label smoothing and "
               "test-time mirroring, computing in 16-bit numbers where the processor has "
               "bfloat16 units; its filters learn by Muon "
               "and, after a warm-up, only from the hardest third of the pictures. It trains "
               "for at most 10 minutes, as many of its 48 epochs as fit: about 88% on "
               "CIFAR-10 on 2 AMD EPYC cores (24-25 epochs), about 89% on computers twice as "
               "fast (all 48), about 82% with 2 minutes."),
    "quick": N_("The fast network for a class demo: at most 6 epochs in at most 2 minutes, its "
                "filters learning by Muon, which learns faster in short runs: about 85% on "
                "CIFAR-10 on 2 Intel Xeon cores with AMX units, about 82.5% on 2 AMD EPYC cores "
                "(2½ epochs)."),
}

DEFAULT_PRESET = "lenet"

# What each preset is called on screen (ids stay in links, run records and the CLI).
PRESET_NAMES: dict[str, str] = {
    "cifar10_tutorial": N_("CIFAR-10 tutorial CNN"),
    "fashion_mnist_tutorial": N_("Fashion-MNIST tutorial CNN"),
    "lenet": N_("LeNet-5"),
    "mlp": N_("MLP (no convolutions)"),
    "fast": N_("Fast CNN"),
    "quick": N_("Quick CNN (2 minutes)"),
}


def preset_name(preset: str | None) -> str:
    """A preset's display name, e.g. ``"lenet"`` -> ``"LeNet-5"``; no preset -> "custom settings"."""
    from cnn_core.i18n import _

    if not preset:
        return _("custom settings")
    return _(PRESET_NAMES[preset]) if preset in PRESET_NAMES else str(preset).replace("_", " ")
