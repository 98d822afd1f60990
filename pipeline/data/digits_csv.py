r"""Read and validate the competition's CSV files (``train.csv``, ``test.csv``) into uint8 arrays.

Three passes, each taking only what it is sure of and handing everything else to the next:

1. ``_parse_regular``, a few whole-array NumPy operations on the bytes (train.csv in ~0.25 s).
   It runs once a C-speed scan has shown that the body holds only ``0-9 , \r \n``, and takes
   a file only when it is regular: every field 1 to 3 digits worth 0..255, every line exactly
   as many fields as the header, no blank line, ``\r`` only as part of ``\r\n``. Each field
   ends at a separator; the low 4 bits of the 4 bytes before it (digits are 0..9, ``,`` and
   ``\n`` are 12 and 10) make a 16-bit key, and a 65,536-entry table maps every key to the
   field's value, or to "not regular" (empty field, more than 3 digits, over 255).
2. The pandas C parser straight into uint8 (~1.2 s), for what the first pass declines. It is
   the reference for what a file means (it takes ``0001`` as 1, lone ``\r`` line ends, ...):
   pass 1 takes only files on which it gives the values pandas would, so it changes speed only.
3. ``_diagnose``, when pandas fails too or the bytes are not digits, commas and line ends:
   a slow pass whose only job is to name the first bad line, column and value.

The body is read and parsed in chunks of about ``CHUNK_BYTES`` of whole lines, straight into
arrays sized from the file's length, so peak memory is the arrays plus one chunk, not the whole
text plus the arrays: memory follows the rows (``benchmarks/split_memory.py`` measures it). Each chunk goes
through passes 1 and 2 on its own; that gives the same values as the whole file would, since
both read a file line by line once its column count is fixed. The first chunk that neither
pass takes goes through the passes again as one body with everything after it (its line numbers offset
by the rows already read), so an error message is exactly what the whole file would give:
pandas reports a later line with too many fields before an earlier bad cell, and the rest of
the file is needed to see that. That costs memory only for a file that is refused. The header
line is read in bounded memory: one over ``MAX_HEADER_BYTES`` is refused unread.
"""

from __future__ import annotations

import io
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd

from pipeline.core.errors import PipelineError

N_PIXELS = 784
PIXEL_COLUMNS = tuple(f"pixel{i}" for i in range(N_PIXELS))
TRAIN_COLUMNS = ("label",) + PIXEL_COLUMNS
TEST_COLUMNS = PIXEL_COLUMNS
N_CLASSES = 10


def describe_header_problem(found: list[str], expected: tuple[str, ...]) -> str:
    """Say how a header differs from the expected one: missing, extra, renamed or reordered."""
    found_set, expected_set = set(found), set(expected)
    missing = [c for c in expected if c not in found_set]
    extra = [c for c in found if c not in expected_set]
    duplicated = sorted(c for c, n in Counter(found).items() if n > 1)
    parts = []
    if duplicated:
        parts.append(f"duplicated column(s) {_names(duplicated)}")
    if missing and extra and len(missing) == len(extra):
        pairs = [f"{e!r} where {m!r} was expected" for m, e in zip(missing, extra)]
        parts.append("renamed column(s): " + _names(pairs, quote=False))
    else:
        if missing:
            parts.append(f"missing column(s) {_names(missing)}")
        if extra:
            parts.append(f"unexpected column(s) {_names(extra)}")
    if not parts:
        first = next(i for i, (f, e) in enumerate(zip(found, expected)) if f != e)
        parts.append(f"columns out of order: position {first + 1} holds {found[first]!r}, expected {expected[first]!r}")
    return "; ".join(parts) + f" (expected {len(expected)} columns: {expected[0]}, {expected[1]}, ..., {expected[-1]})"


def _names(items: list[str], quote: bool = True, limit: int = 5) -> str:
    shown = [repr(x) if quote else x for x in items[:limit]]
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(shown) + more


