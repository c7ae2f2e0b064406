"""The figure builders behind the data set and model builder pages (no Streamlit needed)."""

from __future__ import annotations

import numpy as np

from cnn_core.image_stats import pixel_histogram
from components.dataset_charts import class_counts_figure, pixel_histogram_figure
from components.model_diagram import diagram_boxes, explain_layer, model_diagram_figure, parse_shape

ROWS = [
    {"name": "image", "type": "InputLayer", "output_shape": "(28, 28, 1)", "params": 0},
    {"name": "block1_conv1", "type": "Conv2D", "output_shape": "(28, 28, 32)", "params": 320},
    {"name": "block1_pool", "type": "MaxPooling2D", "output_shape": "(14, 14, 32)", "params": 0},
    {"name": "flatten", "type": "Flatten", "output_shape": "(6272,)", "params": 0},
    {"name": "output", "type": "Dense", "output_shape": "(10,)", "params": 62730},
]


def test_class_counts_figure_has_one_bar_group_per_split():
    fig = class_counts_figure({"train": {"cat": 5, "dog": 7}, "test": {"cat": 1, "dog": 2}})
    assert [trace.name for trace in fig.data] == ["train", "test"]
    assert list(fig.data[0].x) == ["cat", "dog"] and list(fig.data[1].y) == [1, 2]


def test_pixel_histogram_figure_has_one_line_per_channel_as_shares():
    images = np.random.default_rng(0).integers(0, 256, (20, 8, 8, 3), dtype=np.uint8)
    fig = pixel_histogram_figure(pixel_histogram(images, bins=16))
    assert [trace.name for trace in fig.data] == ["red", "green", "blue"]
    assert all(abs(sum(trace.y) - 1) < 1e-9 for trace in fig.data)


def test_diagram_boxes_follow_channels_and_image_size():
    assert parse_shape("(None, 28, 28, 32)") == (28, 28, 32) and parse_shape((None, 10)) == (10,)
    boxes = diagram_boxes(ROWS, input_shape=(28, 28, 1))
    assert [b["type"] for b in boxes] == [r["type"] for r in ROWS]  # no second input box
    width = {b["type"]: b["x1"] - b["x0"] for b in boxes}
    height = {b["type"]: b["y1"] - b["y0"] for b in boxes}
    assert width["Conv2D"] > width["InputLayer"]  # more channels: wider
    assert height["Conv2D"] > height["MaxPooling2D"]  # smaller image: lower
    assert all(lower["y1"] < upper["y0"] for upper, lower in zip(boxes, boxes[1:]))  # top to bottom


def test_model_diagram_figure_labels_every_layer_and_explains_it():
    fig = model_diagram_figure(ROWS)
    labels = next(trace for trace in fig.data if trace.mode == "text").text
    assert len(labels) == len(ROWS) and labels[1].startswith("Conv2D") and "28×28×32" in labels[1]
    assert len(fig.layout.shapes) == len(ROWS)
    assert "filters" in explain_layer("Conv2D") and "score per class" in explain_layer("Dense", is_last=True)
    assert model_diagram_figure([]).data == ()


def test_a_confusion_figure_of_many_classes_draws_only_the_most_confused():
    from cnn_core.confusion_picture import MAX_DRAWN_CLASSES
    from components.run_charts import confusion_figure

    counts = np.eye(1000, dtype=np.int64) * 5
    counts[7, 900] = counts[900, 7] = 40      # the one real mix-up
    names = [f"class {i}" for i in range(1000)]
    fig = confusion_figure(counts, names, selected=(999, 999))
    drawn = list(fig.data[0].y)
    assert len(drawn) == MAX_DRAWN_CLASSES + 1          # + the selected class
    assert {"class 7", "class 900", "class 999"} <= set(drawn)
    assert [7, 900] in [list(c) for c in fig.data[1].customdata]   # clicks give real class numbers
    assert "most-confused of 1,000 classes" in fig.layout.title.text


def test_a_confusion_matrix_writes_its_counts_at_a_readable_size_laptop_and_projector():
    from components.chart_look import CELL_TEXT_SIZE, PROJECTOR, apply_look
    from components.run_charts import confusion_figure

    counts = np.array([[8, 2], [1, 9]])
    laptop = confusion_figure(counts, ["cat", "dog"])   # outside presentation mode: the laptop look
    heatmap = next(t for t in laptop.data if t.type == "heatmap")
    assert heatmap.texttemplate and heatmap.textfont.size == CELL_TEXT_SIZE >= 12
    projected = apply_look(confusion_figure(counts, ["cat", "dog"]), PROJECTOR)
    assert next(t for t in projected.data if t.type == "heatmap").textfont.size == PROJECTOR.font_size
