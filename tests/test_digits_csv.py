import numpy as np
import pandas as pd
import pytest

from digits_support import csv_text, unlabelled_csv, train_csv, train_rows
from pipeline.data import digits_csv
from pipeline.data.digits_csv import PIXEL_COLUMNS, TRAIN_COLUMNS, describe_header_problem, parse_digits_csv
from pipeline.core.errors import PipelineError


def test_valid_train_csv_parses_to_uint8_pixels_and_labels():
    pixels, labels = train_rows(20)
    x, y = parse_digits_csv(train_csv(20).encode(), "train.csv", labelled=True)
    assert x.dtype == np.uint8 and y.dtype == np.uint8
    assert x.shape == (20, 784)
    np.testing.assert_array_equal(x, pixels)
    np.testing.assert_array_equal(y, labels)


def test_valid_test_csv_has_no_labels_and_tolerates_crlf_and_bom():
    text = "\ufeff" + unlabelled_csv(5).replace("\n", "\r\n")
    x, y = parse_digits_csv(text.encode("utf-8"), "test.csv", labelled=False)
    assert y is None and x.shape == (5, 784)


def _train_with_cell(row: int, column: str, value: str) -> bytes:
    pixels, labels = train_rows(6)
    rows = [[str(v) for v in r] for r in np.column_stack([labels, pixels]).tolist()]
    rows[row][TRAIN_COLUMNS.index(column)] = value
    return csv_text(TRAIN_COLUMNS, rows).encode()


@pytest.mark.parametrize("value, found", [
    ("300", "'300'"), ("-1", "'-1'"), ("1.5", "'1.5'"), ("abc", "'abc'"), ("", "a blank cell"), ("256", "'256'"),
])
def test_a_bad_pixel_is_reported_with_line_column_and_value(value, found):
    with pytest.raises(PipelineError) as err:
        parse_digits_csv(_train_with_cell(3, "pixel17", value), "train.csv", labelled=True)
    assert str(err.value) == f"train.csv, line 5, column pixel17: expected an integer pixel value 0..255, found {found}"


@pytest.mark.parametrize("value", ["10", "12", "x", ""])
def test_a_bad_label_is_reported(value):
    with pytest.raises(PipelineError) as err:
        parse_digits_csv(_train_with_cell(0, "label", value), "train.csv", labelled=True)
    assert str(err.value).startswith("train.csv, line 2, column label: expected a digit 0..9, found")


def test_the_first_bad_row_is_reported_when_several_columns_are_bad():
    data = _train_with_cell(4, "pixel3", "x")
    text = data.decode().splitlines()
    cells = text[3].split(",")  # line 4 of the file
    cells[700] = "999"
    text[3] = ",".join(cells)
    with pytest.raises(PipelineError, match=r"line 4, column pixel699: .* found '999'"):
        parse_digits_csv("\n".join(text).encode(), "train.csv", labelled=True)


def test_a_row_with_an_extra_field_names_the_file_line():
    lines = train_csv(4).splitlines()
    lines[2] += ",7"
    with pytest.raises(PipelineError, match=r"train.csv: line 3: expected 785 fields to match the header, found 786"):
        parse_digits_csv(("\n".join(lines) + "\n").encode(), "train.csv", labelled=True)


def test_a_short_row_is_reported_as_blank_cell():
    lines = train_csv(4).splitlines()
    lines[3] = lines[3].rsplit(",", 1)[0]
    with pytest.raises(PipelineError, match=r"line 4, column pixel783: .* found a blank cell"):
        parse_digits_csv(("\n".join(lines) + "\n").encode(), "train.csv", labelled=True)


@pytest.mark.parametrize("data, fragment", [
    (b"", "train.csv is empty"),
    (b"\n\n", "train.csv is empty"),
    ((",".join(TRAIN_COLUMNS) + "\n").encode(), "train.csv has a header but no data rows"),
    (b"\xff\xfe\x00garbage\n1,2\n", "line 1: the header is not UTF-8"),
])
def test_empty_and_non_text_files(data, fragment):
    with pytest.raises(PipelineError, match=fragment):
        parse_digits_csv(data, "train.csv", labelled=True)


