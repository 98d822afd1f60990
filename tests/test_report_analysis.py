"""The report's numbers, checked against independent computations."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.report.analysis import class_scores, confusion_counts, first_layer_images, worst_mistakes

CLASSES = np.arange(10)


def test_confusion_counts_match_a_tally():
    rng = np.random.default_rng(0)
    actual, predicted = rng.integers(0, 10, 500), rng.integers(0, 10, 500)
    expected = np.zeros((10, 10), dtype=int)
    np.add.at(expected, (actual, predicted), 1)
    counts = confusion_counts(actual, predicted, CLASSES)
    assert np.array_equal(counts, expected)
    assert counts.sum() == 500


def test_confusion_counts_keep_classes_never_seen():
    counts = confusion_counts(np.array([1, 1, 2]), np.array([1, 2, 2]), CLASSES)
    assert counts.shape == (10, 10) and counts[1, 1] == 1 and counts[1, 2] == 1 and counts[2, 2] == 1
    assert counts.sum() == 3


def test_class_scores_match_counts_by_hand():
    rng = np.random.default_rng(1)
    actual = rng.integers(0, 10, 400)
    predicted = np.where(rng.random(400) < 0.8, actual, rng.integers(0, 10, 400))
    scores = class_scores(actual, predicted, CLASSES)
    for k in CLASSES:
        true_positive = np.sum((actual == k) & (predicted == k))
        assert scores.precision[k] == pytest.approx(true_positive / np.sum(predicted == k))
        assert scores.recall[k] == pytest.approx(true_positive / np.sum(actual == k))
        p, r = scores.precision[k], scores.recall[k]
        assert scores.f1[k] == pytest.approx(2 * p * r / (p + r))
        assert scores.support[k] == np.sum(actual == k)


def test_class_never_predicted_scores_zero_not_nan():
    scores = class_scores(np.array([0, 1, 1]), np.array([0, 0, 0]), np.array([0, 1]))
    assert scores.precision.tolist() == [pytest.approx(1 / 3), 0.0]
    assert scores.recall.tolist() == [1.0, 0.0]


def test_worst_mistakes_surest_first_with_stable_ties():
    proba = np.array([
        [0.9, 0.1, 0.0],   # right
        [0.2, 0.7, 0.1],   # wrong (true 0), 0.7
        [0.1, 0.1, 0.8],   # wrong (true 1), 0.8
        [0.7, 0.2, 0.1],   # wrong (true 2), 0.7: ties with row 1, comes after it
        [0.0, 0.6, 0.4],   # right
    ])
    actual = np.array([0, 0, 1, 2, 1])
    classes = np.array([3, 5, 7])  # labels need not be 0..k-1
    actual_labels = classes[actual]
    mistakes = worst_mistakes(proba, actual_labels, classes, limit=10)
    assert mistakes.rows.tolist() == [2, 1, 3]
    assert mistakes.predicted.tolist() == [7, 5, 3]
    assert mistakes.actual.tolist() == [5, 3, 7]
    assert mistakes.confidence.tolist() == [0.8, 0.7, 0.7]
    assert mistakes.total_wrong == 3
    limited = worst_mistakes(proba, actual_labels, classes, limit=2)
    assert limited.rows.tolist() == [2, 1] and limited.total_wrong == 3


def test_worst_mistakes_when_all_right():
    proba = np.eye(3)
    mistakes = worst_mistakes(proba, np.arange(3), np.arange(3), limit=5)
    assert len(mistakes.rows) == 0 and mistakes.total_wrong == 0


def test_first_layer_images_strongest_units_first():
    rng = np.random.default_rng(2)
    weights = rng.normal(size=(784, 6)) * np.array([1, 5, 2, 4, 3, 0.5])
    images, units = first_layer_images(weights, limit=4)
    norms = [np.sqrt(np.sum(weights[:, j] ** 2)) for j in range(6)]
    assert units.tolist() == sorted(range(6), key=lambda j: -norms[j])[:4] == [1, 3, 4, 2]
    assert images.shape == (4, 28, 28)
    for image, unit in zip(images, units):
        # pixel (r, c) of a row-major 28x28 image is input 28 * r + c
        assert image[5, 7] == weights[28 * 5 + 7, unit]
        assert np.array_equal(image.reshape(-1), weights[:, unit])


def test_first_layer_images_fewer_units_than_limit():
    images, units = first_layer_images(np.ones((784, 3)), limit=64)
    assert images.shape == (3, 28, 28) and units.tolist() == [0, 1, 2]


def test_first_layer_images_refuse_non_image_inputs():
    with pytest.raises(ValueError, match="100 inputs, not 28x28"):
        first_layer_images(np.ones((100, 3)), limit=4)
