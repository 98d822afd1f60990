"""Read ``submissions/history.csv``, the ledger of Kaggle submissions, for the score-history plot.

The ledger is written by the Kaggle commands; this module only reads the columns the report
shows, so columns added later do not break it. Scores may be empty (a submission still being
scored, or one that failed); such rows are kept, with ``None`` for the missing score.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import PipelineError

REQUIRED = ("submitted_at", "status", "public_score", "validation_accuracy")
OPTIONAL = ("ref", "message", "private_score", "git_commit")


@dataclass(frozen=True)
class Submission:
    submitted_at: str
    status: str
    public_score: float | None
    private_score: float | None
    validation_accuracy: float | None
    ref: str = ""
    message: str = ""
    git_commit: str = ""


def read_history(path: str | Path) -> list[Submission] | None:
    """The ledger's rows in file order, or None when the file does not exist (nothing submitted)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise PipelineError(f"{path}: not UTF-8 text; expected the submission ledger CSV") from None
    if not text.strip():
        return []
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise PipelineError(f"{path}, line 1: missing column(s) {', '.join(missing)}; "
                            f"the ledger needs {', '.join(REQUIRED)}, found {', '.join(header)}")
    reader.fieldnames = header
    rows = []
    for line, row in enumerate(reader, start=2):
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        get = lambda name: (row.get(name) or "").strip()  # noqa: E731
        rows.append(Submission(
            submitted_at=get("submitted_at"), status=get("status"),
            public_score=_score(get("public_score"), path, line, "public_score"),
            private_score=_score(get("private_score"), path, line, "private_score"),
            validation_accuracy=_score(get("validation_accuracy"), path, line, "validation_accuracy"),
            ref=get("ref"), message=get("message"), git_commit=get("git_commit")))
    return rows


def _score(cell: str, path: Path, line: int, column: str) -> float | None:
    if not cell:
        return None
    try:
        value = float(cell)
    except ValueError:
        raise PipelineError(f"{path}, line {line}, column {column}: expected a number or an empty cell, "
                            f"found {cell!r}") from None
    if not math.isfinite(value):
        raise PipelineError(f"{path}, line {line}, column {column}: expected a finite number, found {cell!r}")
    return value