def _with_header(header) -> bytes:
    body = train_csv(3).split("\n", 1)[1]
    return (",".join(header) + "\n" + body).encode()


def test_header_problems_are_described():
    missing = list(TRAIN_COLUMNS[:-1])
    with pytest.raises(PipelineError, match=r"line 1: wrong header: missing column\(s\) 'pixel783'"):
        parse_digits_csv(_with_header(missing), "train.csv", labelled=True)
    extra = list(TRAIN_COLUMNS) + ["pixel784"]
    with pytest.raises(PipelineError, match=r"unexpected column\(s\) 'pixel784'"):
        parse_digits_csv(_with_header(extra), "train.csv", labelled=True)
    renamed = ["Label"] + list(PIXEL_COLUMNS)
    with pytest.raises(PipelineError, match=r"renamed column\(s\): 'Label' where 'label' was expected"):
        parse_digits_csv(_with_header(renamed), "train.csv", labelled=True)
    reordered = list(TRAIN_COLUMNS)
    reordered[1], reordered[2] = reordered[2], reordered[1]
    with pytest.raises(PipelineError, match=r"out of order: position 2 holds 'pixel1', expected 'pixel0'"):
        parse_digits_csv(_with_header(reordered), "train.csv", labelled=True)


def test_train_csv_given_as_test_csv_is_recognised():
    with pytest.raises(PipelineError, match="has a 'label' column, so it looks like train.csv"):
        parse_digits_csv(train_csv(3).encode(), "test.csv", labelled=False)


def test_test_csv_narrower_than_expected_is_refused():
    header = PIXEL_COLUMNS[:-10]
    with pytest.raises(PipelineError, match=r"test.csv, line 1: wrong header: missing column\(s\) 'pixel774'"):
        parse_digits_csv(csv_text(header, [[0] * len(header)]).encode(), "test.csv", labelled=False)


def test_describe_header_problem_reports_duplicates():
    found = ["label", "label"] + list(PIXEL_COLUMNS[1:])
    assert "duplicated column(s) 'label'" in describe_header_problem(found, TRAIN_COLUMNS)


# --- the NumPy pass and the pandas pass behind it ----------------------------------------------
# parse_digits_csv first tries digits_csv._parse_regular; whatever it declines goes to pandas.
# These pin what either pass does on the edges, so that the split between them changes nothing.

def _lines(n: int = 4) -> list[str]:
    return train_csv(n).splitlines()


def _joined(lines: list[str], newline: str = "\n", final: bool = True) -> bytes:
    return (newline.join(lines) + (newline if final else "")).encode()


def _with_pandas_only(monkeypatch):
    monkeypatch.setattr(digits_csv, "_parse_regular", lambda body, columns: None)


@pytest.mark.parametrize("newline, final", [("\n", True), ("\n", False), ("\r\n", True), ("\r\n", False)])
def test_a_regular_file_never_reaches_pandas(monkeypatch, newline, final):
    def no_pandas(*args):
        raise AssertionError("a regular file went to pandas")
    monkeypatch.setattr(digits_csv, "_parse_with_pandas", no_pandas)
    monkeypatch.setattr(digits_csv, "BLOCK_BYTES", 5000)  # blocks of 2 or 3 lines
    pixels, labels = train_rows(13)
    x, y = parse_digits_csv(_joined(_lines(13), newline, final), "train.csv", labelled=True)
    np.testing.assert_array_equal(x, pixels)
    np.testing.assert_array_equal(y, labels)
    assert x.flags.c_contiguous and y.flags.c_contiguous
    x, y = parse_digits_csv(_joined(unlabelled_csv(3).splitlines(), newline, final), "test.csv", labelled=False)
    assert y is None and x.shape == (3, 784) and x.flags.c_contiguous


@pytest.mark.parametrize("value, parsed", [
    ("0", 0), ("00", 0), ("000", 0), ("007", 7), ("099", 99), ("255", 255),
    ("0001", 1), ("0255", 255), ("00000000000000000000009", 9),  # more than 3 digits: pandas reads them
])
def test_leading_zeros_are_read_as_pandas_reads_them(value, parsed):
    data = _train_with_cell(2, "pixel100", value)
    x, _ = parse_digits_csv(data, "train.csv", labelled=True)
    assert x[2, 100] == parsed
    assert x[2, 101] == train_rows(6)[0][2, 101]


