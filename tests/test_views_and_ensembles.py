"""benchmarks/frontier/views_and_ensembles.py: its views are the predict stage's shifts where they overlap,
its scores are the stage's, and a softmax average of several models is scored as one."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from scipy import ndimage

from pipeline.core.arrays_file import save_arrays
from pipeline.model import tta
from pipeline.model.estimator import DigitNetClassifier
from pipeline.model.model_file import save_model
from test_bench_smoke import ROOT

spec = importlib.util.spec_from_file_location("views_and_ensembles", ROOT / "benchmarks/frontier/views_and_ensembles.py")
views_and_ensembles = importlib.util.module_from_spec(spec)
spec.loader.exec_module(views_and_ensembles)


@pytest.fixture(scope="module")
def digits():
    rng = np.random.default_rng(11)
    x = (rng.random((150, 784)) < 0.2) * rng.integers(1, 256, size=(150, 784))
    return x, np.arange(150) % 10


def fitted(digits, seed):
    x, y = digits
    return DigitNetClassifier(hidden_layer_sizes=[16], max_iter=5, augment_groups=4, random_state=seed).fit(x, y)


def test_a_shifted_view_moves_pixels_as_scipy_does_and_a_rotation_as_scipy_rotates(digits):
    x = digits[0][:3].astype(np.float64)
    images = x.reshape(-1, 28, 28)
    for dy, dx in ((0, 0), (1, -1), (-2, 2)):
        expected = ndimage.shift(images, (0, dy, dx), order=0, cval=0).reshape(-1, 784)
        got = (views_and_ensembles.view_matrix(dy=dy, dx=dx) @ x.T).T
        np.testing.assert_allclose(got, expected, atol=1e-12)
    # A rotation by +10° about the centre, read bilinearly (scipy.ndimage.rotate's order=1, zero outside).
    expected = ndimage.rotate(images, 10, axes=(1, 2), reshape=False, order=1, mode="grid-constant", cval=0)
    got = np.asarray((views_and_ensembles.view_matrix(degrees=10) @ x.T).T).reshape(-1, 28, 28)
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_scores_match_the_predict_stage_and_an_average_of_copies_is_the_model(digits):
    x, y = digits
    model = fitted(digits, 0)
    probabilities = [views_and_ensembles.view_probabilities(model, x)]
    sets = views_and_ensembles.VIEW_SETS
    assert views_and_ensembles.accuracy(probabilities, sets["1 view"], model.classes_, y) == \
        pytest.approx(np.mean(model.predict(x) == y) * 100)
    assert views_and_ensembles.accuracy(probabilities, sets["9 shifts (the default)"], model.classes_, y) == \
        pytest.approx(np.mean(tta.predict_shifted(model, x, 1) == y) * 100)
    assert views_and_ensembles.accuracy(probabilities, sets["25 shifts"], model.classes_, y) == \
        pytest.approx(np.mean(tta.predict_shifted(model, x, 2) == y) * 100)
    two = probabilities * 2
    for views in sets.values():
        assert views_and_ensembles.accuracy(two, views, model.classes_, y) == \
            views_and_ensembles.accuracy(probabilities, views, model.classes_, y)


def test_the_script_prints_each_model_and_their_average(tmp_path, digits, capsys):
    x, y = digits
    save_arrays(tmp_path / "validation.npz", {"X": x[:80], "y": y[:80]})
    save_arrays(tmp_path / "test.npz", {"X": x[80:]})  # no answers: not scored
    a, b = fitted(digits, 0), fitted(digits, 1)
    save_model(tmp_path / "a.npz", a)
    save_model(tmp_path / "b.npz", b)
    assert views_and_ensembles.main(["--prepared", str(tmp_path), str(tmp_path / "a.npz"), str(tmp_path / "b.npz")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| model | views | validation % |"
    average = (a.predict_proba(x[:80]) + b.predict_proba(x[:80])).argmax(axis=1)
    expected = np.mean(a.classes_[average] == y[:80]) * 100
    assert f"| softmax average of all 2 | 1 view (1) | {expected:.2f} |" in lines
    assert sum(line.startswith("| a.npz |") for line in lines) == len(views_and_ensembles.VIEW_SETS)

    save_arrays(tmp_path / "train.npz", {"X": x[:60], "y": y[:60]})
    assert views_and_ensembles.main(["--prepared", str(tmp_path), "--fit", "50", str(tmp_path / "a.npz")]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    clean, warped = np.mean(a.predict(x[:50]) == y[:50]) * 100, np.mean(a.predict(a.augmented_examples(x[:50])) == y[:50]) * 100
    assert last == f"| a.npz | {clean:.2f} | {warped:.2f} |"

    save_arrays(tmp_path / "validation.npz", {"X": x[:80]})
    assert views_and_ensembles.main(["--prepared", str(tmp_path), str(tmp_path / "a.npz")]) == 2
    assert "neither validation.npz nor test.npz has answers" in capsys.readouterr().err
