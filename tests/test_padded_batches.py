"""padded_batches: every row once, in order, in one fixed shape, the rows past the end zero."""

from __future__ import annotations

import numpy as np

from pipeline.model.padded_batches import padded_batches


def test_rows_come_once_in_batches_of_one_shape_and_the_last_is_zero_padded():
    x = np.arange(1, 23 * 3 + 1, dtype=np.int64).reshape(23, 3)
    seen = []
    for begin, rows, batch in padded_batches(x, np.float32, rows=10):
        assert batch.shape == (10, 3) and batch.dtype == np.float32
        np.testing.assert_array_equal(batch[:rows], x[begin:begin + rows])
        assert not batch[rows:].any()  # the third batch's 7 padding rows, not the second batch's leftovers
        seen.append((begin, rows))
    assert seen == [(0, 10), (10, 10), (20, 3)]
    assert list(padded_batches(x[:0])) == []
