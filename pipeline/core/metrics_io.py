"""Metrics and plot data in the forms DVC reads: a JSON of numbers, CSV tables with a header."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from pipeline.core.atomic import write_text


def write_json(path: str | Path, values: dict) -> None:
    write_text(path, json.dumps(values, indent=2, sort_keys=True) + "\n")


def write_csv(path: str | Path, columns: list[str], rows: list[dict]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (round(v, 6) if isinstance(v, float) else v) for k, v in row.items()})
    write_text(path, buffer.getvalue())
