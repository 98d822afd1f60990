"""Check a competition zip before it is accepted, and read its members.

A zip is accepted only if it is a readable zip archive, holds the three competition files at
its top level, every member passes its CRC check, and no member path could escape the folder
it would be extracted into.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

from pipeline.core.errors import PipelineError

REQUIRED_MEMBERS = ("train.csv", "test.csv", "sample_submission.csv")


def _unsafe(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or (len(name) > 1 and name[1] == ":")


def check_competition_zip(path: str | Path) -> None:
    """Raise PipelineError naming the file and the problem unless ``path`` is a sound competition zip."""
    path = Path(path)
    if not path.is_file():
        raise PipelineError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise PipelineError(f"{path}: the file is empty, expected the competition zip")
    if not zipfile.is_zipfile(path):
        raise PipelineError(f"{path}: not a zip archive (truncated download, or a different file?)")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            unsafe = [n for n in names if _unsafe(n)]
            if unsafe:
                raise PipelineError(f"{path}: member {unsafe[0]!r} has a path that escapes the target folder; refusing this zip")
            missing = [m for m in REQUIRED_MEMBERS if m not in names]
            if missing:
                found = ", ".join(names[:6]) or "nothing"
                raise PipelineError(f"{path}: missing {', '.join(missing)} (expected {', '.join(REQUIRED_MEMBERS)}; found {found})")
            bad = archive.testzip()
            if bad is not None:
                raise PipelineError(f"{path}: member {bad} is corrupt (CRC check failed); download it again")
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise PipelineError(f"{path}: damaged zip archive ({exc}); download it again") from None


def read_member(path: str | Path, member: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(member)