@pytest.mark.parametrize("value", ["0256", "1000", "99999", "00000000000000000000256"])
def test_long_numbers_over_255_are_refused(value):
    with pytest.raises(PipelineError) as err:
        parse_digits_csv(_train_with_cell(2, "pixel100", value), "train.csv", labelled=True)
    assert str(err.value) == f"train.csv, line 4, column pixel100: expected an integer pixel value 0..255, found {value!r}"


def test_a_number_over_2_to_the_64_is_reported():
    with pytest.raises(PipelineError, match="^train.csv, line 4, column pixel100: expected an integer pixel value 0..255, found '9{20}'$"):
        parse_digits_csv(_train_with_cell(2, "pixel100", "9" * 20), "train.csv", labelled=True)


def test_a_blank_line_after_the_header_is_reported():
    with pytest.raises(PipelineError, match="^train.csv, line 2: a blank line; expected 785 comma-separated values"):
        parse_digits_csv(_joined([_lines(3)[0], ""] + _lines(3)[1:]), "train.csv", labelled=True)


def test_a_label_with_leading_zeros_is_checked_as_a_digit():
    x, y = parse_digits_csv(_train_with_cell(1, "label", "007"), "train.csv", labelled=True)
    assert y[1] == 7
    with pytest.raises(PipelineError, match=r"^train.csv, line 3, column label: expected a digit 0..9, found '012'$"):
        parse_digits_csv(_train_with_cell(1, "label", "012"), "train.csv", labelled=True)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_trailing_blank_line_is_refused_as_a_blank_label(newline):
    data = _joined(_lines(3), newline) + newline.encode()
    with pytest.raises(PipelineError) as err:
        parse_digits_csv(data, "train.csv", labelled=True)
    assert str(err.value) == "train.csv, line 5, column label: expected a digit 0..9, found a blank cell"


def test_lone_carriage_returns_end_lines_as_pandas_reads_them():
    lines = _lines(4)
    data = (lines[0] + "\n" + "\r".join(lines[1:]) + "\r").encode()
    x, y = parse_digits_csv(data, "train.csv", labelled=True)
    pixels, labels = train_rows(4)
    np.testing.assert_array_equal(x, pixels)
    np.testing.assert_array_equal(y, labels)


def test_a_carriage_return_before_a_crlf_makes_a_blank_line():
    with pytest.raises(PipelineError, match=r"^train.csv, line 3, column label: expected a digit 0..9, found a blank cell$"):
        parse_digits_csv(_joined(_lines(3), "\r\r\n"), "train.csv", labelled=True)


def test_a_row_of_the_right_width_with_an_empty_last_field():
    lines = _lines(4)
    lines[2] = lines[2].rsplit(",", 1)[0] + ","
    with pytest.raises(PipelineError) as err:
        parse_digits_csv(_joined(lines), "train.csv", labelled=True)
    assert str(err.value) == "train.csv, line 3, column pixel783: expected an integer pixel value 0..255, found a blank cell"


def test_a_very_long_line_is_reported_with_its_field_count():
    lines = _lines(4)
    lines[2] += ",1" * 2000
    with pytest.raises(PipelineError) as err:
        parse_digits_csv(_joined(lines), "train.csv", labelled=True)
    assert str(err.value) == "train.csv: line 3: expected 785 fields to match the header, found 2785"


def test_a_row_split_over_two_lines_is_not_taken_for_one_row():
    lines = _lines(4)
    cells = lines[2].split(",")
    lines[2:3] = [",".join(cells[:300]), ",".join(cells[300:])]  # still 4 x 785 fields in all
    with pytest.raises(PipelineError) as err:
        parse_digits_csv(_joined(lines), "train.csv", labelled=True)
    assert str(err.value) == "train.csv, line 3, column pixel299: expected an integer pixel value 0..255, found a blank cell"


def test_two_rows_on_one_line_are_not_taken_for_two_rows():
    lines = _lines(4)
    lines[2:4] = [lines[2] + "," + lines[3]]
    with pytest.raises(PipelineError) as err:
        parse_digits_csv(_joined(lines), "train.csv", labelled=True)
    assert str(err.value) == "train.csv: line 3: expected 785 fields to match the header, found 1570"


