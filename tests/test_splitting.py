import numpy as np
import pytest

from pipeline.core.errors import PipelineError
from pipeline.data.splitting import split_indices


def test_split_is_a_stratified_partition():
    labels = np.repeat(np.arange(10), [100, 90, 80, 70, 60, 50, 40, 30, 20, 200])
    train, validation = split_indices(labels, 0.2, seed=3)
    assert np.intersect1d(train, validation).size == 0
    assert np.array_equal(np.sort(np.concatenate([train, validation])), np.arange(len(labels)))
    assert abs(len(validation) - 0.2 * len(labels)) <= 1
    for digit in range(10):
        share = np.mean(labels[validation] == digit)
        overall = np.mean(labels == digit)
        assert abs(share - overall) <= 1.0 / len(validation) + 1e-12


def test_split_is_seeded():
    labels = np.arange(500) % 10
    assert all(np.array_equal(a, b) for a, b in zip(split_indices(labels, 0.1, 7), split_indices(labels, 0.1, 7)))
    assert not np.array_equal(split_indices(labels, 0.1, 7)[1], split_indices(labels, 0.1, 8)[1])


def test_a_class_too_small_to_stratify_is_refused_with_a_reason():
    labels = np.array([0] * 50 + [1])
    with pytest.raises(PipelineError, match="digit 1 has only 1 row"):
        split_indices(labels, 0.2, 0)


def test_label_coverage_warns_with_the_counts_when_a_digit_is_rare_and_is_silent_when_none_is():
    from pipeline.data.splitting import MIN_ROWS_PER_DIGIT, check_label_coverage

    plenty = np.repeat(np.arange(10), MIN_ROWS_PER_DIGIT)
    assert check_label_coverage(plenty, "t.csv") is None
    rare = np.concatenate([plenty[plenty != 4], [4] * (MIN_ROWS_PER_DIGIT - 1)])
    warning = check_label_coverage(rare, "t.csv")
    assert warning.startswith("warning: t.csv: fewer than") and "digit 4 " in warning and f"4: {MIN_ROWS_PER_DIGIT - 1}" in warning
