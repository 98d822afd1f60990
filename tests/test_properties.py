"""Property-based tests of the pieces with clear invariants."""

from __future__ import annotations

import re

from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from digits_support import csv_text
from pipeline.data import digits_csv
from pipeline.model import nn
from pipeline.data.digits_csv import PIXEL_COLUMNS, TRAIN_COLUMNS, parse_digits_csv
from pipeline.core.errors import PipelineError
from pipeline.data.splitting import split_indices
from pipeline.submissions.format import format_submission, parse_submission

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Frames are 785 columns wide: shrinking one takes minutes, so CSV properties report the example as found.
NO_SHRINK = settings(FAST, phases=[Phase.explicit, Phase.reuse, Phase.generate])


@st.composite
def digit_frames(draw, max_rows=6):
    n = draw(st.integers(1, max_rows))
    labels = draw(arrays(np.uint8, n, elements=st.integers(0, 9)))
    pixels = draw(arrays(np.uint8, (n, 784), elements=st.integers(0, 255)))
    return labels, pixels


@NO_SHRINK
@given(digit_frames())
def test_any_valid_frame_parses_back_exactly(frame):
    labels, pixels = frame
    text = csv_text(TRAIN_COLUMNS, np.column_stack([labels, pixels]).tolist())
    x, y = parse_digits_csv(text.encode(), "train.csv", labelled=True)
    np.testing.assert_array_equal(x, pixels)
    np.testing.assert_array_equal(y, labels)


BAD_CELLS = st.one_of(
    st.integers(0, 255).map(lambda v: f"{v}.0"), st.integers(1, 2).map(lambda e: f"1e{e}"),
    st.integers(0, 255).map(lambda v: f" {v}"),
    st.integers(256, 10**6).map(str), st.integers(-10**6, -1).map(str), st.just(""),
    st.floats(0.01, 254.99).filter(lambda f: not f.is_integer()).map(lambda f: f"{f:.2f}"),
    st.text("abcxyz!?", min_size=1, max_size=4),
)


@pytest.mark.slow  # 4 to 25 s: most examples are refused, and each refusal is diagnosed column by column
@NO_SHRINK
@given(digit_frames(), st.data(), BAD_CELLS)
def test_any_single_corrupt_cell_is_caught_and_located(frame, data, bad):
    labels, pixels = frame
    rows = [[str(v) for v in row] for row in np.column_stack([labels, pixels]).tolist()]
    row = data.draw(st.integers(0, len(rows) - 1))
    column = data.draw(st.integers(0, 784))
    rows[row][column] = bad
    text = csv_text(TRAIN_COLUMNS, rows)
    with pytest.raises(PipelineError) as err:
        parse_digits_csv(text.encode(), "train.csv", labelled=True)
    assert f"train.csv, line {row + 2}, column {TRAIN_COLUMNS[column]}:" in str(err.value)


@pytest.mark.slow  # 4 to 25 s: most examples are refused, and each refusal is diagnosed column by column
@NO_SHRINK
@given(digit_frames(), st.integers(10, 99))
def test_any_label_outside_0_to_9_is_caught(frame, label):
    labels, pixels = frame
    rows = np.column_stack([labels, pixels]).astype(int)
    rows[-1, 0] = label
    with pytest.raises(PipelineError, match=f"line {len(rows) + 1}, column label: expected a digit 0..9"):
        parse_digits_csv(csv_text(TRAIN_COLUMNS, rows.tolist()).encode(), "train.csv", labelled=True)


# The NumPy pass (digits_csv._parse_regular) against the pandas pass as an independent reader:
# on any file, parse_digits_csv must say exactly what it says when pandas alone reads the body.

def _outcome(data: bytes):
    try:
        x, y = parse_digits_csv(data, "train.csv", labelled=True)
        return x.tolist(), y.tolist(), x.flags.c_contiguous and y.flags.c_contiguous
    except PipelineError as exc:  # anything else (a traceback) fails the property outright
        return str(exc)


def _pandas_outcome(data: bytes):
    with mock.patch.object(digits_csv, "_parse_regular", return_value=None):
        return _outcome(data)


BLOCK_SIZES = st.sampled_from([1, 3000, digits_csv.BLOCK_BYTES])  # a line per block, two, all in one


@st.composite
def formatted_csv(draw):
    """A valid frame as any writer might lay it out: leading zeros, LF/CRLF/CR, final line end or not."""
    labels, pixels = draw(digit_frames())
    values = np.column_stack([labels, pixels])
    zeros = draw(arrays(np.uint8, values.shape, elements=st.sampled_from([0, 0, 0, 1, 2, 3])))
    rows = [["0" * z + str(v) for v, z in zip(row, zrow)] for row, zrow in zip(values.tolist(), zeros.tolist())]
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    final = draw(st.booleans())
    body = newline.join(",".join(row) for row in rows) + (newline if final else "")
    header = ",".join(TRAIN_COLUMNS) + ("\n" if newline == "\r" else newline)  # it must end in \n
    regular = "\r" not in body.replace("\r\n", "") and all(len(cell) <= 3 for row in rows for cell in row)
    return (header + body).encode(), labels, pixels, regular


