"""Small competition-shaped CSV and zip builders for tests."""

from __future__ import annotations

import io
import zipfile

import numpy as np

from pipeline.data.digits_csv import PIXEL_COLUMNS, TRAIN_COLUMNS


def train_rows(n: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    pixels = rng.integers(0, 256, size=(n, 784))
    return pixels, labels


def csv_text(header, rows) -> str:
    lines = [",".join(header)] + [",".join(str(v) for v in row) for row in rows]
    return "\n".join(lines) + "\n"


def train_csv(n: int = 20, seed: int = 0) -> str:
    pixels, labels = train_rows(n, seed)
    return csv_text(TRAIN_COLUMNS, np.column_stack([labels, pixels]).tolist())


def unlabelled_csv(n: int = 10, seed: int = 1) -> str:
    pixels, _ = train_rows(n, seed)
    return csv_text(PIXEL_COLUMNS, pixels.tolist())


def sample_submission(n: int = 10) -> str:
    return csv_text(("ImageId", "Label"), [[i, 0] for i in range(1, n + 1)])


def competition_zip(path, members: dict[str, str | bytes] | None = None) -> None:
    if members is None:
        members = {"train.csv": train_csv(), "test.csv": unlabelled_csv(), "sample_submission.csv": sample_submission()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
