"""The Kaggle submission format (``ImageId,Label``, ImageId 1..N in test.csv order): write, read, check, score."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.core.atomic import write_text
from pipeline.core.errors import PipelineError

HEADER = ("ImageId", "Label")


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


def read_submission(path: str | Path, expected_rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    path = Path(path)
    if not path.is_file():
        raise PipelineError(f"{path}: no such file")
    return parse_submission(path.read_bytes(), str(path), expected_rows)


def parse_submission(data: bytes, name: str, expected_rows: int | None = None,
                     header: tuple[str, str] = HEADER, value_range: tuple[int, int] = (0, 9)
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Parse and check an ``ImageId,Label`` file. Returns (ids, labels) as int64 arrays.

    Checks: the exact header, integer cells, ids exactly 1..N in order (no gaps, no duplicates),
    labels within ``value_range``, and N == ``expected_rows`` when given.
    """
    if not data.strip():
        raise PipelineError(f"{name} is empty: expected a header '{','.join(header)}' and one row per test image")
    first_line = data.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace").strip()
    found_header = [c.strip() for c in first_line.split(",")]
    if found_header != list(header):
        raise PipelineError(f"{name}, line 1: expected the header '{','.join(header)}', found '{first_line}'")
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, index_col=False,
                            skip_blank_lines=False)
    except pd.errors.ParserError as exc:
        raise PipelineError(f"{name}: not a two-column CSV ({str(exc).split('C error: ')[-1].strip()})") from None
    if len(frame) == 0:
        raise PipelineError(f"{name} has a header but no rows")
    columns = []
    for column in header:
        cells = frame[column].str.strip()
        ok = cells.str.fullmatch(r"-?\d+")
        if not ok.all():
            row = int(np.flatnonzero(~ok.to_numpy())[0])
            value = frame[column].iloc[row]
            found = "a blank cell" if value.strip() == "" else repr(value)
            raise PipelineError(f"{name}, line {row + 2}, column {column}: expected an integer, found {found}")
        columns.append(cells.astype(np.int64).to_numpy())
    ids, labels = columns
    expected_ids = np.arange(1, len(ids) + 1)
    if not np.array_equal(ids, expected_ids):
        row = int(np.flatnonzero(ids != expected_ids)[0])
        unique, counts = np.unique(ids, return_counts=True)
        duplicated = unique[counts > 1]
        detail = f"; ImageId {int(duplicated[0])} appears {int(counts[counts > 1][0])} times" if duplicated.size else ""
        raise PipelineError(f"{name}, line {row + 2}, column {header[0]}: expected {row + 1} "
                            f"({header[0]} must run 1..N in test.csv order), found {int(ids[row])}{detail}")
    low, high = value_range
    bad = np.flatnonzero((labels < low) | (labels > high))
    if bad.size:
        row = int(bad[0])
        raise PipelineError(f"{name}, line {row + 2}, column {header[1]}: expected a digit {low}..{high}, found {int(labels[row])}")
    if expected_rows is not None and len(ids) != expected_rows:
        raise PipelineError(f"{name}: has {len(ids)} rows, expected {expected_rows} (one per row of test.csv)")
    return ids, labels


def accuracy(submission: str | Path, solution: str | Path) -> tuple[float, int]:
    """Fraction of a submission's labels that match an answer key with the same ImageIds."""
    solution = Path(solution)
    if not solution.is_file():
        raise PipelineError(f"{solution}: no such file")
    _, truth = parse_submission(solution.read_bytes(), str(solution))
    sub_path = Path(submission)
    if not sub_path.is_file():
        raise PipelineError(f"{sub_path}: no such file")
    _, predicted = parse_submission(sub_path.read_bytes(), str(sub_path))
    if len(predicted) != len(truth):
        raise PipelineError(f"{sub_path} has {len(predicted)} rows but {solution} has {len(truth)}: "
                            f"ImageIds do not match; was the submission made for this test.csv?")
    return float(np.mean(predicted == truth)), len(truth)
