"""A canvas to draw on with the mouse or a finger (streamlit-drawable-canvas, Components v2).

The canvas has its own toolbar with undo, redo and clear. What was drawn comes back as PNG bytes,
which the page reads through the same door as any upload (``cnn_core.picture_input``).
"""

from __future__ import annotations

import streamlit as st

from cnn_core.i18n import _




CANVAS_KEY = "try_canvas"
SIDE = 280          # canvas pixels (10x a 28x28 digit)
STROKE = 22         # pen width: about as thick, relative to the frame, as MNIST's strokes


def drawing_pad() -> bytes | None:
    """Draw the canvas; return the drawing as PNG bytes, or None while nothing is drawn."""
    from streamlit_drawable_canvas import st_canvas

    st.caption(_("Draw with the mouse or a finger. Point at the canvas for its toolbar: undo, redo, and "
               "the bin clears the drawing."))
    result = st_canvas(
        stroke_width=STROKE, stroke_color="#000000", background_color="#ffffff",
        height=SIDE, width=SIDE, drawing_mode="freedraw", update_streamlit=True,
        return_image_data=True, key=CANVAS_KEY,
    )
    objects = (result.json_data or {}).get("objects") or []
    if not objects:
        return None
    return result.image_bytes
