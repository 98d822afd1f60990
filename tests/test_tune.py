"""`python -m pipeline tune` on a fresh copy of the repo and the offline sample, as a user runs it:
every trial a DVC experiment, resume, a diverging trial, Ctrl-C, a killed worker, PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import optuna
import pytest
import yaml
from optuna.trial import TrialState

from pipeline.tuning.storage import open_storage
from pipeline.tuning.study import retried_trial_number
from repo_support import GIT_ENV, as_in_a_terminal, copy_repo, run, set_params, stop_group

pytestmark = pytest.mark.slow
FAST = {"hidden_layer_sizes": [16], "max_iter": 12, "eval_every": 4}
SMALL_SPACE = {"train.learning_rate": {"low": 0.002, "high": 0.02, "log": True},
               "train.max_iter": {"low": 8, "high": 16, "step": 4}, "predict.tta_shift": {"choices": [0, 1]}}


def write_space(repo: Path, name: str, space: dict, **top) -> str:
    (repo / name).write_text(yaml.safe_dump({"space": space, **top}, sort_keys=False))
    return name


def environment(repo: Path) -> dict:
    home = repo.parent / "home"
    env = {**os.environ, **GIT_ENV, "HOME": str(home), "KAGGLE_CONFIG_DIR": str(home / "kaggle"),
           "KAGGLE_USERNAME": "", "KAGGLE_KEY": "", "KAGGLE_API_TOKEN": "", "PYTHONUNBUFFERED": "1"}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    return env


def tune(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "pipeline", "tune", *args], cwd=repo, env=environment(repo),
                            capture_output=True, text=True, timeout=900)
    if check and result.returncode != 0:
        raise AssertionError(f"tune {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


STARTED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def no_sweep_left_running():
    """A failed test kills what it started: no trial goes on training for the rest of the run."""
    yield
    while STARTED:
        stop_group(STARTED.pop())


def start_tune(repo: Path, *args: str, env: dict | None = None) -> tuple[subprocess.Popen, list[str]]:
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "tune", *args], cwd=repo,
                               env={**environment(repo), **(env or {})},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
                               preexec_fn=as_in_a_terminal)
    STARTED.append(process)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()
    return process, lines


def load(repo: Path, study: str, storage: str | None = None):
    return optuna.load_study(study_name=study, storage=storage or optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(repo / "tune" / "journal.log"))))


def wait_for_running_trial(process, lines, study_loader, timeout: float = 240):
    """The first trial that is running and has reported a validation check: its training is under way."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "".join(lines)
        try:
            running = [t for t in study_loader().get_trials() if t.state == TrialState.RUNNING and t.intermediate_values]
        except KeyError:  # the study is not created yet
            running = []
        if running:
            return running[0]
        time.sleep(0.5)
    raise AssertionError("no trial started training:\n" + "".join(lines))


def pg_study(url: str, name: str):
    """The study, read while `tune` may be creating Optuna's tables: through the product's storage opener,
    which retries when two processes create them at once."""
    return optuna.load_study(study_name=name, storage=open_storage(url))


def experiments(repo: Path) -> dict[str, dict]:
    shown = json.loads(run(["dvc", "exp", "show", "--json"], repo).stdout)
    out = {}
    for commit in shown:
        for experiment in commit.get("experiments") or []:
            for rev in experiment["revs"]:
                data = rev["data"]
                out[rev["name"]] = {"params": data["params"]["params.yaml"]["data"],
                                    "metrics": data["metrics"]["metrics/predict.json"]["data"]}
    return out


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """A fresh copy, small training params, and `tune --trials 3` on the default journal storage."""
    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    set_params(repo, train=FAST)
    write_space(repo, "tune.yaml", SMALL_SPACE, study="small", seed=0)
    run(["git", "commit", "-qam", "small"], repo)
    return repo, tune(repo, "--trials", "3")