def test_one_field_per_line_is_not_taken_for_rows():
    data = (",".join(TRAIN_COLUMNS) + "\n" + "1\n" * 785).encode()
    with pytest.raises(PipelineError, match=r"^train.csv: rows have 1 fields, expected 785 to match the header$"):
        parse_digits_csv(data, "train.csv", labelled=True)


@pytest.mark.parametrize("line", [2, 9, 20, 21])
@pytest.mark.parametrize("block_bytes", [1, 5000, 1 << 18])
def test_a_bad_cell_in_any_block_is_found(monkeypatch, line, block_bytes):
    monkeypatch.setattr(digits_csv, "BLOCK_BYTES", block_bytes)
    lines = _lines(20)
    cells = lines[line - 1].split(",")
    cells[500] = "256"
    lines[line - 1] = ",".join(cells)
    with pytest.raises(PipelineError) as err:
        parse_digits_csv(_joined(lines, final=line != 21), "train.csv", labelled=True)
    assert str(err.value) == f"train.csv, line {line}, column pixel499: expected an integer pixel value 0..255, found '256'"


@pytest.mark.parametrize("block_bytes", [1, 5000, 1 << 18])
def test_block_size_does_not_change_the_values(monkeypatch, block_bytes):
    monkeypatch.setattr(digits_csv, "BLOCK_BYTES", block_bytes)
    pixels, labels = train_rows(20)
    for final in (True, False):
        x, y = parse_digits_csv(_joined(_lines(20), final=final), "train.csv", labelled=True)
        np.testing.assert_array_equal(x, pixels)
        np.testing.assert_array_equal(y, labels)


def test_the_field_table_covers_every_regular_field():
    table = digits_csv.FIELD_TABLE
    nibble = {**{str(d): d for d in range(10)}, ",": 0xC, "\n": 0xA}

    def key(four: str) -> int:  # the 4 bytes before a separator, oldest first
        return sum(nibble[ch] << (4 * i) for i, ch in enumerate(four))

    for value in range(256):
        for text in {str(value), f"{value:02d}", f"{value:03d}"}:
            if len(text) <= 3:
                for before in ",\n":
                    assert table[key((before * 4 + text)[-4:])] == value
    for irregular in ["1,2,", "\n\n\n,", "0001", "9999", "1256", ",256", ",999", "\n300"]:
        assert table[key(irregular)] == digits_csv.NOT_REGULAR, irregular


# --- chunks: the body is parsed CHUNK_BYTES of whole lines at a time ---------------------------
# A file parsed in many chunks must give exactly what it gives in one: the same values, or the
# same message with the same line number (tests/test_properties.py checks this on random files).

def _one_chunk_outcome(data: bytes, monkeypatch):
    monkeypatch.setattr(digits_csv, "CHUNK_BYTES", len(data) + 1)
    return _outcome_of(data)


def _outcome_of(data: bytes):
    try:
        x, y = parse_digits_csv(data, "train.csv", labelled=True)
        return x.tolist(), y.tolist()
    except PipelineError as exc:
        return str(exc)


@pytest.mark.parametrize("chunk_bytes", [1, 5000, 40_000])
def test_chunk_size_does_not_change_the_values(monkeypatch, chunk_bytes):
    monkeypatch.setattr(digits_csv, "CHUNK_BYTES", chunk_bytes)
    pixels, labels = train_rows(30)
    for newline, final in [("\n", True), ("\r\n", False), ("\r", True)]:
        x, y = parse_digits_csv(_joined(_lines(30), newline, final).replace(b"\r", b"\n", 1) if newline == "\r"
                                else _joined(_lines(30), newline, final), "train.csv", labelled=True)
        np.testing.assert_array_equal(x, pixels)
        np.testing.assert_array_equal(y, labels)
        assert x.flags.c_contiguous and y.flags.c_contiguous


