"""Command ``tune``: a hyperparameter sweep on Optuna, each trial a DVC experiment.

``python -m pipeline tune --trials 20 --workers 2`` draws params from ``tune.yaml``'s space, runs each
trial as ``dvc exp run --temp -n <study>-<n> -S ...`` (``pipeline.tuning.experiment_trial``), prunes
a trial whose validation accuracy trails the others' median at the same share of its updates, and
prints the trials and the best one's commands. The study lives in ``tune/journal.log`` (one machine,
any number of workers) or in a database named by ``--storage postgresql://...`` (several machines,
each running this same command in its own clone). Run it again to resume: ``--trials`` counts the
whole study's finished (complete or pruned) trials, and no trial starts past it. The same command
started again in the same workspace joins the study: it waits for the first one's data step, then
runs trials the first is not running.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from pipeline.core import paths
from pipeline.core.atomic import write_text
from pipeline.core.env_settings import positive_number
from pipeline.core.errors import PipelineError
from pipeline.core.threads import with_threads
from pipeline.tuning import workers
from pipeline.tuning.experiment_trial import OBJECTIVE, Runner, TrialFailed, error_line
from pipeline.tuning.journal import raise_for_disk
from pipeline.tuning.space import STUDY_NAME, TuneSettings, load_settings
from pipeline.tuning.storage import Gate, open_storage, shown
from pipeline.tuning.study import (RetryCallback, fail_reason, open_study, reap_dead_workers, retry, table,
                                   trial_id)
from pipeline.tuning.study_file import best, export
from pipeline.tuning.trial_channel import TrialChannel

DEFAULT_TRIALS = 20
FAILURES_IN_A_ROW = 3  # a worker stops when its last three trials all failed: something is wrong for every trial
STORAGE_ENV = "DIGIT_PIPELINE_TUNE_STORAGE"  # --storage's default, and how workers get it (out of `ps`)
WAIT_POLL_SECONDS = 2.0  # a worker waiting for the others' running trials looks again this often
# The data step waits this long for another dvc command's lock on the data (DATA_WAIT_ENV sets it).
DATA_WAIT_SECONDS = 600
DATA_WAIT_ENV = "DIGIT_PIPELINE_TUNE_DATA_WAIT_SECONDS"
LOCK_POLL_SECONDS = 1.0
DVC_LOCK_SIGNS = ("is busy, it is being blocked by", "Unable to acquire lock")


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}")
    return value


def add_arguments(parser) -> None:
    parser.add_argument("--trials", type=_count,
                        help=f"stop once the study has this many finished (complete or pruned) trials, counting "
                             f"earlier runs' and never starting one past it: running trials hold their place "
                             f"(default {DEFAULT_TRIALS} when --timeout is not given)")
    parser.add_argument("--timeout", type=_seconds, help="stop starting trials after this many seconds")
    parser.add_argument("--study", help="the study's name (default: tune.yaml's study)")
    parser.add_argument("--storage", help=f"a journal file (default {paths.TUNE_JOURNAL}) or a database URL "
                                          f"shared by several machines, e.g. postgresql://user:password@host/db; "
                                          f"default: ${STORAGE_ENV}, which keeps a password out of `ps`")
    parser.add_argument("--workers", type=_count, default=1,
                        help="worker processes on this machine (default 1); each gets its share of the cores")
    parser.add_argument("--space", default=str(paths.TUNE_SPACE), help="the search space file (default tune.yaml)")
    parser.add_argument("--worker-index", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--history", type=int, default=0, help=argparse.SUPPRESS)


def _git_identity_set(root: Path) -> bool:
    """What DVC needs to commit an experiment: git's user.name and user.email, or git's variables."""
    def get(key: str, variable: str) -> str:
        return os.environ.get(variable) or subprocess.run(["git", "config", key], cwd=root, capture_output=True,
                                                          text=True).stdout.strip()

    return bool(get("user.name", "GIT_AUTHOR_NAME") and get("user.email", "GIT_AUTHOR_EMAIL"))


def _blockers(output: str) -> str:
    """DVC's "(PID 123): dvc repro ..." lines of a lock error, as one phrase."""
    found = re.findall(r"\(PID (\d+)\): (.+)", output)
    return "; ".join(f"pid {pid}: {command.strip()}" for pid, command in found) or "another dvc command"


