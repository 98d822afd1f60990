"""benchmarks/gpu_check.py and benchmarks/frontier/sweep.py run end to end (on the CPU here, a few updates),
print what they promise, and refuse bad input in one line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from test_bench_smoke import ROOT, tiny_competition

pytestmark = pytest.mark.slow


def script(*args, timeout=240):
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("updates", [1, 6])
def test_gpu_check_times_compilation_and_phases_compares_bytes_across_processes_and_scores(tmp_path, updates):
    archive = tiny_competition(tmp_path)
    result = script(ROOT / "benchmarks/gpu_check.py", "--zip", archive, "--solution", tmp_path / "solution.csv",
                    "--device", "cpu", "--max-iter", updates, "--repeats", 2, "--set", "hidden_layer_sizes=[32]")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("device: cpu (self-check ")
    assert "of 784-32-10, 16 groups" in out and "warm-up: a 2-update fit in " in out
    assert out.count("ms per update (validation every") == 2
    for phase in ("host draw of the warps", "whole update", "optimizer step", "matrix products alone"):
        assert f"phase: {phase}" in out
    assert "model files byte-identical: yes across 2 runs in this process; yes in a second process" in out
    assert "test accuracy:" in out and "with 9 views" in out and "scored in" in out


def test_gpu_check_without_a_gpu_says_so_in_one_line(tmp_path):
    result = script(ROOT / "benchmarks/gpu_check.py", "--zip", tmp_path / "missing.zip", "--device", "gpu")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr


def test_sweep_appends_one_line_per_configuration_and_checks_them(tmp_path):
    archive = tiny_competition(tmp_path)
    configs = tmp_path / "configs.json"
    configs.write_text(json.dumps([{"train": {"max_iter": 4, "hidden_layer_sizes": [16]}},
                                   {"train": {"max_iter": 4, "learning_rate": 0.01}, "predict": {"tta_shift": 0}}]))
    out = tmp_path / "results.jsonl"
    result = script(ROOT / "benchmarks/frontier/sweep.py", "--zip", archive, "--solution", tmp_path / "solution.csv",
                    "--configs", configs, "--out", out, "--device", "cpu")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["change"]["train"]["max_iter"] for r in rows] == [4, 4]
    assert all(r["device"] == "cpu" and 0 <= r["validation_accuracy"] <= 1 and "test_accuracy" in r for r in rows)

    configs.write_text(json.dumps([{"train": {"max_iter": 0}}]))
    result = script(ROOT / "benchmarks/frontier/sweep.py", "--zip", archive, "--configs", configs, "--out", out,
                    "--device", "cpu")
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {configs}[0].train.max_iter must be > 0, got 0"


def test_gpu_check_phases_run_on_a_strict_device(monkeypatch):
    """The phases a GPU session times, run under the strict CuPy stand-in: no implicit trip to the host."""
    import numpy as np

    from benchmarks.gpu_check import phase_seconds
    from pipeline.core.config import TrainParams
    from pipeline.model import devices
    from strict_cupy import StrictCupy

    module = StrictCupy()
    monkeypatch.setattr(devices, "_cupy", lambda: module)
    rng = np.random.default_rng(0)
    X, y = rng.integers(0, 256, (64, 784)).astype(np.uint8), np.arange(64) % 10
    phases = phase_seconds(TrainParams(hidden_layer_sizes=(16,), augment_groups=4), X, y, "gpu", 2)
    assert set(phases) == {"host draw of the warps", "moves (to the device, gather)", "forward", "loss and backward",
                           "optimizer step", "matrix products alone"}
    assert module.counts["syncs"] > 0  # the clock waited for the device
