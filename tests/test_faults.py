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


# Loaded into every Python process of the run (through PYTHONPATH): the first fsync of a
# temporary file of STALL_TARGET, i.e. a stage that has written all of that output but not yet
# renamed it into place, marks STALL_MARK and hangs, so the kill below lands mid-write.
STALL_HOOK = """
import os, time
_target, _mark, _fsync = os.environ.get("STALL_TARGET"), os.environ.get("STALL_MARK"), os.fsync
def _stalling_fsync(fd):
    try:
        name = os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        name = ""
    if _target and name.startswith(f".{_target}.") and name.endswith(".tmp"):
        open(_mark, "w").close()
        time.sleep(600)
    return _fsync(fd)
os.fsync = _stalling_fsync
"""


def _kill_mid_write(process: subprocess.Popen, mark: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not mark.exists():
        assert process.poll() is None and time.monotonic() < deadline, process.stdout.read()
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.mark.slow
@pytest.mark.parametrize("stage, output", [
    ("train", "models/model.npz"),                 # the model written, not yet renamed into place
    ("fetch", "data/raw/digit-recognizer.zip"),    # the sample zip written, not yet renamed
])
def test_killed_stage_leaves_no_partial_output_and_repro_recovers(tmp_path, stage, output):
    repo = copy_repo(tmp_path / "repo")
    home, hook = tmp_path / "home", tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(STALL_HOOK)
    env = {"HOME": str(home), "KAGGLE_CONFIG_DIR": str(home / "kaggle"), "KAGGLE_USERNAME": "", "KAGGLE_KEY": "",
           "KAGGLE_API_TOKEN": ""}
    set_params(repo, train={"hidden_layer_sizes": [32], "max_iter": 20, "eval_every": 10})
    target = repo / output
    mark = tmp_path / "writing"
    process = _start(["dvc", "repro", stage], repo,
                     {**env, "PYTHONPATH": str(hook), "STALL_TARGET": target.name, "STALL_MARK": str(mark)})
    _kill_mid_write(process, mark)
    temporaries = list(target.parent.glob(f".{target.name}.*.tmp"))
    assert temporaries, "the kill did not land while the output was being written"
    assert not target.exists()  # dvc removed the old output; the new one never took its place
    result = run(["dvc", "repro"], repo, env)
    assert f"Running stage '{stage}'" in result.stdout
    ids, labels = read_submission(repo / "submissions/submission.csv", expected_rows=2000)
    assert len(labels) == 2000
    load_model(repo / "models/model.npz")
    assert not list(repo.rglob(".*.tmp")), "a dead writer's temporary file was left behind"
