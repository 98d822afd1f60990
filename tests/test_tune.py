"""`python -m pipeline tune` on a fresh copy of the repo and the offline sample, as a user runs it:
every trial a DVC experiment, resume, a diverging trial, Ctrl-C, a killed worker, PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
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

from pipeline.tuning import workers
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


def tune(repo: Path, *args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "pipeline", "tune", *args], cwd=repo,
                            env={**environment(repo), **(env or {})}, capture_output=True, text=True, timeout=900)
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
    # the seeded sampler went on drawing new points (it drew trial 0's again, from seed 0, before)
    drawn = [json.dumps(t.params, sort_keys=True) for t in study.get_trials()]
    assert len(set(drawn)) == 4, drawn
    assert "small-3" in experiments(repo)
    again = tune(repo, "--trials", "4")  # nothing left to do: no new trial
    assert len(load(repo, "small").get_trials()) == 4, again.stdout


def test_a_study_of_the_same_name_with_another_space_is_refused(swept):
    repo, _ = swept
    other = write_space(repo, "other.yaml", {**SMALL_SPACE, "train.max_iter": {"low": 8, "high": 20, "step": 4}},
                        study="small")
    result = tune(repo, "--space", other, "--trials", "5", check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [  # the file given, not tune.yaml (it named tune.yaml before)
        f"error: study 'small' in tune/journal.log was made with another search space than other.yaml's "
        f"(they differ in train.max_iter); name a new study with --study, or put the space it was made with "
        f"back in other.yaml"]


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


def test_a_trial_that_trails_the_median_is_pruned_through_its_train_stage(swept):
    """The train stage's hook reports over its worker's channel, and the worker's pruner stops it: a trial
    at a learning rate that learns nothing, after one at 0.01 (seed 10 draws them in that order)."""
    repo, _ = swept
    space = write_space(repo, "prune.yaml", {"train.learning_rate": {"choices": [0.01, 1.0e-7]}}, study="prune",
                        sampler="random", seed=10, pruner={"startup_trials": 1, "warmup_percent": 0})
    result = tune(repo, "--space", space, "--trials", "2")
    trials = load(repo, "prune").get_trials()
    assert [t.params["train.learning_rate"] for t in trials] == [0.01, 1.0e-7]
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.PRUNED], result.stdout
    at = trials[1].user_attrs["pruned_at_percent"]
    assert at < 100 and max(trials[1].intermediate_values) == at
    assert f"trial 1: pruned at {at} % of its updates" in result.stdout


def test_a_diverging_trial_is_recorded_failed_with_its_reason_and_the_study_goes_on(swept):
    repo, _ = swept
    # 1e30 overflows float32 at the second update whatever the inputs' scale: 1e12 stopped diverging (a
    # finite loss of 4e11) once the defaults deskewed and projected the digits onto 128 directions
    space = write_space(repo, "diverge.yaml", {"train.optimizer": {"choices": ["gd"]},
                                               "train.learning_rate": {"choices": [1.0e30, 0.01]}},
                        study="diverge", seed=0, sampler="random")
    result = tune(repo, "--space", space, "--trials", "2", check=False)
    trials = load(repo, "diverge").get_trials()
    failed = [t for t in trials if t.state == TrialState.FAIL]
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    assert failed, result.stdout
    for trial in failed:
        assert trial.params["train.learning_rate"] == 1.0e30
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


# -- as users run it: damage, a second command, --trials, a full or read-only disk -------------------------

DAMAGE = {
    "cut mid-line": b'{"op_code":5,"worker_id":"w","trial_id":3,"param_na',
    "cut mid-UTF-8 character": '{"op_code":8,"worker_id":"w","trial_id":3,"user_attr":{"why":"caf\u00e9'.encode()[:-1],
    "an empty last line": b"\n",
    "garbage bytes": b"\x00\xff\xfe not json\n\x89PNG\r\n\x1a",
}


def summary(study) -> list[tuple]:
    return [(t.number, t.state, t.value, t.params) for t in study.get_trials()]


def journal_at(path: Path, study: str):
    """The study as Optuna alone reads it from ``path``."""
    return optuna.load_study(study_name=study, storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(path))))


@pytest.mark.parametrize("kind", DAMAGE)
def test_a_damaged_journal_is_repaired_before_tune_appends_and_every_trial_still_loads(swept, kind):
    """A crash mid-write leaves a broken last line; tune used to append after it, and from then on no one
    could open the study ("Expecting ':' delimiter")."""
    repo, _ = swept
    good = (repo / "tune" / "journal.log").read_bytes()
    journal = repo / "tune" / f"damaged-{list(DAMAGE).index(kind)}.log"
    journal.write_bytes(good + DAMAGE[kind])
    before = summary(journal_at(repo / "tune" / "journal.log", "small"))
    finished = sum(t[1] == TrialState.COMPLETE for t in before)
    result = tune(repo, "--storage", str(journal.relative_to(repo)), "--trials", str(finished), check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    said = [line for line in result.stderr.splitlines() if "broken line" in line]
    assert len(said) == 1 and said[0].startswith(f"tune: {journal.relative_to(repo)}: removed "), result.stderr
    [backup] = journal.parent.glob(f"{journal.name}.damaged-*")
    assert backup.read_bytes() == good + DAMAGE[kind]
    assert summary(journal_at(journal, "small")) == before  # Optuna's own load_study: every trial


def test_a_journal_damaged_while_a_sweep_runs_is_repaired_before_its_next_record(tmp_path):
    repo = copy_repo(tmp_path / "repo")
    set_params(repo, train={**FAST, "max_iter": 400})
    space = write_space(repo, "run.yaml", {"train.learning_rate": {"low": 0.002, "high": 0.02, "log": True}},
                        study="run", pruner={"kind": "none"})
    process, lines = start_tune(repo, "--space", space, "--trials", "2")
    wait_for_running_trial(process, lines, lambda: load(repo, "run"))
    journal = repo / "tune" / "journal.log"
    lock = Path(f"{journal}.lock")
    while True:  # as a writer that dies mid-record: under the journal's lock
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError:
            time.sleep(0.01)
    os.write(fd, workers.this_worker().encode())
    os.close(fd)
    with open(journal, "ab") as handle:
        handle.write(DAMAGE["cut mid-line"])
    lock.unlink()
    assert process.wait(timeout=300) == 0, "".join(lines)
    output = "".join(lines)
    assert output.count("broken line") == 1 and "(line " in output, output
    trials = journal_at(journal, "run").get_trials()
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.COMPLETE]
    assert trials[0].intermediate_values  # its reports from before and after the damage


def test_a_lock_left_by_a_killed_tune_is_removed_at_once_with_one_line(swept):
    repo, _ = swept
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    (repo / "tune" / "journal.log.lock").write_text(f"{workers.host()}:{child.pid}:")
    finished = sum(t.state == TrialState.COMPLETE for t in load(repo, "small").get_trials())
    result = tune(repo, "--trials", str(finished))
    # not Optuna's 30 s wait for a lock it cannot tell is dead: no wait of SAY_AFTER_SECONDS (2 s) or more
    # and no take-over, on tune's own clock (a bound on the whole command counted dvc's start and the data
    # step too, which a loaded machine stretches)
    assert "waiting for tune/journal.log.lock" not in result.stderr and "took over" not in result.stderr
    assert (f"tune: removed tune/journal.log.lock, left by a process that died while it wrote to the journal "
            f"(pid {child.pid})") in result.stderr.splitlines()
    assert not (repo / "tune" / "journal.log.lock").exists()


def test_trials_n_runs_n_trials_with_two_workers(swept):
    """Each worker used to check the count only when its trial ended: --trials 3 --workers 2 ran 4."""
    repo, _ = swept
    space = write_space(repo, "exact.yaml", SMALL_SPACE, study="exact", seed=1)
    result = tune(repo, "--space", space, "--workers", "2", "--trials", "3")
    trials = load(repo, "exact").get_trials()
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 3, result.stdout
    assert len({t.user_attrs["worker"] for t in trials}) == 2


HOLD_DATA = """
import sys
from dvc.repo import Repo
from dvc.rwlock import rwlock
repo = Repo(".")
# DVC's own lock on the data, as a `dvc repro` preparing it holds it
with rwlock(repo.tmp_dir, repo.fs, "dvc repro fetch", [], [repo.fs.abspath("data/raw")], False):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_a_second_tune_in_the_workspace_waits_for_the_data_joins_the_study_and_ctrl_c_stays_its_own(tmp_path):
    """Two `tune` commands started while a dvc command prepares the data (it was: exit 1, "'data/raw' is
    busy"): both wait for it with a line, then run trials of the one study, never the same trial; a
    third, with a short bound, gives up in one line. Ctrl-C of one command fails its own trial only."""
    repo = copy_repo(tmp_path / "repo")
    set_params(repo, train={**FAST, "max_iter": 100_000})
    space = write_space(repo, "two.yaml", {"train.learning_rate": {"low": 0.002, "high": 0.02, "log": True}},
                        study="two", pruner={"kind": "none"})
    holder = subprocess.Popen([sys.executable, "-c", HOLD_DATA], cwd=repo, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=environment(repo))
    STARTED.append(holder)
    assert holder.stdout.readline().strip() == "held"
    first, first_lines = start_tune(repo, "--space", space, "--trials", "4")
    second, second_lines = start_tune(repo, "--space", space, "--trials", "4")
    bounded = tune(repo, "--space", space, "--trials", "4", check=False,
                   env={"DIGIT_PIPELINE_TUNE_DATA_WAIT_SECONDS": "2"})
    for lines in (first_lines, second_lines):
        deadline = time.monotonic() + 120
        while not any("waiting for DVC's lock on the data" in line for line in lines):
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.2)
        assert f"held by pid {holder.pid}: dvc repro fetch" in "".join(lines)
    holder.stdin.close()  # the other dvc command ends
    holder.wait(timeout=30)

    def both_running():
        running = [t for t in load(repo, "two").get_trials() if t.state == TrialState.RUNNING and t.intermediate_values]
        return running if len(running) == 2 else None

    deadline = time.monotonic() + 300
    while not (running := both_running()):
        assert time.monotonic() < deadline and first.poll() is None and second.poll() is None, \
            "".join(first_lines) + "".join(second_lines)
        time.sleep(0.5)
    assert len({t.user_attrs["worker"] for t in running}) == 2
    os.killpg(first.pid, signal.SIGINT)  # Ctrl-C in the first command's terminal
    assert first.wait(timeout=120) == 130, "".join(first_lines)
    time.sleep(3)
    assert second.poll() is None, "".join(second_lines)
    trials = {t.number: t for t in load(repo, "two").get_trials()}
    mine = {n for n, t in trials.items() if f"trial {n} (two-{n})" in "".join(first_lines)}
    theirs = {n for n, t in trials.items() if f"trial {n} (two-{n})" in "".join(second_lines)}
    assert len(mine) == 1 and len(theirs) == 1 and not mine & theirs
    [m], [t] = mine, theirs
    assert trials[m].state == TrialState.FAIL and trials[m].user_attrs["fail_reason"] == "interrupted (Ctrl-C)"
    assert trials[t].state == TrialState.RUNNING  # the other command's trial goes on
    os.killpg(second.pid, signal.SIGINT)
    assert second.wait(timeout=120) == 130
    assert bounded.returncode == 1, bounded.stdout + bounded.stderr
    assert bounded.stderr.strip().splitlines() == [
        f"error: dvc repro split: the data is still locked by pid {holder.pid}: dvc repro fetch after 2 s "
        f"(DIGIT_PIPELINE_TUNE_DATA_WAIT_SECONDS sets how long to wait); if no such process runs, remove "
        f".dvc/tmp/rwlock and run tune again"]