def test_every_finished_trial_is_a_dvc_experiment_with_its_params_and_objective(swept):
    repo, result = swept
    study = load(repo, "small")
    complete = [t for t in study.get_trials() if t.state == TrialState.COMPLETE]
    assert len(complete) == 3, result.stdout
    shown = experiments(repo)
    for trial in complete:
        name = trial.user_attrs["experiment"]
        assert name == f"small-{trial.number}"
        train, predict = shown[name]["params"]["train"], shown[name]["params"]["predict"]
        assert train["learning_rate"] == trial.params["train.learning_rate"]
        assert train["max_iter"] == trial.params["train.max_iter"]
        assert predict["tta_shift"] == trial.params["predict.tta_shift"]
        # the objective: the submission's procedure (test-time views) on the validation rows, never the test answers
        assert trial.value == shown[name]["metrics"]["validation_accuracy"]
    assert "best: trial" in result.stdout and "dvc exp apply small-" in result.stdout
    assert f"{100 * study.best_value:.2f} %" in result.stdout
    exported = json.loads((repo / "tune" / "study.json").read_text())
    assert exported["study"] == "small" and len(exported["trials"]) == 3
    assert run(["git", "status", "--porcelain", "--untracked-files=all"], repo).stdout.strip() in ("", "M dvc.lock")


def test_applying_the_best_trial_and_reproducing_gives_the_same_model_bytes(swept):
    repo, _ = swept
    best = load(repo, "small").best_trial.user_attrs["experiment"]
    run(["dvc", "exp", "apply", best], repo)
    applied = hashlib.md5((repo / "models/model.npz").read_bytes()).hexdigest()
    submission = (repo / "submissions/submission.csv").read_bytes()
    run(["dvc", "repro", "--force", "train"], repo)
    assert hashlib.md5((repo / "models/model.npz").read_bytes()).hexdigest() == applied
    run(["dvc", "repro", "predict"], repo)
    assert (repo / "submissions/submission.csv").read_bytes() == submission
    run(["git", "checkout", "--", "."], repo)
    run(["dvc", "checkout", "-f"], repo, check=False)


def test_running_again_resumes_the_study(swept):
    repo, _ = swept
    result = tune(repo, "--trials", "4")
    assert "3 finished trials so far" in result.stdout
    study = load(repo, "small")
    assert [t.number for t in study.get_trials()] == [0, 1, 2, 3]
    assert all(t.state == TrialState.COMPLETE for t in study.get_trials())
    assert "small-3" in experiments(repo)
    again = tune(repo, "--trials", "4")  # nothing left to do: no new trial
    assert len(load(repo, "small").get_trials()) == 4, again.stdout


def test_a_study_of_the_same_name_with_another_space_is_refused(swept):
    repo, _ = swept
    other = write_space(repo, "other.yaml", {**SMALL_SPACE, "train.max_iter": {"low": 8, "high": 20, "step": 4}},
                        study="small")
    result = tune(repo, "--space", other, "--trials", "5", check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: study 'small' in tune/journal.log was made with another search space than tune.yaml's "
        f"(they differ in train.max_iter); name a new study with --study, or put tune.yaml's space back"]


def test_space_files_of_one_choice_each_run_fixed_configs_as_frontier_sweep_py_did(swept):
    """benchmarks/frontier/sweep.py's list of fixed configs, through tune: one space file (and study) per
    config, each entry a single choice; the trial runs exactly that config as a DVC experiment."""
    repo, _ = swept
    configs = {"fixed-a": {"train.hidden_layer_sizes": [16, 8], "train.learning_rate": 0.005, "train.max_iter": 8,
                           "predict.tta_shift": 0},
               "fixed-b": {"train.hidden_layer_sizes": [24], "train.learning_rate": 0.01, "train.max_iter": 12,
                           "predict.tta_shift": 1}}
    for study, config in configs.items():
        space = write_space(repo, f"{study}.yaml", {k: {"choices": [v]} for k, v in config.items()}, study=study)
        tune(repo, "--space", space, "--trials", "1")
    shown = experiments(repo)
    for study, config in configs.items():
        [trial] = load(repo, study).get_trials()
        assert trial.state == TrialState.COMPLETE
        params = shown[f"{study}-0"]["params"]
        assert {k: params[k.split(".")[0]][k.split(".")[1]] for k in config} == config


