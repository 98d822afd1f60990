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
