"""A study: opened with the space it was made with, its dead workers' trials failed and retried, shown.

Trial attributes the sweep keeps (Optuna user attrs):
  ``experiment``  the trial's DVC experiment name (``<study>-<number>``)
  ``worker``      ``host:pid:start`` of the process running it (``pipeline.tuning.workers``)
  ``fail_reason`` one line, for a failed trial
  ``pruned_at_percent``  the share of its updates done when it was pruned

A trial whose worker died (or was interrupted) is queued again once by Optuna's
``RetryHeartbeatStaleTrialCallback`` (``RetryCallback``): the new trial has the same params, and
Optuna's ``retried_trial_number`` names the one it replaces.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from pipeline.core.errors import PipelineError
from pipeline.tuning import workers
from pipeline.tuning.journal import raise_for_disk
from pipeline.tuning.optuna_experimental import experimental
from pipeline.tuning.space import TuneSettings
from pipeline.tuning.storage import error_reason

SPACE_ATTR = "search_space"

# What a run of a trial records about itself: a retry starts without them (its own worker sets its own).
RUN_ATTRS = ("worker", "experiment", "fail_reason", "pruned_at_percent", "validation_accuracy_single")


class RetryCallback:
    """Optuna's own re-queueing of a trial whose worker died (``RetryHeartbeatStaleTrialCallback``): the
    same params once more, not forever. The storage calls it for a trial whose heartbeat went stale
    (another machine's worker); the sweep calls it for a dead worker of this machine and for a trial
    stopped by Ctrl-C. Optuna's copies the failed trial's user attrs: those of the failed run are left
    out, so that the retry is never taken for its dead worker's trial.

    A trial is queued again once: a worker that queued its trial's retry (Ctrl-C, a full disk) and then
    could not record the trial's end (the disk full) leaves it running, and the next tune reaps it as
    its dead worker's; Optuna's callback would queue a second copy, which ran the same params twice."""

    def __init__(self):
        with experimental() as optuna:
            self._optuna = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)

    def __call__(self, study, trial) -> None:
        if any(trial.number in _retry_history(t) for t in study.get_trials(deepcopy=False)):
            return  # already queued again
        trial = copy.deepcopy(trial)
        trial.user_attrs = {k: v for k, v in trial.user_attrs.items() if k not in RUN_ATTRS}
        self._optuna(study, trial)


def retried_trial_number(trial) -> int | None:
    """The trial that ``trial`` runs again (the first of the series), or None."""
    with experimental() as optuna:
        return optuna.storages.RetryHeartbeatStaleTrialCallback.retried_trial_number(trial)


def _retry_history(trial) -> list[int]:
    """The trials that ``trial`` runs again (Optuna's ``retry_history``), [] for a first run."""
    with experimental() as optuna:
        return optuna.storages.RetryHeartbeatStaleTrialCallback.retry_history(trial)


def make_pruner(settings: TuneSettings):
    import optuna

    if settings.pruner == "none":
        return optuna.pruners.NopPruner()
    # Steps are the percent of a trial's updates done, so that runs of different lengths (and
    # schedules, which follow the length) are compared at the same point of their schedule.
    return optuna.pruners.MedianPruner(n_startup_trials=settings.startup_trials,
                                       n_warmup_steps=settings.warmup_percent)


def sampler_seed(seed: int | None, worker_index: int = 0, history: int = 0) -> int | None:
    """The seed of one worker's sampler: tune.yaml's seed mixed with the worker's index (the same seed
    would draw the same trials twice) and the number of trials the study held when the command started
    (a resumed study would draw its first trials again). A new study draws as seed + index; the same
    sequence of commands draws the same points."""
    if seed is None:
        return None
    if history == 0:
        return seed + worker_index
    import numpy as np

    return int(np.random.SeedSequence([seed, history, worker_index]).generate_state(1)[0])


def make_sampler(settings: TuneSettings, worker_index: int = 0, history: int = 0):
    import optuna

    seed = sampler_seed(settings.seed, worker_index, history)
    if settings.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, constant_liar=True)


def _space_difference(mine: str, theirs: str) -> str:
    try:
        a = {e["key"]: e for e in json.loads(mine)}
        b = {e["key"]: e for e in json.loads(theirs)}
    except (ValueError, TypeError, KeyError):
        return "its space is unreadable"
    differ = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    return "they differ in " + ", ".join(differ)


def open_study(storage, where: str, name: str, settings: TuneSettings, worker_index: int = 0, history: int = 0,
               space: str = "tune.yaml"):
    """Create the study ``name``, or load it when its search space is the one in ``settings`` (read from
    the file ``space``); ``worker_index`` and ``history`` seed its sampler (``sampler_seed``)."""
    import optuna

    try:
        study = optuna.create_study(storage=storage, study_name=name, direction="maximize", load_if_exists=True,
                                    sampler=make_sampler(settings, worker_index, history),
                                    pruner=make_pruner(settings))
        recorded = study.user_attrs.get(SPACE_ATTR)
        if recorded is None:
            study.set_user_attr(SPACE_ATTR, settings.fingerprint())
            recorded = settings.fingerprint()
    except PipelineError:
        raise
    except OSError as exc:  # a journal on a full disk, say
        raise_for_disk(exc, exc.filename or where)
    except Exception as exc:
        raise PipelineError(f"cannot open study {name!r} in {where}: {error_reason(exc, where)}") from None
    if recorded != settings.fingerprint():
        raise PipelineError(
            f"study {name!r} in {where} was made with another search space than {space}'s "
            f"({_space_difference(settings.fingerprint(), recorded)}); name a new study with --study, "
            f"or put the space it was made with back in {space}")
    if study.direction != optuna.study.StudyDirection.MAXIMIZE:
        raise PipelineError(f"study {name!r} in {where} minimises; tune maximises validation accuracy: use --study")
    return study


def trial_id(storage, study_name: str, number: int) -> int:
    """The storage's id of trial ``number`` (Optuna's storage API; a Study does not publish its storage)."""
    return storage.get_trial_id_from_study_id_trial_number(storage.get_study_id_from_name(study_name), number)


def fail_running(study, storage, trial, reason: str) -> bool:
    """Mark a RUNNING trial of another process failed with ``reason``; False if someone else finished it."""
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    tid = trial_id(storage, study.study_name, trial.number)
    try:
        storage.set_trial_user_attr(tid, "fail_reason", reason)
        if not storage.set_trial_state_values(tid, TrialState.FAIL):
            return False
    except (UpdateFinishedTrialError, RuntimeError):
        return False
    return True


def retry(study, storage, number: int) -> None:
    """Queue trial ``number`` again (``RetryCallback``), if it drew params."""
    frozen = storage.get_trial(trial_id(storage, study.study_name, number))
    if frozen.params:
        RetryCallback()(study, frozen)


def reap_dead_workers(study, storage) -> list[int]:
    """Fail (and queue again) the running trials whose worker, a process of this host, is gone; with a
    database storage, also those whose heartbeat is stale (another machine's; the storage's
    ``RetryCallback`` queues them again)."""
    from optuna.trial import TrialState

    with experimental() as optuna:
        optuna.storages.fail_stale_trials(study)  # Optuna does this too, but only as each trial starts
    reaped = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = trial.user_attrs.get("worker")
        if workers.alive(worker) is False:
            pid = worker.rsplit(":", 2)[1]
            if fail_running(study, storage, trial, f"its worker (pid {pid}) died mid-trial"):
                retry(study, storage, trial.number)
                reaped.append(trial.number)
    return reaped


# -- showing it ---------------------------------------------------------------------------------------

def fail_reason(trial) -> str:
    reason = trial.user_attrs.get("fail_reason") or trial.system_attrs.get("fail_reason")
    if reason:
        return str(reason).strip().splitlines()[0]
    return "its worker stopped beating (killed, or cut off from the storage)"


def outcome(trial) -> str:
    state = trial.state.name
    if state == "COMPLETE":
        return f"{100 * trial.value:.2f} %"
    if state == "PRUNED":
        at = trial.user_attrs.get("pruned_at_percent")
        return f"pruned at {at} %" if at is not None else "pruned"
    if state == "FAIL":
        return "failed: " + fail_reason(trial)
    return state.lower()


def _value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def table(study, width: int = 100) -> str:
    """One line per trial: number, outcome, minutes, experiment, then its params wrapped under their
    column; a failed trial's reason on a line of its own."""
    import textwrap

    head = f"{'trial':>5}  {'validation':<16}  {'min':>5}  {'experiment':<16}  "
    lines = [head + "params"]
    room = max(width - len(head), 24)
    for trial in study.get_trials(deepcopy=False):
        minutes = "" if trial.duration is None else f"{trial.duration.total_seconds() / 60:.1f}"
        params = " ".join(f"{k}={_value(v)}" for k, v in trial.params.items())
        said = outcome(trial)
        start = f"{trial.number:>5}  {said.split(':')[0][:16]:<16}  {minutes:>5}  " \
                f"{str(trial.user_attrs.get('experiment', ''))[:16]:<16}  "
        wrapped = textwrap.wrap(params, room, break_on_hyphens=False) or [""]
        lines.append((start + wrapped[0]).rstrip())
        lines.extend(" " * len(head) + more for more in wrapped[1:])
        if trial.state.name == "FAIL":
            lines.extend(textwrap.wrap(f"why: {fail_reason(trial)}", max(width - 7, 24),
                                       initial_indent=" " * 7, subsequent_indent=" " * 12))
    return "\n".join(lines)
