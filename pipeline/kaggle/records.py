"""What Kaggle answers, as plain records: a submission, the submission quota, a leaderboard entry.

The client's objects carry enums, naive datetimes and scores as strings or None; these records
hold plain strings and numbers, so that nothing above this layer touches the client's types.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipeline.core.timestamps import iso_utc


@dataclass(frozen=True)
class KaggleSubmission:
    ref: int
    date: str  # ISO 8601 UTC, e.g. 2025-01-02T03:04:05Z ('' when Kaggle gives none)
    description: str
    file_name: str
    status: str  # pending | complete | error
    public_score: str  # '' until scored
    private_score: str
    error_description: str = ""
    team_name: str = ""  # the name the leaderboard shows (usually a display name, not the username)


@dataclass(frozen=True)
class Limits:
    num_today: int
    num_total: int
    num_allowed_now: int
    limited_by_total: bool


@dataclass(frozen=True)
class LeaderboardEntry:
    rank: int
    team_name: str
    score: str
    submission_date: str


def score_text(value) -> str:
    """A score as Kaggle wrote it, or '' when it is none (None, '', not a finite number)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    return str(value).strip() if math.isfinite(number) else ""


def submission_of(raw) -> KaggleSubmission:
    """The record of one submission object of the client (``ApiSubmission``)."""
    status = getattr(raw.status, "name", str(raw.status or "PENDING"))
    return KaggleSubmission(
        ref=int(raw.ref or 0), date=iso_utc(raw.date), description=(raw.description or "").strip(),
        file_name=raw.file_name or "", status=status.lower(), public_score=score_text(raw.public_score),
        private_score=score_text(raw.private_score), error_description=(raw.error_description or "").strip(),
        team_name=(getattr(raw, "team_name", None) or "").strip())


def limits_of(raw) -> Limits:
    """The record of the client's submission limits object."""
    return Limits(int(raw.num_today or 0), int(raw.num_total or 0), int(raw.num_allowed_now or 0),
                  bool(raw.limited_by_total))


def leaderboard_entry_of(raw, rank: int) -> LeaderboardEntry:
    """The record of one leaderboard row of the client, at ``rank`` (1: the top)."""
    return LeaderboardEntry(rank, (raw.team_name or "").strip(), score_text(raw.score), iso_utc(raw.submission_date))
