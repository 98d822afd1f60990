"""Stratified, seeded train/validation split of row indices."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from pipeline.core.errors import PipelineError


def split_indices(labels: np.ndarray, validation_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return sorted (train, validation) row indices with each class in the same proportion in both."""
    labels = np.asarray(labels)
    counts = np.bincount(labels)
    present = counts[counts > 0]
    n_validation = int(np.ceil(validation_fraction * len(labels)))
    n_train = len(labels) - n_validation
    where = f"cannot make a stratified split of {len(labels)} rows with validation_fraction {validation_fraction}"
    if present.min() < 2:
        raise PipelineError(f"{where}: digit {int(np.flatnonzero(counts == present.min())[0])} has only "
                            f"{int(present.min())} row; every digit needs rows on both sides")
    if min(n_validation, n_train) < len(present):
        raise PipelineError(f"{where}: a side of {min(n_validation, n_train)} rows cannot hold all "
                            f"{len(present)} digits; use more data or a validation_fraction nearer 0.5")
    train, validation = train_test_split(np.arange(len(labels)), test_size=validation_fraction,
                                         stratify=labels, random_state=seed)
    return np.sort(train), np.sort(validation)


# Below this many rows of a digit the split still runs, with a warning: small sets are a legitimate way to
# try the pipeline (the tests and the embedded sample use them), but the accuracy they give means little.
# A digit with no rows at all is refused: the model could never predict it.
MIN_ROWS_PER_DIGIT = 100


def check_label_coverage(labels: np.ndarray, source: str) -> str | None:
    """Raise PipelineError naming the digits missing from ``labels``; return a warning line when any is rare."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=10)[:10]
    missing = [str(d) for d in range(10) if counts[d] == 0]
    shown = ", ".join(f"{d}: {counts[d]}" for d in range(10))
    if missing:
        raise PipelineError(f"{source}: no rows with label {', '.join(missing)}; a digit recognizer needs all ten "
                            f"digits (rows per digit: {shown}); the competition's train.csv has ~4,200 of each")
    rare = [str(d) for d in range(10) if counts[d] < MIN_ROWS_PER_DIGIT]
    if rare:
        return (f"warning: {source}: fewer than {MIN_ROWS_PER_DIGIT} rows of digit {', '.join(rare)} "
                f"(rows per digit: {shown}); validation accuracy will mean little")
    return None
