"""Stratified, seeded train/validation split of row indices."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from pipeline.errors import PipelineError


def split_indices(labels: np.ndarray, validation_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return sorted (train, validation) row indices with each class in the same proportion in both."""
    labels = np.asarray(labels)
    counts = np.bincount(labels)
    present = counts[counts > 0]
    n_validation = int(np.ceil(validation_fraction * len(labels)))
    if present.min() < 2 or n_validation < len(present) or len(labels) - n_validation < len(present):
        raise PipelineError(
            f"cannot make a stratified split of {len(labels)} rows with validation_fraction "
            f"{validation_fraction}: every class needs at least one row on each side "
            f"(smallest class has {int(present.min())} rows)")
    train, validation = train_test_split(np.arange(len(labels)), test_size=validation_fraction,
                                         stratify=labels, random_state=seed)
    return np.sort(train), np.sort(validation)
