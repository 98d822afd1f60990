"""Run a blocking call with a deadline, keeping what it prints away from the user.

The ``kaggle`` client sets no timeouts (a server that accepts a connection and never answers
blocks it forever) and prints to stdout and stderr (help texts, retry notices, progress bars).
``run_bounded`` runs such a call in a daemon worker thread and stops waiting after ``timeout``
seconds; whatever the worker writes to ``sys.stdout``/``sys.stderr`` goes to a buffer of its
own, while the main thread's own messages pass through untouched. The streams are wrapped only
while a worker runs: when the last one ends, ``sys.stdout``/``sys.stderr`` are the ones found.

A worker that is given up on cannot be killed: it is left running as a daemon thread (it ends
with the process), and its output keeps going to its own buffer.
"""

from __future__ import annotations

import io
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

_local = threading.local()


class _ThreadRouter:
    """Stands in for sys.stdout or sys.stderr: a worker's writes go to its buffer, others' pass through."""

    def __init__(self, target):
        self.target = target

    def _stream(self):
        return getattr(_local, "sink", None) or self.target

    def write(self, text):
        return self._stream().write(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        return self._stream().flush()

    def isatty(self):
        return self._stream().isatty()

    def __getattr__(self, name):  # encoding, fileno, errors, ... of the real stream
        return getattr(self.target, name)


_routing = threading.Lock()
_workers = 0  # workers running now; the routers are in place while there is one
_installed: dict[str, _ThreadRouter] = {}


def _enter() -> None:
    """One more worker: put the routers in place if none are."""
    global _workers
    with _routing:
        if _workers == 0:
            for name in ("stdout", "stderr"):
                current = getattr(sys, name)
                if not isinstance(current, _ThreadRouter):
                    _installed[name] = _ThreadRouter(current)
                    setattr(sys, name, _installed[name])
        _workers += 1


def _leave() -> None:
    """One worker fewer: when none is left, give back the streams found (unless someone replaced ours since)."""
    global _workers
    with _routing:
        _workers -= 1
        if _workers == 0:
            for name, router in list(_installed.items()):
                if getattr(sys, name) is router:
                    setattr(sys, name, router.target)
                del _installed[name]


class TimedOut(Exception):
    """The call did not finish within its deadline (it may still be running in the background)."""

    def __init__(self, timeout: float, output: str):
        super().__init__(f"no result within {timeout:g} s")
        self.timeout, self.output = timeout, output


@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None
    output: str = ""
    done: threading.Event = field(default_factory=threading.Event)


def start(fn: Callable[[], Any], name: str) -> Outcome:
    """Start ``fn`` in a daemon worker whose stdout/stderr are captured; the Outcome fills in when it ends."""
    _enter()
    outcome = Outcome()
    buffer = io.StringIO()

    def work():
        _local.sink = buffer
        try:
            outcome.value = fn()
        except BaseException as exc:  # noqa: BLE001 - SystemExit from the client is an answer too
            outcome.error = exc
        finally:
            outcome.output = buffer.getvalue()
            _leave()  # before done: the caller that waited finds the streams as they were
            outcome.done.set()

    try:
        threading.Thread(target=work, name=name, daemon=True).start()
    except BaseException:  # no thread, so no worker to give the streams back
        _leave()
        raise
    return outcome


def run_bounded(fn: Callable[[], Any], timeout: float, name: str = "bounded call") -> Outcome:
    """Run ``fn`` and return its Outcome (value or error, and what it printed); TimedOut after ``timeout`` s."""
    outcome = start(fn, name)
    if not outcome.done.wait(timeout):
        raise TimedOut(timeout, "")
    return outcome
