"""A tiny run of benchmarks/bench.py: the table has its columns and the numbers are sane.

Times nothing: it only checks that the benchmark runs end to end, on 800 real handwritten digits
(scikit-learn's 8 × 8 ``load_digits`` scaled up to 28 × 28: loading the MNIST sample takes seconds).
To stay under 20 s it starts as few processes as it can: ``sklearn-wide`` (``sklearn-default``'s
code with another width) and the ratio and train-stage checks are left out.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

from pipeline.core.zip_files import write_zip
from pipeline.data.digits_csv import PIXEL_COLUMNS, TRAIN_COLUMNS

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
COLUMNS = ("contender", "validation acc.", "test acc.", "s to 97 %", "s to 98 %", "time per step (median)",
           "steps", "training s", "peak RSS")
HAS_TORCH = importlib.util.find_spec("torch") is not None
N_TRAIN, N_TEST = 600, 200


def csv(header, rows) -> bytes:
    return ("\n".join([",".join(header)] + [",".join(map(str, row)) for row in rows.tolist()]) + "\n").encode()


def digits_28() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 digits as 28 × 28 uint8 images: each pixel 3 × 3, a 2-pixel border."""
    digits = load_digits()
    images = np.kron(digits.images, np.ones((3, 3))) * 15  # 0..16 -> 0..240
    images = np.pad(images, ((0, 0), (2, 2), (2, 2))).astype(np.uint8)
    return images.reshape(len(images), 784), digits.target.astype(np.uint8)


def tiny_competition(folder: Path) -> Path:
    """A competition zip of real digits (600 train, 200 test rows) and its answer key beside it."""
    pixels, labels = digits_28()
    order = np.random.default_rng(0).permutation(len(labels))[:N_TRAIN + N_TEST]
    train, test = order[:N_TRAIN], order[N_TRAIN:]
    ids = np.arange(1, N_TEST + 1)
    with open(folder / "digit-recognizer.zip", "wb") as handle:
        write_zip(handle, {"train.csv": csv(TRAIN_COLUMNS, np.column_stack([labels[train], pixels[train]])),
                           "test.csv": csv(PIXEL_COLUMNS, pixels[test]),
                           "sample_submission.csv": csv(("ImageId", "Label"), np.column_stack([ids, 0 * ids]))})
    (folder / "solution.csv").write_bytes(csv(("ImageId", "Label"), np.column_stack([ids, labels[test]])))
    return folder / "digit-recognizer.zip"


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench")
    archive = tiny_competition(folder)
    out = folder / "results.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks/bench.py"), "--zip", str(archive), "--rows", "600",
         "--iterations", "5", "--epochs", "2", "--contenders", "ours,ours-previous,sklearn-default,torch",
         "--checks", "parse", "--parse-repeats", "1", "--threads", "1", "--json", str(out)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout, json.loads(out.read_text()), result.stderr


def test_the_table_has_every_column_and_a_row_per_contender(bench):
    table, _, _ = bench
    header = next(line for line in table.splitlines() if line.startswith("| contender"))
    for column in COLUMNS:
        assert f" {column} |" in header
    rows = [line for line in table.splitlines() if line.startswith("| ") and line != header]
    for label in ("ours (NumPy", "ours, the defaults before warps", "scikit-learn `MLPClassifier()`, defaults",
                  "PyTorch (CPU)"):
        assert any(row.startswith(f"| {label}") and row.count("|") == header.count("|") for row in rows), label
    assert "Machine: " in table and "Command: `python " in table
    assert "- BLAS kernels: " in table and "unset, as on users' machines" in table


def test_ours_is_the_default_params_and_ours_previous_the_old_defaults(bench):
    table, report, _ = bench
    from pipeline.core.config import load_params

    current = load_params(ROOT / "params.yaml")
    ours, previous = report["contenders"]["ours"], report["contenders"]["ours-previous"]
    layers = "-".join(map(str, (784, *current.train.hidden_layer_sizes, 10)))
    assert ours["setup"].startswith(layers) and "warps" in ours["setup"]
    assert f"{(2 * current.predict.tta_shift + 1) ** 2} shifted views" in ours["setup"]
    assert previous["setup"].startswith("784-512-10") and "warps" not in previous["setup"]
    assert "views" not in previous["setup"]
    assert ours["kernels"] and set(ours["kernels"]) == set(previous["kernels"])  # the BLAS each worker ran


def test_accuracies_are_fractions_and_times_positive(bench):
    _, report, _ = bench
    ran = {name: r for name, r in report["contenders"].items() if "skipped" not in r}
    assert set(ran) >= {"ours", "sklearn-default"}
    for name, r in ran.items():
        assert "error" not in r, (name, r)
        assert 0.0 <= r["validation_accuracy"] <= 1.0 and 0.0 <= r["test_accuracy"] <= 1.0
        assert r["train_seconds"] > 0 and r["median_step_seconds"] > 0 and r["peak_rss_bytes"] > 10**7
    assert ran["ours"]["steps"] == 5 and ran["sklearn-default"]["steps"] <= 2
    assert report["data"]["train_rows"] + report["data"]["validation_rows"] == 600
    assert report["data"]["test_rows"] == N_TEST


