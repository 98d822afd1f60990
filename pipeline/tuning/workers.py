"""Who runs a trial, and whether that process still lives.

Each trial records its worker as ``host:pid:start`` (``start``: the process's start time in clock
ticks, so that a pid the system reused is not taken for the worker). A worker on the same host can
then tell at once that another one was killed, with no heartbeat to wait for; a worker on another
host is left to the storage's heartbeat (database storages).
"""

from __future__ import annotations

import os
import socket

from pipeline.core.atomic import pid_alive

# Tests stand two "machines" on one by giving each worker another host name.
HOST_ENV = "DIGIT_PIPELINE_TUNE_HOST"


def host() -> str:
    return os.environ.get(HOST_ENV) or socket.gethostname()


def _stat(pid: int) -> list[str]:
    """/proc/PID/stat's fields after the command name (Linux), or [] where there is none to read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read().decode("ascii", "replace")
    except OSError:
        return []
    # The command name (field 2) is in parentheses and may hold spaces: count fields after its ")".
    return stat.rpartition(")")[2].split()


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot, or "" where there is none to read."""
    fields = _stat(pid)
    return fields[19] if len(fields) > 19 else ""


def this_worker() -> str:
    pid = os.getpid()
    return f"{host()}:{pid}:{_start_time(pid)}"


def alive(worker: str | None) -> bool | None:
    """True or False for a worker of this host; None when it is another host's (or unrecorded)."""
    if not worker:
        return None
    parts = worker.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != host() or not parts[1].isdigit():
        return None
    pid, start = int(parts[1]), parts[2]
    if not pid_alive(pid):
        return False
    return not start or _start_time(pid) in ("", start)
