"""What commands write into a clone and must never show up in `git status`."""

from __future__ import annotations

import subprocess

import pytest

from repo_support import ROOT


@pytest.mark.parametrize("path", ["dvc_plots/index.html",        # dvc plots show
                                  "metrics/train_curve.csv",     # cached train outputs (DVC's own .gitignore)
                                  "models/model.npz", "reports/index.html", "submissions/scores.png"])
def test_generated_files_are_ignored_by_git(path):
    result = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT)
    assert result.returncode == 0, f"{path} is not git-ignored"


def test_tracked_metrics_are_not_ignored():
    for path in ("metrics/train.json", "metrics/predict.json", "submissions/history.csv"):
        assert subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 1, path
