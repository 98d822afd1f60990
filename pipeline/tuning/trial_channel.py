"""The worker's side of a trial's channel: it answers the train stage's hook (``trial_hook``).

While its trial's ``dvc exp run`` runs, a worker listens on a Unix socket in a private temporary
folder (mode 0700: no other user can report to it), which it removes after; the next channel removes
those of workers that died first. Each line the hook sends is one validation check,
``{"step": 25, "value": 0.97}``; the worker reports it to Optuna and answers ``go``, ``pruned`` (its
pruner says so; the trial records ``pruned_at_percent``) or ``ended`` (another worker failed the
trial, say because it took this worker for a dead one). The study and its storage stay in the
worker; the stage process needs neither.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path

from pipeline.core.atomic import pid_alive
from pipeline.tuning.trial_hook import ENDED, GO, PRUNED

# A Unix socket's path is at most 107 bytes (Linux): a long TMPDIR falls back to /tmp.
_MAX_SOCKET_PATH = 100
PREFIX = "tune-trial-"  # the channel's folder: tune-trial-<worker pid>-<random>


def _remove_orphans(folder: Path) -> None:
    """The channel folders of workers that died (killed, say) before they could remove theirs."""
    for orphan in folder.glob(f"{PREFIX}*-*"):
        pid = orphan.name[len(PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(orphan, ignore_errors=True)


class TrialChannel:
    """``with TrialChannel(trial, storage, trial_id) as channel:`` run the trial, its hook on ``channel.path``."""

    def __init__(self, trial, storage, trial_id: int):
        self.trial = trial  # the optuna.trial.Trial the worker asked
        self.storage = storage
        self.trial_id = trial_id
        self.pruned_at: int | None = None
        self.error: str | None = None  # the first report the storage refused: the trial went on
        self._folder = ""
        self._listener: socket.socket | None = None
        self._connection: socket.socket | None = None  # the hook's, while one is open
        self._stop = threading.Event()
        self._lock = threading.Lock()  # the stop flag and the open connection change together
        self._thread: threading.Thread | None = None

    @property
    def path(self) -> str:
        return os.path.join(self._folder, "trial.sock")

    def __enter__(self) -> "TrialChannel":
        prefix = f"{PREFIX}{os.getpid()}-"
        self._folder = tempfile.mkdtemp(prefix=prefix)
        if len(self.path) > _MAX_SOCKET_PATH:
            os.rmdir(self._folder)
            self._folder = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
        _remove_orphans(Path(self._folder).parent)
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        self._listener.listen(4)
        self._listener.settimeout(0.2)  # the accept loop looks at the stop flag this often
        self._thread = threading.Thread(target=self._serve, name="trial-channel", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._stop.set()
            if self._connection is not None:  # wake the reader: the hook then reads the channel closed
                with contextlib.suppress(OSError):
                    self._connection.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self._listener is not None:
            self._listener.close()
        shutil.rmtree(self._folder, ignore_errors=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                if self._stop.is_set():
                    connection.close()
                    return
                self._connection = connection
            with connection, contextlib.suppress(OSError):
                connection.settimeout(None)
                with connection.makefile("r", encoding="utf-8") as lines:
                    for line in lines:
                        if self._stop.is_set():
                            break
                        connection.sendall((self.answer(line) + "\n").encode("utf-8"))
            self._connection = None

    def answer(self, line: str) -> str:
        """The answer to one report line of the hook."""
        from optuna.trial import TrialState

        try:
            report = json.loads(line)
            step, value = int(report["step"]), float(report["value"])
        except (ValueError, TypeError, KeyError):
            return "unreadable report"
        try:
            if self.storage.get_trial(self.trial_id).state != TrialState.RUNNING:
                return ENDED
            self.trial.report(value, step)
            if step < 100 and self.trial.should_prune():
                self.storage.set_trial_user_attr(self.trial_id, "pruned_at_percent", step)
                self.pruned_at = step
                return PRUNED
        except Exception as exc:  # the storage refused (a full disk, a lost database): the training goes on
            self.error = self.error or f"{type(exc).__name__}: {exc}"
        return GO
