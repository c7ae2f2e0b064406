"""The confusion matrix of a run as counts and as a picture (PNG) for people opening an export.

The picture's size is bounded: with many classes (a run may have up to
:data:`~cnn_core.class_names.MAX_CLASSES`) only the :data:`MAX_DRAWN_CLASSES` classes most often
mixed up are drawn.

Example:
    >>> import numpy as np
    >>> confusion_counts(np.array([[0.9, 0.1], [0.8, 0.2]]), np.array([0, 1]), 2).tolist()
    [[1, 0], [1, 0]]
"""

from __future__ import annotations

import io

import numpy as np

from cnn_core.i18n import gettext

#: Most classes drawn in a confusion picture (28 px a class at least).
MAX_DRAWN_CLASSES = 30


def confusion_counts(probs, y_true, n_classes: int) -> np.ndarray:
    """Confusion matrix (rows: true class, columns: predicted class) as int64 counts."""
    from sklearn.metrics import confusion_matrix

    probs = np.asarray(probs)
    y_pred = np.argmax(probs, axis=1) if len(probs) else np.zeros(0, dtype=np.int64)
    y_true = np.asarray(y_true, dtype=np.int64)
    if not len(y_true):
        return np.zeros((n_classes, n_classes), dtype=np.int64)
    return confusion_matrix(y_true, y_pred, labels=list(range(n_classes))).astype(np.int64)


def most_confused_classes(confusion, k: int) -> list[int]:
    """The ``k`` classes (sorted by number) most involved in mix-ups: wrong answers given to their
    images plus wrong answers naming them; ties broken by class number."""
    confusion = np.asarray(confusion, dtype=np.int64)
    off = confusion.sum(axis=1) + confusion.sum(axis=0) - 2 * np.diag(confusion)
    order = np.lexsort((np.arange(len(off)), -off))[:k]
    return sorted(int(i) for i in order)


def render_confusion_png(confusion, class_names: list[str], title: str = "") -> bytes:
    """A labelled confusion-matrix picture (PNG bytes) drawn with Pillow.

    Rows are true classes, columns predicted classes; each cell shows its count and is shaded
    by its share of the row (blue on the diagonal, red elsewhere). With more than
    :data:`MAX_DRAWN_CLASSES` classes only the most-confused ones are drawn (the subtitle says so),
    so the picture's size is bounded whatever the class count.
    """
    from PIL import Image, ImageDraw

    from cnn_core.i18n_class_names import class_label
    from cnn_core.i18n_font import picture_font

    confusion = np.asarray(confusion, dtype=np.int64)
    class_names = [class_label(c) for c in class_names]
    note = ""
    if confusion.shape[0] > MAX_DRAWN_CLASSES:
        keep = most_confused_classes(confusion, MAX_DRAWN_CLASSES)
        note = gettext("the {count} most-confused of {total:,} classes", count=len(keep), total=confusion.shape[0])
        confusion = confusion[np.ix_(keep, keep)]
        class_names = [class_names[i] for i in keep]
    n = confusion.shape[0]
    cell = max(28, min(64, 640 // max(n, 1)))
    font = picture_font(max(9, min(14, cell // 3)))  # with Hangul when a CJK font is installed
    labels = [name if len(name) <= 14 else name[:13] + "…" for name in class_names]
    label_w = max((int(font.getlength(s)) for s in labels), default=10) + 12
    top = 48 + label_w
    left = label_w + 28
    title = title or gettext("Confusion matrix")
    subtitle = gettext("rows: true class · columns: predicted class") + (f" · {note}" if note else "")
    text_w = max(int(font.getlength(title)), int(font.getlength(subtitle))) + 16
    width, height = max(left + n * cell + 16, text_w), top + n * cell + 16
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((8, 6), title, fill="black", font=font)
    draw.text((8, 26), subtitle, fill="dimgray", font=font)
    rows = confusion.sum(axis=1, keepdims=True).clip(min=1)
    share = confusion / rows
    for i in range(n):
        y = top + i * cell
        draw.text((left - 6, y + cell / 2), labels[i], fill="black", font=font, anchor="rm")
        for j in range(n):
            x = left + j * cell
            v = float(share[i, j])
            if i == j:
                color = (int(255 - 200 * v), int(255 - 140 * v), 255)
            else:
                color = (255, int(255 - 200 * v), int(255 - 200 * v))
            draw.rectangle([x, y, x + cell - 1, y + cell - 1], fill=color, outline=(210, 210, 210))
            text_color = "white" if v > 0.6 else "black"
            draw.text((x + cell / 2, y + cell / 2), str(int(confusion[i, j])), fill=text_color,
                      font=font, anchor="mm")
    # column labels, written vertically above the grid
    for j in range(n):
        label = Image.new("RGBA", (label_w, cell), (255, 255, 255, 0))
        ImageDraw.Draw(label).text((4, cell / 2), labels[j], fill="black", font=font, anchor="lm")
        rotated = label.rotate(90, expand=True)
        image.paste(rotated, (left + j * cell, top - label_w), rotated)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()



__all__ = ["MAX_DRAWN_CLASSES", "confusion_counts", "most_confused_classes", "render_confusion_png"]
