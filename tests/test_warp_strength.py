"""benchmarks/frontier/warp_strength.py: at strength 1 throughout it is the train stage's own training (same
model bytes); otherwise each update's warp ranges are scaled on its linear schedule."""

from __future__ import annotations

import dataclasses
import importlib.util
import json

import numpy as np
import pytest

from pipeline.core.arrays_file import save_arrays
from pipeline.core.config import TrainParams
from pipeline.model import warps
from pipeline.model.model_file import save_model
from pipeline.stages.train import build_model
from test_bench_smoke import ROOT

spec = importlib.util.spec_from_file_location("warp_strength", ROOT / "benchmarks/frontier/warp_strength.py")
warp_strength = importlib.util.module_from_spec(spec)
spec.loader.exec_module(warp_strength)


@pytest.fixture
def prepared(tmp_path, monkeypatch):
    monkeypatch.setattr(warps, "random_warps", warps.random_warps)  # main() replaces it; put it back after
    rng = np.random.default_rng(3)
    x = ((rng.random((160, 784)) < 0.2) * rng.integers(1, 256, size=(160, 784))).astype(np.uint8)
    y = np.arange(160) % 10
    save_arrays(tmp_path / "train.npz", {"X": x[:100], "y": y[:100]})
    save_arrays(tmp_path / "validation.npz", {"X": x[100:130], "y": y[100:130]})
    save_arrays(tmp_path / "test.npz", {"X": x[130:], "y": y[130:]})
    return tmp_path, x, y


def test_each_update_draws_with_its_scheduled_strength(monkeypatch):
    seen = []
    monkeypatch.setattr(warps, "random_warps", lambda rng, n, shape, r, dtype=np.float64: seen.append(r))
    wrapper, calls = warp_strength.strength_schedule(1.0, 0.0, 5)
    base = warps.WarpRanges(2.0, 12.0, 0.1, 10.0, 2.0, 4.0)
    for _ in range(5):
        wrapper(None, 16, (28, 28), base)
    assert calls == [5]
    assert [r.rotate_degrees for r in seen] == pytest.approx([12.0, 9.0, 6.0, 3.0, 0.0])
    expected = dataclasses.replace(base, translate=1.5, rotate_degrees=9.0, scale=0.075, shear_degrees=7.5,
                                   elastic_alpha=1.5)  # every range but the field's smoothness
    assert dataclasses.astuple(seen[1]) == pytest.approx(dataclasses.astuple(expected))
    assert seen[-1].elastic_sigma == 4.0 and not seen[-1].warping


def test_strength_one_is_the_train_stage_itself(prepared, capsys):
    folder, x, y = prepared
    assert warp_strength.main(["--prepared", str(folder), "--max-iter", "4", "--set", "hidden_layer_sizes=[12]",
                               "--save", str(folder / "scripted.npz")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["warp_draws"] == 4 and out["changes"] == {"max_iter": 4, "hidden_layer_sizes": [12]}
    assert 0 <= out["validation_accuracy"] <= 1 and "test_accuracy_single" in out
    reference = build_model(TrainParams(max_iter=4, hidden_layer_sizes=(12,))).fit(x[:100], y[:100])
    save_model(folder / "reference.npz", reference)
    assert (folder / "scripted.npz").read_bytes() == (folder / "reference.npz").read_bytes()

    assert warp_strength.main(["--prepared", str(folder), "--max-iter", "4", "--set", "hidden_layer_sizes=[12]",
                               "--final", "0", "--save", str(folder / "annealed.npz")]) == 0
    assert (folder / "annealed.npz").read_bytes() != (folder / "reference.npz").read_bytes()


def test_a_bad_setting_is_one_line(prepared, capsys):
    folder = prepared[0]
    assert warp_strength.main(["--prepared", str(folder), "--max-iter", "4", "--set", "learning_rate=-1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: --set.learning_rate must be > 0, got -1.0", err
    assert warp_strength.main(["--prepared", str(folder / "none"), "--max-iter", "4"]) == 2
    assert "train.npz: not found" in capsys.readouterr().err
