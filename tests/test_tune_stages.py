"""The pipeline's stages know nothing of studies: a change to the sweep's study, storage, space or
worker code leaves `train` (and its run cache) and `report` up to date."""

from __future__ import annotations

import pytest
import yaml

from import_graph import ROOT, closure
from pipeline.cli import COMMANDS
from repo_support import copy_repo, run, set_params

SWEEP_ONLY = ("pipeline/tuning/study.py", "pipeline/tuning/storage.py", "pipeline/tuning/workers.py",
              "pipeline/tuning/space.py", "pipeline/tuning/experiment_trial.py", "pipeline/tuning/trial_channel.py")


@pytest.mark.parametrize("stage", ["train", "report"])
def test_neither_the_stage_nor_its_dvc_deps_reach_the_sweeps_code(stage):
    spec = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"][stage]
    runs = {p.relative_to(ROOT).as_posix() for p in closure(["pipeline.__main__", "pipeline.cli",
                                                              COMMANDS[stage][0]])}
    deps = spec["deps"]
    assert sorted(runs & set(SWEEP_ONLY)) == []
    assert [f for f in SWEEP_ONLY if any(f == d or f.startswith(d.rstrip("/") + "/") for d in deps)] == []


@pytest.mark.slow
def test_a_change_to_the_study_or_storage_code_leaves_train_up_to_date(tmp_path):
    """DVC's own answer, on a copy that trained (small params): editing study.py and storage.py keeps
    `train` up to date; editing the hook the stage does import makes it stale (the test can fail)."""
    repo = copy_repo(tmp_path / "repo")
    set_params(repo, train={"hidden_layer_sizes": [16], "max_iter": 12, "eval_every": 4})
    run(["dvc", "repro", "train"], repo)
    for name in ("study.py", "storage.py"):
        with open(repo / "pipeline" / "tuning" / name, "a") as handle:
            handle.write("\n# a change to the sweep alone\n")
    assert run(["dvc", "status", "train"], repo).stdout.strip() == "Data and pipelines are up to date."
    with open(repo / "pipeline" / "tuning" / "trial_hook.py", "a") as handle:
        handle.write("\n# a change to what the train stage runs\n")
    status = run(["dvc", "status", "train"], repo).stdout
    assert "train:" in status and "modified:" in status and "pipeline/tuning/trial_hook.py" in status