@pytest.mark.slow  # 1.5 to 3 s each, 19 s for the 8: ten refused files each, each diagnosed column by column
@pytest.mark.parametrize("line", [2, 3, 17, 31])
@pytest.mark.parametrize("chunk_bytes", [1, 5000])
def test_a_bad_line_in_a_later_chunk_is_named_by_its_line_in_the_file(monkeypatch, line, chunk_bytes):
    """5000 bytes is about 3 lines a chunk: line 17 is in the 6th chunk, 31 (the last, no line end) in the 10th."""
    def edited(edit) -> bytes:
        lines = _lines(30)
        lines[line - 1] = edit(lines[line - 1])
        return _joined(lines, final=line != 31)

    cases = {
        edited(lambda text: text.replace(",", ",x", 1)): f"train.csv, line {line}, column pixel0: expected an integer pixel value 0..255, found 'x",
        edited(lambda text: text + ",7"): f"train.csv: line {line}: expected 785 fields to match the header, found 786",
        edited(lambda text: "12" + text[1:]): f"train.csv, line {line}, column label: expected a digit 0..9, found '12'",
        edited(lambda text: text.rsplit(",", 1)[0]): f"train.csv, line {line}, column pixel783: expected an integer pixel value 0..255, found a blank cell",
    }
    if line != 31:  # an empty last line with no line end is no line at all
        cases[edited(lambda text: "")] = f"train.csv, line {line}, column label: expected a digit 0..9, found a blank cell"
    for data, message in cases.items():
        monkeypatch.setattr(digits_csv, "CHUNK_BYTES", chunk_bytes)
        chunked = _outcome_of(data)
        # on line 2 the file's first row sets pandas' column count, so a short or long row, or a blank
        # line, reads differently (as it always has); the chunks must still agree with the whole file
        assert isinstance(chunked, str) and (line == 2 or chunked.startswith(message)), (chunked, message)
        assert chunked == _one_chunk_outcome(data, monkeypatch)


def test_a_later_line_with_too_many_fields_is_reported_before_an_earlier_bad_cell_in_any_chunk(monkeypatch):
    """As pandas reads a whole file: it tokenizes every line before it looks at a value."""
    lines = _lines(30)
    lines[4] = lines[4].replace(",", ",x", 1)  # line 5: a bad cell
    lines[25] += ",1"  # line 26: a field too many
    monkeypatch.setattr(digits_csv, "CHUNK_BYTES", 5000)
    assert _outcome_of(_joined(lines)) == "train.csv: line 26: expected 785 fields to match the header, found 786"


def test_an_unclosed_quote_in_a_later_chunk_is_reported_at_the_row_the_whole_file_gives(monkeypatch):
    lines = _lines(30)
    lines[20] = lines[20].replace(",", ',"', 1)
    data = _joined(lines)
    monkeypatch.setattr(digits_csv, "CHUNK_BYTES", 5000)
    chunked = _outcome_of(data)
    assert chunked == "train.csv: EOF inside string starting at row 19" == _one_chunk_outcome(data, monkeypatch)


def test_a_file_longer_than_its_size_hint_still_parses(monkeypatch):
    monkeypatch.setattr(digits_csv, "CHUNK_BYTES", 5000)
    pixels, labels = train_rows(30)
    data = _joined(_lines(30))
    x, y = digits_csv.read_digits_csv([data[i:i + 777] for i in range(0, len(data), 777)], "train.csv",
                                      labelled=True, size_hint=0)
    np.testing.assert_array_equal(x, pixels)
    np.testing.assert_array_equal(y, labels)


def test_a_huge_first_line_is_refused_after_reading_about_the_header_limit(monkeypatch):
    monkeypatch.setattr(digits_csv, "MAX_HEADER_BYTES", 100_000)
    read = []

    def pieces():  # 100 MB of one line, if it were all read
        for _ in range(10_000):
            read.append(1)
            yield b"pixel," * 2000

    with pytest.raises(PipelineError) as err:
        digits_csv.read_digits_csv(pieces(), "train.csv", labelled=True)
    assert str(err.value).startswith("train.csv, line 1: no line end in the first 100,000 bytes, so this is not the header")
    assert len(read) <= 10


def test_a_header_of_many_columns_is_described_quickly():
    """describe_header_problem once counted duplicates with list.count: minutes for 500,000 columns."""
    found = ["pixel"] * 250_000 + [f"c{i}" for i in range(250_000)]
    message = describe_header_problem(found, TRAIN_COLUMNS)
    assert message.startswith("duplicated column(s) 'pixel'; missing column(s) 'label'")


