"""Metrics and plot data in the forms DVC reads: a JSON of numbers, CSV tables with a header.

Also the one reader of the JSON objects the stages write (metrics, ``data/raw/source.json``)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from pipeline.core.atomic import write_text
from pipeline.core.errors import PipelineError
from pipeline.core.text_file import read_text


def write_json(path: str | Path, values: dict) -> None:
    write_text(path, json.dumps(values, indent=2, sort_keys=True) + "\n")


def write_csv(path: str | Path, columns: list[str], rows: list[dict]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (round(v, 6) if isinstance(v, float) else v) for k, v in row.items()})
    write_text(path, buffer.getvalue())


def read_json_object(path: str | Path, remedy: str = "run the stage that makes it (dvc repro)") -> dict:
    """A JSON object of named values; a missing, unreadable or wrong file is one error naming it and
    ``remedy`` (what the user should run)."""
    path = Path(path)
    try:
        value = json.loads(read_text(path, remedy))
    except json.JSONDecodeError as exc:
        raise PipelineError(f"{path}: not valid JSON ({exc}); {remedy}") from None
    if not isinstance(value, dict):
        raise PipelineError(f"{path}: expected a JSON object of named values, found {type(value).__name__}; {remedy}")
    return value
