"""``submissions/history.csv``: one row per Kaggle submission ref, never lost, never duplicated.

Kaggle is the source of truth for a submission's time, message, status and scores; the file
hash, git commit, params digest and validation accuracy are known only here, so they are kept
once known. Every change is a read-merge-write under an exclusive lock (``filelock`` on
``history.csv.lock`` beside it: an OS lock on POSIX and on Windows, released when a process dies,
even by SIGKILL),
written to a temporary file and renamed over the ledger, so concurrent ``submit``/``scores``
runs and crashes can neither drop nor half-write rows. ``read_history`` is the one reader for
everything that shows the ledger (``scores``, ``submit``, the report), so all of them refuse the
same damage and merge rows that share a ref the same way.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator

from filelock import FileLock, Timeout

from pipeline.core.atomic import write_text
from pipeline.core.env_settings import positive_number
from pipeline.core.errors import PipelineError
from pipeline.core.text_file import read_text

HEADER = ("submitted_at", "ref", "message", "status", "public_score", "private_score", "file_sha256",
          "git_commit", "params_digest", "validation_accuracy")
KAGGLE_FIELDS = ("submitted_at", "message", "status", "public_score", "private_score")
LOCAL_FIELDS = ("file_sha256", "git_commit", "params_digest", "validation_accuracy")
NUMERIC_FIELDS = ("public_score", "private_score", "validation_accuracy")
CONFLICT_MARKERS = ("<<<<<<<", "=======", ">>>>>>>")


@dataclass(frozen=True)
class Submission:
    """One row of the ledger: a Kaggle submission, as Kaggle scored it and as this project made it.

    Scores and the validation accuracy are numbers, None where none is known (an empty cell).
    """
    submitted_at: str  # ISO 8601 UTC, as Kaggle gives it
    ref: str
    message: str = ""
    status: str = ""  # pending | complete | error
    public_score: float | None = None
    private_score: float | None = None
    file_sha256: str = ""
    git_commit: str = ""
    params_digest: str = ""
    validation_accuracy: float | None = None

    def sort_key(self) -> tuple:
        return (self.submitted_at, int(self.ref) if self.ref.isdigit() else 0, self.ref)


assert tuple(f.name for f in fields(Submission)) == HEADER


@dataclass(frozen=True)
class Changes:
    added: int = 0
    updated: int = 0


def _known(value) -> bool:
    return value is not None and value != ""


# -- reading and writing -----------------------------------------------------------------------

def parse(text: str, name: str) -> list[Submission]:
    """The ledger's rows, checked; rows that share a ref (e.g. after a git merge) are combined."""
    text = text.removeprefix("\ufeff")  # a byte-order mark, as some spreadsheet programs save
    if not text.strip():
        return []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(CONFLICT_MARKERS):
            raise PipelineError(f"{name}, line {number}: an unresolved git merge conflict ({line[:7]}); keep the rows "
                                f"of both sides, delete the marker lines, then run python -m pipeline scores")
    reader = csv.reader(io.StringIO(text))
    header = tuple(cell.strip() for cell in next(reader))
    if header != HEADER:
        raise PipelineError(f"{name}, line 1: expected the header '{','.join(HEADER)}', found '{','.join(header)}'; "
                            f"restore it with: git checkout -- {name}")
    by_ref: dict[str, Submission] = {}
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(HEADER):
            raise PipelineError(f"{name}, line {number}: expected {len(HEADER)} fields, found {len(cells)}; "
                                f"fix the row (a message with a comma must be in double quotes)")
        row = _row(cells, name, number)
        old = by_ref.get(row.ref)
        by_ref[row.ref] = row if old is None else replace(
            old, **{k: v for k, v in asdict(row).items() if _known(v)})  # the later row's known values win
    return sorted(by_ref.values(), key=Submission.sort_key)


def _row(cells: list[str], name: str, line: int) -> Submission:
    """The row of one CSV line's cells, checked: a positive ref, numbers (or empty cells) where numbers go."""
    values = dict(zip(HEADER, (" ".join(cell.split()) for cell in cells)))
    if not values["ref"].isdigit() or int(values["ref"]) <= 0:
        raise PipelineError(f"{name}, line {line}, column ref: expected a Kaggle submission number, "
                            f"found {values['ref']!r}")
    for column in NUMERIC_FIELDS:
        cell = values[column]
        try:
            number = float(cell) if cell else None
        except ValueError:
            number = math.nan
        if number is not None and not math.isfinite(number):
            raise PipelineError(f"{name}, line {line}, column {column}: expected a number or an empty cell, "
                                f"found {cell!r}")
        values[column] = number
    return Submission(**values)


def normalized(row: Submission) -> Submission:
    """Text cells stripped, and each on one line (a newline in a message would make the CSV hard to read)."""
    return replace(row, **{k: " ".join(v.split()) for k, v in asdict(row).items() if isinstance(v, str)})


