"""The one written form of a moment in the project's records: ISO 8601 in UTC, to the second."""

from __future__ import annotations

from datetime import datetime, timezone

FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # e.g. 2025-01-02T03:04:05Z


def iso_utc(when: datetime | None) -> str:
    """``when`` as e.g. ``2025-01-02T03:04:05Z``; '' for None. A naive ``when`` is taken to be UTC already
    (as the kaggle client gives its dates); an aware one is converted to UTC."""
    if when is None:
        return ""
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
    return when.strftime(FORMAT)
