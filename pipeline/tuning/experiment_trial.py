"""One trial as one DVC experiment: ``dvc exp run --temp -n <study>-<number> -S ...``.

Why ``dvc exp run --temp`` and not DVCLive's Optuna callback or ``dvc exp save``: the trial is then
exactly what a user's own ``dvc exp run -S ...`` is (same stages, same run cache, same experiment
refs), so ``dvc exp show`` lists it, ``dvc exp apply <name>`` gives its params and outputs back, and
``dvc repro`` after it reproduces the same model bytes. Each run has its own temporary copy of the
workspace, so several workers run side by side. DVCLive's callback does not work from inside a
``dvc.yaml`` stage (treeverse/dvclive#356), and ``dvc exp save`` needs a workspace per trial that we
would have to build ourselves. The trial runs the whole pipeline, report included (seconds), so that
``dvc exp apply`` finds every output of the experiment in the cache; the objective, validation
accuracy with the submission's test-time views, is read from its ``metrics/predict.json``.
"""

from __future__ import annotations

import copy
import errno
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.core import paths
from pipeline.core.config import parse_params, read_yaml_file
from pipeline.core.errors import PipelineError
from pipeline.core.threads import with_threads
from pipeline.tuning.trial_hook import TRIAL_ENV, context

FULL_BYTES = 1 << 20  # less free space than this under a run's empty log: the disk is full
OBJECTIVE = "validation_accuracy"  # of metrics/predict.json: the submission's procedure, test-time views


class TrialFailed(Exception):
    """The trial's run failed (diverged, a bad combination of params, a dvc error): recorded, the study goes on."""


@dataclass(frozen=True)
class Runner:
    root: Path  # the project (the DVC workspace)
    study: str
    blas_threads: int | None = None  # per worker; None leaves BLAS its default

    def experiment_name(self, number: int) -> str:
        return f"{self.study}-{number}"

    def checked(self, overrides: dict[str, Any]) -> None:
        """The trial's params.yaml (the workspace's, with ``overrides``) through params.yaml's loader."""
        raw = read_yaml_file(self.root / paths.PARAMS) or {}
        merged = copy.deepcopy(raw)
        for key, value in overrides.items():
            section, name = key.split(".", 1)
            merged.setdefault(section, {})[name] = value
        try:
            parse_params(merged, "params.yaml with the trial's values")
        except PipelineError as exc:
            raise TrialFailed(str(exc)) from None

    def command(self, name: str, overrides: dict[str, Any]) -> list[str]:
        sets = [f"{k}={json.dumps(v, separators=(',', ':'))}" for k, v in overrides.items()]
        return [sys.executable, "-m", "dvc", "exp", "run", "--temp", "-n", name,
                *[arg for s in sets for arg in ("-S", s)]]

    def environment(self, number: int, channel: str) -> dict[str, str]:
        env = with_threads(os.environ, self.blas_threads) if self.blas_threads else dict(os.environ)
        env[TRIAL_ENV] = context(number, channel, os.getpid())
        return env

    def run(self, number: int, overrides: dict[str, Any], log: Path, channel: str) -> dict:
        """Run the trial, its train stage reporting on ``channel`` (a ``TrialChannel``'s path); its
        ``metrics/predict.json``. Raises ``TrialFailed`` with the run's own error line."""
        self.checked(overrides)
        name = self.experiment_name(number)
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "wb") as out:
            code = subprocess.run(self.command(name, overrides), cwd=self.root,
                                  env=self.environment(number, channel), stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL).returncode
        if code != 0:
            output = log.read_text(errors="replace")
            if not output.strip():
                raise_if_full(log)
            raise TrialFailed(error_line(output) + f" (log: {log})")
        return self.metrics(name)

    def metrics(self, name: str) -> dict:
        refs = subprocess.run(["git", "for-each-ref", "--sort=-committerdate", "--format=%(refname)", "refs/exps/"],
                              cwd=self.root, capture_output=True, text=True).stdout.split()
        ref = next((r for r in refs if r.rsplit("/", 1)[-1] == name), None)
        if ref is None:
            raise TrialFailed(f"dvc exp run finished but no experiment {name!r} was saved")
        shown = subprocess.run(["git", "show", f"{ref}:{paths.PREDICT_METRICS.as_posix()}"], cwd=self.root,
                               capture_output=True, text=True)
        try:
            return json.loads(shown.stdout)
        except ValueError:
            raise TrialFailed(f"experiment {name!r} has no readable {paths.PREDICT_METRICS}") from None


def raise_if_full(log: Path) -> None:
    """A run that could not write a word of its log failed for the disk, not for its params: say so
    (an OSError, which ``tune`` reports in one line and which queues the trial again)."""
    stat = os.statvfs(log.parent)
    if stat.f_bavail * stat.f_frsize < FULL_BYTES:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(log))


def error_line(output: str) -> str:
    """The line that says why a ``dvc exp run`` failed: the stage's ``error:``, else DVC's ``ERROR:``."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for prefix in ("error: ", "ERROR: "):
        found = [line for line in lines if line.startswith(prefix)]
        if found:
            return found[0][len(prefix):] if prefix == "error: " else found[-1][len(prefix):]
    return lines[-1] if lines else "dvc exp run failed with no output"