@settings(NO_SHRINK, max_examples=60)
@given(formatted_csv(), BLOCK_SIZES)
def test_numpy_pass_reads_any_layout_as_pandas_does(frame, block_bytes):
    data, labels, pixels, regular = frame
    with mock.patch.object(digits_csv, "BLOCK_BYTES", block_bytes):
        assert _outcome(data) == _pandas_outcome(data) == (pixels.tolist(), labels.tolist(), True)
        body = data[data.index(b"\n") + 1:]
        assert (digits_csv._parse_regular(body, len(TRAIN_COLUMNS)) is not None) == regular


EDITS = st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.sampled_from(["insert", "delete", "replace"]),
                           st.sampled_from(list("0123456789") + [",", ",", "\n", "\n", "\r", "\r\n", ""])),
                 min_size=1, max_size=3)


def corrupted_csv(frame, edits) -> bytes:
    """train.csv text of ``frame`` (labels, pixels) with ``edits`` (where, insert/delete/replace, text)
    applied to its body."""
    labels, pixels = frame
    data = bytearray(csv_text(TRAIN_COLUMNS, np.column_stack([labels, pixels]).tolist()).encode())
    body_start = data.index(b"\n") + 1
    for where, edit, text in edits:
        at = body_start + int(where * (len(data) - body_start))
        if edit == "insert":
            data[at:at] = text.encode()
        elif edit == "delete":
            del data[at:at + 1 + len(text)]  # 1 to 3 bytes
        else:
            data[at:at + 1] = text.encode()
    return bytes(data)


@pytest.mark.slow  # 4 to 25 s: most examples are refused, and each refusal is diagnosed column by column
@NO_SHRINK  # most examples end in _diagnose, twice
@given(digit_frames(max_rows=4), EDITS, BLOCK_SIZES)
def test_numpy_pass_and_pandas_agree_on_corrupted_files(frame, edits, block_bytes):
    data = corrupted_csv(frame, edits)
    with mock.patch.object(digits_csv, "BLOCK_BYTES", block_bytes):
        outcome = _outcome(bytes(data))
        assert outcome == _pandas_outcome(bytes(data))
    if isinstance(outcome, str):  # refused: with a message that says where
        assert re.match(r"train\.csv(, line \d+(, column \w+)?)?[: ]", outcome), outcome


CHUNK_SIZES = st.sampled_from([1, 2000, 5000])  # a line per chunk, about one, about three


@pytest.mark.slow  # 4 to 25 s: most examples are refused, and each refusal is diagnosed column by column
@NO_SHRINK
@given(formatted_csv(), digit_frames(max_rows=4), EDITS, CHUNK_SIZES)
def test_the_body_read_in_chunks_says_what_it_says_in_one(frame, corrupted, edits, chunk_bytes):
    """Values, or the message and its line number, must not depend on where the chunks end."""
    data = frame[0]
    for case in (data, corrupted_csv(corrupted, edits)):
        with mock.patch.object(digits_csv, "CHUNK_BYTES", len(case) + 1):
            whole = _outcome(case)
        with mock.patch.object(digits_csv, "CHUNK_BYTES", chunk_bytes):
            assert _outcome(case) == whole


@FAST
@given(arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(2, 12)),
              elements=st.floats(-1e300, 1e300, allow_nan=False)))
def test_softmax_is_a_distribution_and_cross_entropy_is_finite(logits):
    probabilities = nn.softmax(logits)
    assert np.all(np.isfinite(probabilities)) and np.all(probabilities >= 0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-9)
    targets = np.arange(len(logits)) % logits.shape[1]
    loss = nn.cross_entropy(logits, targets)
    assert np.isfinite(loss) and loss >= 0


@FAST
@given(st.lists(st.integers(0, 9), min_size=40, max_size=300), st.floats(0.1, 0.5), st.integers(0, 2**31))
def test_split_is_a_stratified_partition(labels, fraction, seed):
    labels = np.array(labels)
    counts = np.bincount(labels)
    present = counts[counts > 0]
    n_val = int(np.ceil(fraction * len(labels)))
    assume(present.min() >= 2 and min(n_val, len(labels) - n_val) >= len(present))
    train, validation = split_indices(labels, fraction, seed)
    assert np.intersect1d(train, validation).size == 0
    assert len(train) + len(validation) == len(labels)
    for digit in np.flatnonzero(counts):
        expected = counts[digit] * len(validation) / len(labels)
        assert abs(np.sum(labels[validation] == digit) - expected) <= 1 + 1e-9


@FAST
@given(arrays(np.int64, st.integers(1, 500), elements=st.integers(0, 9)))
def test_submission_round_trip(labels):
    ids, parsed = parse_submission(format_submission(labels).encode(), "s.csv", expected_rows=len(labels))
    np.testing.assert_array_equal(parsed, labels)
    np.testing.assert_array_equal(ids, np.arange(1, len(labels) + 1))
