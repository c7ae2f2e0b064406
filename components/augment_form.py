"""The augmentation page's controls: a switch and a strength for each AugmentSpec setting.

The draft being previewed lives in ``st.session_state[DRAFT_KEY]`` (a dict, survives page switches);
"Use for training" copies it to ``state.AUGMENT_SPEC_KEY``, which the next run reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from components import state

DRAFT_KEY = "augment_draft"
SEED_KEY = "augment_preview_seed"


@dataclass(frozen=True)
class Strength:
    name: str
    label: str
    help: str
    options: tuple[float, ...]
    default: float
    unit: str  # "deg" or "pct"

    def format(self, value: float) -> str:
        return f"up to ±{value * 360:.0f}°" if self.unit == "deg" else f"up to ±{value:.0%}"


STRENGTHS = (
    Strength("rotation", "Turn", "Turns each picture by a random angle, up to the strength.",
             (0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.25, 0.35, 0.5), 0.04, "deg"),
    Strength("translation", "Shift", "Slides each picture sideways and up or down, by up to this share "
             "of its size.", (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5), 0.1, "pct"),
    Strength("zoom", "Zoom", "Zooms in or out at random, by up to this much.",
             (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9), 0.1, "pct"),
    Strength("contrast", "Contrast", "Makes the difference between dark and light parts randomly "
             "stronger or weaker.", (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0), 0.2, "pct"),
    Strength("brightness", "Brightness", "Makes each picture randomly darker or brighter.",
             (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0), 0.2, "pct"),
)
FLIPS = ("horizontal", "vertical", "horizontal_and_vertical")
FLIP_LABELS = {"horizontal": "left ↔ right", "vertical": "up ↕ down", "horizontal_and_vertical": "both"}


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
    flip = start.get("flip", "none")
    _init("aug_flip_on", flip != "none")
    _init("aug_flip", flip if flip in FLIPS else "horizontal")
    cells = [cell for _ in range(3) for cell in st.columns(2, gap="large")]
    with cells[0]:
        on = st.toggle("Mirror", key="aug_flip_on",
                       help="Flips some pictures like a mirror. Fine for cats; wrong for digits (a mirrored 3 is no 3).")
        st.radio("Mirror direction", FLIPS, key="aug_flip", horizontal=True, disabled=not on,
                 format_func=FLIP_LABELS.get, label_visibility="collapsed",
                 help="Which way pictures may be mirrored.")
        spec["flip"] = st.session_state["aug_flip"] if on else "none"
    for cell, strength in zip(cells[1:], STRENGTHS):
        value = float(start.get(strength.name, 0.0) or 0.0)
        _init(f"aug_{strength.name}_on", value > 0)
        _init(f"aug_{strength.name}", _nearest(strength.options, value) if value > 0 else strength.default)
        with cell:
            on = st.toggle(strength.label, key=f"aug_{strength.name}_on", help=strength.help)
            amount = st.select_slider(
                f"{strength.label} strength", strength.options, key=f"aug_{strength.name}", disabled=not on,
                format_func=strength.format, label_visibility="collapsed",
                help=f"How strong the random {strength.label.lower()} can be.",
            )
            spec[strength.name] = float(amount) if on else 0.0
    st.session_state[DRAFT_KEY] = spec
    return spec


def describe(spec: dict) -> str:
    """A plain one-line description, e.g. "mirror left ↔ right, turn up to ±14°"."""
    parts = []
    if spec.get("flip", "none") != "none":
        parts.append(f"mirror {FLIP_LABELS.get(spec['flip'], spec['flip'])}")
    for strength in STRENGTHS:
        if spec.get(strength.name):
            parts.append(f"{strength.label.lower()} {strength.format(spec[strength.name])}")
    return ", ".join(parts) if parts else "no augmentation"


def use_for_training(spec: dict) -> None:
    st.session_state[state.AUGMENT_SPEC_KEY] = dict(spec)


def reroll() -> None:
    st.session_state[SEED_KEY] = st.session_state.get(SEED_KEY, 0) + 1
