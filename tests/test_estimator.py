"""DigitNetClassifier as a scikit-learn estimator: the official checks, and what training promises."""

from __future__ import annotations

import io

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from pipeline.model import nn
from pipeline.model.deskew import deskew
from pipeline.model.estimator import DigitNetClassifier, TrainingDiverged
from pipeline.model.model_file import load_model, save_model


@pytest.mark.slow  # every check trains the network once or more
@parametrize_with_checks([DigitNetClassifier(max_iter=300)])
def test_scikit_learn_estimator_checks(estimator, check):
    # Every check of scikit-learn's suite runs, on the default parameters (those of params.yaml: two
    # hidden layers of 256, Adam, warps on 28 x 28 inputs) but 300 updates instead of 2,400: the checks
    # test the API and what each fit promises, not how long training runs, and at 2,400 updates they
    # took 250 s of the suite's 616 s of CPU. None is excluded. (check_array_api_input
    # skips itself unless SCIPY_ARRAY_API is set: the estimator takes NumPy input and picks its
    # engine by its device parameter, not by the input's namespace.)
    check(estimator)


def test_a_rows_answer_does_not_depend_on_its_batch():
    # 784 features and the default width: the shapes where products are blocked by size; more rows than
    # one prediction batch, so rows land in different batches and at different places in them.
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, size=(1100, 784)).astype(np.uint8)
    y = np.arange(1100) % 10
    model = DigitNetClassifier(max_iter=3, augment_groups=4).fit(x[:300], y[:300])
    order = rng.permutation(len(x))
    for method in ("predict_proba", "decision_function", "predict"):
        batch = getattr(model, method)(x)
        alone = np.concatenate([getattr(model, method)(x[i:i + 1]) for i in range(0, 1100, 97)])
        odd = getattr(model, method)(x[:37])
        shuffled = getattr(model, method)(x[order])
        # equal, not close: the same image gets the same answer, bit for bit
        np.testing.assert_array_equal(alone, batch[::97])
        np.testing.assert_array_equal(odd, batch[:37])
        np.testing.assert_array_equal(shuffled, batch[order])


def test_inference_runs_in_float64():
    # float32 weights, but the products of prediction in float64: within 1e-12 of a float64 reference
    rng = np.random.default_rng(2)
    x = rng.integers(0, 256, size=(50, 784)).astype(np.uint8)
    model = DigitNetClassifier(hidden_layer_sizes=(64,), max_iter=3, augment_groups=2).fit(x, np.arange(50) % 10)
    layers = [(w.astype(np.float64), b.astype(np.float64)) for w, b in model.layers_]
    reference = nn.forward(layers, model.transform_inputs(x))
    assert model.predict_proba(x).dtype == np.float64
    np.testing.assert_allclose(model.decision_function(x), reference, rtol=1e-12, atol=1e-12)


def test_decision_function_follows_scikit_learns_shapes():
    x, y = blobs()
    model = DigitNetClassifier(hidden_layer_sizes=(8,), max_iter=20).fit(x, y)
    np.testing.assert_array_equal(model.decision_function(x), model.decision_function_logits(x))
    binary = DigitNetClassifier(hidden_layer_sizes=(8,), max_iter=20).fit(x, y % 2)
    logits = binary.decision_function_logits(x)
    np.testing.assert_allclose(binary.decision_function(x), logits[:, 1] - logits[:, 0])
    assert ((binary.decision_function(x) > 0) == (binary.predict(x) == 1)).all()


def test_auto_image_shape_shifts_digits_only():
    x, y = blobs()  # 64 features: not digits, so not shifted
    assert DigitNetClassifier(hidden_layer_sizes=(8,), max_iter=2).fit(x, y).image_shape_ is None
    digits = np.zeros((20, 784), np.uint8)
    digits[:, ::3] = 200
    model = DigitNetClassifier(hidden_layer_sizes=(8,), max_iter=2, augment_groups=2).fit(digits, np.arange(20) % 2)
    assert model.image_shape_ == (28, 28)
    # with every augmentation off (the warps are on by default) nothing is moved, so no shape is used
    off = dict(augment_translate=0, augment_rotate_degrees=0, augment_scale=0, augment_shear_degrees=0,
               augment_elastic_alpha=0)
    assert DigitNetClassifier(hidden_layer_sizes=(8,), max_iter=2, **off).fit(
        digits, np.arange(20) % 2).image_shape_ is None
    # the warps alone, with shifts off, still need the images' shape
    assert DigitNetClassifier(hidden_layer_sizes=(8,), max_iter=2, augment_groups=2, augment_translate=0).fit(
        digits, np.arange(20) % 2).image_shape_ == (28, 28)


