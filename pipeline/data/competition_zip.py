"""Check a competition zip before it is accepted, and read its members.

A zip is accepted only if it is a readable zip archive, holds each of the three competition
files once (at its top level, or in one subfolder such as ``digit-recognizer/``), every member
is unencrypted, in a compression Python reads, and passes its CRC check, and no member path
could escape the folder it would be extracted into. Anything else is refused with one line
naming the zip and the member: never a traceback, and never more than the size limits read.
"""

from __future__ import annotations

import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from pipeline.core.env_settings import positive_number
from pipeline.core.errors import PipelineError
from pipeline.core.zip_files import write_zip

REQUIRED_MEMBERS = ("train.csv", "test.csv", "sample_submission.csv")

# The competition's train.csv is ~73 MB (42,000 rows) and test.csv ~49 MB (28,000 rows); the default
# limit leaves room for ten times the competition's rows. A zip bomb stops at the limit, not at the end.
MAX_MEMBER_MB_DEFAULT = 1024
MAX_MEMBER_MB_ENV = "DIGIT_PIPELINE_MAX_MEMBER_MB"
# The competition's members compress about 8:1; a bomb of repeated rows compresses hundreds to one.
MAX_RATIO = 100
RATIO_CHECKED_ABOVE = 1 << 20
CHUNK = 1 << 20
COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)


def max_member_bytes() -> int:
    """The most bytes one member may inflate to: DIGIT_PIPELINE_MAX_MEMBER_MB megabytes, else 1024."""
    return positive_number(MAX_MEMBER_MB_ENV, MAX_MEMBER_MB_DEFAULT, kind=int, unit="megabytes") << 20


def _too_big(path: Path, name: str, found: str, limit: int) -> PipelineError:
    return PipelineError(
        f"{path}: member {name} {found}, past the limit of {limit >> 20} MB per member (the competition's "
        f"train.csv is ~73 MB with 42,000 rows, test.csv ~49 MB with 28,000 rows); if this file is really "
        f"yours, raise the limit with {MAX_MEMBER_MB_ENV}=<megabytes>")


def _check_sizes(path: Path, info: zipfile.ZipInfo, limit: int) -> None:
    if info.file_size > limit:
        raise _too_big(path, info.filename, f"declares {info.file_size:,} bytes uncompressed", limit)
    if info.file_size > RATIO_CHECKED_ABOVE and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        ratio = info.file_size / max(info.compress_size, 1)
        raise PipelineError(
            f"{path}: member {info.filename} inflates {ratio:.0f}:1 ({info.compress_size:,} -> {info.file_size:,} "
            f"bytes), past the limit of {MAX_RATIO}:1 (the competition's files compress about 8:1); "
            f"this looks like a zip bomb, refusing it")


def _inflate(archive: zipfile.ZipFile, path: Path, info: zipfile.ZipInfo, limit: int) -> Iterator[bytes]:
    """One member's bytes in pieces of CHUNK as they inflate, stopping past ``limit`` whatever its header
    declared; the CRC is checked at the end."""
    total = 0
    try:
        with archive.open(info) as handle:
            while chunk := handle.read(CHUNK):
                total += len(chunk)
                if total > limit:
                    raise _too_big(path, info.filename, f"inflates past {limit:,} bytes (more than its header declares)", limit)
                yield chunk
    except zipfile.BadZipFile as exc:
        if "CRC" in str(exc):
            raise PipelineError(f"{path}: member {info.filename} is corrupt (CRC check failed); download it again") from None
        raise
    except (zlib.error, EOFError) as exc:  # a damaged deflate stream, or one cut short
        raise PipelineError(f"{path}: member {info.filename} is corrupt ({exc}); download it again") from None


