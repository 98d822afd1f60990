import re
import subprocess
import sys

import numpy as np
import pytest

from digits_support import competition_zip, csv_text, train_csv, unlabelled_csv
from pipeline.cli import COMMANDS, main
from pipeline.submissions.format import write_submission


def test_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "pipeline", "--help"], capture_output=True, text=True, check=True).stdout
    for name, (_, help_text) in COMMANDS.items():
        # its own line in the list of commands: "score" is not found inside "scores" or "params: fetch.*"
        assert re.search(rf"^ +{re.escape(name)}\s+{re.escape(help_text[:20])}", out, re.MULTILINE), (name, out)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_has_its_own_help(name, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([name, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert re.match(rf"usage: python -m pipeline {re.escape(name)}( |\n)", out), out  # this command, not another
    assert COMMANDS[name][1] in " ".join(out.split())  # its description, as the list of commands gives it


@pytest.mark.parametrize("name", ["nosuch", "scor", "Score", ""])
def test_an_unknown_command_fails(name, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([name])
    assert exit_.value.code == 2
    assert f"invalid choice: '{name}'" in capsys.readouterr().err


def test_score_prints_accuracy(tmp_path, capsys):
    write_submission(tmp_path / "truth.csv", np.array([1, 2, 3, 4]))
    write_submission(tmp_path / "sub.csv", np.array([1, 2, 3, 0]))
    assert main(["score", str(tmp_path / "sub.csv"), "--solution", str(tmp_path / "truth.csv")]) == 0
    assert "accuracy 0.75000 (3/4 rows correct)" in capsys.readouterr().out


def test_errors_are_one_line_and_exit_non_zero(tmp_path):
    write_submission(tmp_path / "truth.csv", np.array([1, 2, 3, 4]))
    result = subprocess.run([sys.executable, "-m", "pipeline", "score", str(tmp_path / "absent.csv"),
                             "--solution", str(tmp_path / "truth.csv")], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {tmp_path / 'absent.csv'}: no such file"
    assert "Traceback" not in result.stderr


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder with params.yaml and a raw zip, as the fetch stage leaves it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text("split:\n  validation_fraction: 0.2\n  random_state: 1\n")
    (tmp_path / "data/raw").mkdir(parents=True)
    return tmp_path


def test_split_stage_writes_arrays(project):
    competition_zip(project / "data/raw/digit-recognizer.zip",
                    {"train.csv": train_csv(50), "test.csv": unlabelled_csv(7), "sample_submission.csv": "x"})
    assert main(["split"]) == 0
    assert sorted(p.name for p in (project / "data/prepared").iterdir()) == ["test.npz", "train.npz", "validation.npz"]


def test_split_stage_refuses_bad_csv_and_writes_nothing(project, capsys):
    bad = train_csv(50).replace("\n3,", "\n3x,", 1)
    competition_zip(project / "data/raw/digit-recognizer.zip",
                    {"train.csv": bad, "test.csv": unlabelled_csv(7), "sample_submission.csv": "x"})
    assert main(["split"]) == 1
    assert "error: train.csv, line 5, column label: expected a digit 0..9, found '3x'" in capsys.readouterr().err
    assert not (project / "data/prepared").exists()


def test_split_stage_refuses_an_answer_key_for_another_test_set(project, capsys):
    competition_zip(project / "data/raw/digit-recognizer.zip",
                    {"train.csv": train_csv(50), "test.csv": unlabelled_csv(7), "sample_submission.csv": "x"})
    (project / "data/raw/solution.csv").write_text(csv_text(("ImageId", "Label"), [[1, 0], [2, 1]]))
    assert main(["split"]) == 1
    assert "has 2 rows but test.csv has 7" in capsys.readouterr().err
