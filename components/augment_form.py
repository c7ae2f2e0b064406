"""The augmentation page's controls: a switch and a strength for each AugmentSpec setting.

Labels, help, the list of strengths and the first strength when switched on come from the
settings' declarations in :class:`cnn_core.augment.AugmentSpec`.

The draft being previewed lives in ``st.session_state[DRAFT_KEY]`` (a dict, survives page switches);
"Use for training" copies it to ``state.AUGMENT_SPEC_KEY``, which the next run reads.
"""

from __future__ import annotations

import streamlit as st

from cnn_core.i18n import _
from components import state

DRAFT_KEY = "augment_draft"
SEED_KEY = "augment_preview_seed"


def strengths() -> list:
    """The declarations (:class:`cnn_core.settings.Setting`) of AugmentSpec's strength settings:
    every number setting with a list of strengths (``ladder``: the float strengths and the
    whole-pixel crop), in declaration order."""
    from cnn_core.augment import AugmentSpec
    from cnn_core.settings import declared

    return [d for d in declared(AugmentSpec).values() if d.kind in ("int", "float") and d.ladder]


def _flip():
    from cnn_core.augment import AugmentSpec
    from cnn_core.settings import declared

    return declared(AugmentSpec)["flip"]


def _amount(decl, value: float) -> str:
    from cnn_core.settings import show_value

    return show_value(decl, value)


def _nearest(options: tuple[float, ...], value: float) -> float:
    return min(options, key=lambda o: abs(o - value))


def draft() -> dict:
    """The spec being previewed: the draft, else the spec used for training, else no augmentation."""
    from cnn_core.augment import AugmentSpec

    stored = st.session_state.get(DRAFT_KEY) or st.session_state.get(state.AUGMENT_SPEC_KEY)
    return AugmentSpec.from_dict(stored).to_dict() if stored else AugmentSpec().to_dict()


def _init(key: str, value) -> None:
    if key not in st.session_state:
        st.session_state[key] = value


def augment_controls(start: dict) -> dict:
    """Draw the switches and strengths, two settings per row; return the spec dict they describe."""
    spec = dict(start)
    flip_decl = _flip()
    directions = [c for c in flip_decl.choices if c != "none"]
    flip = start.get("flip", "none")
    _init("aug_flip_on", flip != "none")
    _init("aug_flip", flip if flip in directions else flip_decl.suggested)
    items = strengths()
    rows = (len(items) + 2) // 2
    cells = [cell for _ in range(rows) for cell in st.columns(2, gap="large")]
    with cells[0]:
        on = st.toggle(_(flip_decl.label), key="aug_flip_on", help=_(flip_decl.help))
        st.radio(_("{setting} direction", setting=_(flip_decl.label)), directions, key="aug_flip", horizontal=True,
                 disabled=not on, format_func=lambda v: _(flip_decl.words.get(v, v)), label_visibility="collapsed",
                 help=_("Which way pictures may be mirrored."))
        spec["flip"] = st.session_state["aug_flip"] if on else "none"
    for cell, strength in zip(cells[1:], items):
        value = float(start.get(strength.name, 0.0) or 0.0)
        _init(f"aug_{strength.name}_on", value > 0)
        _init(f"aug_{strength.name}", _nearest(strength.ladder, value) if value > 0 else strength.suggested)
        with cell:
            on = st.toggle(_(strength.label), key=f"aug_{strength.name}_on", help=_(strength.help))
            amount = st.select_slider(
                _("{setting} strength", setting=_(strength.label)), strength.ladder, key=f"aug_{strength.name}",
                disabled=not on, format_func=lambda v, d=strength: _amount(d, v), label_visibility="collapsed",
                help=_("How strong the random {setting} can be.", setting=_(strength.label).lower()),
            )
            kind = int if strength.kind == "int" else float
            spec[strength.name] = kind(amount) if on else kind(0)
    st.session_state[DRAFT_KEY] = spec
    return spec


def describe(spec: dict) -> str:
    """A plain one-line description, e.g. "mirror left ↔ right, turn up to ±14°"."""
    parts = []
    flip = _flip()
    if spec.get("flip", "none") != "none":
        parts.append(f"{_(flip.label).lower()} {_(flip.words.get(spec['flip'], spec['flip']))}")
    for strength in strengths():
        if spec.get(strength.name):
            parts.append(f"{_(strength.label).lower()} {_amount(strength, spec[strength.name])}")
    return ", ".join(parts) if parts else _("no augmentation")


def use_for_training(spec: dict) -> None:
    st.session_state[state.AUGMENT_SPEC_KEY] = dict(spec)


def reroll() -> None:
    st.session_state[SEED_KEY] = st.session_state.get(SEED_KEY, 0) + 1
