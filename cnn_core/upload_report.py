"""What an upload did, kept beside the data set: ``.import_report.json`` in its folder.

:mod:`cnn_core.uploads` writes it after an import (pictures added per class, files skipped and
why, the folder layout found); the Data sets page reads it back to say what happened.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPORT_FILE = ".import_report.json"


@dataclass
class ImportReport:
    """What an import did: where the data set is, what was added and what was skipped."""

    path: Path
    name: str
    n_images: int
    class_counts: dict[str, int] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    layout: str = "one folder per class"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["path"] = str(self.path)
        d["skipped"] = [list(s) for s in self.skipped]
        return d



def write_report(root: Path, report: ImportReport) -> None:
    try:
        (root / REPORT_FILE).write_text(json.dumps(report.to_dict(), indent=1), encoding="utf-8")
    except OSError:
        pass


def read_import_report(path: Path | str) -> ImportReport | None:
    """The report saved by the import that created the data set at ``path`` (None if absent)."""
    try:
        d = json.loads((Path(path) / REPORT_FILE).read_text(encoding="utf-8"))
        return ImportReport(path=Path(path), name=d["name"], n_images=int(d["n_images"]),
                            class_counts=dict(d.get("class_counts", {})),
                            skipped=[tuple(s) for s in d.get("skipped", [])],
                            layout=d.get("layout", ""))
    except (OSError, ValueError, KeyError, TypeError):
        return None


__all__ = ["REPORT_FILE", "ImportReport", "read_import_report", "write_report"]
