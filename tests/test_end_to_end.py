"""`dvc repro` on a fresh copy of the repo, with the offline sample: the README's main job."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from repo_support import copy_repo, run, set_params
from pipeline.submissions.format import accuracy, read_submission

pytestmark = pytest.mark.slow
FAST_TRAIN = {"hidden_layer_sizes": [64], "max_iter": 60, "eval_every": 20}


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")  # no ~/.kaggle: `auto` must fall back to the sample
    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    set_params(repo, train=FAST_TRAIN)
    env = {"HOME": str(home), "KAGGLE_CONFIG_DIR": str(home / "kaggle"), "KAGGLE_USERNAME": "", "KAGGLE_KEY": "",
           "KAGGLE_API_TOKEN": ""}
    result = run(["dvc", "repro"], repo, env)
    repo.joinpath("repro.log").write_text(result.stdout + result.stderr)
    return repo, env, result


def test_repro_writes_a_valid_submission_for_the_sample(repo):
    path, _, result = repo
    ids, labels = read_submission(path / "submissions/submission.csv", expected_rows=2000)
    assert ids[-1] == 2000 and set(np.unique(labels)) <= set(range(10))
    value, rows = accuracy(path / "submissions/submission.csv", path / "data/raw/solution.csv")
    assert rows == 2000 and value > 0.8  # a real model, not a constant guess (0.1)
    predict_metrics = json.loads((path / "metrics/predict.json").read_text())
    assert predict_metrics["test_accuracy"] == pytest.approx(value)
    assert "NOT the competition data" in result.stderr


def test_predict_scores_the_submissions_procedure_and_the_single_view_on_unseen_rows(repo):
    path, _, _ = repo
    metrics = json.loads((path / "metrics/predict.json").read_text())
    assert metrics["tta_copies"] == 9  # params.yaml's predict.tta_shift 1: every move up to a pixel
    train = json.loads((path / "metrics/train.json").read_text())
    assert metrics["validation_accuracy_single"] == train["validation_accuracy"]  # the same model, one view
    assert 0.8 < metrics["validation_accuracy"] <= 1 and 0.8 < metrics["test_accuracy_single"] <= 1


def test_a_predict_param_reruns_predict_and_report_only(repo):
    path, env, _ = repo
    set_params(path, predict={"tta_shift": 0})
    try:
        status = run(["dvc", "status", "--json"], path, env).stdout
        assert set(json.loads(status)) == {"predict", "report"}, status
    finally:
        set_params(path, predict={"tta_shift": 1})


def test_repro_writes_metrics_plots_and_model(repo):
    path, _, _ = repo
    metrics = json.loads((path / "metrics/train.json").read_text())
    assert {"train_accuracy", "train_loss", "validation_accuracy", "validation_loss", "iterations",
            "train_seconds"} <= set(metrics)
    assert metrics["iterations"] == FAST_TRAIN["max_iter"]
    curve = (path / "metrics/train_curve.csv").read_text().splitlines()
    assert curve[0].startswith("iteration,loss,accuracy") and len(curve) == FAST_TRAIN["max_iter"] + 1
    confusion = (path / "metrics/confusion.csv").read_text().splitlines()
    assert confusion[0] == "actual,predicted" and len(confusion) == 300 + 1  # 10 % of 3,000 rows
    assert (path / "models/model.npz").stat().st_size > 0


def test_repro_leaves_no_untracked_files(repo):
    path, _, _ = repo
    status = run(["git", "status", "--porcelain", "--untracked-files=all"], path).stdout.splitlines()
    untracked = [line for line in status if line.startswith("??") and not line.endswith("repro.log")]
    assert untracked == []


def test_second_repro_is_a_no_op_and_dvc_metrics_show_works(repo):
    path, env, _ = repo
    again = run(["dvc", "repro"], path, env)
    assert "didn't change, skipping" in again.stdout or "Data and pipelines are up to date" in again.stdout
    shown = run(["dvc", "metrics", "show", "--json"], path, env).stdout
    assert "validation_accuracy" in shown and "test_accuracy" in shown


def test_training_again_gives_byte_identical_model_and_submission(repo):
    path, env, _ = repo
    model, submission = (path / "models/model.npz").read_bytes(), (path / "submissions/submission.csv").read_bytes()
    run(["python", "-m", "pipeline", "train"], path, env)
    run(["python", "-m", "pipeline", "predict"], path, env)
    assert (path / "models/model.npz").read_bytes() == model
    assert (path / "submissions/submission.csv").read_bytes() == submission


def test_experiment_with_set_param_runs(repo):
    path, env, _ = repo
    run(["git", "add", "-A"], path)
    run(["git", "commit", "-q", "-m", "baseline"], path)
    result = run(["dvc", "exp", "run", "-S", "train.learning_rate=0.003", "-S", "train.max_iter=30"], path, env)
    assert "Ran experiment" in result.stdout + result.stderr
    metrics = json.loads((path / "metrics/train.json").read_text())
    assert metrics["iterations"] == 30
    shown = run(["dvc", "exp", "show", "--json"], path, env).stdout
    assert "0.003" in shown
    table = run(["python", "-m", "pipeline", "experiments"], path, {**env, "COLUMNS": "100"}).stdout
    line = next(line for line in table.splitlines() if "train.learning_rate=0.003" in line)
    assert "train.max_iter=30" in line and line.count(" %") == 2, table  # validation and test accuracy
    assert all(len(row) <= 100 for row in table.splitlines()), table


def test_outputs_travel_through_a_dvc_remote(repo, tmp_path):
    path, env, _ = repo
    remote = tmp_path / "remote"
    run(["dvc", "remote", "add", "-d", "shared", str(remote)], path, env)
    run(["dvc", "push"], path, env)
    run(["git", "add", "-A"], path)
    run(["git", "commit", "-q", "-m", "with remote"], path)
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(path), str(clone)], tmp_path)
    run(["dvc", "pull"], clone, env)
    for rel in ("submissions/submission.csv", "models/model.npz", "data/raw/digit-recognizer.zip"):
        assert (clone / rel).read_bytes() == (path / rel).read_bytes(), rel
    status = run(["dvc", "status"], clone, env).stdout
    assert "up to date" in status


def test_queued_sweep_runs_two_at_a_time_and_exp_show_compares(repo):
    """The README's sweep: queue experiments, run them with two workers, compare them."""
    path, env, _ = repo
    run(["git", "add", "-A"], path)
    run(["git", "commit", "-q", "--allow-empty", "-m", "before the sweep"], path)
    for rate in ("0.002", "0.02"):
        run(["dvc", "exp", "run", "--queue", "-S", f"train.learning_rate={rate}", "-S", "train.max_iter=10"], path, env)
    run(["dvc", "queue", "start", "-j", "2"], path, env)
    try:
        deadline = time.monotonic() + 600
        while True:
            status = run(["dvc", "queue", "status"], path, env).stdout
            if not any(state in status for state in ("Queued", "Running")) or time.monotonic() > deadline:
                break
            time.sleep(3)
        assert status.count("Success") == 2, status
    finally:
        run(["dvc", "queue", "stop", "--kill"], path, env, check=False)
    experiments = json.loads(run(["dvc", "exp", "show", "--json"], path, env).stdout)
    found = {}
    for commit in experiments:
        for exp in commit.get("experiments") or []:
            for revision in exp.get("revs", []):
                data = revision.get("data") or {}
                rate = data.get("params", {}).get("params.yaml", {}).get("data", {}).get("train", {}).get("learning_rate")
                metrics = data.get("metrics", {}).get("metrics/train.json", {}).get("data", {})
                if rate is not None and "validation_accuracy" in metrics:
                    found[rate] = metrics
    assert set(found) == {0.002, 0.02}, found
    assert all(m["iterations"] == 10 for m in found.values())
