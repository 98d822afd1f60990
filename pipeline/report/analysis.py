"""What the report shows, computed as pure functions on arrays (no files, no drawing)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support


def confusion_counts(actual: np.ndarray, predicted: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """counts[i, j]: how many digits of class ``classes[i]`` were predicted as ``classes[j]``."""
    return confusion_matrix(actual, predicted, labels=classes)


@dataclass(frozen=True)
class ClassScores:
    classes: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray


def class_scores(actual: np.ndarray, predicted: np.ndarray, classes: np.ndarray) -> ClassScores:
    """Per-class precision, recall, F1 and support (scikit-learn); 0 where a class was never predicted."""
    precision, recall, f1, support = precision_recall_fscore_support(
        actual, predicted, labels=classes, zero_division=0)
    return ClassScores(np.asarray(classes), precision, recall, f1, support)


@dataclass(frozen=True)
class Mistakes:
    rows: np.ndarray         # indices into the evaluated set, most confident mistake first
    actual: np.ndarray
    predicted: np.ndarray
    confidence: np.ndarray   # the probability the model gave its (wrong) answer
    total_wrong: int


def worst_mistakes(proba: np.ndarray, actual: np.ndarray, classes: np.ndarray, limit: int) -> Mistakes:
    """The ``limit`` misclassified rows the model was most sure of (ties: lower row first)."""
    proba = np.asarray(proba)
    choice = proba.argmax(axis=1)
    predicted = np.asarray(classes)[choice]
    confidence = proba[np.arange(len(proba)), choice]
    wrong = np.flatnonzero(predicted != np.asarray(actual))
    order = wrong[np.argsort(-confidence[wrong], kind="stable")][:limit]
    return Mistakes(order, np.asarray(actual)[order], predicted[order], confidence[order], len(wrong))


def first_layer_images(weights: np.ndarray, limit: int, shape: tuple[int, int] = (28, 28)
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``limit`` hidden units' input weights as images, strongest (largest L2 norm) first.

    ``weights`` is the first layer's (n_inputs, n_hidden) matrix. Returns (images of shape
    (k, *shape), the units' column indices).
    """
    if weights.shape[0] != shape[0] * shape[1]:
        raise ValueError(f"the first layer has {weights.shape[0]} inputs, not {shape[0]}x{shape[1]} pixels")
    norms = np.linalg.norm(weights, axis=0)
    units = np.argsort(-norms, kind="stable")[:limit]
    return weights[:, units].T.reshape(len(units), *shape), units