def test_torch_runs_when_installed_and_is_skipped_with_a_message_when_not(bench):
    table, report, stderr = bench
    if HAS_TORCH:
        assert report["contenders"]["torch"]["steps"] == 5
    else:
        assert report["contenders"]["torch"] == {"skipped": "PyTorch is not installed"}
        assert "torch skipped" in stderr and "skipped: PyTorch is not installed" in table


def test_the_parse_check_is_reported(bench):
    table, report, _ = bench
    parse = report["checks"]["parse"]
    assert parse["shape"] == [N_TRAIN, 785] and parse["median_seconds"] > 0
    assert f"| parse train.csv ({N_TRAIN:,} × 785" in table


def test_a_missing_zip_is_a_clear_error(tmp_path, capsys):
    from benchmarks.bench import main

    assert main(["--zip", str(tmp_path / "none.zip"), "--json", str(tmp_path / "out.json")]) == 1
    error = capsys.readouterr().err
    assert "none.zip: competition zip not found" in error and "--zip" in error
    assert not (tmp_path / "out.json").exists()


def test_groups_cost_prints_seconds_and_memory_for_each_group_count(tmp_path):
    """benchmarks/groups_cost.py on the tiny zip: one table row per group count, warps on and off."""
    archive = tiny_competition(tmp_path)
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks/groups_cost.py"), "--zip", str(archive), "--groups", "1,8",
         "--updates", "3", "--rounds", "1"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "540 training rows" in result.stdout and "BLAS kernels: " in result.stdout
    rows = {}
    for line in result.stdout.splitlines():
        if line.startswith("| ") and line[2].isdigit():
            cells = [cell.strip() for cell in line.split("|")[1:-1]]
            rows[cells[0]] = cells[1:]
    assert set(rows) == {"1", "8"}
    for cells in rows.values():
        plain, warped = float(cells[0]), float(cells[1])
        assert plain > 0 and warped > 0
        for memory in cells[3:5]:
            assert memory.endswith(" GB") and float(memory.split()[0]) > 0.01


@pytest.mark.parametrize("components", [0, 16])
def test_the_ratio_check_times_the_products_at_both_widths_and_the_table_shows_both(components):
    """iteration_ratio on 300 real digits: without a projection, its second ratio is over the pixel columns
    some row uses; with one, the first layer multiplies the k coordinates and there is no second ratio."""
    from types import SimpleNamespace

    from benchmarks.checks import iteration_ratio
    from benchmarks.table import TARGETS, check_rows
    from pipeline.core.config import load_params

    pixels, labels = digits_28()
    data = SimpleNamespace(X_train=pixels[:300], y_train=labels[:300])
    params = dataclasses.replace(load_params(ROOT / "params.yaml").train, input_components=components)
    r = iteration_ratio(data, repeats=2, params=params)
    assert r["ratio"] == pytest.approx(r["iteration_seconds"] / r["products_seconds"])
    assert r["ratio_after_rest"] == pytest.approx(r["iteration_after_rest_seconds"] / r["products_seconds"])
    # two cycles of: the rest, an iteration timed cold, one timed warm, the products (the first products dropped)
    assert len(r["product_samples"]) == len(r["iteration_after_rest_samples"]) == r["repeats"] == 2
    assert r["iteration_seconds"] == pytest.approx(np.median(r["iteration_samples"]))
    row = check_rows({"ratio": {**r, "kernels": {}}}, {"train_rows": 300})[0]
    assert f"{r['ratio']:.2f} (" in row[1] and row[2] == f"≤ {TARGETS['ratio']:.2f}"
    assert f"after a 0.5 s rest: {r['ratio_after_rest']:.2f} (" in row[1]
    if components:
        assert r["shape"]["sizes"][0] == components and "ratio_used_columns" not in r
        assert "against" not in row[1]
        return
    used = int(np.count_nonzero(np.any(pixels[:300] != 0, axis=0)))
    assert used < 784 and r["used_columns"] == used
    assert len(r["product_used_columns_samples"]) == 2
    assert r["ratio_used_columns"] == pytest.approx(r["iteration_seconds"] / r["products_used_columns_seconds"])
    assert f"; {r['ratio_used_columns']:.2f} against" in row[1]
    assert f"the {used} pixel columns the engine multiplies" in row[1]


def test_groups_cost_names_a_missing_zip_in_one_line(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks/groups_cost.py"), "--zip",
                             str(tmp_path / "none.zip")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {tmp_path / 'none.zip'}: no such file; pass --zip PATH to the competition zip"
