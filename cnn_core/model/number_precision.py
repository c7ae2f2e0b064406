"""Which numbers a model computes in: the ``precision`` setting, "auto" resolved on this computer.

16-bit numbers (bfloat16, weights kept in 32 bits) make training about 1.8 times faster where the
hardware computes them, and 2 to 20 times slower where TensorFlow has to emulate them, which is
most laptops (:func:`cnn_core.device.has_bfloat16_units` has the figures). "auto", the fast
presets' choice, computes in 16 bits only where that is the faster; a run asking for
"bfloat16" gets it anyway (a practitioner comparing the two), with a warning in the model builder.

Example:
    >>> computed_precision("float32")
    'float32'
    >>> computed_precision("auto") in ("float32", "bfloat16")
    True
"""

from __future__ import annotations

from cnn_core import device

AUTO = "auto"


def computed_precision(precision: str) -> str:
    """``"float32"`` or ``"bfloat16"``: what a model with setting ``precision`` computes in here."""
    if precision == AUTO:
        return "bfloat16" if device.has_bfloat16_units() else "float32"
    return precision


def precision_warning(precision: str) -> str | None:
    """Why the setting ``precision`` slows training on this computer, in the session's
    language; None when it does not."""
    if precision != "bfloat16" or device.has_bfloat16_units():
        return None
    from cnn_core.i18n import _

    return _("This computer has no bfloat16 units, so it imitates 16-bit numbers in software: "
             "training runs 2 to 20 times slower than with 32-bit ones. “Automatic” picks 16-bit "
             "only where it is faster.")


__all__ = ["AUTO", "computed_precision", "precision_warning"]
