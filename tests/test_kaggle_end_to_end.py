"""The issue's "done when": with fake credentials and the fake Kaggle, `dvc repro` (fetch.source:
kaggle) -> `submit` -> `scores` works end to end, the ledger holds the score, the report shows
it, and the key appears in no output and no file."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
import yaml

from digits_support import competition_zip, sample_submission, train_csv, unlabelled_csv
from fake_kaggle import FakeKaggle
from kaggle_support import (N_TEST, answer_key, assert_no_secret, assert_no_secret_in_files, kaggle_env, ledger_rows,
                            pipeline)
from pipeline.data.sample import build_sample, load_mnist_sample
from pipeline.submissions.format import accuracy
from repo_support import copy_repo, run, set_params
from test_end_to_end import FAST_TRAIN

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fake():
    zip_bytes, solution = build_sample(*load_mnist_sample())  # real digits, and their answer key
    fake = FakeKaggle(zip_bytes, solution).start()
    fake.pending_polls = 1
    fake.answer_key = solution
    yield fake
    fake.stop()


def dvc(args: list[str], repo, env) -> subprocess.CompletedProcess:
    full_env = {**env, "PATH": f"{sys.executable.rsplit('/', 1)[0]}:{env['PATH']}"}
    result = subprocess.run(["dvc", *args], cwd=repo, env=full_env, capture_output=True, text=True)
    assert_no_secret(result.stdout + result.stderr, f"dvc {args}")
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_repro_from_kaggle_then_submit_then_scores(fake, tmp_path):
    repo = copy_repo(tmp_path / "repo")
    set_params(repo, fetch={"source": "kaggle"}, train=FAST_TRAIN)
    home = tmp_path / "home"
    env = kaggle_env(fake, home, VERBOSE="1")  # VERBOSE: the client would print request headers
    # One BLAS thread: on a small shared machine, threads fighting over two cores made the tiny
    # training run ten times slower (same numbers either way).
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")

    repro = dvc(["repro"], repo, env)
    assert "fetch: data/raw/digit-recognizer.zip from kaggle (digit-recognizer)" in repro.stdout
    assert (repo / "data/raw/digit-recognizer.zip").read_bytes() == fake.zip_bytes
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-q", "-m", "trained"], repo)
    commit = run(["git", "rev-parse", "HEAD"], repo).stdout.strip()

    submitted = pipeline(["submit"], repo, env)
    assert submitted.returncode == 0, submitted.stderr
    (repo / "solution.csv").write_bytes(fake.answer_key)
    value, _ = accuracy(repo / "submissions/submission.csv", repo / "solution.csv")
    (repo / "solution.csv").unlink()
    assert f"public score {value:.5f} (ref 41000001)" in submitted.stdout
    [sub] = fake.submissions.values()
    written = yaml.safe_load((repo / "params.yaml").read_text())
    rate, tta, optimizer = (written["train"]["learning_rate"], written["predict"]["tta_shift"],
                            written["train"]["optimizer"])
    assert sub["description"].startswith(f"{commit[:7]} hidden [64] {optimizer} lr {rate:g} cosine 60 it, tta {tta} px, val acc 0.")

    scores = pipeline(["scores"], repo, env)
    assert scores.returncode == 0, scores.stderr
    assert "0 added, 0 updated" in scores.stdout and f"{value:.5f}  *" in scores.stdout
    assert "leaderboard: #" in scores.stdout
    [row] = ledger_rows(repo)
    assert (row["ref"], row["status"], float(row["public_score"]), row["git_commit"]) == (
        "41000001", "complete", float(f"{value:.5f}"), commit)
    assert float(row["validation_accuracy"]) > 0.5 and len(row["params_digest"]) == 12

    # The report stage depends on the ledger: it reruns and shows the new score.
    again = dvc(["repro"], repo, env)
    assert "Running stage 'report'" in again.stdout and "Running stage 'train'" not in again.stdout
    assert "41000001" in (repo / "reports/index.html").read_text()

    # What git sees: the ledger, the archive, and dvc.lock (the report's new input); nothing else
    # (the lock file and the scores plot are ignored).
    status = run(["git", "status", "--porcelain", "--untracked-files=all"], repo).stdout.split("\n")
    changed = sorted(line[3:] for line in status if line)
    sha = row["file_sha256"]
    assert changed == ["dvc.lock", f"submissions/archive/{sha}.csv", f"submissions/archive/{sha}.json",
                       "submissions/history.csv"]
    # Every file but git's objects and the fake server's source (which defines the fake key).
    assert assert_no_secret_in_files(repo, skip=(repo / ".git", repo / "tests/fake_kaggle.py")) > 20
    assert_no_secret_in_files(home)


@pytest.mark.slow
def test_a_zip_with_its_files_in_a_subfolder_goes_from_repro_to_submit(tmp_path):
    """As a zip of the folder has them: fetch accepts it, and submit counts test.csv's rows as split read them."""
    buffer = io.BytesIO()
    competition_zip(buffer, {f"digit-recognizer/{name}": data for name, data in (
        ("train.csv", train_csv(200)), ("test.csv", unlabelled_csv(N_TEST)), ("sample_submission.csv",
                                                                             sample_submission(N_TEST)))})
    fake = FakeKaggle(buffer.getvalue(), answer_key()).start()
    try:
        repo = copy_repo(tmp_path / "repo")
        set_params(repo, fetch={"source": "kaggle"}, train={**FAST_TRAIN, "max_iter": 4, "eval_every": 2},
                   predict={"tta_shift": 0})
        env = kaggle_env(fake, tmp_path / "home", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        dvc(["repro", "predict"], repo, env)
        submitted = pipeline(["submit", "--wait", "0"], repo, env)
        assert submitted.returncode == 0, submitted.stderr
        assert f"({N_TEST} rows, sha256" in submitted.stdout
        [sub] = fake.submissions.values()
        assert sub["bytes"] == (repo / "submissions/submission.csv").read_bytes()
    finally:
        fake.stop()
