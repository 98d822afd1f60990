"""Where a study lives: Optuna's journal file on one machine, a database URL across several.

``--storage`` takes a path (a journal file: several worker processes of one machine share it, with
no server; Optuna advises against SQLite for that) or a database URL such as
``postgresql://user:password@host/db`` (Optuna's RDB storage, with heartbeats so that a dead
machine's trial is marked failed). A password is never printed: errors and tables show the URL
with ``***`` in its place.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import time
from pathlib import Path
from typing import Callable

from pipeline.core.env_settings import positive_number
from pipeline.core.errors import PipelineError
from pipeline.tuning.journal import Journal, JournalLock, say_to_stderr
from pipeline.tuning.optuna_experimental import experimental

# A trial whose worker stops beating for GRACE seconds is marked failed by the next worker that starts
# a trial (RDB storages only; on one machine a dead worker's process is found at once). Both can be set
# through the environment (e.g. a slow shared database: a longer grace).
HEARTBEAT_SECONDS = 20
GRACE_SECONDS = 60
HEARTBEAT_ENV = "DIGIT_PIPELINE_TUNE_HEARTBEAT_SECONDS"
GRACE_ENV = "DIGIT_PIPELINE_TUNE_GRACE_SECONDS"


def is_url(storage: str) -> bool:
    return "://" in storage


def shown(storage: str) -> str:
    """The storage as it may be printed: a URL's password replaced by ``***``."""
    if not is_url(storage):
        return storage
    try:
        from sqlalchemy.engine import make_url

        return make_url(storage).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy parses: hide everything between :// and @
        scheme, _, rest = storage.partition("://")
        return f"{scheme}://***@{rest.rpartition('@')[2]}" if "@" in rest else storage


def _password(storage: str) -> str | None:
    try:
        from sqlalchemy.engine import make_url

        return make_url(storage).password
    except Exception:
        return None


def error_reason(exc: BaseException, storage: str) -> str:
    """The driver's first line, without the password should it quote the URL."""
    text = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]
    secret = _password(storage)
    if secret:
        text = text.replace(str(secret), "***")
    return text.replace(storage, shown(storage))


def open_storage(storage: str, failed_trial_callback=None, create_tables: bool = True,
                 say: Callable[[str], None] = say_to_stderr):
    """The Optuna storage for ``storage`` (a journal path or a database URL), checked by connecting
    (a journal: read through, its broken lines removed; ``say`` prints what was removed).

    ``create_tables=False`` for the processes a sweep starts: the first process made the tables, and
    several creating them at once collide in PostgreSQL's catalog."""
    import optuna

    if not is_url(storage):
        path = Path(storage)
        lock = JournalLock(Journal(path, say))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            backend = optuna.storages.journal.JournalFileBackend(str(path), lock_obj=lock)
        except OSError as exc:
            raise PipelineError(f"cannot open the study journal {path}: {exc.strerror or exc}") from None
        lock.acquire()  # all of the journal checked (and a broken line removed) before a first append
        lock.release()
        try:
            return optuna.storages.JournalStorage(backend)
        except OSError as exc:
            raise PipelineError(f"cannot read the study journal {path}: {exc.strerror or exc}") from None
    where = shown(storage)
    heartbeat = int(positive_number(HEARTBEAT_ENV, HEARTBEAT_SECONDS, int, "seconds"))
    grace = int(positive_number(GRACE_ENV, GRACE_SECONDS, int, "seconds"))
    if grace <= heartbeat:
        raise PipelineError(f"{GRACE_ENV} ({grace}) must be longer than {HEARTBEAT_ENV} ({heartbeat}): a live "
                            f"worker would be taken for a dead one")
    if storage.startswith("sqlite"):
        raise PipelineError(f"--storage {where}: SQLite is not safe for parallel workers (Optuna's FAQ); use the "
                            f"default journal file on one machine, or postgresql://... across machines")
    for attempt in range(3):
        try:
            with experimental():  # heartbeats
                return optuna.storages.RDBStorage(
                    storage, engine_kwargs={"pool_pre_ping": True, "connect_args": _connect_args(storage)},
                    heartbeat_interval=heartbeat, grace_period=grace,
                    heartbeat_stale_trial_callback=failed_trial_callback, skip_table_creation=not create_tables)
        except ImportError as exc:
            raise PipelineError(f"cannot open the study storage {where}: its database driver is missing "
                                f"({exc.name or exc}); pip install -e '.[postgres]'") from None
        except Exception as exc:  # SQLAlchemy's OperationalError, ArgumentError, ...: one line
            # Two machines starting on a new database both create Optuna's tables: the loser finds them made.
            if "duplicate key" in str(exc) and attempt < 2:
                time.sleep(1 + attempt)
                continue
            raise PipelineError(f"cannot open the study storage {where}: {error_reason(exc, storage)}") from None
    raise AssertionError("unreachable")


def _connect_args(storage: str) -> dict:
    """Give up on an unreachable server in seconds, not the driver's default minutes."""
    if storage.startswith("postgresql"):
        return {"connect_timeout": int(positive_number("DIGIT_PIPELINE_DB_CONNECT_TIMEOUT", 10, int, "seconds"))}
    return {}


class Gate:
    """Held from counting a study's trials to asking the next one, so that two workers of this machine
    (of one command or several) never both take the last place under ``--trials``: an ``flock`` on a
    file beside the journal, or for a database in the temporary folder, named after the URL and study
    (workers of several machines may still both start one in the same few milliseconds). The kernel
    releases it when a process dies."""

    def __init__(self, storage: str, study: str):
        if is_url(storage):
            key = hashlib.sha256(f"{shown(storage)}\0{study}".encode()).hexdigest()[:16]
            self.path = Path(tempfile.gettempdir()) / f"digit-pipeline-tune-{key}.gate"
        else:  # not the journal itself: a repair may replace that file
            self.path = Path(f"{storage}.gate")
        self._fd: int | None = None

    def hold(self) -> None:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY | os.O_CREAT, 0o644)
            fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
