"""Byte-reproducible zip files: the same members give the same bytes, whenever they are written.

``zipfile`` stamps each member with the current time; a zip we write must not, or DVC sees a
changed output and two runs give different model bytes. Every zip the project writes goes
through ``member_info``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import IO

# Fixed timestamp for zips we write ourselves (the earliest a zip can hold).
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def member_info(name: str, compress_type: int) -> zipfile.ZipInfo:
    """A member header with the fixed timestamp and plain file permissions."""
    info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
    info.compress_type = compress_type
    info.external_attr = 0o644 << 16
    return info


def write_zip(path: str | Path | IO[bytes], members: dict[str, bytes]) -> None:
    """Write a deflated zip with fixed timestamps to ``path`` (a path or a file open for writing)."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(member_info(name, zipfile.ZIP_DEFLATED), data, compresslevel=6)
