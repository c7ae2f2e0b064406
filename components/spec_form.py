"""The model builder's widgets: one control per :class:`cnn_core.model.ModelSpec` setting.

The spec lives in ``st.session_state[state.MODEL_SPEC_KEY]`` as a plain dict so it survives page
switches. Each setting has a widget keyed ``spec_<setting>``; a widget missing from the session
(first visit, or Streamlit dropped it after a page switch) starts from the stored spec, so what
the user set is never lost. Numbers that span orders of magnitude (learning rate, filters,
dropout, batch size) move over log-spaced lists with ``st.select_slider``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from components import state

PRESET_WIDGET_KEY = "spec_preset"
BASE_PRESET_KEY = "model_builder_base_preset"  # survives page switches, unlike the widget key

LEARNING_RATES = (1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
FILTERS = (4, 8, 16, 32, 64, 128, 256, 512, 1024)
UNITS = (8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
DROPOUTS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
WEIGHT_DECAYS = (0.0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.05, 0.1, 0.5)
BATCH_SIZES = (8, 16, 32, 64, 128, 256, 512, 1024)
LABEL_SMOOTHINGS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)


def _percent(value: float) -> str:
    return f"{value:.0%}"


def _number(value: float) -> str:
    return "off" if value == 0 else f"{value:g}"


@dataclass(frozen=True)
class Setting:
    """How one ModelSpec field is shown: a label, a one-line help and a widget kind with its range."""

    name: str
    label: str
    help: str
    kind: str  # slider | select_slider | selectbox | radio | toggle | number
    options: Sequence[Any] = ()
    low: float = 0
    high: float = 1
    step: float | None = None
    format: Callable[[Any], str] | None = None
    labels: dict[str, str] = field(default_factory=dict)


GROUPS: dict[str, list[Setting]] = {
    "Layers": [
        Setting("conv_blocks", "Convolution blocks", "How many times the network looks for patterns and then "
                "shrinks the picture. 0 = no convolutions at all (a plain dense network).", "slider", low=0, high=8),
        Setting("filters", "Filters in the first block", "How many different small patterns (edges, spots...) "
                "the first block can learn to spot. More = more capable but slower.", "select_slider", FILTERS),
        Setting("filter_growth", "Filter growth per block", "Each block gets this many times the filters of the "
                "block before (2 = doubles), so later blocks can spot more complex patterns.",
                "select_slider", (0.5, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0), format=lambda v: f"×{v:.3g}"),
        Setting("convs_per_block", "Convolutions per block", "How many pattern-finding layers sit in a row before "
                "each shrinking step.", "slider", low=1, high=4),
        Setting("kernel_size", "Filter size (pixels)", "How big a patch of the picture each filter looks at "
                "(3 = a 3x3 patch).", "select_slider", (1, 3, 5, 7, 9, 11), format=lambda v: f"{v}x{v}"),
        Setting("stride", "Stride", "How many pixels a filter jumps between looks; 2 halves the picture size.",
                "select_slider", (1, 2, 3, 4)),
        Setting("padding", "Padding", "'same' adds a border so the picture keeps its size; 'valid' lets each "
                "convolution trim the edges.", "radio", ("same", "valid")),
        Setting("activation", "Activation", "The small bend each neuron applies to its sum; relu is a good "
                "default.", "selectbox", ("relu", "elu", "gelu", "leaky_relu", "swish", "tanh", "sigmoid")),
        Setting("pooling", "Pooling", "How each block shrinks the picture by half: keep the strongest signal "
                "(max), the average, or do not shrink (none).", "radio", ("max", "average", "none")),
        Setting("head", "From maps to answer", "'flatten' keeps every position; 'global average' keeps one "
                "number per filter (far fewer parameters).", "radio", ("flatten", "global_average"),
                labels={"global_average": "global average"}),
        Setting("dense_layers", "Dense layers", "Fully connected layers that combine the patterns found into "
                "a decision, before the final answer layer.", "slider", low=0, high=5),
        Setting("dense_units", "Units in the first dense layer", "How many neurons the first dense "
                "layer has.", "select_slider", UNITS),
        Setting("dense_shrink", "Dense layer shrink", "Each further dense layer has this share of the "
                "neurons of the one before (1 = all the same size).", "select_slider",
                (0.25, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1.0), format=lambda v: f"×{v:.2g}"),
    ],
    "Regularisation": [
        Setting("batch_norm", "Batch normalisation", "Re-centres the numbers after each convolution; often "
                "trains faster and more stably.", "toggle"),
        Setting("conv_dropout", "Dropout after convolutions", "Randomly switches off this share of feature "
                "maps while training, so the network cannot rely on a few of them.",
                "select_slider", DROPOUTS, format=_percent),
        Setting("dense_dropout", "Dropout in dense layers", "Randomly switches off this share of dense "
                "neurons while training; fights memorising the training images.",
                "select_slider", DROPOUTS, format=_percent),
        Setting("weight_decay", "Weight decay", "Gently pulls all weights towards zero; keeps the model "
                "simple. 'off' is fine to start.", "select_slider", WEIGHT_DECAYS, format=_number),
        Setting("label_smoothing", "Label smoothing", "Asks for 90% instead of 100% certainty (at 0.1), "
                "so the model is less over-confident.", "select_slider", LABEL_SMOOTHINGS, format=_number),
        Setting("early_stopping_patience", "Early stopping", "Stop when the validation accuracy has not "
                "improved for this many epochs (0 = never stop early).", "slider", low=0, high=20,
                format=lambda v: "off" if v == 0 else f"after {v} epochs"),
    ],
    "Optimisation": [
        Setting("optimizer", "Optimiser", "The rule that nudges the weights after each batch; Adam is a "
                "safe default.", "selectbox", ("adam", "adamw", "sgd", "rmsprop"),
                labels={"adam": "Adam", "adamw": "AdamW", "sgd": "SGD with momentum", "rmsprop": "RMSprop"}),
        Setting("learning_rate", "Learning rate", "How big each nudge is. Too small: slow; too large: the "
                "training goes wild. 0.001 suits Adam.", "select_slider", LEARNING_RATES, format=lambda v: f"{v:g}"),
        Setting("momentum", "Momentum", "For SGD: how much of the previous step is carried into the next, "
                "like a rolling ball.", "slider", low=0.0, high=0.99, step=0.01),
        Setting("nesterov", "Nesterov momentum", "For SGD: looks one step ahead before nudging; often a "
                "little faster.", "toggle"),
        Setting("lr_schedule", "Learning-rate schedule", "Keep the rate constant, or warm up then cool down "
                "(one cycle), or slowly lower it (cosine).", "selectbox", ("constant", "one_cycle", "cosine"),
                labels={"constant": "constant", "one_cycle": "one cycle", "cosine": "cosine decay"}),
        Setting("batch_size", "Batch size", "How many images the model looks at before each nudge of the "
                "weights.", "select_slider", BATCH_SIZES),
        Setting("epochs", "Epochs", "How many times training goes through all training images.",
                "slider", low=1, high=100),
        Setting("seed", "Random seed", "Same seed + same settings = the same result; change it to see how "
                "much luck matters.", "number", low=0, high=2**31 - 1, step=1),
    ],
}


def widget_key(name: str) -> str:
    return f"spec_{name}"


def spec_fields() -> dict[str, Any]:
    """ModelSpec's field names and defaults, in declaration order."""
    from cnn_core.model import ModelSpec

    defaults = ModelSpec()
    return {f.name: getattr(defaults, f.name) for f in dataclasses.fields(ModelSpec)}


