"""The Kaggle submission format (``ImageId,Label``, ImageId 1..N in test.csv order): write, read, check, score."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np

from pipeline.core.atomic import write_text
from pipeline.core.errors import PipelineError

HEADER = ("ImageId", "Label")
INTEGER = re.compile(r"-?\d+")  # Python ints: a 20-digit cell is out of range, never an overflow


def format_submission(labels: np.ndarray) -> str:
    """The submission text for predicted labels, in test.csv order."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"expected a non-empty 1-d array of labels, got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() > 9:
        raise ValueError("labels must be integers 0..9")
    ids = np.arange(1, labels.size + 1)
    body = "\n".join(f"{i},{int(label)}" for i, label in zip(ids.tolist(), labels.tolist()))
    return f"{HEADER[0]},{HEADER[1]}\n{body}\n"


def write_submission(path: str | Path, labels: np.ndarray) -> None:
    """Check the text parses back to the same labels, then write it atomically."""
    text = format_submission(labels)
    _, parsed = parse_submission(text.encode(), str(path), expected_rows=len(labels))
    if not np.array_equal(parsed, np.asarray(labels)):
        raise AssertionError("submission text does not round-trip")  # a bug, never user input
    write_text(path, text)


def read_submission(path: str | Path, expected_rows: int | None = None, **checks) -> tuple[np.ndarray, np.ndarray]:
    """Read and check an ``ImageId,Label`` file (see ``parse_submission``)."""
    path = Path(path)
    if not path.is_file():
        raise PipelineError(f"{path}: no such file")
    return parse_submission(path.read_bytes(), str(path), expected_rows, **checks)


def parse_submission(data: bytes, name: str, expected_rows: int | None = None,
                     header: tuple[str, str] = HEADER, value_range: tuple[int, int] = (0, 9)
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Parse and check an ``ImageId,Label`` file. Returns (ids, labels) as int64 arrays.

    Checks: the header (spaces around a name are allowed), exactly two integer cells a row, ids
    exactly 1..N in order (no gaps, no duplicates), labels within ``value_range``, and
    N == ``expected_rows`` when given. Every failure names the file, line and column.
    """
    if not data.strip():
        raise PipelineError(f"{name} is empty: expected a header '{','.join(header)}' and one row per test image")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise PipelineError(f"{name}, line {line}: not UTF-8 text; expected a CSV '{','.join(header)}'") from None
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise PipelineError(f"{name}: not a readable CSV ({exc})") from None
    found_header = [cell.strip() for cell in rows[0]]
    if found_header != list(header):
        raise PipelineError(f"{name}, line 1: expected the header '{','.join(header)}', found '{','.join(rows[0])}'")
    while len(rows) > 1 and not rows[-1]:  # blank lines at the end
        rows.pop()
    if len(rows) == 1:
        raise PipelineError(f"{name} has a header but no rows")
    low, high = value_range
    ids = np.empty(len(rows) - 1, dtype=np.int64)
    labels = np.empty(len(rows) - 1, dtype=np.int64)
    for index, cells in enumerate(rows[1:]):
        line = index + 2
        if len(cells) > len(header):
            raise PipelineError(f"{name}, line {line}: expected {len(header)} fields ({','.join(header)}), "
                                f"found {len(cells)}")
        cells = cells + [""] * (len(header) - len(cells))
        values = []
        for column, cell in zip(header, cells):
            value = cell.strip()
            if not INTEGER.fullmatch(value):
                found = "a blank cell" if not value else repr(cell)
                raise PipelineError(f"{name}, line {line}, column {column}: expected an integer, found {found}")
            values.append(int(value))
        image_id, label = values
        if image_id != index + 1:
            count = sum(1 for row in rows[1:] if row and INTEGER.fullmatch(row[0].strip())
                        and int(row[0]) == image_id)
            duplicate = f"; ImageId {image_id} appears {count} times" if count > 1 else ""
            raise PipelineError(f"{name}, line {line}, column {header[0]}: expected {index + 1} "
                                f"({header[0]} must run 1..N in test.csv order), found {image_id}{duplicate}")
        if not low <= label <= high:
            raise PipelineError(f"{name}, line {line}, column {header[1]}: expected a digit {low}..{high}, found {label}")
        ids[index], labels[index] = image_id, label
    if expected_rows is not None and len(ids) != expected_rows:
        found = len(ids)
        which = (_id_range(found + 1, expected_rows, "missing") if found < expected_rows
                 else _id_range(expected_rows + 1, found, "beyond the last test image"))
        raise PipelineError(f"{name}: has {found} rows, expected {expected_rows} (one per row of test.csv): {which}")
    return ids, labels


def _id_range(first: int, last: int, what: str) -> str:
    if first == last:
        return f"the row for ImageId {first} is {what}"
    return f"the rows for ImageId {first}..{last} ({last - first + 1:,}) are {what}"


def accuracy(submission: str | Path, solution: str | Path) -> tuple[float, int]:
    """Fraction of a submission's labels that match an answer key with the same ImageIds."""
    _, truth = read_submission(solution)
    _, predicted = read_submission(submission)
    if len(predicted) != len(truth):
        raise PipelineError(f"{submission} has {len(predicted)} rows but {solution} has {len(truth)}: "
                            f"ImageIds do not match; was the submission made for this test.csv?")
    return float(np.mean(predicted == truth)), len(truth)