def in_own_mounts(repo: Path, script: str) -> subprocess.CompletedProcess:
    """``script`` (sh) in the repo, in a mount namespace of its own, where it may mount over tune/: a disk
    that is full or read-only for that script alone. Needs root (CI runs as root)."""
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("needs `unshare --mount` (root) to give tune/ a disk of its own")
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script], cwd=repo,
                          env=environment(repo), capture_output=True, text=True, timeout=600)


def test_a_read_only_tune_folder_is_one_line_and_the_journal_is_untouched(swept):
    repo, _ = swept
    journal = (repo / "tune" / "journal.log").read_bytes()
    result = in_own_mounts(repo, "mount --bind tune tune && mount -o remount,bind,ro tune && "
                                 f"{sys.executable} -m pipeline tune --trials 9")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: cannot write beside the study journal tune/journal.log: Read-only file system; nothing was written"]
    assert (repo / "tune" / "journal.log").read_bytes() == journal


def test_a_disk_that_fills_up_mid_sweep_is_one_line_and_no_trial_is_lost(swept, tmp_path):
    """tune/ on a 1 MB disk that the test fills once a trial has started: the next record cannot be
    written (it may be cut off). One line; every earlier trial still loads; the next tune, with space
    again, removes a cut-off record and runs the trial left running again."""
    repo, _ = swept
    saved = tmp_path / "journal.log"
    saved.write_bytes((repo / "tune" / "journal.log").read_bytes())
    before = summary(journal_at(saved, "small"))
    out = tmp_path / "out"
    script = f"""
mount -t tmpfs -o size=1m tmpfs tune && cp {saved} tune/journal.log || exit 99
{sys.executable} -m pipeline tune --trials 9 > {out}.stdout 2> {out}.stderr &
pid=$!
until grep -q "trial [0-9]* (small-" {out}.stdout; do sleep 0.2; kill -0 $pid 2>/dev/null || break; done
head -c 2000000 /dev/zero > tune/filler 2>/dev/null
wait $pid; echo $? > {out}.code
cp tune/journal.log {tmp_path}/after.log
"""
    result = in_own_mounts(repo, script)
    assert result.returncode == 0, result.stdout + result.stderr
    stdout, stderr = Path(f"{out}.stdout").read_text(), Path(f"{out}.stderr").read_text()
    assert Path(f"{out}.code").read_text().strip() == "1", stdout + stderr
    # the trial's log, or a record of the journal (then maybe cut off), could not be written: one line
    assert "Traceback" not in stderr and "Should not reach" not in stderr, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith(("error: cannot write ", "error: tune/journal.log holds broken lines")), stderr
    assert "No space left on device" in last, stderr
    after = tmp_path / "after.log"
    assert summary(journal_at(after, "small"))[:len(before)] == before  # Optuna's own load_study
    # space again: the same study goes on, with the trial the full disk stopped run again
    shutil.copy(after, repo / "tune" / "after-full.log")
    again = tune(repo, "--storage", "tune/after-full.log", "--trials", str(len(before) + 1))
    new = journal_at(repo / "tune" / "after-full.log", "small").get_trials()[len(before):]
    shown = again.stdout + "\n".join(f"{t.number} {t.state.name} {t.params} {t.system_attrs}" for t in new)
    stopped = [t for t in new if t.state == TrialState.FAIL]
    assert len(stopped) == 1, shown
    assert "No space left on device" in stopped[0].user_attrs["fail_reason"] or \
        "died mid-trial" in stopped[0].user_attrs["fail_reason"]  # when even its reason could not be written
    # Run again once, to its end. Complete or pruned: the pruner compares it with the study's other
    # trials, and the study holds a fourth complete trial (the pruner's startup count) when the resume
    # test ran before this one in the same pytest worker. Queued once: the full-disk run may have
    # queued it before it stopped, and reaping it as a dead worker's trial queued a second copy.
    retries = [t for t in new if retried_trial_number(t) == stopped[0].number]
    assert [t.state for t in retries] in ([TrialState.COMPLETE], [TrialState.PRUNED]), shown
    assert retries[0].params == stopped[0].params and len(new) == 2, shown


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
    assert [t.state for t in trials].count(TrialState.COMPLETE) == 4 and len(trials) == 5  # --trials 4 and no more
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