def _prepare_data(root: Path) -> None:
    """fetch and split once, here, rather than once per trial. Another dvc command in this workspace (a
    second tune preparing the same data, say) holds DVC's lock: wait for it, up to a bound, then find
    the data up to date."""
    bound = positive_number(DATA_WAIT_ENV, DATA_WAIT_SECONDS, float, "seconds")
    print("tune: dvc repro split (the data, once, before the trials)", flush=True)
    deadline, said = time.monotonic() + bound, False
    while True:
        result = subprocess.run([sys.executable, "-m", "dvc", "repro", "split"], cwd=root, capture_output=True,
                                text=True, stdin=subprocess.DEVNULL)
        output = result.stdout + result.stderr
        if result.returncode == 0:
            return
        if not any(sign in output for sign in DVC_LOCK_SIGNS):
            raise PipelineError(f"dvc repro split failed before any trial: {error_line(output)}")
        if time.monotonic() >= deadline:
            raise PipelineError(f"dvc repro split: the data is still locked by {_blockers(output)} after {bound:g} s "
                                f"({DATA_WAIT_ENV} sets how long to wait); if no such process runs, remove "
                                f".dvc/tmp/rwlock and run tune again")
        if not said:
            said = True
            print(f"tune: waiting for DVC's lock on the data, held by {_blockers(output)} (another tune preparing "
                  f"it, say), for up to {bound:g} s", flush=True)
        time.sleep(LOCK_POLL_SECONDS)


def _say(index: int | None, text: str) -> None:
    prefix = f"[worker {index}] " if index is not None else ""
    print(f"tune: {prefix}{text}", flush=True)