def settings_by_group() -> dict[str, list[Setting]]:
    """The groups above restricted to real ModelSpec fields, plus "Other" for any field not listed."""
    fields = spec_fields()
    groups = {group: [s for s in items if s.name in fields] for group, items in GROUPS.items()}
    known = {s.name for items in groups.values() for s in items}
    extra = [_generic_setting(name, default) for name, default in fields.items() if name not in known]
    if extra:
        groups["Other settings"] = extra
    return groups


def _generic_setting(name: str, default: Any) -> Setting:
    label = name.replace("_", " ").capitalize()
    if isinstance(default, bool):
        return Setting(name, label, f"The model setting '{name}'.", "toggle")
    if isinstance(default, (int, float)):
        return Setting(name, label, f"The model setting '{name}'.", "number", low=-1e9, high=1e9,
                       step=1 if isinstance(default, int) else None)
    return Setting(name, label, f"The model setting '{name}'.", "text")


def label_of(setting_name: str) -> str | None:
    """The widget label of a setting, e.g. ``"conv_blocks"`` -> ``"Convolution blocks"``."""
    for items in settings_by_group().values():
        for s in items:
            if s.name == setting_name:
                return s.label
    return None


def group_of(setting_name: str) -> str | None:
    for group, items in settings_by_group().items():
        if any(s.name == setting_name for s in items):
            return group
    return None


# -- the spec in session state ------------------------------------------------------------------

def stored_spec() -> dict[str, Any]:
    """The spec dict in session state, filled with defaults (the default preset on first visit)."""
    from cnn_core.model import DEFAULT_PRESET, PRESETS

    stored = st.session_state.get(state.MODEL_SPEC_KEY)
    if not stored:
        stored = PRESETS[DEFAULT_PRESET].to_dict()
        st.session_state[state.MODEL_SPEC_KEY] = stored
        st.session_state.setdefault(state.PRESET_KEY, DEFAULT_PRESET)
    return {**spec_fields(), **stored}


def pending_spec() -> dict[str, Any]:
    """The spec the widgets hold right now (a moved widget's new value is known before drawing)."""
    spec = stored_spec()
    return {name: st.session_state.get(widget_key(name), value) for name, value in spec.items()}


def save_spec(spec: dict[str, Any]) -> None:
    """Store the spec; the preset name is kept only while the spec still equals that preset."""
    from cnn_core.model import PRESETS

    st.session_state[state.MODEL_SPEC_KEY] = dict(spec)
    base = st.session_state.get(BASE_PRESET_KEY)
    same = base in PRESETS and _same(PRESETS[base].to_dict(), spec)
    st.session_state[state.PRESET_KEY] = base if same else None