CHUNK_BYTES = 16 << 20  # bytes of whole lines parsed at a time
MAX_HEADER_BYTES = 1 << 20  # the competition's header line is about 7 KB
VALID_BYTES = b"0123456789,\r\n"
ZIP_MAGIC = b"PK\x03\x04"


def parse_digits_csv(data: bytes, name: str, labelled: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Parse a whole CSV file's bytes. Returns (pixels uint8 of shape (n, 784), labels uint8 or None).

    ``name`` is how errors refer to the file (e.g. ``train.csv``).
    """
    pieces = (data[start:start + CHUNK_BYTES] for start in range(0, len(data), CHUNK_BYTES))
    return read_digits_csv(pieces, name, labelled, size_hint=len(data))


def read_digits_csv(pieces: Iterable[bytes], name: str, labelled: bool,
                    size_hint: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """As ``parse_digits_csv``, for a file given as consecutive pieces of bytes (a zip member as it
    inflates), held one chunk at a time. ``size_hint``, the file's length if known, sizes the arrays."""
    expected = TRAIN_COLUMNS if labelled else TEST_COLUMNS
    pieces = iter(pieces)
    header, after_header = _read_header(pieces, name, expected)
    if tuple(header) != expected:
        if not labelled and tuple(header) == TRAIN_COLUMNS:
            raise PipelineError(f"{name}, line 1: has a 'label' column, so it looks like train.csv; "
                                f"test.csv must hold exactly the {N_PIXELS} pixel columns")
        raise PipelineError(f"{name}, line 1: wrong header: {describe_header_problem(header, expected)}")
    rows = _Rows(labelled, size_hint)
    chunks = _line_chunks(after_header, pieces, CHUNK_BYTES)
    for chunk in chunks:
        values = _parse_chunk(chunk, len(expected))
        if values is None:  # as the whole file would be parsed from here on; raises unless it can
            chunk += b"".join(chunks)
            values = _parse_rest(chunk, name, expected, rows.count)
        if labelled and values[:, 0].max(initial=0) >= N_CLASSES:
            # A label over 9 is a good uint8, so either parse passes it. Say what the whole file would:
            # pandas tokenizes every line before it looks at a value, so a later line with the wrong
            # number of fields still comes first; else this label does, before any later line's bad cell.
            body, first_line = _in_file_frame(chunk + b"".join(chunks), expected, rows.count)
            _diagnose(body, name, expected, first_line)
        rows.append(values)
    if not rows.count:
        raise PipelineError(f"{name} has a header but no data rows")
    return rows.arrays()


def _read_header(pieces: Iterator[bytes], name: str, expected: tuple[str, ...]) -> tuple[list[str], bytes]:
    """The header's column names and the bytes read after its line end, reading at most about
    ``MAX_HEADER_BYTES`` unless the file is only whitespace."""
    buffer, end, blank = bytearray(), -1, True
    for piece in pieces:
        if end < 0 and (found := piece.find(b"\n")) >= 0:
            end = len(buffer) + found
        buffer += piece
        blank = blank and (not piece or piece.isspace())
        if (end >= 0 and not blank) or len(buffer) > MAX_HEADER_BYTES:
            break
    if blank and all(not piece or piece.isspace() for piece in pieces):
        raise PipelineError(f"{name} is empty: expected a header line ({expected[0]},{expected[1]},...) and data rows")
    if buffer.startswith(ZIP_MAGIC):
        raise PipelineError(f"{name} is a zip archive, not CSV text: unpack it, and zip the CSV files themselves")
    if end > MAX_HEADER_BYTES or (end < 0 and len(buffer) > MAX_HEADER_BYTES):
        raise PipelineError(f"{name}, line 1: no line end in the first {MAX_HEADER_BYTES:,} bytes, so this is not "
                            f"the header ({expected[0]},{expected[1]},...,{expected[-1]}: "
                            f"{len(','.join(expected)):,} bytes); is this really a CSV file?")
    line = buffer if end < 0 else buffer[:end]
    try:
        text = line.decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError:
        raise PipelineError(f"{name}, line 1: the header is not UTF-8 text; is this really a CSV file?") from None
    return [c.strip() for c in text.split(",")], (b"" if end < 0 else bytes(buffer[end + 1:]))


def _line_chunks(start: bytes, pieces: Iterator[bytes], size: int) -> Iterator[bytes]:
    """``start`` then ``pieces`` again, cut into chunks of whole lines of at least ``size`` bytes
    where the lines allow (the last chunk is what is left, and may lack its line end)."""
    buffer = bytearray(start)
    line_end = buffer.rfind(b"\n") + 1  # just past the last line end in buffer, 0 if none
    for piece in pieces:
        if (found := piece.rfind(b"\n")) >= 0:
            line_end = len(buffer) + found + 1
        buffer += piece
        if len(buffer) >= size and line_end:
            with memoryview(buffer) as view:
                chunk = bytes(view[:line_end])
            del buffer[:line_end]
            line_end = 0
            yield chunk
    if buffer:
        yield bytes(buffer)


class _Rows:
    """Values appended chunk by chunk into pixel and label arrays sized once for the file's length.

    An accepted row takes at least 2 bytes a field (a digit and a separator), which bounds the rows;
    pages of the arrays that are never written cost no memory. Past the bound (a file longer than
    its ``size_hint``), the arrays grow.
    """

    def __init__(self, labelled: bool, size_hint: int):
        capacity = size_hint // (2 * N_PIXELS) + 1
        self.labelled = labelled
        self.pixels = np.empty((capacity, N_PIXELS), np.uint8)
        self.labels = np.empty(capacity if labelled else 0, np.uint8)
        self.count = 0

    def append(self, values: np.ndarray) -> None:
        end = self.count + len(values)
        if end > len(self.pixels):
            capacity = max(end, 2 * len(self.pixels))
            self.pixels = _grown(self.pixels, self.count, capacity)
            if self.labelled:
                self.labels = _grown(self.labels, self.count, capacity)
        self.pixels[self.count:end] = values[:, 1:] if self.labelled else values
        if self.labelled:
            self.labels[self.count:end] = values[:, 0]
        self.count = end

    def arrays(self) -> tuple[np.ndarray, np.ndarray | None]:
        """The rows read, as C-contiguous views of the first ``count`` rows."""
        return self.pixels[:self.count], (self.labels[:self.count] if self.labelled else None)


def _grown(array: np.ndarray, used: int, capacity: int) -> np.ndarray:
    grown = np.empty((capacity,) + array.shape[1:], array.dtype)
    grown[:used] = array[:used]
    return grown


def _parse_chunk(chunk: bytes, columns: int) -> np.ndarray | None:
    """The (n, columns) uint8 values of a chunk of whole lines, or None for anything but plain rows."""
    if chunk.isspace() or chunk.translate(None, VALID_BYTES):
        return None
    values = _parse_regular(chunk, columns)
    return _parse_with_pandas(chunk, columns) if values is None else values


def _parse_rest(body: bytes, name: str, expected: tuple[str, ...], rows_before: int) -> np.ndarray:
    """The values of ``body``, the file's lines after its first ``rows_before`` rows, parsed as they
    would be within the whole file; raises naming the first bad line if it cannot."""
    if not rows_before and (not body or body.isspace()):
        raise PipelineError(f"{name} has a header but no data rows")
    body, first_line = _in_file_frame(body, expected, rows_before)
    # pandas would quietly take "1.0" or "1e2" as integers: anything but digits, commas and line
    # ends goes to the diagnostic pass (a C-speed scan, ~0.1 s for train.csv).
    if body.translate(None, VALID_BYTES):
        _diagnose(body, name, expected, first_line)
    values = _parse_regular(body, len(expected))
    if values is None:
        values = _parse_with_pandas(body, len(expected))
    if values is None:
        _diagnose(body, name, expected, first_line)
    return values[1:] if rows_before else values


def _in_file_frame(body: bytes, expected: tuple[str, ...], rows_before: int) -> tuple[bytes, int]:
    """``body`` (the lines after the file's first ``rows_before`` rows) as pandas must see it to read it as
    within the whole file, and the file line of its first row, for ``_diagnose``: a row of zeros in front
    fixes pandas' column count as the file's first row did."""
    if not rows_before:
        return body, 2
    return ",".join("0" * len(expected)).encode() + b"\n" + body, rows_before + 1


def _parse_with_pandas(body: bytes, columns: int) -> np.ndarray | None:
    """The (n, columns) uint8 values as pandas reads them, or None if it cannot.

    Given more fields on the first line of ``body`` (a chunk, or the rest of the file) than names,
    pandas only warns and drops the extra ones: that warning is a refusal."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(io.BytesIO(body), header=None, names=list(range(columns)), dtype=np.uint8,
                                index_col=False, engine="c", skip_blank_lines=False)
        return frame.to_numpy()
    except (ValueError, OverflowError, pd.errors.ParserError, pd.errors.EmptyDataError, pd.errors.ParserWarning):
        return None


# --- the NumPy pass --------------------------------------------------------------------------

NOT_REGULAR = 0xFFFF  # a table entry for a field that sends the file to pandas
BLOCK_BYTES = 1 << 18  # bytes per block of whole lines: the temporaries stay a few MB, in cache


def _field_table() -> np.ndarray:
    """uint16 table: the value of a field from the low nibbles of the 4 bytes before its separator.

    Bits 0-3 of the key come from the byte 4 before the separator, bits 12-15 from the byte just
    before it. A nibble 0..9 is a digit, 10 or 12 a line end or comma (the only other bytes left).
    """
    keys = np.arange(1 << 16)
    nibbles = (keys[:, None] >> np.array([0, 4, 8, 12])) & 0xF  # columns: 4th, 3rd, 2nd, 1st byte back
    digit = nibbles <= 9
    ones = digit[:, 3]
    tens = ones & digit[:, 2]
    hundreds = tens & digit[:, 1]
    longer = hundreds & digit[:, 0]
    value = nibbles[:, 3] * ones + 10 * nibbles[:, 2] * tens + 100 * nibbles[:, 1] * hundreds
    regular = ones & ~longer & (value <= 255)
    return np.where(regular, value, NOT_REGULAR).astype(np.uint16)


FIELD_TABLE = _field_table()


def _parse_regular(body: bytes, columns: int) -> np.ndarray | None:
    r"""The (n, columns) uint8 values of a regular body (see the module docstring), else None.

    The body must hold only digits, commas, ``\r`` and ``\n``.
    """
    if b"\r" in body:
        if body.count(b"\r") != body.count(b"\r\n"):
            return None
        body = body.replace(b"\r\n", b"\n")
    rows = body.count(b"\n") + (not body.endswith(b"\n"))
    values = np.empty((rows, columns), np.uint8)
    done = 0
    for start, stop in _line_blocks(body, BLOCK_BYTES):
        block = _parse_block(body, start, stop, columns)
        if block is None:
            return None
        values[done:done + len(block)] = block  # each block's lines end at distinct line ends: done <= rows
        done += len(block)
    # as many lines as line ends, each ending a row's last field: every other separator is a comma
    return values if done == rows else None


def _line_blocks(body: bytes, size: int):
    """(start, stop) offsets of consecutive blocks of about ``size`` bytes, each ending a line."""
    start = 0
    while start < len(body):
        stop = body.find(b"\n", min(start + size, len(body)) - 1) + 1
        stop = stop or len(body)
        yield start, stop
        start = stop


def _parse_block(body: bytes, start: int, stop: int, columns: int) -> np.ndarray | None:
    """The (lines, columns) uint8 values of the whole lines ``body[start:stop]``; None if not regular."""
    size = stop - start
    unterminated = body[stop - 1] != ord("\n")  # the file's last line may lack its line end
    text = np.empty(4 + size + unterminated, np.uint8)
    text[:4] = ord("\n")  # so that every field has 4 bytes before its separator
    text[4:4 + size] = np.frombuffer(body, np.uint8, size, start)
    text[-1] = ord("\n")
    separators = np.flatnonzero(text[4:] < ord("0"))  # commas and line ends, as offsets in text[4:]
    lines = len(separators) // columns
    if len(separators) != lines * columns:
        return None
    # every columns-th separator must be a line end; _parse_regular checks there are no others
    if not np.all(text[4 + separators[columns - 1::columns]] == ord("\n")):
        return None
    nibbles = (text & 0xF).astype(np.uint16)
    keys = nibbles[:-4] | nibbles[1:-3] << 4 | nibbles[2:-2] << 8 | nibbles[3:-1] << 12
    fields = FIELD_TABLE.take(keys.take(separators))
    if fields.max() > 255:
        return None
    return fields.astype(np.uint8).reshape(lines, columns)


def _diagnose(body: bytes, name: str, expected: tuple[str, ...], first_line: int = 2) -> None:
    """Find and raise the first bad cell; only runs once the fast path has failed.

    ``first_line`` is the file line of body's first row (2: the line after the header)."""
    try:
        frame = pd.read_csv(io.BytesIO(body), header=None, dtype=str, keep_default_na=False,
                            index_col=False, engine="c", skip_blank_lines=False)
    except pd.errors.ParserError as exc:
        raise PipelineError(f"{name}: {_parser_message(str(exc), first_line)}") from None
    except pd.errors.EmptyDataError:  # the body starts with a blank line: pandas finds no columns
        raise PipelineError(f"{name}, line {first_line}: a blank line; expected {len(expected)} comma-separated values "
                            f"({expected[0]}, {expected[1]}, ...)") from None
    if frame.shape[1] != len(expected):
        raise PipelineError(f"{name}: rows have {frame.shape[1]} fields, expected {len(expected)} "
                            f"to match the header")
    first: tuple[int, int, str, str] | None = None  # (row, column index, value, what was expected)
    for col in range(frame.shape[1]):
        cells = frame.iloc[:, col]
        is_label = expected[col] == "label"
        limit = N_CLASSES - 1 if is_label else 255
        blank = cells.isna() | (cells.str.strip() == "")
        digits = cells.str.fullmatch(r"\d+").fillna(False).astype(bool)  # leading zeros are fine, as in the fast path
        numeric = pd.to_numeric(cells.where(digits), errors="coerce")
        bad = blank | ~digits | (numeric > limit)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            if first is None or row < first[0]:
                value = cells.iloc[row]
                what = f"a digit 0..9" if is_label else "an integer pixel value 0..255"
                first = (row, col, "a blank cell" if bool(blank.iloc[row]) else repr(value), what)
    if first is None:
        raise PipelineError(f"{name}: could not be parsed as {len(expected)} integer columns "
                            f"(only digits, commas and line ends are allowed)")
    row, col, found, what = first
    raise PipelineError(f"{name}, line {row + first_line}, column {expected[col]}: expected {what}, found {found}")


def _parser_message(text: str, first_line: int = 2) -> str:
    # pandas says e.g. "Error tokenizing data. C error: Expected 785 fields in line 3, saw 786",
    # counting lines of the body it was given from 1, and rows from 0 ("EOF inside string starting
    # at row 5", as it has always been reported); the body's first row is file line first_line.
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if match:
        expected, line, found = match.groups()
        return f"line {int(line) + first_line - 1}: expected {expected} fields to match the header, found {found}"
    message = text.split("C error: ", 1)[-1].strip()
    return re.sub(r"(?<=starting at row )(\d+)", lambda m: str(int(m.group(1)) + first_line - 2), message)
