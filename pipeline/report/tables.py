"""Read the plot data the train stage writes (CSV with a header, JSON of numbers)."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from pipeline.core.errors import PipelineError
from pipeline.core.text_file import read_text


def read_numeric_csv(path: str | Path, columns: tuple[str, ...], integer: bool = False) -> dict[str, np.ndarray]:
    """The named ``columns`` of a CSV file as float (or int) arrays; other columns are ignored.

    Raises PipelineError naming the file, the line and the column of a missing or bad value.
    """
    path = Path(path)
    reader = csv.reader(io.StringIO(read_text(path, "is this really a CSV file? rerun: dvc repro -f train",
                                              missing="run the stage that makes it (dvc repro)")))
    header = next(reader, None)
    if header is None:
        raise PipelineError(f"{path} is empty: expected a header with {', '.join(columns)}")
    header = [name.strip() for name in header]
    missing = [c for c in columns if c not in header]
    if missing:
        raise PipelineError(f"{path}, line 1: missing column(s) {', '.join(missing)}; "
                            f"expected {', '.join(columns)}, found {', '.join(header)}")
    where = [header.index(c) for c in columns]
    values: list[list[float]] = [[] for _ in columns]
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        for out, name, i in zip(values, columns, where):
            cell = row[i].strip() if i < len(row) else ""
            out.append(_number(cell, path, line, name, integer))
    dtype = np.int64 if integer else np.float64
    return {name: np.asarray(out, dtype=dtype) for name, out in zip(columns, values)}


def _number(cell: str, path: Path, line: int, column: str, integer: bool) -> float:
    what = "an integer" if integer else "a number"
    try:
        value = int(cell) if integer else float(cell)
    except ValueError:
        found = "a blank cell" if not cell else repr(cell)
        raise PipelineError(f"{path}, line {line}, column {column}: expected {what}, found {found}") from None
    if not integer and not math.isfinite(value):
        raise PipelineError(f"{path}, line {line}, column {column}: expected a finite number, found {cell!r}")
    return value
