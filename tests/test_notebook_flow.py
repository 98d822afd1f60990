"""The README's "In a Kaggle notebook" flow: the data is a read-only folder, the project lives elsewhere."""

from __future__ import annotations

import os
import shutil
import stat

import numpy as np
import pytest
import yaml

from digits_support import sample_submission, train_csv, unlabelled_csv
from test_bad_inputs import TINY_TRAIN
from pipeline.cli import main
from pipeline.core.errors import PipelineError
from pipeline.data.competition_zip import read_member
from pipeline.data.sources import read_source
from pipeline.submissions.format import read_submission

FILES = {"train.csv": train_csv(60), "test.csv": unlabelled_csv(6), "sample_submission.csv": sample_submission(6)}


def kaggle_input(root):
    """A folder laid out like /kaggle/input/digit-recognizer, made read-only."""
    folder = root / "kaggle/input/digit-recognizer"
    folder.mkdir(parents=True)
    for name, text in FILES.items():
        (folder / name).write_text(text)
        (folder / name).chmod(0o444)
    folder.chmod(0o555)
    return folder


def snapshot(folder):
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns, stat.S_IMODE(p.stat().st_mode)) for p in folder.iterdir()}


def test_stages_without_dvc_from_a_read_only_input_folder(tmp_path, monkeypatch):
    folder = kaggle_input(tmp_path)
    before = snapshot(folder)
    project = tmp_path / "kaggle/working/digit-pipeline"
    project.mkdir(parents=True)
    (project / "params.yaml").write_text(yaml.safe_dump(
        {"fetch": {"source": str(folder)}, "split": {"validation_fraction": 0.2, "random_state": 0}, "train": TINY_TRAIN}))
    monkeypatch.chdir(project)
    for stage in ("fetch", "split", "train", "predict"):
        assert main([stage]) == 0, stage
    # data/raw holds what any source gives: the checked zip, with the folder's files byte for byte
    for name, text in FILES.items():
        assert read_member("data/raw/digit-recognizer.zip", name) == text.encode()
    assert read_source(project / "data/raw/source.json")["kind"] == "folder"
    ids, labels = read_submission("submissions/submission.csv", expected_rows=6)
    assert ids.tolist() == [1, 2, 3, 4, 5, 6]
    shutil.copyfile("submissions/submission.csv", tmp_path / "kaggle/working/submission.csv")  # the README's last step
    assert snapshot(folder) == before and sorted(before) == sorted(FILES)  # the input was only read
    first = (project / "data/raw/digit-recognizer.zip").read_bytes()
    assert main(["fetch"]) == 0  # the same folder gives the same zip bytes
    assert (project / "data/raw/digit-recognizer.zip").read_bytes() == first


def test_a_folder_missing_a_file_is_named(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "input"
    folder.mkdir()
    (folder / "train.csv").write_text(FILES["train.csv"])
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"fetch": {"source": str(folder)}}))
    monkeypatch.chdir(tmp_path)
    assert main(["fetch"]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == (f"error: {folder}: missing test.csv, sample_submission.csv "
                   f"(expected train.csv, test.csv, sample_submission.csv; found train.csv)")
    assert not (tmp_path / "data/raw/digit-recognizer.zip").exists()


def test_a_folder_file_past_the_size_limit_is_refused_before_it_is_read_whole(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "input"
    folder.mkdir()
    for name, text in FILES.items():
        (folder / name).write_text(text)
    with open(folder / "train.csv", "ab") as handle:
        handle.truncate((2 << 20) + 10)  # a sparse 2 MB file: nothing real written
    monkeypatch.setenv("DIGIT_PIPELINE_MAX_MEMBER_MB", "1")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"fetch": {"source": str(folder)}}))
    monkeypatch.chdir(tmp_path)
    assert main(["fetch"]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"{folder}: member train.csv is over 1,048,576 bytes, past the limit of 1 MB" in err