def _counts(study) -> tuple[int, int]:
    """The study's finished (complete or pruned) trials, and those running."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING))
    running = sum(t.state == TrialState.RUNNING for t in trials)
    return len(trials) - running, running


def work(settings: TuneSettings, name: str, storage: str, trials: int | None, timeout: float | None,
         index: int, blas_threads: int | None, label: int | None, history: int = 0, space: str = "tune.yaml") -> int:
    """One worker: trials until the study has ``trials`` finished ones, ``timeout`` passes or Ctrl-C.

    A trial starts only while the study's finished and running trials are fewer than ``trials`` (counted
    and asked under ``Gate``); when the others' running trials would make up the rest, the worker waits
    for them and takes the place of one that fails or whose worker dies."""
    import optuna
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    root = Path.cwd()
    optuna_storage = open_storage(storage, failed_trial_callback=RetryCallback(),
                                  create_tables=label is None)  # a --workers N process: the command made them
    study = open_study(optuna_storage, shown(storage), name, settings, index, history, space)
    runner = Runner(root, name, blas_threads)
    gate = Gate(storage, name) if trials is not None else None
    deadline = None if timeout is None else time.monotonic() + timeout
    failures = {"in_a_row": 0, "last": ""}
    current: dict[str, int] = {}

    def reap() -> None:
        """Before each ask: a dead worker's trial queued again is the next one asked, not left waiting when
        the study reaches --trials."""
        for number in reap_dead_workers(study, optuna_storage):
            _say(label, f"trial {number}: its worker died; marked failed and queued to run again")

    def objective(trial) -> float:
        if gate is not None:
            gate.release()  # the trial is asked and running: the next worker counts it
        current["number"] = trial.number
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
        except OSError as exc:  # tune/ on a full or read-only disk: not the trial's fault, so it runs again
            with contextlib.suppress(OSError):  # the journal may be on that disk too: then the next tune does it
                trial.set_user_attr("fail_reason", f"cannot write {exc.filename}: {exc.strerror or exc}")
                retry(study, optuna_storage, trial.number)
            raise
        value = float(metrics[OBJECTIVE])
        trial.set_user_attr("validation_accuracy_single", metrics.get("validation_accuracy_single"))
        _say(label, f"trial {trial.number}: validation {100 * value:.2f} % (test-time views)")
        return value

    waiting_said = False
    try:
        while deadline is None or time.monotonic() < deadline:
            reap()
            if gate is not None:
                gate.hold()
                finished, running = _counts(study)
                if finished >= trials:
                    break
                if finished + running >= trials:
                    gate.release()
                    if not waiting_said:
                        waiting_said = True
                        _say(label, f"{finished} finished and {running} running trials make --trials {trials}: "
                                    f"waiting for them (one that fails is replaced)")
                    time.sleep(WAIT_POLL_SECONDS)
                    continue
            current.clear()
            try:
                study.optimize(objective, n_trials=1, catch=(TrialFailed,))
            except AssertionError as exc:
                # Optuna's _run_trial asserts ("Should not reach.") when recording the trial's end fails;
                # what failed (a full disk, a journal that cannot be repaired) is the exception it was handling
                cause = exc.__context__
                if isinstance(cause, (OSError, PipelineError)):
                    raise cause from None
                raise
            if gate is not None:
                gate.release()  # in case the ask failed before the objective ran
            waiting_said = False
            if "number" not in current:
                continue
            frozen = study.get_trials(deepcopy=False)[current["number"]]
            if frozen.state == TrialState.FAIL:
                failures["in_a_row"] += 1
                failures["last"] = fail_reason(frozen)
                if failures["in_a_row"] >= FAILURES_IN_A_ROW:
                    _say(label, f"stopped: {FAILURES_IN_A_ROW} trials in a row failed; the last: {failures['last']}")
                    return 1
            else:
                failures["in_a_row"] = 0
    except KeyboardInterrupt:
        running = "number" in current and study.get_trials(deepcopy=False)[current["number"]].state == TrialState.FAIL
        _say(label, ("interrupted: the running trial is marked failed and queued to run again; " if running else
                     "interrupted; ") + "the same command resumes the study")
        return 130
    except OSError as exc:  # a full disk or a read-only folder under the journal: one line, no trial lost
        raise_for_disk(exc, exc.filename or storage)
    finally:
        if gate is not None:
            gate.release()
    return 0


def _spawn(count: int, args, storage: str, blas_threads: int) -> list[subprocess.Popen]:
    base = [sys.executable, "-m", "pipeline", "tune", "--space", args.space, "--study", args.study_name,
            "--history", str(args.history)]
    base += ["--trials", str(args.trials_target)] if args.trials_target else []
    base += ["--timeout", str(args.timeout)] if args.timeout else []
    env = with_threads(dict(os.environ, **{STORAGE_ENV: storage}), blas_threads)  # each worker's share of the cores
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
    if args.space != str(paths.TUNE_SPACE) and not Path(args.space).is_file():
        raise PipelineError(f"--space {args.space}: no such file")
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
        return work(settings, name, storage, trials, args.timeout, args.worker_index, threads, args.worker_index,
                    args.history, args.space)

    root = Path.cwd()
    if not _git_identity_set(root):
        raise PipelineError("each trial is saved as a DVC experiment, a git commit: set your git identity first, "
                            "git config user.name 'Your Name' && git config user.email you@example.com")
    where = shown(storage)
    optuna_storage = open_storage(storage, failed_trial_callback=RetryCallback())
    study = open_study(optuna_storage, where, name, settings, space=args.space)
    for number in reap_dead_workers(study, optuna_storage):
        print(f"tune: trial {number}: its worker died; marked failed and queued to run again")
    history = len(study.get_trials(deepcopy=False))  # a seeded sampler resumes with new draws (sampler_seed)
    _prepare_data(root)
    cores = os.cpu_count() or 1
    threads = max(1, cores // args.workers) if args.workers > 1 else None
    done = _counts(study)[0]
    target = f"until {trials} finished trials" if trials else "until the timeout"
    print(f"tune: study {name!r} in {where}: {done} finished trials so far, running {target}"
          f"{f' or {args.timeout:g} s' if trials and args.timeout else ''}; {args.workers} worker(s)"
          f"{f', BLAS on {threads} thread(s) each' if threads else ''}; logs in {paths.TUNE_LOGS}/", flush=True)
    if args.workers == 1:
        code = work(settings, name, storage, trials, args.timeout, 0, None, None, history, args.space)
    else:
        args.study_name, args.trials_target, args.history = name, trials, history
        code, _ = _wait(_spawn(args.workers, args, storage, threads))
    study = open_study(open_storage(storage), where, name, settings, space=args.space)
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
