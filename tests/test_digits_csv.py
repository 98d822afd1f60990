import numpy as np
import pytest

from digits_support import csv_text, unlabelled_csv, train_csv, train_rows
from pipeline.digits_csv import PIXEL_COLUMNS, TRAIN_COLUMNS, describe_header_problem, parse_digits_csv
from pipeline.errors import PipelineError


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
