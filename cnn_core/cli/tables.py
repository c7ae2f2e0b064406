"""What the terminal prints: aligned tables, epoch lines and values."""

from __future__ import annotations

import math
from typing import Any

from cnn_core.settings import format_text


def format_table(rows: list[list[Any]], header: list[str]) -> str:
    cells = [[str(c) for c in header]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_number(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def format_epoch_line(epoch: int, epochs: int, metrics: dict) -> str:
    parts = [f"epoch {epoch}/{epochs}"]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        if metrics.get(key) is not None:
            parts.append(f"{key} {format_number(metrics[key])}")
    if metrics.get("learning_rate") is not None:
        parts.append(f"lr {metrics['learning_rate']:.3g}")
    if metrics.get("seconds") is not None:
        parts.append(f"{metrics['seconds']:.1f}s")
    return "  ".join(parts)



def format_cell(value: Any, percent: bool = False) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if percent and isinstance(value, (int, float)):
        return f"{value:.1%}"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def format_frame(frame, percent_columns=("best_val_accuracy", "test_accuracy")) -> str:
    header = list(frame.columns)
    rows = []
    for record in frame.to_dict("records"):
        row = []
        for column in header:
            value = record[column]
            if column == "train_seconds" and isinstance(value, (int, float)) and math.isfinite(value):
                row.append(f"{value:.1f}s")
            else:
                row.append(format_cell(None if _is_nan(value) else value, percent=column in percent_columns))
        rows.append(row)
    return format_table(rows, header)


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def describe_values(values: dict) -> str:
    """``learning_rate=0.01, filters=16``."""
    return ", ".join(f"{k}={format_text(v)}" for k, v in values.items())
