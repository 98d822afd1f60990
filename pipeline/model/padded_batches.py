"""Rows in zero-padded batches of one fixed size: what makes a row's result its own, bit for bit.

BLAS (and cuBLAS) may sum a product's terms in an order that depends on the matrices' shapes, so a row can
come out in the last bits differently alone, among few rows or among many. Every product that prediction
and the input transforms make goes through batches of ``BATCH_ROWS`` rows, the last one padded with zero
rows: every product then has the same shape, and a row's answer does not depend on the rows beside it.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

BATCH_ROWS = 512  # large enough for fast products, small enough for any memory


def padded_batches(x, dtype=None, rows: int = BATCH_ROWS) -> Iterator[tuple[int, int, np.ndarray]]:
    """(first row, rows taken, batch) for ``x``'s rows in batches of ``rows``, the last zero-padded; ``batch``
    is one host buffer of ``dtype`` (``x``'s by default), refilled for each batch."""
    batch = np.zeros((rows, x.shape[1]), dtype or x.dtype)
    for begin in range(0, len(x), rows):
        part = x[begin:begin + rows]
        batch[:len(part)] = part
        batch[len(part):] = 0
        yield begin, len(part), batch
