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


def test_gpu_check_trains_twice_compares_bytes_and_scores(tmp_path):
    archive = tiny_competition(tmp_path)
    result = script(ROOT / "benchmarks/gpu_check.py", "--zip", archive, "--solution", tmp_path / "solution.csv",
                    "--device", "cpu", "--max-iter", "6")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("device: cpu\n")
    assert out.count("ms per update") == 2 and "model files byte-identical across 2 runs: yes" in out
    assert "test accuracy:" in out and "with 9 views" in out and "one update's matrix products alone" in out


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