def _cell(value) -> str:
    """A value as the ledger writes it: '' for None, a number in the shortest form that reads back exactly."""
    if value is None:
        return ""
    return repr(float(value)) if isinstance(value, (int, float)) else str(value)


def render(rows: Iterable[Submission]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(_cell(v) for v in asdict(normalized(row)).values())
    return out.getvalue()


def read(path: str | Path) -> list[Submission]:
    """The ledger's rows, oldest first ([] when there is no ledger file)."""
    path = Path(path)
    if not path.exists():
        return []
    return parse(read_text(path, f"restore it with: git checkout -- {path}"), str(path))


def read_history(path: str | Path) -> list[Submission] | None:
    """The ledger's rows, oldest first, or None when there is no ledger file (nothing submitted)."""
    path = Path(path)
    if not path.exists():
        return None
    return read(path)


# -- merging -----------------------------------------------------------------------------------

def _combine(old: Submission, new: Submission, kaggle_wins: bool) -> Submission:
    """``old`` updated by ``new``: Kaggle's fields from ``new`` when ``kaggle_wins`` (else only to fill
    blanks), local fields only to fill blanks (once known, a file hash or commit does not change)."""
    values = {}
    for name in KAGGLE_FIELDS:
        mine, theirs = getattr(old, name), getattr(new, name)
        # Kaggle's word on a score stands even when it is "none"; a blank time or message is no news.
        authoritative = kaggle_wins and (_known(theirs) or name in ("public_score", "private_score"))
        values[name] = theirs if authoritative or not _known(mine) else mine
    for name in LOCAL_FIELDS:
        values[name] = getattr(old, name) if _known(getattr(old, name)) else getattr(new, name)
    return replace(old, **values)


def merge(rows: list[Submission], updates: Iterable[Submission], from_kaggle: bool
          ) -> tuple[list[Submission], Changes]:
    """``rows`` with ``updates`` merged in by ref; rows absent from ``updates`` are kept as they are.

    ``from_kaggle``: the updates are Kaggle's answer, which wins for time, message, status and
    scores. Otherwise (a row written just after an upload) they only fill in what is missing.
    """
    by_ref = {row.ref: row for row in rows}
    added = updated = 0
    for update in updates:
        old = by_ref.get(update.ref)
        if old is None:
            by_ref[update.ref] = update
            added += 1
            continue
        new = _combine(old, update, kaggle_wins=from_kaggle)
        if new != old:
            by_ref[update.ref] = new
            updated += 1
    return sorted(by_ref.values(), key=Submission.sort_key), Changes(added, updated)


# -- locking -----------------------------------------------------------------------------------

def lock_timeout() -> float:
    """Seconds to wait for another process's lock: DIGIT_PIPELINE_LOCK_TIMEOUT, else 30."""
    return positive_number("DIGIT_PIPELINE_LOCK_TIMEOUT", 30.0, unit="seconds")


@contextlib.contextmanager
def locked(path: str | Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the ledger's lock (``<path>.lock``), waiting up to ``timeout`` seconds for another process."""
    path = Path(path)
    timeout = lock_timeout() if timeout is None else timeout
    lock_path = path.with_name(path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(lock_path, timeout=timeout, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        raise PipelineError(f"{path} is being updated by another process (submit or scores) that "
                            f"has held {lock_path} for over {timeout:g} s; let it finish, then rerun") from None
    try:
        yield
    finally:
        lock.release()


def update(path: str | Path, change: Callable[[list[Submission]], list[Submission]]) -> list[Submission]:
    """Under the lock: read the ledger, apply ``change``, write the result atomically; return it.

    Refuses (and writes nothing) if ``change`` would drop a ref that was in the ledger.
    """
    path = Path(path)
    with locked(path):
        before = read(path)
        after = sorted((normalized(e) for e in change(list(before))), key=Submission.sort_key)
        lost = {e.ref for e in before} - {e.ref for e in after}
        if lost:
            raise AssertionError(f"a ledger update would drop refs {sorted(lost)}")  # a bug, never user input
        text = render(after)
        if parse(text, str(path)) != after:  # also catches a ref twice, or a cell that is not a number
            raise AssertionError("the ledger text does not read back as written")  # a bug, never user input
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            write_text(path, text)
        return after


def upsert(path: str | Path, updates: Iterable[Submission], from_kaggle: bool) -> Changes:
    """Merge ``updates`` into the ledger at ``path`` (see ``merge``) and return what changed."""
    updates = list(updates)
    result: dict = {}

    def change(rows: list[Submission]) -> list[Submission]:
        merged, result["changes"] = merge(rows, updates, from_kaggle)
        return merged

    update(path, change)
    return result["changes"]
