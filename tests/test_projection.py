"""input_components: the principal basis against an SVD, the engines' projected training against finite
differences of images projected and warped by hand, and the projection kept with the model."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.model import nn, warps
from pipeline.model.device_batch import DeviceFullBatch
from pipeline.model.estimator import DigitNetClassifier
from pipeline.model.full_batch import FullBatchGradient
from pipeline.model.model_file import load_model, save_model
from pipeline.model.projection import principal_basis, project
from test_full_batch import assert_finite_differences, assert_same_gradients, reference_loss, small_problem


def test_the_basis_spans_the_top_right_singular_vectors():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 30)) @ np.diag(np.linspace(3, 0.1, 30)) @ np.linalg.qr(rng.standard_normal((30, 30)))[0]
    basis = principal_basis(x, 7)
    np.testing.assert_allclose(basis.T @ basis, np.eye(7), atol=1e-12)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    np.testing.assert_allclose(basis @ basis.T, vt[:7].T @ vt[:7], atol=1e-10)
    assert (basis[np.abs(basis).argmax(axis=0), np.arange(7)] > 0).all()  # signs fixed, whatever LAPACK returns
    np.testing.assert_allclose(project(x, principal_basis(x, 30)), x, atol=1e-10)  # all of them: nothing lost
    with pytest.raises(ValueError, match="input_components must be between 1 and the 30 input features, got 31"):
        principal_basis(x, 31)


@pytest.mark.parametrize("move", ["none", "warp", "shift"])
def test_projected_training_is_the_loss_of_the_projected_then_warped_images(move):
    # 9 components, more than the 6 hidden units: the engine's scratch for a shifted basis must hold them
    shape, sizes, n_groups = (5, 6), [30, 6, 3], 3
    x, targets, layers = small_problem(sizes, n=12, seed=6)
    basis = principal_basis(x, 9)
    rng = np.random.default_rng(1)
    batch = warps.random_warps(rng, n_groups, shape, warps.WarpRanges(1.0, 20, 0.2, 10, 1.0, 2.0)) if move == "warp" else None
    shifts = np.array([[1, -2], [0, 1], [-1, 0]]) if move == "shift" else None
    engine = FullBatchGradient(x, targets, sizes, 0.01, image_shape=shape, n_groups=n_groups, workers=2, basis=basis)
    assert engine.x.shape == (12, 9)
    projected = x @ basis @ basis.T  # by hand: project every image, then move each group's densely
    if batch is not None:
        seen = np.concatenate([projected[group] @ batch[g].toarray().T for g, group in enumerate(engine.groups)])
    elif shifts is not None:
        seen = np.concatenate([nn.shift_images(projected[group], *shifts[g], shape)
                               for g, group in enumerate(engine.groups)])
    else:
        seen = projected
    loss, _, grads = engine(layers, shifts=shifts, warps=batch)
    f = lambda: reference_loss(layers, seen, targets, 0.01)  # noqa: E731
    assert loss == pytest.approx(f(), rel=1e-12)
    assert_finite_differences(f, layers, grads)
    device = DeviceFullBatch(x, targets, sizes, 0.01, image_shape=shape, n_groups=n_groups, basis=basis)
    d_loss, _, d_grads = device(layers, shifts=shifts, warps=batch)
    assert d_loss == pytest.approx(loss, rel=1e-10)
    assert_same_gradients(d_grads, grads)


def test_the_projection_is_part_of_the_model(tmp_path):
    rng = np.random.default_rng(2)
    X = (rng.random((80, 784)) < 0.2) * rng.integers(1, 256, (80, 784))
    y = np.arange(80) % 10
    model = DigitNetClassifier(hidden_layer_sizes=[16], max_iter=4, augment_groups=4, input_components=20,
                               deskew=False).fit(X, y)
    assert model.input_basis_.shape == (784, 20) and model.input_basis_.dtype == np.float32
    x = X * model.input_scale_
    np.testing.assert_allclose(model.transform_inputs(X), project(x, model.input_basis_), rtol=1e-6, atol=1e-9)
    save_model(tmp_path / "m.npz", model)
    loaded = load_model(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    plain = DigitNetClassifier(hidden_layer_sizes=[16], max_iter=4, augment_groups=4, input_components=0).fit(X, y)
    assert plain.input_basis_ is None
    few = DigitNetClassifier(hidden_layer_sizes=[16], max_iter=4, input_components=64).fit(X[:, :64], y)
    assert few.input_basis_ is None  # 64 features: nothing to drop
    save_model(tmp_path / "p.npz", plain)
    assert load_model(tmp_path / "p.npz").input_basis_ is None


def test_a_row_is_projected_the_same_alone_or_among_others():
    rng = np.random.default_rng(3)
    x = rng.random((1100, 784))
    basis = principal_basis(x, 50)
    whole = project(x, basis)
    order = rng.permutation(len(x))
    np.testing.assert_array_equal(project(x[order], basis), whole[order])
    for i in (0, 600, 1099):
        np.testing.assert_array_equal(project(x[i:i + 1], basis), whole[i:i + 1])