def _same(a: dict, b: dict) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps({**a, **b}, sort_keys=True, default=str)


def apply_preset(name: str) -> None:
    """Load a preset into the spec and into every widget (a callback: runs before the page draws)."""
    from cnn_core.model import PRESETS

    spec = PRESETS[name].to_dict()
    st.session_state[BASE_PRESET_KEY] = name
    st.session_state[state.MODEL_SPEC_KEY] = spec
    st.session_state[state.PRESET_KEY] = name
    for setting, value in spec.items():
        st.session_state[widget_key(setting)] = value


# -- drawing ------------------------------------------------------------------------------------

def preset_picker() -> str:
    """The preset selectbox with the preset's one-line description; returns the chosen name."""
    from cnn_core.model import DEFAULT_PRESET, PRESET_DESCRIPTIONS, PRESETS

    names = list(PRESETS)
    base = st.session_state.get(BASE_PRESET_KEY) or st.session_state.get(state.PRESET_KEY) or DEFAULT_PRESET
    base = base if base in names else names[0]
    st.session_state[BASE_PRESET_KEY] = base
    if PRESET_WIDGET_KEY not in st.session_state:
        st.session_state[PRESET_WIDGET_KEY] = base
    chosen = st.selectbox(
        "Start from a preset", names, key=PRESET_WIDGET_KEY,
        format_func=lambda n: n.replace("_", " "),
        on_change=lambda: apply_preset(st.session_state[PRESET_WIDGET_KEY]),
        help="A ready-made architecture to start from; every setting below can then be changed.",
    )
    changed = not _same(PRESETS[chosen].to_dict(), pending_spec())
    note = " You have changed some of its settings." if changed else ""
    st.caption(PRESET_DESCRIPTIONS.get(chosen, "") + note)
    return chosen


def _with_value(options: Sequence[Any], value: Any) -> list[Any]:
    options = list(options)
    if value not in options:
        options.append(value)
        try:
            options.sort()
        except TypeError:
            pass
    return options


def draw_setting(setting: Setting, value: Any, *, disabled: bool = False) -> Any:
    """One widget for one setting, starting from ``value`` when the widget is new; returns its value."""
    key = widget_key(setting.name)
    options = _with_value(setting.options, value) if setting.options else []
    if key not in st.session_state or (options and st.session_state[key] not in options):
        st.session_state[key] = value
    common = dict(label=setting.label, key=key, help=setting.help, disabled=disabled)
    fmt = setting.format or (lambda v: setting.labels.get(v, str(v).replace("_", " ")))
    if setting.kind == "slider":
        kind = float if isinstance(value, float) or isinstance(setting.step, float) else int
        extra = {"step": kind(setting.step)} if setting.step is not None else {}
        return st.slider(min_value=kind(setting.low), max_value=kind(max(setting.high, value)), **extra, **common)
    if setting.kind == "select_slider":
        return st.select_slider(options=options, format_func=fmt, **common)
    if setting.kind == "selectbox":
        return st.selectbox(options=options, format_func=fmt, **common)
    if setting.kind == "radio":
        return st.radio(options=options, format_func=fmt, horizontal=True, **common)
    if setting.kind == "toggle":
        return st.toggle(**common)
    if setting.kind == "number":
        is_int = isinstance(value, int)
        low, high = (int(setting.low), int(setting.high)) if is_int else (float(setting.low), float(setting.high))
        return st.number_input(min_value=low, max_value=high, step=(1 if is_int else None), **common)
    return st.text_input(**common)


def spec_form(spec: dict[str, Any], error: Exception | None = None) -> dict[str, Any]:
    """All settings in expanders (Layers open; a group holding an error opens too).

    ``error`` (a SpecError) is shown right under the widget of the setting it names.
    Returns the spec the widgets hold.
    """
    error_setting = getattr(error, "setting", None)
    values = dict(spec)
    for group, settings in settings_by_group().items():
        with st.expander(group, expanded=group == "Layers" or any(s.name == error_setting for s in settings)):
            for setting in settings:
                disabled = _not_used(setting.name, values)
                values[setting.name] = draw_setting(setting, spec[setting.name], disabled=disabled)
                if setting.name == error_setting:
                    st.error(str(error), icon=":material/error:")
    return values


def _not_used(name: str, spec: dict[str, Any]) -> bool:
    """Settings that have no effect with the other choices are greyed out (they keep their value)."""
    no_convs = spec.get("conv_blocks", 1) == 0
    if name in ("filters", "filter_growth", "convs_per_block", "kernel_size", "stride", "padding",
                "pooling", "conv_dropout", "head"):
        return no_convs
    if name == "dense_units":
        return spec.get("dense_layers", 1) == 0
    if name == "dense_shrink":
        return spec.get("dense_layers", 1) < 2
    if name in ("momentum", "nesterov"):
        return spec.get("optimizer") != "sgd"
    return False