def test_a_diverging_trial_is_recorded_failed_with_its_reason_and_the_study_goes_on(swept):
    repo, _ = swept
    space = write_space(repo, "diverge.yaml", {"train.optimizer": {"choices": ["gd"]},
                                               "train.learning_rate": {"choices": [1.0e12, 0.01]}},
                        study="diverge", seed=0, sampler="random")
    result = tune(repo, "--space", space, "--trials", "2", check=False)
    trials = load(repo, "diverge").get_trials()
    failed = [t for t in trials if t.state == TrialState.FAIL]
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    assert failed, result.stdout
    for trial in failed:
        assert trial.params["train.learning_rate"] == 1.0e12
        assert trial.user_attrs["fail_reason"].startswith("training diverged at iteration")
    assert len(done) == 2 and result.returncode == 0, result.stdout + result.stderr  # it went on past them
    assert "why: training diverged at iteration" in result.stdout
    assert not [name for name in experiments(repo) if name in {f"diverge-{t.number}" for t in failed}]


def test_ctrl_c_marks_the_running_trial_and_queues_it_again(tmp_path):
    repo = copy_repo(tmp_path / "repo")
    set_params(repo, train={**FAST, "max_iter": 100_000})
    space = write_space(repo, "long.yaml", {"predict.tta_shift": {"choices": [0, 1]}}, study="long")
    process, lines = start_tune(repo, "--space", space, "--trials", "2")
    trial = wait_for_running_trial(process, lines, lambda: load(repo, "long"))
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
    assert process.wait(timeout=120) == 130, "".join(lines)
    time.sleep(0.5)
    output = "".join(lines)
    assert "the same command resumes the study" in output
    trials = load(repo, "long").get_trials()
    assert trials[trial.number].state == TrialState.FAIL
    assert trials[trial.number].user_attrs["fail_reason"] == "interrupted (Ctrl-C)"
    queued = [t for t in trials if t.state == TrialState.WAITING]
    assert len(queued) == 1 and retried_trial_number(queued[0]) == trial.number
    assert "Traceback" not in output, output
    leftovers = subprocess.run(["pgrep", "-f", f"{repo}"], capture_output=True, text=True).stdout.split()
    assert leftovers == [], "processes of the interrupted sweep still run"


# -- several workers, PostgreSQL ------------------------------------------------------------------------


def test_two_workers_share_a_postgresql_study_and_a_killed_worker_costs_nothing(tmp_path, postgres):
    url = postgres.create_database("shared")
    repo = copy_repo(tmp_path / "repo")
    set_params(repo, train={**FAST, "max_iter": 160})
    space = write_space(repo, "pg.yaml", {"train.learning_rate": {"low": 0.002, "high": 0.02, "log": True}},
                        study="shared", pruner={"kind": "none"})
    run(["git", "add", "pg.yaml"], repo)
    run(["git", "commit", "-qm", "space"], repo)
    # the URL through the environment, as the README shows it (a password on a command line shows in `ps`)
    process, lines = start_tune(repo, "--space", space, "--workers", "2", "--trials", "4",
                                env={"DIGIT_PIPELINE_TUNE_STORAGE": url})
    trial = wait_for_running_trial(process, lines, lambda: pg_study(url, "shared"))
    worker_pid = int(trial.user_attrs["worker"].rsplit(":", 2)[1])
    os.kill(worker_pid, signal.SIGKILL)
    assert process.wait(timeout=600) == 0, "".join(lines)
    output = "".join(lines)
    assert f"worker 0 was killed (signal 9)" in output or "worker 1 was killed (signal 9)" in output, output
    trials = optuna.load_study(study_name="shared", storage=url).get_trials()
    killed = trials[trial.number]
    assert killed.state == TrialState.FAIL
    assert killed.user_attrs["fail_reason"] == f"its worker (pid {worker_pid}) died mid-trial"
    retried = [t for t in trials if retried_trial_number(t) == trial.number]
    assert len(retried) == 1 and retried[0].state == TrialState.COMPLETE
    assert retried[0].params == killed.params
    assert sum(t.state == TrialState.COMPLETE for t in trials) == 4
    assert len({t.user_attrs["worker"] for t in trials}) == 2, "both workers ran trials"
    assert url.split("@")[0].split(":")[-1] not in output, "the password was printed"


