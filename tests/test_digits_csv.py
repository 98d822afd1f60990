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
    with pytest.raises(PipelineError, match=r"^train.csv, line 3, column label: expected a digit 0..9, found 12$"):
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
