"""Stage ``split``: validate train.csv/test.csv and write stratified train/validation/test arrays."""

from __future__ import annotations

import sys

import numpy as np

from pipeline.core import paths
from pipeline.core.arrays_file import save_arrays
from pipeline.data.competition_zip import check_competition_zip, open_member
from pipeline.core.config import load_params
from pipeline.data.digits_csv import read_digits_csv
from pipeline.core.errors import PipelineError
from pipeline.core.progress import Progress
from pipeline.data.splitting import check_label_coverage, split_indices
from pipeline.submissions.format import parse_submission


def _read_csv(member: str, labelled: bool):
    """Parse a member of the zip as it inflates: memory grows with the rows, not with the text."""
    with open_member(paths.COMPETITION_ZIP, member) as (size, pieces):
        return read_digits_csv(pieces, member, labelled, size_hint=size)


def run(args) -> int:
    params = load_params(paths.PARAMS).split
    check_competition_zip(paths.COMPETITION_ZIP)
    with Progress(2, "split: parse", unit="files") as progress:
        pixels, labels = _read_csv("train.csv", labelled=True)
        progress.update(1, train_rows=len(pixels))
        warning = check_label_coverage(labels, "train.csv")
        test_pixels, _ = _read_csv("test.csv", labelled=False)
        progress.update(1, test_rows=len(test_pixels))
    if warning:
        print(warning, file=sys.stderr)
    test = {"X": test_pixels}
    if paths.RAW_SOLUTION.exists():
        _, answers = parse_submission(paths.RAW_SOLUTION.read_bytes(), str(paths.RAW_SOLUTION))
        if len(answers) != len(test_pixels):
            raise PipelineError(f"{paths.RAW_SOLUTION} has {len(answers)} rows but test.csv has "
                                f"{len(test_pixels)}: the answer key does not belong to this test.csv")
        test["y"] = answers.astype(np.uint8)
    train_rows, validation_rows = split_indices(labels, params.validation_fraction, params.random_state)
    paths.PREPARED_DIR.mkdir(parents=True, exist_ok=True)
    save_arrays(paths.TRAIN_ARRAYS, {"X": pixels[train_rows], "y": labels[train_rows]})
    save_arrays(paths.VALIDATION_ARRAYS, {"X": pixels[validation_rows], "y": labels[validation_rows]})
    save_arrays(paths.TEST_ARRAYS, test)
    print(f"split: {len(train_rows)} train, {len(validation_rows)} validation, {len(test_pixels)} test rows"
          + (" (test answers known)" if "y" in test else ""))
    return 0
