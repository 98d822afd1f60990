"""The ``scores`` table and the user's place on the leaderboard, as plain text (no I/O here)."""

from __future__ import annotations

from typing import Sequence

from pipeline.kaggle.api import LeaderboardEntry
from pipeline.submissions.ledger import Submission

MESSAGE_WIDTH = 48


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


def find_me(entries: Sequence[LeaderboardEntry], username: str, mine: Sequence[Submission]) -> LeaderboardEntry | None:
    """The user's leaderboard entry: the team named like the username, else the entry whose score and
    time are those of one of the user's own scored submissions (a team's name is often a display name)."""
    for entry in entries:
        if username and entry.team_name.casefold() == username.casefold():
            return entry
    own = {(round(s.public_score, 6), s.submitted_at[:19]) for s in mine if s.public_score is not None}
    for entry in entries:
        try:
            key = (round(float(entry.score), 6), entry.submission_date[:19])
        except ValueError:
            continue
        if key in own:
            return entry
    return None


def passed_me(entries: Sequence[LeaderboardEntry], mine: Sequence[Submission]) -> bool:
    """True once the (best-first) leaderboard read so far reaches scores below all of the user's."""
    best = max((s.public_score for s in mine if s.public_score is not None), default=None)
    if best is None or not entries:
        return best is None
    try:
        return float(entries[-1].score) < best
    except ValueError:
        return False


def position_line(me: LeaderboardEntry | None, entries: Sequence[LeaderboardEntry], whole: bool) -> str:
    if me is not None:
        of = f"of {len(entries)}" if whole else f"(among the first {len(entries)} entries read)"
        return f"leaderboard: #{me.rank} {of}, public score {me.score}, team {me.team_name!r}"
    if not entries:
        return "leaderboard: empty"
    where = "on the leaderboard" if whole else f"among the first {len(entries)} entries of the leaderboard"
    return f"leaderboard: you are not {where} (no scored submission yet, or your team name differs)"
