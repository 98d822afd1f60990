"""Faults: interrupted stages, full disks, unwritable folders. Nothing half-written, nothing lost."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from repo_support import GIT_ENV, copy_repo, run, set_params
from test_bad_inputs import params, raw_zip
from pipeline.core import atomic
from pipeline.cli import main
from pipeline.model.model_file import load_model
from pipeline.submissions.format import read_submission


@pytest.fixture
def trained(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    params(tmp_path)
    raw_zip(tmp_path)
    assert main(["split"]) == 0 and main(["train"]) == 0 and main(["predict"]) == 0
    return tmp_path


def test_disk_full_while_writing_keeps_the_previous_submission(trained, monkeypatch, capsys):
    before = (trained / "submissions/submission.csv").read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    capsys.readouterr()
    assert main(["predict"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: submissions/submission.csv: No space left on device")
    assert (trained / "submissions/submission.csv").read_bytes() == before
    assert sorted(p.name for p in (trained / "submissions").iterdir()) == ["submission.csv"]


def test_unwritable_output_folder_is_a_clear_error(trained, capsys):
    (trained / "models/model.npz").unlink()
    (trained / "models").rmdir()
    (trained / "models").write_text("a file where the models folder should be")
    capsys.readouterr()
    assert main(["train"]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: models/model.npz: cannot write here (models is a file, not a folder)")
    assert (trained / "models").read_text().startswith("a file")


def _start(cmd: list[str], cwd: Path, env: dict) -> subprocess.Popen:
    full_env = {**os.environ, **GIT_ENV, **env, "PYTHONUNBUFFERED": "1"}
    full_env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + full_env["PATH"]
    return subprocess.Popen(cmd, cwd=cwd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)


def _kill_when(process: subprocess.Popen, marker: str, delay: float, timeout: float = 120) -> str:
    """Read output until ``marker`` appears, wait ``delay`` seconds, then SIGKILL the whole group."""
    seen = []
    deadline = time.monotonic() + timeout
    for line in process.stdout:
        seen.append(line)
        if marker in line or time.monotonic() > deadline:
            break
    time.sleep(delay)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return "".join(seen)


@pytest.mark.slow
@pytest.mark.parametrize("stage, marker, delay", [
    ("train", "train: ", 1.5),            # killed during the training loop
    ("fetch", "Running stage 'fetch'", 0.8),  # killed while building the sample zip
])
def test_killed_stage_leaves_no_partial_output_and_repro_recovers(tmp_path, stage, marker, delay):
    repo = copy_repo(tmp_path / "repo")
    home = tmp_path / "home"
    env = {"HOME": str(home), "KAGGLE_CONFIG_DIR": str(home / "kaggle"), "KAGGLE_USERNAME": "", "KAGGLE_KEY": "",
           "KAGGLE_API_TOKEN": ""}
    set_params(repo, train={"hidden_layers": [256], "iterations": 400, "eval_every": 50})
    process = _start(["dvc", "repro"], repo, env)
    output = _kill_when(process, marker, delay)
    assert process.returncode == -signal.SIGKILL, output
    # Whatever is in an output's place is complete: absent, or a whole file.
    model = repo / "models/model.npz"
    if model.exists():
        load_model(model)
    assert not list(repo.rglob(".*.tmp")) or stage == "fetch"  # a kill mid-write can leave only a hidden temp
    result = run(["dvc", "repro"], repo, env)
    ids, labels = read_submission(repo / "submissions/submission.csv", expected_rows=2000)
    assert len(labels) == 2000
    load_model(model)
    assert "Running stage 'train'" in result.stdout
