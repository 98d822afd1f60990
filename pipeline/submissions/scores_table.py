"""The ``scores`` table and the user's place on the leaderboard, as plain text, and the ledger row of one of
Kaggle's answers (no I/O here)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterable, Sequence

from pipeline.kaggle.records import KaggleSubmission, LeaderboardEntry
from pipeline.submissions.ledger import Submission
from pipeline.submissions.provenance import Provenance

MESSAGE_WIDTH = 48
# Competitions whose leaderboard drops submissions older than this many days ("two months").
ROLLING_BOARD_DAYS = {"digit-recognizer": 60}


def ledger_row(sub: KaggleSubmission, sha256: str = "", origin: Provenance | None = None) -> Submission:
    """The ledger's row for Kaggle's answer about a submission, with the file's hash and provenance when known."""
    origin = origin or Provenance()
    number = lambda text: float(text) if text else None  # noqa: E731  (Kaggle's scores: finite or '', see records)
    return Submission(submitted_at=sub.date, ref=str(sub.ref), message=sub.description, status=sub.status,
                      public_score=number(sub.public_score), private_score=number(sub.private_score),
                      file_sha256=sha256, git_commit=origin.git_commit, params_digest=origin.params_digest,
                      validation_accuracy=number(origin.validation_accuracy))


def best_index(rows: Sequence[Submission]) -> int | None:
    """The row with the highest public score (the earliest of equals), or None when nothing is scored."""
    scored = [(row.public_score, -i) for i, row in enumerate(rows) if row.public_score is not None]
    return -max(scored)[1] if scored else None


def _cell(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_table(rows: Sequence[Submission]) -> str:
    """One line per submission, oldest first; the best public score marked with ``*``."""
    best = best_index(rows)
    header = ("submitted (UTC)", "ref", "status", "val acc", "public", "", "message")
    lines = [(row.submitted_at[:16].replace("T", " "), row.ref or "-", row.status or "-",
              _cell(row.validation_accuracy, 4), _cell(row.public_score, 5), "*" if i == best else "",
              _shorten(row.message)) for i, row in enumerate(rows)]
    widths = [max(len(r[c]) for r in [header, *lines]) for c in range(len(header))]
    text = ["  ".join(cell.ljust(width) for cell, width in zip(r, widths)).rstrip() for r in [header, *lines]]
    if best is not None:
        text.append(f"* best public score: {rows[best].public_score:.5f} (ref {rows[best].ref})")
    return "\n".join(text)


def _shorten(message: str) -> str:
    return message if len(message) <= MESSAGE_WIDTH else message[:MESSAGE_WIDTH - 3] + "..."


def find_me(entries: Sequence[LeaderboardEntry], team_names: Iterable[str]) -> LeaderboardEntry | None:
    """The user's leaderboard entry: the team named as on the user's own submissions.

    A team's name is usually a display name, not the username: Kaggle's list of the user's
    submissions gives it (``team_name``). Never guessed by score and time: another team can have
    the same score, and the board dates a team by its latest submission, not its best one.
    """
    names = {name.strip().casefold() for name in team_names if name and name.strip()}
    return next((entry for entry in entries if entry.team_name.strip().casefold() in names), None)


def off_board_since(competition: str, mine: Sequence[Submission], now: datetime) -> str | None:
    """The date of the user's last scored submission when the board has dropped them for age, else None.

    Digit Recognizer's board keeps only submissions of the last two months (ROLLING_BOARD_DAYS).
    """
    days = ROLLING_BOARD_DAYS.get(competition)
    dates = [s.submitted_at for s in mine if s.public_score is not None and s.submitted_at]
    if days is None or not dates:
        return None
    last = max(dates)
    try:
        when = datetime.fromisoformat(last.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return last[:10] if now - when > timedelta(days=days) else None


def passed_me(entries: Sequence[LeaderboardEntry], mine: Sequence[Submission]) -> bool:
    """True once the (best-first) leaderboard read so far reaches scores below all of the user's."""
    best = max((s.public_score for s in mine if s.public_score is not None), default=None)
    if best is None or not entries:
        return best is None
    try:
        return float(entries[-1].score) < best
    except ValueError:
        return False


def position_line(me: LeaderboardEntry | None, entries: Sequence[LeaderboardEntry], whole: bool,
                  dropped_since: str | None = None) -> str:
    """The line about the user's place; ``dropped_since``: see ``off_board_since``."""
    if me is not None:
        of = f"of {len(entries)}" if whole else f"(among the first {len(entries)} entries read)"
        return f"leaderboard: #{me.rank} {of}, public score {me.score}, team {me.team_name!r}"
    if dropped_since:
        return (f"leaderboard: you are not on the leaderboard: Digit Recognizer's board drops submissions older "
                f"than two months, and your last scored one is from {dropped_since}; submit again to be on it")
    if not entries:
        return "leaderboard: empty"
    where = "on the leaderboard" if whole else f"among the first {len(entries)} entries of the leaderboard"
    return f"leaderboard: you are not {where} (no scored submission yet, or your team name differs)"
