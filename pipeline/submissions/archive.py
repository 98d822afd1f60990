"""``submissions/archive/``: the exact bytes of every uploaded file, named by their sha256.

Beside each ``<sha256>.csv`` lies ``<sha256>.json``, what the file was made from (commit,
params digest, validation accuracy). The file goes to Kaggle as ``<stem>-<sha256[:12]>.csv``,
so that a submission found on Kaggle's list (one made by an interrupted ``submit``) can be
tied back to its archived file and provenance. Both are git-tracked: small text files that
are the ledger's evidence.
"""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.core import paths
from pipeline.core.atomic import write_bytes, write_text
from pipeline.submissions.provenance import Provenance

ARCHIVE_DIR = paths.SUBMISSIONS_DIR / "archive"
UPLOAD_NAME = re.compile(r"-([0-9a-f]{12})\.csv$")


def archived_file(sha256: str) -> Path:
    return ARCHIVE_DIR / f"{sha256}.csv"


def upload_name(path: Path, sha256: str) -> str:
    return f"{Path(path).stem}-{sha256[:12]}.csv"


def save(data: bytes, sha256: str, provenance: Provenance) -> bool:
    """Archive ``data`` and its provenance (kept as first recorded); True when the file is new here."""
    target = archived_file(sha256)
    created = not target.exists()
    if created or target.read_bytes() != data:  # an edited archive copy is put right
        write_bytes(target, data)
    sidecar = target.with_suffix(".json")
    if not sidecar.exists():
        write_text(sidecar, provenance.to_json())
    return created


def discard(sha256: str) -> None:
    """Remove a just-archived file that never reached Kaggle."""
    for path in (archived_file(sha256), archived_file(sha256).with_suffix(".json")):
        path.unlink(missing_ok=True)


def load(sha256: str) -> tuple[str, Provenance] | None:
    """(full sha256, provenance) of the archived file whose hash is or starts with ``sha256``."""
    matches = sorted(ARCHIVE_DIR.glob(f"{sha256}*.json")) if re.fullmatch(r"[0-9a-f]{12,64}", sha256) else []
    if len(matches) != 1:
        return None
    try:
        return matches[0].stem, Provenance.from_json(matches[0].read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return None


def for_upload_name(file_name: str) -> tuple[str, Provenance] | None:
    """What the archive knows about a file Kaggle lists under ``file_name``, if it was uploaded from here."""
    match = UPLOAD_NAME.search(file_name or "")
    return load(match[1]) if match else None
