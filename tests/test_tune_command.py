"""`python -m pipeline tune`'s refusals that need no DVC: each one line naming what the user gave."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from pipeline.core.config import load_params
from pipeline.tuning.experiment_trial import Runner
from pipeline.tuning.space import parse_settings
from pipeline.tuning.storage import open_storage
from pipeline.tuning.study import open_study
from repo_support import GIT_ENV

SPACE = {"train.learning_rate": {"low": 0.001, "high": 0.01, "log": True}}


def tune(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", "tune", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
                          timeout=120)


def test_a_count_that_is_not_a_number_names_its_option_and_what_it_expects(tmp_path):
    for option, given in (("--trials", "abc"), ("--workers", "0"), ("--trials", "2.5")):
        result = tune(tmp_path, option, given)
        assert result.returncode == 2
        assert result.stderr.strip().splitlines()[-1].endswith(
            f"argument {option}: expected a whole number >= 1, got {given!r}"), result.stderr
    result = tune(tmp_path, "--timeout", "soon")
    assert result.stderr.strip().endswith("argument --timeout: expected a number of seconds > 0, got 'soon'")


def test_a_missing_space_file_is_said_to_be_missing(tmp_path):
    missing = tmp_path / "none.yaml"
    result = tune(tmp_path, "--space", str(missing))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"error: --space {missing}: no such file"]


def test_the_refusal_of_another_space_names_the_space_file_given(tmp_path):
    journal = tmp_path / "journal.log"
    open_study(open_storage(str(journal)), str(journal), "s", parse_settings({"space": SPACE}))
    other = {**SPACE, "train.max_iter": {"low": 10, "high": 20}}
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump({"study": "s", "space": other}))
    result = tune(tmp_path, "--space", "mine.yaml", "--storage", str(journal))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: study 's' in {journal} was made with another search space than mine.yaml's (they differ in "
        f"train.max_iter); name a new study with --study, or put the space it was made with back in mine.yaml"]


def test_a_trials_values_reach_params_yaml_as_dvc_writes_them(tmp_path):
    """A trial's -S values through DVC's own writer of params.yaml, then the stages' reader: a float DVC
    writes in exponent form (1e-07, which PyYAML's YAML 1.1 took for a string) stays a float."""
    from dvc.utils.hydra import apply_overrides

    root = Path(__file__).resolve().parents[1]
    params = tmp_path / "params.yaml"
    params.write_text((root / "params.yaml").read_text())
    drawn = {"train.learning_rate": 1e-07, "train.weight_decay": 1e-05, "train.beta_2": 0.999,
             "train.hidden_layer_sizes": [256, 128], "train.optimizer": "adam", "train.max_iter": 30}
    command = Runner(tmp_path, "s").command("s-0", drawn)
    apply_overrides(str(params), [arg for arg in command if "=" in arg])
    train = load_params(params).train
    assert {key: getattr(train, key.split(".")[1]) for key in drawn} == {
        **drawn, "train.hidden_layer_sizes": (256, 128)}