def test_a_wrong_password_or_an_unreachable_server_is_one_line_without_the_password(tmp_path, postgres):
    repo = copy_repo(tmp_path / "repo")
    for url in (postgres.url(password="not-the-password"), "postgresql://tune:s3cret-pw@127.0.0.1:9/nowhere"):
        result = tune(repo, "--storage", url, "--trials", "1", check=False)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 1 and len(lines) == 1, result.stderr
        assert lines[0].startswith(f"error: cannot open the study storage postgresql://tune:***@127.0.0.1:")
        assert "password authentication failed" in lines[0] or "Connection refused" in lines[0]
        assert "not-the-password" not in result.stdout + result.stderr
        assert "s3cret-pw" not in result.stdout + result.stderr


def test_another_machines_dead_worker_is_found_by_the_heartbeat_and_its_trial_run_again(tmp_path, postgres):
    """Two "machines" (host names) on one PostgreSQL study: machine A's worker is killed mid-trial; its
    process cannot be checked from B, so B's worker fails A's trial once its heartbeat is stale, and runs
    the same params again."""
    url = postgres.create_database("machines")
    repo = copy_repo(tmp_path / "repo")
    set_params(repo, train={**FAST, "max_iter": 100_000})
    space = write_space(repo, "hb.yaml", {"train.learning_rate": {"low": 0.002, "high": 0.02, "log": True}},
                        study="machines", pruner={"kind": "none"})
    beats = {"DIGIT_PIPELINE_TUNE_HEARTBEAT_SECONDS": "1", "DIGIT_PIPELINE_TUNE_GRACE_SECONDS": "4"}
    os.environ.update(beats)  # for start_tune's environment
    try:
        os.environ["DIGIT_PIPELINE_TUNE_HOST"] = "machine-a"
        process, lines = start_tune(repo, "--space", space, "--storage", url, "--trials", "1")
        trial = wait_for_running_trial(process, lines, lambda: pg_study(url, "machines"))
        os.killpg(process.pid, signal.SIGKILL)  # the whole machine's sweep, dvc and training included
        process.wait(timeout=30)
        time.sleep(6)  # past the grace period: its last heartbeat is stale
        os.environ["DIGIT_PIPELINE_TUNE_HOST"] = "machine-b"
        set_params(repo, train={**FAST, "max_iter": 12})  # machine B's trials are short
        result = tune(repo, "--space", space, "--storage", url, "--trials", "1")
    finally:
        for key in (*beats, "DIGIT_PIPELINE_TUNE_HOST"):
            os.environ.pop(key, None)
    trials = optuna.load_study(study_name="machines", storage=url).get_trials()
    assert trials[trial.number].state == TrialState.FAIL, result.stdout
    retried = [t for t in trials if retried_trial_number(t) == trial.number]
    assert len(retried) == 1 and retried[0].state == TrialState.COMPLETE, result.stdout
    assert retried[0].params == trials[trial.number].params
    assert retried[0].user_attrs["worker"].startswith("machine-b:")
    assert "its worker stopped beating" in result.stdout
