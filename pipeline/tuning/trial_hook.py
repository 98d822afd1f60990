"""The train stage's side of a trial: report validation accuracy to it, stop when it is pruned.

``tune`` runs each trial as ``dvc exp run``, so the training happens in a stage process that DVC
starts. ``tune`` hands that process its trial through the environment variable ``TRIAL_ENV`` (JSON:
storage, study, trial number, pruner, the worker's pid); without it the train stage trains as usual.
The step Optuna sees is the percent of the trial's updates done, on a grid of ``GRID_PERCENT``: a
pruner compares trials at the same step, so every trial must report the same steps, whatever its
``max_iter`` and ``eval_every`` (the first check at or past each grid point reports it).
"""

from __future__ import annotations

import json
import os

from pipeline.core.errors import PipelineError
from pipeline.tuning import workers

TRIAL_ENV = "DIGIT_PIPELINE_TRIAL"
GRID_PERCENT = 5


class TrialStopped(PipelineError):
    """The trial was pruned, or its worker is gone: the stage stops, and says which."""


def context(storage: str, study: str, number: int, pruner: dict, worker_pid: int) -> str:
    return json.dumps({"storage": storage, "study": study, "trial": number, "pruner": pruner,
                       "worker_pid": worker_pid})


class TrialHook:
    """Called with each validation check; raises ``TrialStopped`` to end the trial early."""

    def __init__(self, ctx: dict):
        import optuna

        from pipeline.tuning.space import TuneSettings
        from pipeline.tuning.storage import open_storage
        from pipeline.tuning.study import make_pruner, trial_id

        optuna.logging.set_verbosity(optuna.logging.ERROR)
        self.number = int(ctx["trial"])
        self.worker_pid = int(ctx["worker_pid"])
        pruner = make_pruner(TuneSettings(pruner=ctx["pruner"]["kind"],
                                          startup_trials=ctx["pruner"]["startup_trials"],
                                          warmup_percent=ctx["pruner"]["warmup_percent"]))
        self.storage = open_storage(ctx["storage"], create_tables=False)
        study = optuna.load_study(study_name=ctx["study"], storage=self.storage, pruner=pruner)
        self.trial_id = trial_id(self.storage, ctx["study"], self.number)
        self.trial = optuna.trial.Trial(study, self.trial_id)
        self.last_step = -1

    @classmethod
    def from_env(cls) -> "TrialHook | None":
        raw = os.environ.get(TRIAL_ENV)
        return cls(json.loads(raw)) if raw else None

    def __call__(self, iteration: int, max_iter: int, validation_accuracy: float) -> None:
        from optuna.trial import TrialState

        if not workers.pid_alive(self.worker_pid):
            raise TrialStopped(f"trial {self.number}: its tune worker (pid {self.worker_pid}) is gone; stopping")
        step = 100 * iteration // max_iter // GRID_PERCENT * GRID_PERCENT
        if step <= self.last_step:
            return
        self.last_step = step
        if self.storage.get_trial(self.trial_id).state != TrialState.RUNNING:
            raise TrialStopped(f"trial {self.number} was ended by another worker; stopping")
        self.trial.report(validation_accuracy, step)
        if step < 100 and self.trial.should_prune():
            self.storage.set_trial_user_attr(self.trial_id, "pruned_at_percent", step)
            raise TrialStopped(f"trial {self.number} pruned at {step} % of its updates: validation accuracy "
                               f"{validation_accuracy:.4f} is below the other trials' median there")