def _unsafe(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or (len(name) > 1 and name[1] == ":")


def _locate(path: Path, archive: zipfile.ZipFile,
            names: tuple[str, ...] = REQUIRED_MEMBERS) -> dict[str, zipfile.ZipInfo]:
    """The member of each of ``names``: the one file of that name, at the top level or in a subfolder."""
    infos = archive.infolist()
    unsafe = [i.filename for i in infos if _unsafe(i.filename)]
    if unsafe:
        raise PipelineError(f"{path}: member {unsafe[0]!r} has a path that escapes the target folder; refusing this zip")
    repeated = [name for name, n in Counter(i.filename for i in infos).items() if n > 1]
    if repeated:
        raise PipelineError(f"{path}: member {repeated[0]} appears {Counter(i.filename for i in infos)[repeated[0]]} "
                            f"times in the zip; refusing it rather than guess which one is meant")
    found, missing = {}, []
    for name in names:
        files = [i for i in infos if not i.is_dir() and PurePosixPath(i.filename).name == name]
        if len(files) > 1:
            raise PipelineError(f"{path}: {name} is in the zip {len(files)} times ({', '.join(i.filename for i in files)}); "
                                f"keep one, or point fetch.source at the folder that holds the right one")
        if files:
            found[name] = files[0]
            continue
        folders = [i.filename for i in infos if i.is_dir() and PurePosixPath(i.filename).name == name]
        if folders:
            raise PipelineError(f"{path}: member {folders[0]} is a folder, expected the file {name}")
        missing.append(name)
    if missing:
        zips = [i.filename for i in infos if i.filename.lower().endswith(".zip")]
        if zips:
            raise PipelineError(f"{path}: missing {', '.join(missing)}, but it holds {', '.join(zips[:3])}: a zip inside "
                                f"the zip; unpack that too and point fetch.source at the folder holding "
                                f"{', '.join(REQUIRED_MEMBERS)}")
        found_names = ", ".join(i.filename for i in infos[:6]) or "nothing"
        raise PipelineError(f"{path}: missing {', '.join(missing)} (expected {', '.join(REQUIRED_MEMBERS)}; found {found_names})")
    return found


def _readable(path: Path, info: zipfile.ZipInfo) -> None:
    if info.flag_bits & 0x1:
        raise PipelineError(f"{path}: member {info.filename} is encrypted (the zip has a password); unpack it "
                            f"yourself and point fetch.source at the folder")
    if info.compress_type not in COMPRESSIONS:
        raise PipelineError(f"{path}: member {info.filename} uses compression method {info.compress_type}, which "
                            f"Python's zipfile cannot read; re-zip it with ordinary deflate, or unpack it and point "
                            f"fetch.source at the folder")


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
            _locate(path, archive)
            limit = max_member_bytes()
            for info in archive.infolist():
                _readable(path, info)
                _check_sizes(path, info, limit)
            for info in archive.infolist():
                for _ in _inflate(archive, path, info, limit):
                    pass
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as exc:
        raise PipelineError(f"{path}: damaged zip archive ({exc}); download it again") from None


def zip_folder(folder: str | Path, dest: str | Path) -> None:
    """Pack the competition's three files from ``folder`` (a Kaggle notebook's read-only
    ``/kaggle/input/digit-recognizer``, or one the user unpacked) into a reproducible zip at ``dest``,
    under the same size limits as a zip's members; ``folder`` is only read."""
    folder = Path(folder)
    missing = [m for m in REQUIRED_MEMBERS if not (folder / m).is_file()]
    if missing:
        found = ", ".join(sorted(p.name for p in folder.iterdir())[:6]) or "nothing"
        raise PipelineError(f"{folder}: missing {', '.join(missing)} (expected {', '.join(REQUIRED_MEMBERS)}; "
                            f"found {found})")
    limit = max_member_bytes()
    members = {}
    for name in REQUIRED_MEMBERS:
        with open(folder / name, "rb") as handle:
            data = handle.read(limit + 1)  # bounded whatever the file's size says
        if len(data) > limit:
            raise _too_big(folder, name, f"is over {limit:,} bytes", limit)
        members[name] = data
    write_zip(dest, members)


@contextmanager
def open_member(path: str | Path, member: str) -> Iterator[tuple[int, Iterator[bytes]]]:
    """The size ``member`` declares and its bytes in pieces as they inflate, under the same size limits
    as the check: a reader holds one piece at a time, not the whole file. ``member`` is one of
    REQUIRED_MEMBERS, found where ``check_competition_zip`` finds it (perhaps in a subfolder)."""
    path = Path(path)
    limit = max_member_bytes()
    with zipfile.ZipFile(path) as archive:
        info = _locate(path, archive, (member,))[member]
        _readable(path, info)
        _check_sizes(path, info, limit)
        yield info.file_size, _inflate(archive, path, info, limit)


def read_member(path: str | Path, member: str) -> bytes:
    """The bytes of ``member``, read under the same size limits as the check."""
    with open_member(path, member) as (_, pieces):
        return b"".join(pieces)
