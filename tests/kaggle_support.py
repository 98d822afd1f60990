"""Helpers for tests that drive the real ``kaggle`` client against ``fake_kaggle``."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from digits_support import competition_zip, sample_submission, train_csv, unlabelled_csv
from fake_kaggle import FAKE_KEY, FAKE_TOKEN
from pipeline.core.arrays_file import save_arrays
from pipeline.data.competition_zip import read_member

ROOT = Path(__file__).resolve().parents[1]
N_TEST = 20
ANSWERS = [(i * 7) % 10 for i in range(1, N_TEST + 1)]
# Short limits, so that every fault test takes about a second. The timeout is generous for a
# local server on a busy machine; tests of a server that never answers lower it (SHORT_TIMEOUT).
SHORT_TIMEOUT = {"DIGIT_PIPELINE_KAGGLE_TIMEOUT": "1"}
FAST = {"DIGIT_PIPELINE_KAGGLE_TIMEOUT": "5", "DIGIT_PIPELINE_KAGGLE_RETRIES": "2",
        "DIGIT_PIPELINE_KAGGLE_BACKOFF_SECONDS": "0.05", "DIGIT_PIPELINE_KAGGLE_POLL_SECONDS": "0.05",
        "DIGIT_PIPELINE_LOCK_TIMEOUT": "10"}


def submission_text(labels) -> str:
    return "ImageId,Label\n" + "".join(f"{i},{label}\n" for i, label in enumerate(labels, start=1))


def answer_key() -> bytes:
    return submission_text(ANSWERS).encode()


def small_zip() -> bytes:
    buffer = io.BytesIO()
    competition_zip(buffer, {"train.csv": train_csv(30), "test.csv": unlabelled_csv(N_TEST),
                             "sample_submission.csv": sample_submission(N_TEST)})
    return buffer.getvalue()


def make_project(root: Path, zip_bytes: bytes, kind: str = "kaggle", correct: int = 18) -> Path:
    """A project folder as ``dvc repro`` leaves it (fetched zip, source.json, test arrays, a submission, metrics)."""
    (root / "data/raw").mkdir(parents=True)
    (root / "data/raw/digit-recognizer.zip").write_bytes(zip_bytes)
    (root / "data/raw/source.json").write_text(json.dumps({"kind": kind, "origin": "digit-recognizer"}))
    test_csv_rows = read_member(root / "data/raw/digit-recognizer.zip", "test.csv").count(b"\n") - 1
    save_arrays(root / "data/prepared/test.npz", {"X": np.zeros((test_csv_rows, 784), np.uint8)})
    (root / "params.yaml").write_text("fetch:\n  source: kaggle\n  competition: digit-recognizer\n"
                                      "train:\n  hidden_layer_sizes: [64]\n  max_iter: 60\n")
    (root / "metrics").mkdir()
    (root / "metrics/train.json").write_text(json.dumps({"validation_accuracy": 0.91234}))
    (root / "submissions").mkdir()
    labels = [a if i < correct else (a + 1) % 10 for i, a in enumerate(ANSWERS)]
    (root / "submissions/submission.csv").write_text(submission_text(labels))
    (root / "submissions/history.csv").write_text(
        "submitted_at,ref,message,status,public_score,private_score,file_sha256,git_commit,params_digest,"
        "validation_accuracy\n")
    return root


def kaggle_env(fake, home: Path, credentials: str = "key", **extra: str) -> dict[str, str]:
    """The environment of a user whose Kaggle is ``fake``: no trace of the real machine's Kaggle settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KAGGLE_", "DIGIT_PIPELINE_")) and k.lower() not in ("http_proxy", "https_proxy",
                                                                                    "no_proxy", "all_proxy")}
    home.mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), KAGGLE_CONFIG_DIR=str(home / ".kaggle"), PYTHONPATH=str(ROOT), **FAST)
    if fake is not None:
        env.update(fake.env())
    if credentials == "key":
        env.update(KAGGLE_USERNAME="tester", KAGGLE_KEY=FAKE_KEY)
    elif credentials == "token":
        env.update(KAGGLE_API_TOKEN=FAKE_TOKEN)
    elif credentials == "json":
        (home / ".kaggle").mkdir(exist_ok=True)
        (home / ".kaggle/kaggle.json").write_text(json.dumps({"username": "tester", "key": FAKE_KEY}))
    env.update(extra)
    return env


def pipeline(args: list[str], cwd: Path, env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    """``python -m pipeline ARGS`` as a user runs it; fails the test if it leaks a secret."""
    result = subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=timeout)
    assert_no_secret(result.stdout + result.stderr, f"output of {args}")
    return result


def assert_no_secret(text: str, where: str) -> None:
    for secret in (FAKE_KEY, FAKE_TOKEN, FAKE_KEY[10:30], FAKE_TOKEN[10:30]):
        assert secret not in text, f"a Kaggle secret appears in {where}"


def assert_no_secret_in_files(root: Path, skip: tuple[Path, ...] = ()) -> int:
    """Scan every file under ``root`` (bar ``skip``) for the secrets; returns how many files were read."""
    count = 0
    for path in root.rglob("*"):
        if path.is_file() and not any(path.is_relative_to(s) for s in skip):
            data = path.read_bytes()
            for secret in (FAKE_KEY, FAKE_TOKEN):
                assert secret.encode() not in data, f"a Kaggle secret appears in {path}"
            count += 1
    return count


def one_line_error(result: subprocess.CompletedProcess) -> str:
    """The last stderr line, after checking it is the only ``error:`` line and that the exit is non-zero."""
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert result.stderr.rstrip().endswith(errors[0])
    return errors[0]


def ledger_rows(project: Path) -> list[dict]:
    import csv

    with open(project / "submissions/history.csv", newline="") as handle:
        return list(csv.DictReader(handle))
