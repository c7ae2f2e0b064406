"""The Try it page's answers: one picture up close, or a sortable table of many with a CSV download."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
import streamlit as st

from cnn_core.i18n import N_, _
from cnn_core.i18n_class_names import class_label
from cnn_core.image_stats import for_display
from cnn_core.predict import Prediction, PreparedImage, answer_sentence, percent
from components.language import column_labels
from components.run_charts import probability_figure

SHOWN_CLASSES = 10    # bars in the ranked chart (the best ones)
LARGE = 224           # pixels of the smaller side of the picture "as the model sees it"


def ranked_figure(prediction: Prediction, class_names: Sequence[str]):
    """Plotly bars of the classes, most probable on top (at most :data:`SHOWN_CLASSES`)."""
    order = np.argsort(-prediction.probabilities, kind="stable")[:SHOWN_CLASSES]
    return probability_figure(prediction.probabilities[order], [class_names[i] for i in order])


def one_answer(picture: PreparedImage, prediction: Prediction, class_names: Sequence[str],
               warnings: Sequence[str], true_index: int | None = None, key: str = "try_probs") -> None:
    """The picture as the model sees it, the ranked bars, the sentence and the caveats."""
    left, right = st.columns([1, 1.6], gap="large")
    left.image(for_display(picture.pixels, LARGE), width="stretch",
               caption=_("{name}, as the model sees it ({width}x{height} pixels, enlarged)", name=picture.name,
                         width=picture.pixels.shape[1], height=picture.pixels.shape[0]))
    with right:
        st.markdown(f"**{answer_sentence(prediction)}**")
        if true_index is not None:
            right_answer = prediction.best[0] == true_index
            st.caption((_("Right: ") if right_answer else _("Wrong: ")) + _("it really is a {name}.", name=class_label(class_names[true_index])))
        st.plotly_chart(ranked_figure(prediction, class_names), key=key, config={"displayModeBar": False})
    for text in picture.notes:
        st.caption(text)
    for text in warnings:
        st.warning(text, icon=":material/help:")


def _thumbnail(pixels: np.ndarray) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(for_display(pixels, 56)).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def answers_table(pictures: Sequence[PreparedImage], predictions: Sequence[Prediction]) -> pd.DataFrame:
    """One row per picture: name, predicted class, confidence (0..1), next best, unsure."""
    return pd.DataFrame({
        N_("picture"): [p.name for p in pictures],
        N_("predicted"): [class_label(r.best[1]) for r in predictions],
        N_("confidence"): [round(r.best[2], 4) for r in predictions],
        N_("next best"): [f"{class_label(r.ranked[1][1])} ({percent(r.ranked[1][2])})" if len(r.ranked) > 1 else "–"
                          for r in predictions],
        N_("unsure"): [r.unsure for r in predictions],
    })


def many_answers(pictures: Sequence[PreparedImage], predictions: Sequence[Prediction]) -> pd.DataFrame:
    """A sortable table with thumbnails, and the CSV of it (without thumbnails) to download."""
    table = answers_table(pictures, predictions)
    shown = table.assign(thumbnail=[_thumbnail(p.pixels) for p in pictures])
    shown = shown[["thumbnail"] + list(table.columns)]
    st.dataframe(shown, key="try_table", hide_index=True, width="stretch", column_config=column_labels(shown.columns, {
        "thumbnail": st.column_config.ImageColumn(N_("as the model sees it"), width="small"),
        "confidence": st.column_config.ProgressColumn("confidence", min_value=0.0, max_value=1.0, format="percent",
                                                      help=N_("The probability of its answer. Click a header to "
                                                              "sort.")),
        "unsure": st.column_config.CheckboxColumn("unsure", help=N_("Its best guess got under 50%.")),
    }))
    st.download_button(_("Download the answers (CSV)"), table.to_csv(index=False).encode("utf-8"),
                       file_name="predictions.csv", mime="text/csv", key="try_csv", icon=":material/download:")
    return table
