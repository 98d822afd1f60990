"""A failed or interrupted stage under `dvc repro` keeps the last good outputs, and params that
already ran come back from DVC's run cache instead of training again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from repo_support import GIT_ENV, as_in_a_terminal, copy_repo, run, set_params, stop_group

pytestmark = pytest.mark.slow

OUTPUTS = ["models/model.npz", "metrics/train.json", "metrics/train_curve.csv", "metrics/validation_curve.csv",
           "metrics/confusion.csv", "metrics/predict.json", "submissions/submission.csv"]
GOOD = {"hidden_layer_sizes": [16], "max_iter": 12, "eval_every": 4}


def snapshot(repo: Path) -> dict[str, bytes]:
    return {name: (repo / name).read_bytes() for name in OUTPUTS}


@pytest.fixture
def repo(tmp_path):
    home = tmp_path / "home"
    env = {"HOME": str(home), "KAGGLE_CONFIG_DIR": str(home / "kaggle"), "KAGGLE_USERNAME": "", "KAGGLE_KEY": "",
           "KAGGLE_API_TOKEN": ""}
    path = copy_repo(tmp_path / "repo")
    set_params(path, train=GOOD)
    run(["dvc", "repro"], path, env)
    return path, env


def test_a_bad_param_or_a_failed_training_keeps_the_last_good_outputs(repo):
    path, env = repo
    good, params = snapshot(path), (path / "params.yaml").read_text()

    set_params(path, train={"learnig_rate": 0.01})  # a typo
    result = run(["dvc", "repro"], path, env, check=False)
    assert result.returncode != 0
    assert "error: params.yaml.train has unknown key(s) learnig_rate" in result.stderr
    assert snapshot(path) == good, "dvc repro deleted the outputs and nothing put them back"

    (path / "params.yaml").write_text(params)
    # diverges: the stage fails (1e30 overflows float32 at the second update whatever the inputs' scale;
    # 1e12 left a finite loss once the digits were deskewed and projected)
    set_params(path, train={"optimizer": "gd", "learning_rate": 1e30})
    result = run(["dvc", "repro"], path, env, check=False)
    assert result.returncode != 0 and "training diverged" in result.stderr
    assert snapshot(path) == good

    (path / "params.yaml").write_text(params)  # back to the good params: nothing is left to run
    assert run(["dvc", "status", "--json"], path, env).stdout.strip() == "{}"


def test_ctrl_c_during_training_keeps_the_last_good_outputs(repo):
    path, env = repo
    good = snapshot(path)
    set_params(path, train={"max_iter": 100_000})
    full_env = {**os.environ, **GIT_ENV, **env, "PYTHONUNBUFFERED": "1"}
    full_env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + full_env["PATH"]
    process = subprocess.Popen(["dvc", "repro"], cwd=path, env=full_env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True,
                               preexec_fn=as_in_a_terminal)
    try:
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
        reader.start()
        deadline = time.monotonic() + 120
        # The progress line comes from inside fit: the stage's command is running and dvc has deleted its outputs.
        while not any(line.startswith("train: ") and "/100000 it" in line for line in lines):
            assert process.poll() is None and time.monotonic() < deadline, "".join(lines)
            time.sleep(0.1)
        assert not (path / "models/model.npz").exists()
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        process.wait(timeout=60)
        reader.join(timeout=10)
    finally:
        stop_group(process)
    assert process.returncode != 0
    assert snapshot(path) == good, "".join(lines)


def test_params_that_already_ran_come_back_from_the_run_cache(repo):
    path, env = repo
    good, params = snapshot(path), (path / "params.yaml").read_text()
    set_params(path, train={"max_iter": 14})
    run(["dvc", "repro"], path, env)
    assert snapshot(path)["models/model.npz"] != good["models/model.npz"]

    (path / "params.yaml").write_text(params)
    result = run(["dvc", "repro"], path, env)
    assert "Stage 'train' is cached - skipping run" in result.stdout, result.stdout
    assert "Stage 'predict' is cached - skipping run" in result.stdout, result.stdout
    assert snapshot(path) == good


def test_a_failed_stage_puts_back_a_directory_output(repo):
    """split's output is a folder (data/prepared): its files come back through DVC's listing of it."""
    path, env = repo
    before = {p.name: p.read_bytes() for p in (path / "data/prepared").iterdir()}
    set_params(path, split={"validation_fraction": 1.5})
    result = run(["dvc", "repro", "split"], path, env, check=False)
    assert result.returncode != 0 and "split.validation_fraction must be between 0 and 1" in result.stderr
    assert {p.name: p.read_bytes() for p in (path / "data/prepared").iterdir()} == before


def test_a_failed_fetch_puts_back_data_raw(tmp_path):
    """Issue 28: each of a newcomer's failed fetches left data/raw empty, and `--solution data/raw/solution.csv`
    named a missing file. Now the folder comes back as dvc.lock records it, whatever the failure."""
    import zipfile

    home = tmp_path / "home"
    env = {"HOME": str(home), "KAGGLE_CONFIG_DIR": str(home / "kaggle"), "KAGGLE_USERNAME": "", "KAGGLE_KEY": "",
           "KAGGLE_API_TOKEN": ""}
    path = copy_repo(tmp_path / "repo")
    run(["dvc", "repro", "fetch"], path, env)  # no credentials: the embedded sample, with its answer key
    raw = path / "data/raw"
    good, params = {p.name: p.read_bytes() for p in raw.iterdir()}, (path / "params.yaml").read_text()
    assert sorted(good) == ["digit-recognizer.zip", "solution.csv", "source.json"]
    with zipfile.ZipFile(path / "empty.zip", "w"):
        pass
    cases = [({"source": "missing.zip"}, {}, "which is neither auto, kaggle, sample, nor an existing zip"),
             ({"source": "empty.zip"}, {}, "empty.zip"),
             ({"source": "kaggle"}, {}, "no Kaggle credentials found"),
             ({}, {"DIGIT_PIPELINE_MAX_MEMBER_MB": "lots"}, "DIGIT_PIPELINE_MAX_MEMBER_MB must be a whole number")]
    for fetch, extra_env, said in cases:
        (path / "params.yaml").write_text(params)
        set_params(path, fetch=fetch)
        result = run(["dvc", "repro", "-f", "fetch"], path, {**env, **extra_env}, check=False)
        assert result.returncode != 0 and said in result.stderr, (fetch, extra_env, result.stderr)
        assert "fetch: put back the last good data/raw (as dvc.lock records them)" in result.stderr, result.stderr
        assert {p.name: p.read_bytes() for p in raw.iterdir()} == good, (fetch, extra_env)
        scored = run(["python", "-m", "pipeline", "score", "data/raw/solution.csv", "--solution",
                      "data/raw/solution.csv"], path, env)
        assert scored.stdout.startswith("accuracy 1.00000"), scored.stdout
    (path / "params.yaml").write_text(params)
    assert run(["dvc", "status", "fetch", "--json"], path, env).stdout.strip() == "{}"