def blobs(n=300, d=64, classes=4, seed=0):
    """Images-like data: one bright 8x8 region per class, plus noise, as uint8 pixels."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    x = rng.integers(0, 60, size=(n, d))
    for c in range(classes):
        x[y == c, c * (d // classes):(c + 1) * (d // classes)] += 150
    return x.astype(np.uint8), y


def test_learns_uint8_pixels_and_keeps_the_input_scaling():
    x, y = blobs()
    model = DigitNetClassifier(hidden_layer_sizes=(16,), max_iter=80, learning_rate=0.01).fit(x, y)
    assert model.score(x, y) > 0.95
    assert model.input_scale_ == pytest.approx(1 / x.max())
    proba = model.predict_proba(x)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.classes_[proba.argmax(axis=1)], model.predict(x))


def test_history_records_every_update_and_validation_every_eval_every():
    x, y = blobs()
    seen = []
    model = DigitNetClassifier(hidden_layer_sizes=(8,), max_iter=25, eval_every=10).fit(
        x, y, eval_set=(x[:50], y[:50]), callback=seen.append)
    assert [r["iteration"] for r in model.history_] == list(range(1, 26)) and seen == model.history_
    assert [r["iteration"] for r in model.history_ if "validation_accuracy" in r] == [10, 20, 25]
    assert all(r["learning_rate"] > 0 and r["seconds"] >= 0 for r in model.history_)


def model_bytes(model, tmp_path, name):
    save_model(tmp_path / name, model)
    return (tmp_path / name).read_bytes()


def test_same_seed_same_bytes_other_seed_other_model(tmp_path):
    x, y = blobs()
    kw = dict(hidden_layer_sizes=(12,), max_iter=15, augment_translate=1, image_shape=(8, 8), augment_groups=4)
    a = model_bytes(DigitNetClassifier(random_state=1, **kw).fit(x, y), tmp_path, "a.npz")
    b = model_bytes(DigitNetClassifier(random_state=1, **kw).fit(x, y), tmp_path, "b.npz")
    c = model_bytes(DigitNetClassifier(random_state=2, **kw).fit(x, y), tmp_path, "c.npz")
    assert a == b and a != c


def test_saved_model_predicts_the_same(tmp_path):
    x, y = blobs()
    model = DigitNetClassifier(hidden_layer_sizes=(8, 6), max_iter=20).fit(x, y)
    save_model(tmp_path / "m.npz", model)
    loaded = load_model(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    np.testing.assert_allclose(loaded.predict_proba(x), model.predict_proba(x))
    assert loaded.get_params() == model.get_params()


def test_divergence_names_the_iteration():
    x, y = blobs()
    with pytest.raises(TrainingDiverged, match=r"training diverged at iteration \d+: the loss is (nan|inf)"):
        DigitNetClassifier(hidden_layer_sizes=(8,), optimizer="gd", learning_rate=1e12, max_iter=50).fit(x, y)


def test_shift_augmentation_needs_images():
    x, y = blobs(d=60)
    with pytest.raises(ValueError, match="image_shape"):
        DigitNetClassifier(augment_translate=1, image_shape=(8, 8), max_iter=2).fit(x, y)


def test_works_in_cross_validation_and_grid_search():
    x, y = blobs(n=200)
    scores = cross_val_score(DigitNetClassifier(hidden_layer_sizes=(8,), max_iter=80, learning_rate=0.01), x, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.9
    search = GridSearchCV(DigitNetClassifier(hidden_layer_sizes=(8,), max_iter=80),
                          {"learning_rate": [1e-5, 0.01]}, cv=2).fit(x, y)
    assert search.best_params_ == {"learning_rate": 0.01}


def test_augmented_examples_show_the_training_augmentation():
    from pipeline.model import nn

    rng = np.random.default_rng(0)
    digits = rng.integers(0, 256, size=(6, 784)).astype(np.float64)
    no_warps = dict(augment_rotate_degrees=0, augment_scale=0, augment_shear_degrees=0, augment_elastic_alpha=0,
                    deskew=False)
    off = DigitNetClassifier(augment_translate=0, **no_warps)
    np.testing.assert_array_equal(off.augmented_examples(digits), digits)
    deskewed = DigitNetClassifier(augment_translate=0, **{**no_warps, "deskew": True}).augmented_examples(digits)
    np.testing.assert_array_equal(deskewed, deskew(digits, (28, 28)))  # training sees deskewed digits, then moved
    shifted = DigitNetClassifier(augment_translate=2, **no_warps).augmented_examples(digits, seed=1)
    for row, out in zip(digits, shifted):  # each row is one of the allowed integer shifts of itself
        assert any(np.array_equal(out, nn.shift_images(row[None], dy, dx, (28, 28))[0])
                   for dy in range(-2, 3) for dx in range(-2, 3))
    warped = DigitNetClassifier(augment_rotate_degrees=10, augment_elastic_alpha=1.0)
    a, b = warped.augmented_examples(digits, seed=3), warped.augmented_examples(digits, seed=3)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, digits) and a.min() >= 0 and a.max() <= 255


def test_warped_training_is_reproducible_and_differs_from_shifts(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(60, 784)).astype(np.uint8)
    y = np.arange(60) % 3
    kw = dict(hidden_layer_sizes=(8,), max_iter=3, augment_groups=3, augment_translate=1)
    warped = DigitNetClassifier(augment_rotate_degrees=10, **kw).fit(x, y)
    a = model_bytes(warped, tmp_path, "a.npz")
    b = model_bytes(DigitNetClassifier(augment_rotate_degrees=10, **kw).fit(x, y), tmp_path, "b.npz")
    shifted = DigitNetClassifier(**kw).fit(x, y)
    assert a == b
    # the weights, not only the saved params, differ: the warps really were trained on
    assert not np.array_equal(warped.layers_[0][0], shifted.layers_[0][0])


@pytest.mark.parametrize("threads", ["1", "2"])
def test_each_update_trains_on_its_own_draw_in_the_generators_order(monkeypatch, threads):
    """The next update's warps are drawn while the current one finishes (on the CPU engine, on a worker
    thread beside the optimizer's step): each update must still get its own, in the order the seed gives."""
    from pipeline.model import warps
    from pipeline.model.full_batch import FullBatchGradient

    monkeypatch.setenv("OMP_NUM_THREADS", threads)  # one worker: drawn at once; two: on the pool
    seen, launch = [], FullBatchGradient.launch

    def spy(self, layers, shifts=None, warps=None, grads=None, keep_seed=None):
        seen.append((self.workers, warps.weights.copy()))
        return launch(self, layers, shifts, warps, grads, keep_seed)

    monkeypatch.setattr(FullBatchGradient, "launch", spy)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(400, 784)).astype(np.uint8)
    y = np.arange(400) % 4
    model = DigitNetClassifier(hidden_layer_sizes=(16,), max_iter=4, augment_groups=3, augment_rotate_degrees=10,
                               input_components=0, deskew=False, random_state=5)
    model.fit(x, y)
    # the generator's draws by hand: the row order, the initial weights, then one batch of warps per update
    by_hand = np.random.default_rng(5)
    by_hand.permutation(len(x))
    nn.he_init(by_hand, [784, 16, 4], np.float32)
    ranges = warps.ranges_of(model.checked_params())
    expected = [warps.random_warps(by_hand, 3, (28, 28), ranges, np.float32).weights for _ in range(4)]
    assert [workers for workers, _ in seen] == [int(threads)] * 4
    assert len(seen) == 4 and all(np.array_equal(got, want) for (_, got), want in zip(seen, expected))
