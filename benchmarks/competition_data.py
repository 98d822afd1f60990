"""A competition zip read and split as the ``split`` stage does it, for the GPU check and the sweep.

Only NumPy, pandas and scikit-learn: no dvc, no kaggle, so it runs on a bare GPU machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.core.config import SplitParams
from pipeline.data.competition_zip import check_competition_zip, open_member
from pipeline.data.digits_csv import read_digits_csv
from pipeline.data.splitting import split_indices
from pipeline.submissions.format import parse_submission


@dataclass(frozen=True)
class Split:
    X: np.ndarray
    y: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray | None  # the answer key's labels, when one was given


def _read(path: Path, member: str, labelled: bool):
    with open_member(path, member) as (size, pieces):
        return read_digits_csv(pieces, member, labelled, size_hint=size)


def load_split(zip_path: str | Path, solution: str | Path | None, split: SplitParams) -> Split:
    """The zip's train.csv split into train and validation rows, and its test.csv with the answers
    of ``solution`` (ImageId,Label); a bad file raises ``PipelineError`` naming it."""
    zip_path = Path(zip_path)
    check_competition_zip(zip_path)
    pixels, labels = _read(zip_path, "train.csv", labelled=True)
    test, _ = _read(zip_path, "test.csv", labelled=False)
    answers = None
    if solution:
        _, answers = parse_submission(Path(solution).read_bytes(), str(solution), expected_rows=len(test))
    train_rows, validation_rows = split_indices(labels, split.validation_fraction, split.random_state)
    return Split(pixels[train_rows], labels[train_rows], pixels[validation_rows], labels[validation_rows], test, answers)
