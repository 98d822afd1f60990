"""Write outputs so that a reader never sees a half-written file: temp file, fsync, rename.

A temporary file's name holds its writer's process id (``.model.npz.<pid>.<random>.tmp``), so
the next write of the same file removes the temporaries of writers that died mid-write (SIGKILL,
a power cut) and leaves those of live writers alone.
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator


@contextlib.contextmanager
def atomic_output(path: str | Path, mode: str = "wb", **open_kwargs) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on clean exit, rename it over ``path``.

    On any exception the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_orphaned_temporaries(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
        reason = f"{blocker} is a file, not a folder" if blocker else exc.strerror
        raise OSError(exc.errno, f"cannot write here ({reason})", str(path)) from exc
    try:
        with os.fdopen(fd, mode, **open_kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename is None:  # e.g. disk full: name the file we were writing
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
        raise


def remove_orphaned_temporaries(path: str | Path) -> None:
    """Delete ``path``'s temporary files whose writing process is gone (POSIX; elsewhere, none)."""
    if os.name != "posix":  # os.kill(pid, 0) would terminate the process on Windows
        return
    path = Path(path)
    prefix = f".{path.name}."
    for stale in path.parent.glob(f"{glob.escape(prefix)}*.tmp"):
        pid = stale.name[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            with contextlib.suppress(OSError):
                stale.unlink()


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` of this machine runs (POSIX). A killed process stays a zombie until its
    parent waits for it: it does nothing more, so a zombie (or a dead one, state X) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, as another user's
        return True
    try:  # /proc/PID/stat: the command name (field 2) is in parentheses and may hold spaces
        stat = Path(f"/proc/{pid}/stat").read_bytes().decode("ascii", "replace")
        return stat[stat.rindex(")") + 2:][:1] not in ("Z", "X")
    except (OSError, ValueError):
        return True


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_output(path, "wb") as handle:
        handle.write(data)


def write_text(path: str | Path, text: str) -> None:
    with atomic_output(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
