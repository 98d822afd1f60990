"""The sweep plans under benchmarks/frontier/ that docs/accuracy.md tells a GPU session to run still pass
params.yaml's rules, so a scarce device session does not end on a config error."""

from __future__ import annotations

import importlib.util
import json

import pytest
import yaml

from test_bench_smoke import ROOT

spec = importlib.util.spec_from_file_location("sweep", ROOT / "benchmarks/frontier/sweep.py")
sweep = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sweep)
PLANS = sorted((ROOT / "benchmarks" / "frontier").glob("*.json"))


def test_there_is_a_plan_and_the_docs_name_each():
    docs = (ROOT / "docs" / "accuracy.md").read_text()
    assert PLANS and all(f"benchmarks/frontier/{p.name}" in docs for p in PLANS)


@pytest.mark.parametrize("path", PLANS, ids=lambda p: p.name)
def test_each_configuration_passes_the_params_rules(path):
    base = yaml.safe_load((ROOT / "params.yaml").read_text())
    changes = json.loads(path.read_text())
    assert isinstance(changes, list) and changes
    for i, change in enumerate(changes):
        params = sweep.configured(base, change, f"{path.name}[{i}]")
        assert params.train.device == "auto"  # the sweep's --device decides


def test_a_bad_configuration_is_refused_with_its_place():
    base = yaml.safe_load((ROOT / "params.yaml").read_text())
    with pytest.raises(Exception, match=r"plan.json\[1\].train.max_iter must be > 0"):
        sweep.configured(base, {"train": {"max_iter": 0}}, "plan.json[1]")


def test_early_rates_prints_a_line_per_rate_and_names_a_divergence(tmp_path, capsys):
    import numpy as np

    from pipeline.core.arrays_file import save_arrays

    spec = importlib.util.spec_from_file_location("early_rates", ROOT / "benchmarks/frontier/early_rates.py")
    early_rates = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(early_rates)
    rng = np.random.default_rng(2)
    x = ((rng.random((140, 784)) < 0.2) * rng.integers(1, 256, size=(140, 784))).astype(np.uint8)
    save_arrays(tmp_path / "train.npz", {"X": x[:100], "y": np.arange(100) % 10})
    save_arrays(tmp_path / "validation.npz", {"X": x[100:], "y": np.arange(40) % 10})
    assert early_rates.main(["--prepared", str(tmp_path), "--hidden", "16,8", "--rows", "80", "--updates", "20",
                             "0.001", "1e30"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("learning_rate 0.001: loss ") and "at 20;" in lines[0] and "s per update" in lines[0]
    assert lines[1].startswith("learning_rate 1e+30: training diverged at iteration ")


def _script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / f"benchmarks/frontier/{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_snapshots_restart_the_cosine_and_one_cycle_is_the_train_stage():
    import numpy as np

    from pipeline.core.config import TrainParams
    from pipeline.model import estimator
    from pipeline.model.optim import learning_rate_at
    from pipeline.stages.train import build_model

    snapshots = _script("snapshots")
    rate = snapshots.restarting_cosine(5)
    assert [rate(s, 1.0, 10, "cosine") for s in range(10)] == pytest.approx(
        [learning_rate_at(s % 5, 1.0, 5, "cosine") for s in range(10)])
    assert rate(5, 1.0, 10, "cosine") == 1.0  # full height again at the restart

    rng = np.random.default_rng(4)
    x = ((rng.random((90, 784)) < 0.2) * rng.integers(1, 256, size=(90, 784))).astype(np.uint8)
    y = np.arange(90) % 10
    params = TrainParams(max_iter=6, hidden_layer_sizes=(12,))
    one = snapshots.train_with_snapshots(params, x, y, 1)
    reference = build_model(params).fit(x, y)
    assert len(one) == 1 and estimator.learning_rate_at is learning_rate_at  # put back after
    np.testing.assert_array_equal(one[0].predict_proba(x), reference.predict_proba(x))
    three = snapshots.train_with_snapshots(params, x, y, 3)
    assert len(three) == 3
    assert not np.array_equal(three[-1].layers_[0][0], three[-2].layers_[0][0])  # copies, not the live weights
    assert not np.array_equal(three[-1].predict_proba(x), reference.predict_proba(x))  # the schedule changed
    with pytest.raises(ValueError, match="not a multiple"):
        snapshots.train_with_snapshots(params, x, y, 4)


def test_snapshots_refuse_a_bad_command_in_one_line(tmp_path, capsys):
    snapshots = _script("snapshots")
    assert snapshots.main(["--prepared", str(tmp_path), "--max-iter", "10", "--cycles", "3"]) == 2
    assert capsys.readouterr().err == "error: --max-iter 10 must be a positive multiple of --cycles 3\n"
    assert snapshots.main(["--prepared", str(tmp_path), "--max-iter", "10", "--cycles", "2"]) == 2
    assert "train.npz: not found" in capsys.readouterr().err