@pytest.mark.parametrize("data, fragment", [
    (b" \n" * 5000, "train.csv is empty"),
    (b"\n" * 5000 + b"label\n", "train.csv, line 1: wrong header"),
    ((",".join(TRAIN_COLUMNS) + "\n").encode() + b"\r\n" * 5000, "train.csv has a header but no data rows"),
    (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "train.csv is a zip archive, not CSV text"),
])
def test_blank_files_and_a_zip_given_as_csv_in_any_chunk_size(monkeypatch, data, fragment):
    monkeypatch.setattr(digits_csv, "CHUNK_BYTES", 100)
    with pytest.raises(PipelineError, match=fragment):
        parse_digits_csv(data, "train.csv", labelled=True)


@pytest.mark.parametrize("rows", [1, 3])
def test_an_extra_field_on_every_row_is_refused_not_dropped(rows):
    """pandas, given 785 names and 786 fields from the first row on, only warned and dropped one: a
    one-row file (or a chunk of one row) with a field too many was taken without a word."""
    lines = _lines(rows)
    lines[1:] = [line + ",7" for line in lines[1:]]
    with pytest.raises(PipelineError, match="^train.csv: rows have 786 fields, expected 785 to match the header$"):
        parse_digits_csv(_joined(lines), "train.csv", labelled=True)


@pytest.mark.parametrize("chunk_bytes", [1, 5000])
def test_a_label_over_9_comes_before_a_later_bad_cell_in_any_chunk(monkeypatch, chunk_bytes):
    """Found by Hypothesis: a label such as 94 parses as a good uint8, so its chunk passed and a later
    chunk's bad pixel was named instead of the line the whole file names."""
    lines = _lines(30)
    lines[1] = "94" + lines[1][1:]  # line 2
    lines[20] = lines[20].replace(",", ",2241", 1)  # line 21, column pixel0
    data = _joined(lines)
    monkeypatch.setattr(digits_csv, "CHUNK_BYTES", chunk_bytes)
    chunked = _outcome_of(data)
    assert chunked == "train.csv, line 2, column label: expected a digit 0..9, found '94'"
    assert chunked == _one_chunk_outcome(data, monkeypatch)


@pytest.mark.parametrize("chunk_bytes", [1, 5000])
def test_a_later_line_with_too_many_fields_still_comes_before_a_label_over_9(monkeypatch, chunk_bytes):
    lines = _lines(30)
    lines[2] = "12" + lines[2][1:]  # line 3
    lines[25] += ",1"  # line 26: a field too many
    data = _joined(lines)
    monkeypatch.setattr(digits_csv, "CHUNK_BYTES", chunk_bytes)
    chunked = _outcome_of(data)
    assert chunked == "train.csv: line 26: expected 785 fields to match the header, found 786"
    assert chunked == _one_chunk_outcome(data, monkeypatch)


def test_cells_with_leading_zeros_are_not_taken_for_the_bad_cell():
    """The fast path reads 0007 as 7, so the diagnosis must too, and name the cell that is bad."""
    header, *rows = _lines(5)
    cells = [[f"00{v}" for v in row.split(",")] for row in rows]
    cells[3][1] = "1.5"  # line 5, column pixel0
    lines = [header] + [",".join(row) for row in cells]
    with pytest.raises(PipelineError) as err:
        parse_digits_csv(_joined(lines), "train.csv", labelled=True)
    assert str(err.value) == "train.csv, line 5, column pixel0: expected an integer pixel value 0..255, found '1.5'"


def test_a_label_over_9_is_refused_on_the_path_that_parses_the_rest_of_the_file_too(monkeypatch):
    """When a chunk's own parse fails, the rest of the file is parsed at once; its labels are checked too."""
    lines = _lines(6)
    lines[4] = "11" + lines[4][1:]  # line 5
    monkeypatch.setattr(digits_csv, "_parse_chunk", lambda chunk, columns: None)
    with pytest.raises(PipelineError) as err:
        parse_digits_csv(_joined(lines), "train.csv", labelled=True)
    assert str(err.value) == "train.csv, line 5, column label: expected a digit 0..9, found '11'"
