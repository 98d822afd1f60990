"""Check a download against the MD5 that the storage host announces, when it announces one."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from pipeline.kaggle.errors import KaggleError


def announced_md5(headers) -> str | None:
    """The base64 MD5 that the storage host announces for the bytes it sends, if it announces one.

    Google Cloud Storage sends ``x-goog-hash: crc32c=...,md5=...``. The hash is of the stored
    object, so it is ignored when the response is content-encoded: the bytes written are decoded.
    """
    encodings = (headers.get("Content-Encoding"), headers.get("x-goog-stored-content-encoding"))
    if any(e and e.strip().lower() != "identity" for e in encodings):
        return None
    for part in (headers.get("x-goog-hash") or "").split(","):
        name, _, value = part.strip().partition("=")
        if name.lower() == "md5" and value:
            return value
    return None


def check_md5(path: Path, expected: str) -> None:
    """Delete ``path`` and raise a transient KaggleError unless its MD5 (base64) is ``expected``."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    if base64.b64encode(digest.digest()).decode() != expected:
        path.unlink(missing_ok=True)
        raise KaggleError(f"the download of {path.name} was corrupt (its MD5 differs from the one the storage host "
                          f"announced in x-goog-hash); nothing was kept: rerun to download it again", transient=True)
