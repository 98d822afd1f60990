"""The train stage's side of a trial: report validation accuracy to it, stop when it is pruned.

``tune`` runs each trial as ``dvc exp run``, so the training happens in a stage process that DVC
starts. ``tune`` hands that process its trial through the environment variable ``TRIAL_ENV`` (JSON:
the trial's number, the worker's pid, and the Unix socket the worker listens on while the trial runs);
without it the train stage trains as usual.

This module is all the train stage imports of the sweep, so it knows nothing of studies: it sends
each report as one JSON line, ``{"step": 25, "value": 0.97}``, and reads one word back: ``go``,
``pruned`` or ``ended`` (another worker ended the trial). The worker holds the study and asks its
pruner (``pipeline.tuning.trial_channel``). A change to the study, storage or space code therefore
leaves the train stage, and its DVC run cache, as it was.

The step Optuna sees is the percent of the trial's updates done, on a grid of ``GRID_PERCENT``: a
pruner compares trials at the same step, so every trial must report the same steps, whatever its
``max_iter`` and ``eval_every`` (the first check at or past each grid point reports it).
"""

from __future__ import annotations

import json
import os
import socket

from pipeline.core.atomic import pid_alive
from pipeline.core.errors import PipelineError

TRIAL_ENV = "DIGIT_PIPELINE_TRIAL"
GRID_PERCENT = 5
GO, PRUNED, ENDED = "go", "pruned", "ended"  # the worker's answers


class TrialStopped(PipelineError):
    """The trial was pruned, or its worker is gone: the stage stops, and says which."""


def context(number: int, channel: str, worker_pid: int) -> str:
    """``TRIAL_ENV``'s value for trial ``number``, whose worker ``worker_pid`` listens on ``channel``."""
    return json.dumps({"trial": number, "channel": channel, "worker_pid": worker_pid})


class TrialHook:
    """Called with each validation check; raises ``TrialStopped`` to end the trial early."""

    def __init__(self, ctx: dict):
        self.number = int(ctx["trial"])
        self.worker_pid = int(ctx["worker_pid"])
        self.channel = str(ctx["channel"])
        self.last_step = -1
        self._connection: socket.socket | None = None
        self._replies = None

    @classmethod
    def from_env(cls) -> "TrialHook | None":
        raw = os.environ.get(TRIAL_ENV)
        return cls(json.loads(raw)) if raw else None

    def _gone(self, why: str = "") -> TrialStopped:
        return TrialStopped(f"trial {self.number}: its tune worker (pid {self.worker_pid}) is gone"
                            f"{f' ({why})' if why else ''}; stopping")

    def _ask(self, step: int, value: float) -> str:
        try:
            if self._connection is None:
                self._connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self._connection.connect(self.channel)
                self._replies = self._connection.makefile("r", encoding="utf-8")
            self._connection.sendall((json.dumps({"step": step, "value": value}) + "\n").encode("utf-8"))
            answer = self._replies.readline().strip()
        except OSError as exc:
            raise self._gone(exc.strerror or str(exc)) from None
        if not answer:  # the worker closed the channel: it died, or its trial is over
            raise self._gone("it closed the trial's channel")
        return answer

    def __call__(self, iteration: int, max_iter: int, validation_accuracy: float) -> None:
        if not pid_alive(self.worker_pid):
            raise self._gone()
        step = 100 * iteration // max_iter // GRID_PERCENT * GRID_PERCENT
        if step <= self.last_step:
            return
        self.last_step = step
        answer = self._ask(step, float(validation_accuracy))
        if answer == ENDED:
            raise TrialStopped(f"trial {self.number} was ended by another worker; stopping")
        if answer == PRUNED:
            raise TrialStopped(f"trial {self.number} pruned at {step} % of its updates: validation accuracy "
                               f"{validation_accuracy:.4f} is below the other trials' median there")
        if answer != GO:
            raise self._gone(f"it answered {answer[:60]!r}")
