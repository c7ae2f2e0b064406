"""The model builder's widgets: one control per :class:`cnn_core.model.ModelSpec` setting.

The spec lives in ``st.session_state[state.MODEL_SPEC_KEY]`` as a plain dict so it survives page
switches. Each setting has a widget keyed ``spec_<setting>``; a widget missing from the session
(first visit, or Streamlit dropped it after a page switch) starts from the stored spec, so what
the user set is never lost. Numbers that span orders of magnitude (learning rate, filters,
dropout, batch size) move over log-spaced lists with ``st.select_slider``. Labels, help, ranges,
value lists and widget kinds all come from the settings' declarations in
:class:`cnn_core.model.ModelSpec` (:mod:`cnn_core.settings`).
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from cnn_core.i18n import N_, _
from cnn_core.model.presets import preset_name
from cnn_core.model.setting_use import is_used
from components import state

PRESET_WIDGET_KEY = "spec_preset"
BASE_PRESET_KEY = "model_builder_base_preset"  # survives page switches, unlike the widget key

OTHER_GROUP = N_("Other settings")  # for a setting declared without a group


def widget_key(name: str) -> str:
    return f"spec_{name}"


def spec_fields() -> dict[str, Any]:
    """ModelSpec's field names and defaults, in declaration order."""
    from cnn_core.model import ModelSpec
    from cnn_core.settings import defaults

    return defaults(ModelSpec)


def settings_by_group() -> dict[str, list]:
    """ModelSpec's setting declarations (:class:`cnn_core.settings.Setting`) by model builder
    section, in declaration order."""
    from cnn_core.model import ModelSpec
    from cnn_core.settings import declared

    groups: dict[str, list] = {}
    for decl in declared(ModelSpec).values():
        groups.setdefault(decl.group or OTHER_GROUP, []).append(decl)
    return groups


def label_of(setting_name: str) -> str | None:
    """The widget label of a setting, e.g. ``"conv_blocks"`` -> ``"Convolution blocks"``."""
    from cnn_core.model import ModelSpec
    from cnn_core.settings import declared

    decl = declared(ModelSpec).get(setting_name)
    return _(decl.label) if decl else None


def group_of(setting_name: str) -> str | None:
    from cnn_core.model import ModelSpec
    from cnn_core.settings import declared

    decl = declared(ModelSpec).get(setting_name)
    return (decl.group or OTHER_GROUP) if decl else None


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
        _("Start from a preset"), names, key=PRESET_WIDGET_KEY,
        format_func=preset_name,
        on_change=lambda: apply_preset(st.session_state[PRESET_WIDGET_KEY]),
        help=_("A ready-made architecture to start from; every setting below can then be changed."),
    )
    if chosen != st.session_state.get(BASE_PRESET_KEY):
        # The change callback did not run (a pick that arrived while a rerun was starting can
        # lose it): load the preset now, before the setting widgets below are drawn.
        apply_preset(chosen)
    changed = not _same(PRESETS[chosen].to_dict(), pending_spec())
    note = _(" You have changed some of its settings.") if changed else ""
    st.caption(_(PRESET_DESCRIPTIONS.get(chosen, "")) + note)
    return chosen


def slider_values(decl, value: Any) -> list[Any]:
    """The values a slider over a list offers: the declared ladder, every preset's value of the
    setting (so lenet's 6 filters can be chosen again after moving away) and the current value."""
    from cnn_core.model import PRESETS

    options = list(decl.ladder)
    for extra in [getattr(p, decl.name) for p in PRESETS.values()] + [value]:
        if extra not in options:
            options.append(extra)
    try:
        options.sort()
    except TypeError:
        pass
    return options


def _options(decl, value: Any) -> list[Any]:
    if decl.kind == "choice":
        return list(decl.choices) + ([] if value in decl.choices else [value])
    return slider_values(decl, value) if decl.ladder else []


def draw_setting(decl, value: Any, *, disabled: bool = False) -> Any:
    """One widget for one declared setting, starting from ``value`` when the widget is new;
    returns its value."""
    from cnn_core.settings import show_value

    key = widget_key(decl.name)
    options = _options(decl, value)
    if key not in st.session_state or (options and st.session_state[key] not in options):
        st.session_state[key] = value
    common = dict(label=_(decl.label), key=key, help=_(decl.help) if decl.help else None, disabled=disabled)
    kind = decl.widget_kind()
    if kind == "slider":
        low, high = decl.slider_range()
        cast = float if decl.kind == "float" else int
        extra = {"step": cast(decl.step)} if decl.step is not None else {}
        return st.slider(min_value=cast(low), max_value=cast(max(high, value)), **extra, **common)
    fmt = lambda v: show_value(decl, v)  # noqa: E731
    if kind == "select_slider":
        return st.select_slider(options=options, format_func=fmt, **common)
    if kind == "selectbox":
        return st.selectbox(options=options, format_func=fmt, **common)
    if kind == "radio":
        return st.radio(options=options, format_func=fmt, horizontal=True, **common)
    if kind == "toggle":
        return st.toggle(**common)
    if kind == "number":
        low, high = decl.slider_range()
        cast = int if decl.kind == "int" else float
        return st.number_input(min_value=cast(low), max_value=cast(high),
                               step=(1 if decl.kind == "int" else None), **common)
    return st.text_input(**common)


def spec_form(spec: dict[str, Any], error: Exception | None = None) -> dict[str, Any]:
    """All settings in expanders (Layers open; a group holding an error opens too).

    In presentation mode only the settings declared ``demo=True`` are shown up front, the rest
    under one "More settings" expander (same widgets and keys, so nothing set is lost).
    ``error`` (a SpecError) is shown right under the widget of the setting it names.
    Returns the spec the widgets hold.
    """
    from cnn_core.model.number_precision import precision_warning
    from components.presentation import is_on as presenting

    error_setting = getattr(error, "setting", None)
    values = dict(spec)

    def draw(setting) -> None:
        disabled = _not_used(setting.name, values)
        values[setting.name] = draw_setting(setting, spec[setting.name], disabled=disabled)
        if setting.name == "precision" and (slow := precision_warning(values[setting.name])):
            st.warning(slow, icon=":material/speed:")
        if setting.name == error_setting:
            st.error(str(error), icon=":material/error:")

    if presenting():
        demo, more = demo_and_more()
        for setting in demo:
            draw(setting)
        with st.expander(_("More settings"), expanded=any(s.name == error_setting for s in more)):
            for group, settings in settings_by_group().items():
                rest = [s for s in settings if not s.demo]
                if rest:
                    st.markdown(f"**{_(group)}**")
                for setting in rest:
                    draw(setting)
        return values
    for group, settings in settings_by_group().items():
        with st.expander(_(group), expanded=group == "Layers" or any(s.name == error_setting for s in settings)):
            for setting in settings:
                draw(setting)
    return values


def demo_and_more() -> tuple[list, list]:
    """ModelSpec's declarations split into the demo's handful (``demo=True``, shown up front in
    presentation mode) and the rest (under "More settings"), each in declaration order."""
    from cnn_core.model import ModelSpec
    from cnn_core.settings import declared, demo_settings

    demo = demo_settings(ModelSpec)
    return demo, [d for d in declared(ModelSpec).values() if not d.demo]


def _not_used(name: str, spec: dict[str, Any]) -> bool:
    """Settings that have no effect with the other choices are greyed out (they keep their value)."""
    return not is_used(name, spec)
