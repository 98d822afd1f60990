"""Command ``tune``: a hyperparameter sweep on Optuna, each trial a DVC experiment.

``python -m pipeline tune --trials 20 --workers 2`` draws params from ``tune.yaml``'s space, runs each
trial as ``dvc exp run --temp -n <study>-<n> -S ...`` (``pipeline.tuning.experiment_trial``), prunes
a trial whose validation accuracy trails the others' median at the same share of its updates, and
prints the trials and the best one's commands. The study lives in ``tune/journal.log`` (one machine,
any number of workers) or in a database named by ``--storage postgresql://...`` (several machines,
each running this same command in its own clone). Run it again to resume: ``--trials`` counts the
whole study's finished (complete or pruned) trials.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from pipeline.core import paths
from pipeline.core.atomic import write_text
from pipeline.core.errors import PipelineError
from pipeline.tuning import workers
from pipeline.tuning.experiment_trial import OBJECTIVE, Runner, TrialFailed, error_line
from pipeline.tuning.space import STUDY_NAME, TuneSettings, load_settings
from pipeline.tuning.storage import open_storage, shown
from pipeline.tuning.study import (RetryCallback, fail_reason, open_study, reap_dead_workers, retry, table,
                                   trial_id)
from pipeline.tuning.study_file import best, export
from pipeline.tuning.trial_channel import TrialChannel

DEFAULT_TRIALS = 20
FAILURES_IN_A_ROW = 3  # a worker stops when its last three trials all failed: something is wrong for every trial
STORAGE_ENV = "DIGIT_PIPELINE_TUNE_STORAGE"  # --storage's default, and how workers get it (out of `ps`)


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text}")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds > 0, got {text}")
    return value


def add_arguments(parser) -> None:
    parser.add_argument("--trials", type=_count,
                        help=f"stop once the study has this many finished (complete or pruned) trials, "
                             f"counting earlier runs' (default {DEFAULT_TRIALS} when --timeout is not given)")
    parser.add_argument("--timeout", type=_seconds, help="stop starting trials after this many seconds")
    parser.add_argument("--study", help="the study's name (default: tune.yaml's study)")
    parser.add_argument("--storage", help=f"a journal file (default {paths.TUNE_JOURNAL}) or a database URL "
                                          f"shared by several machines, e.g. postgresql://user:password@host/db; "
                                          f"default: ${STORAGE_ENV}, which keeps a password out of `ps`")
    parser.add_argument("--workers", type=_count, default=1,
                        help="worker processes on this machine (default 1); each gets its share of the cores")
    parser.add_argument("--space", default=str(paths.TUNE_SPACE), help="the search space file (default tune.yaml)")
    parser.add_argument("--worker-index", type=int, help=argparse.SUPPRESS)


def _git_identity_set(root: Path) -> bool:
    """What DVC needs to commit an experiment: git's user.name and user.email, or git's variables."""
    def get(key: str, variable: str) -> str:
        return os.environ.get(variable) or subprocess.run(["git", "config", key], cwd=root, capture_output=True,
                                                          text=True).stdout.strip()

    return bool(get("user.name", "GIT_AUTHOR_NAME") and get("user.email", "GIT_AUTHOR_EMAIL"))


def _prepare_data(root: Path) -> None:
    """fetch and split once, here, rather than once per trial."""
    print("tune: dvc repro split (the data, once, before the trials)", flush=True)
    result = subprocess.run([sys.executable, "-m", "dvc", "repro", "split"], cwd=root, capture_output=True, text=True,
                            stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise PipelineError(f"dvc repro split failed before any trial: {error_line(result.stdout + result.stderr)}")


def _say(index: int | None, text: str) -> None:
    prefix = f"[worker {index}] " if index is not None else ""
    print(f"tune: {prefix}{text}", flush=True)


def _finished(study) -> int:
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))


def work(settings: TuneSettings, name: str, storage: str, trials: int | None, timeout: float | None,
         index: int, blas_threads: int | None, label: int | None) -> int:
    """One worker: trials until the study has ``trials`` finished ones, ``timeout`` passes or Ctrl-C."""
    import optuna
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    root = Path.cwd()
    optuna_storage = open_storage(storage, failed_trial_callback=RetryCallback(),
                                  create_tables=label is None)  # a --workers N process: the command made them
    study = open_study(optuna_storage, shown(storage), name, settings, index)
    runner = Runner(root, name, blas_threads)
    if trials is not None and _finished(study) >= trials:
        return 0
    failures = {"in_a_row": 0, "last": ""}

    def reap(*_) -> None:
        """Before each ask (at the start, then after each trial): a dead worker's trial queued again is
        the next one asked, not left waiting when the study reaches --trials."""
        for number in reap_dead_workers(study, optuna_storage):
            _say(label, f"trial {number}: its worker died; marked failed and queued to run again")

    def objective(trial) -> float:
        name_ = runner.experiment_name(trial.number)
        trial.set_user_attr("worker", workers.this_worker())
        trial.set_user_attr("experiment", name_)
        overrides = settings.suggest(trial)
        shown_params = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in overrides.items())
        _say(label, f"trial {trial.number} ({name_}): {shown_params}")
        log = root / paths.TUNE_LOGS / f"{name_}.log"
        channel = TrialChannel(trial, optuna_storage, trial_id(optuna_storage, name, trial.number))
        try:
            with channel:  # the train stage's hook reports here; the pruner answers
                metrics = runner.run(trial.number, overrides, log, channel.path)
        except TrialFailed as exc:
            if channel.pruned_at is not None:
                _say(label, f"trial {trial.number}: pruned at {channel.pruned_at} % of its updates")
                raise optuna.TrialPruned() from None
            trial.set_user_attr("fail_reason", str(exc))
            _say(label, f"trial {trial.number}: failed: {exc}")
            raise
        except KeyboardInterrupt:
            trial.set_user_attr("fail_reason", "interrupted (Ctrl-C)")
            retry(study, optuna_storage, trial.number)
            raise
        value = float(metrics[OBJECTIVE])
        trial.set_user_attr("validation_accuracy_single", metrics.get("validation_accuracy_single"))
        _say(label, f"trial {trial.number}: validation {100 * value:.2f} % (test-time views)")
        return value

    def stop_on_failures(study_, frozen) -> None:
        if frozen.state == TrialState.FAIL:
            failures["in_a_row"] += 1
            failures["last"] = fail_reason(frozen)
            if failures["in_a_row"] >= FAILURES_IN_A_ROW:
                study_.stop()
        else:
            failures["in_a_row"] = 0

    reap()
    callbacks = [reap, stop_on_failures]
    if trials is not None:
        callbacks.append(optuna.study.MaxTrialsCallback(trials, states=(TrialState.COMPLETE, TrialState.PRUNED)))
    try:
        study.optimize(objective, timeout=timeout, callbacks=callbacks, catch=(TrialFailed,))
    except KeyboardInterrupt:
        _say(label, "interrupted: the running trial is marked failed and queued to run again; "
                    "the same command resumes the study")
        return 130
    if failures["in_a_row"] >= FAILURES_IN_A_ROW:
        _say(label, f"stopped: {FAILURES_IN_A_ROW} trials in a row failed; the last: {failures['last']}")
        return 1
    return 0


def _spawn(count: int, args, storage: str, blas_threads: int) -> list[subprocess.Popen]:
    base = [sys.executable, "-m", "pipeline", "tune", "--space", args.space, "--study", args.study_name]
    base += ["--trials", str(args.trials_target)] if args.trials_target else []
    base += ["--timeout", str(args.timeout)] if args.timeout else []
    env = dict(os.environ, **{STORAGE_ENV: storage})
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(blas_threads)  # each worker's own BLAS on its share of the cores
    return [subprocess.Popen(base + ["--worker-index", str(i)], env=env, stdin=subprocess.DEVNULL)
            for i in range(count)]


def _wait(processes: list[subprocess.Popen]) -> tuple[int, bool]:
    """Wait for the workers, saying at once when one dies (a killed one is reaped at once, so the others
    see its pid gone); on Ctrl-C let each mark its trial, passing the signal on if it missed it."""
    interrupted = False
    codes: dict[int, int] = {}
    while len(codes) < len(processes):
        try:
            for i, process in enumerate(processes):
                if i not in codes and (code := process.poll()) is not None:
                    codes[i] = code
                    if code < 0:
                        print(f"tune: worker {i} was killed (signal {-code}); its trial is marked failed and run "
                              f"again by another worker, or by the next tune", file=sys.stderr, flush=True)
            time.sleep(0.2)
        except KeyboardInterrupt:
            interrupted = True
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGINT)
    if interrupted or 130 in codes.values():
        return 130, True
    failed = [c for c in codes.values() if c > 0]
    return (max(failed) if failed else 0), False


def run(args) -> int:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # tune prints its own line per trial
    settings = load_settings(args.space)
    name = args.study or settings.study
    if not STUDY_NAME.fullmatch(name):
        raise PipelineError(f"--study must be letters, digits, - and _ (at most 64), got {name!r}")
    # --storage, else the environment (a password in a command line shows in `ps` to every local user)
    storage = (os.environ.get(STORAGE_ENV) if args.worker_index is not None else args.storage) \
        or os.environ.get(STORAGE_ENV) or str(paths.TUNE_JOURNAL)
    trials = args.trials or (None if args.timeout else DEFAULT_TRIALS)
    if args.worker_index is not None:  # a worker process of a `tune --workers N`
        threads = int(os.environ.get("OMP_NUM_THREADS", "0")) or None
        return work(settings, name, storage, trials, args.timeout, args.worker_index, threads, args.worker_index)

    root = Path.cwd()
    if not _git_identity_set(root):
        raise PipelineError("each trial is saved as a DVC experiment, a git commit: set your git identity first, "
                            "git config user.name 'Your Name' && git config user.email you@example.com")
    where = shown(storage)
    optuna_storage = open_storage(storage, failed_trial_callback=RetryCallback())
    study = open_study(optuna_storage, where, name, settings)
    for number in reap_dead_workers(study, optuna_storage):
        print(f"tune: trial {number}: its worker died; marked failed and queued to run again")
    _prepare_data(root)
    cores = os.cpu_count() or 1
    threads = max(1, cores // args.workers) if args.workers > 1 else None
    done = _finished(study)
    target = f"until {trials} finished trials" if trials else "until the timeout"
    print(f"tune: study {name!r} in {where}: {done} finished trials so far, running {target}"
          f"{f' or {args.timeout:g} s' if trials and args.timeout else ''}; {args.workers} worker(s)"
          f"{f', BLAS on {threads} thread(s) each' if threads else ''}; logs in {paths.TUNE_LOGS}/", flush=True)
    if args.workers == 1:
        code = work(settings, name, storage, trials, args.timeout, 0, None, None)
    else:
        args.study_name, args.trials_target = name, trials
        code, _ = _wait(_spawn(args.workers, args, storage, threads))
    study = open_study(open_storage(storage), where, name, settings)
    _show(study, where)
    return code


def _show(study, where: str) -> None:
    import json

    paths.TUNE_DIR.mkdir(parents=True, exist_ok=True)
    write_text(paths.STUDY_EXPORT, json.dumps(export(study, where), indent=1, sort_keys=True) + "\n")
    print()
    print(table(study, shutil.get_terminal_size((100, 24)).columns))
    top = best(study)
    if top is None:
        print("\nno trial has completed yet")
        return
    experiment = top.user_attrs.get("experiment", "")
    print(f"\nbest: trial {top.number}, validation {100 * top.value:.2f} % (test-time views), experiment {experiment}")
    for key, value in top.params.items():
        print(f"  {key}: {value}")
    print(f"submit it:  dvc exp apply {experiment} && python -m pipeline submit")
    print(f"its report: dvc exp apply {experiment} && dvc repro")
