"""The study's journal file (Optuna's ``JournalFileBackend``), checked so that a crash never loses it.

Optuna's journal is one JSON record a line. A crash while a record is written (a killed machine, a
full disk) can leave a cut-off last line; Optuna skips it when it reads, but a record appended after
it makes the broken line no longer last, and from then on no one can read the study. So:

- before anything is appended (by every process, under the journal's lock), the journal's end is
  checked, and when a process opens the journal, all of it. Broken lines (cut off, not JSON, not
  UTF-8, empty) are removed after a copy of the journal as it was is kept beside it
  (``journal.log.damaged-<time>``), and one line says what was removed. Only lines no reader ever
  applied are removed: Optuna applies a record only once it reads a whole line, and stops at a
  broken one. A file with no record at all is refused, not emptied: it is not a journal.
- the lock (Optuna's lock file, ``journal.log.lock``) records its holder, ``host:pid:start``: one
  left by a killed process of this machine is removed at once, with one line saying so; one of
  another machine, or of a plain Optuna script, is waited for and, like Optuna, taken over after
  ``GRACE_SECONDS`` unchanged. Processes of ``tune`` take the lock one at a time (``flock`` on the
  journal's folder, which the kernel releases when a process dies), so two never take over the same
  stale lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable

from pipeline.core.errors import PipelineError
from pipeline.tuning import workers

GRACE_SECONDS = 30  # Optuna's: a lock file unchanged this long is taken over
SAY_AFTER_SECONDS = 2  # waiting longer than this for the lock: one line says for what
TAIL_BYTES = 1 << 16  # the end read before each append (a record is a few hundred bytes)


def say_to_stderr(text: str) -> None:
    print(f"tune: {text}", file=sys.stderr, flush=True)


def _is_record(line: bytes) -> bool:
    if not line.endswith(b"\n"):
        return False
    try:
        record = json.loads(line)
    except ValueError:  # JSONDecodeError, and UnicodeDecodeError (which Optuna's reader does not catch)
        return False
    return isinstance(record, dict) and "op_code" in record


def _describe(number: int, line: bytes) -> str:
    if not line.endswith(b"\n"):
        what = "cut off"
    elif not line.strip():
        what = "empty"
    else:
        what = "not a record"
    return f"line {number}: {len(line)} bytes, {what}"


class Journal:
    """The checks of one journal file; ``say`` prints a line (to stderr by default)."""

    def __init__(self, path: str | Path, say: Callable[[str], None] = say_to_stderr):
        self.path = Path(path)
        self.say = say

    def tail_is_sound(self) -> bool:
        """Whether the journal ends with a whole record (or is empty): cheap, before each append."""
        with open(self.path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size == 0:
                return True
            handle.seek(max(0, size - TAIL_BYTES))
            tail = handle.read()
        if not tail.endswith(b"\n"):
            return False
        start = tail.rfind(b"\n", 0, len(tail) - 1)
        if start < 0 and size > len(tail):
            return False  # a last line longer than TAIL_BYTES: not one of Optuna's records; look at all of it
        return _is_record(tail[start + 1:])

    def repair(self) -> None:
        """Remove the broken lines (after a copy of the journal as it was), or refuse in one line."""
        data = self.path.read_bytes()
        lines = data.splitlines(keepends=True)
        broken = [(i + 1, line) for i, line in enumerate(lines) if not _is_record(line)]
        if not broken:
            return
        if len(broken) == len(lines):
            raise PipelineError(f"{self.path} is not an Optuna journal (no line of it is a record); it was left "
                                f"as it is: name another file with --storage")
        backup = self.path.with_name(f"{self.path.name}.damaged-{dt.datetime.now():%Y%m%dT%H%M%S%f}")
        kept = b"".join(line for line in lines if _is_record(line))
        try:
            backup.write_bytes(data)
        except OSError as exc:
            with contextlib.suppress(OSError):
                backup.unlink()
            raise PipelineError(f"{self.path} holds broken lines ({_describe(*broken[0])}), and its backup "
                                f"{backup.name} could not be written beside it: {exc.strerror or exc}; nothing "
                                f"was changed or appended: free some space or make it writable, then run tune "
                                f"again") from None
        try:
            if all(number > len(lines) - len(broken) for number, _ in broken):  # all at the end: cut there
                os.truncate(self.path, len(kept))
            else:  # a record was appended after a broken line (by an older tune, or plain Optuna)
                temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
                try:
                    temporary.write_bytes(kept)
                    os.replace(temporary, self.path)
                finally:
                    with contextlib.suppress(FileNotFoundError):
                        temporary.unlink()
        except OSError as exc:
            raise PipelineError(f"{self.path} holds broken lines ({_describe(*broken[0])}), and could not be "
                                f"repaired: {exc.strerror or exc}; nothing was appended to it (its backup is "
                                f"{backup.name}): make it writable, then run tune again") from None
        shown = "; ".join(_describe(number, line) for number, line in broken[:3])
        more = f"; {len(broken) - 3} more" if len(broken) > 3 else ""
        self.say(f"{self.path}: removed {len(broken)} broken line(s) as a crash mid-write leaves them ({shown}{more}); "
                 f"no reader had applied them; the journal as it was is in {backup.name} beside it")


class JournalLock:
    """Optuna's journal lock (``JournalFileOpenLock``'s file, so plain Optuna scripts are excluded too),
    with its holder recorded, a dead holder's lock removed, and the journal checked once it is held.
    ``JournalFileBackend`` takes any object with ``acquire`` and ``release`` as its lock."""

    def __init__(self, journal: Journal):
        self.journal = journal
        self.lock_file = str(journal.path) + ".lock"  # optuna.storages.journal's LOCK_FILE_SUFFIX
        self._serial: int | None = None  # the folder's fd, flocked while held
        self._held = False  # the lock file is ours
        self.checked_all = False

    def acquire(self) -> bool:
        try:
            self._serial = os.open(self.journal.path.parent, os.O_RDONLY)
            fcntl.flock(self._serial, fcntl.LOCK_EX)
        except OSError as exc:
            self._unserialise()
            raise PipelineError(f"cannot lock the study journal {self.journal.path}: {exc.strerror or exc}") from None
        try:
            self._take()
            if not self.checked_all:
                self.journal.repair()
                self.checked_all = True
            elif not self.journal.tail_is_sound():
                self.journal.repair()
        except BaseException:
            self.release()
            raise
        return True

    def release(self) -> None:
        try:
            if self._held:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.lock_file)
        finally:
            self._held = False
            self._unserialise()

    def _unserialise(self) -> None:
        if self._serial is not None:
            with contextlib.suppress(OSError):
                os.close(self._serial)  # closing the fd releases the flock
            self._serial = None

    def _holder(self) -> str:
        try:
            with open(self.lock_file, encoding="utf-8", errors="replace") as handle:
                return handle.read().strip()
        except OSError:
            return ""

    def _take(self) -> None:
        waited_since, said, last_change, mtime = time.monotonic(), False, time.monotonic(), None
        while True:
            try:
                fd = os.open(self.lock_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                pass
            except OSError as exc:
                raise PipelineError(f"cannot write beside the study journal {self.journal.path}: "
                                    f"{exc.strerror or exc}; nothing was written") from None
            else:
                self._held = True
                with contextlib.suppress(OSError), os.fdopen(fd, "w") as handle:  # a full disk: held, unnamed
                    handle.write(workers.this_worker())
                return
            holder = self._holder()
            if workers.alive(holder) is False:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.lock_file)
                self.journal.say(f"removed {self.lock_file}, left by a process that died while it wrote to the "
                                 f"journal (pid {holder.rsplit(':', 2)[1]})")
                continue
            try:
                now = os.stat(self.lock_file).st_mtime
            except FileNotFoundError:
                continue
            if now != mtime:
                mtime, last_change = now, time.monotonic()
            if time.monotonic() - last_change > GRACE_SECONDS:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.lock_file)
                self.journal.say(f"took over {self.lock_file}, unchanged for {GRACE_SECONDS} s (its holder, "
                                 f"{holder or 'unnamed'}, is taken for dead, as Optuna does)")
                continue
            if not said and time.monotonic() - waited_since > SAY_AFTER_SECONDS:
                said = True
                self.journal.say(f"waiting for {self.lock_file} (held by {holder or 'a process that does not say'}"
                                 f"; a lock unchanged for {GRACE_SECONDS} s is taken over)")
            time.sleep(0.05)


def raise_for_disk(exc: OSError, path: str | Path) -> None:
    """A write of the sweep (to its journal, say) failed: one line that says so, and that no trial is lost."""
    reason = exc.strerror or str(exc)
    hint = "free some space" if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) else "make it writable"
    raise PipelineError(f"cannot write {path}: {reason}; the study keeps its trials (a record cut off in its journal "
                        f"is removed at the next start, a trial left running is run again): {hint}, then run tune "
                        f"again") from None
