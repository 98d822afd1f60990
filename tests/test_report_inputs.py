"""Reading the report's inputs: the train stage's tables and the Kaggle ledger."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.core.errors import PipelineError
from pipeline.submissions.ledger import read_history
from pipeline.core.metrics_io import read_json_object
from pipeline.report.tables import read_numeric_csv
from report_support import LEDGER_HEADER, SAMPLE_LEDGER, ledger


def test_numeric_csv_reads_named_columns_in_any_order(tmp_path):
    path = tmp_path / "curve.csv"
    path.write_text("loss,iteration,extra\n0.5,1,x\n0.25,2,y\n")
    table = read_numeric_csv(path, ("iteration", "loss"))
    assert table["iteration"].tolist() == [1.0, 2.0] and table["loss"].tolist() == [0.5, 0.25]
    assert read_numeric_csv(path, ("iteration",), integer=True)["iteration"].dtype == np.int64


@pytest.mark.parametrize("text, message", [
    ("", "curve.csv is empty"),
    ("iteration,acc\n1,0.5\n", "line 1: missing column(s) loss"),
    ("iteration,loss\n1,0.5\n2,abc\n", "line 3, column loss: expected a number, found 'abc'"),
    ("iteration,loss\n1,0.5\n2\n", "line 3, column loss: expected a number, found a blank cell"),
    ("iteration,loss\n1,nan\n", "line 2, column loss: expected a finite number, found 'nan'"),
])
def test_numeric_csv_errors_name_file_line_and_column(tmp_path, text, message):
    path = tmp_path / "curve.csv"
    path.write_text(text)
    with pytest.raises(PipelineError) as info:
        read_numeric_csv(path, ("iteration", "loss"))
    assert str(path) in str(info.value) and message in str(info.value)


def test_integer_column_refuses_floats(tmp_path):
    path = tmp_path / "confusion.csv"
    path.write_text("actual,predicted\n1,2.5\n")
    with pytest.raises(PipelineError, match="line 2, column predicted: expected an integer, found '2.5'"):
        read_numeric_csv(path, ("actual", "predicted"), integer=True)


def test_missing_table_says_how_to_make_it(tmp_path):
    with pytest.raises(PipelineError, match="not found; run the stage that makes it"):
        read_numeric_csv(tmp_path / "nope.csv", ("a",))


def test_json_object(tmp_path):
    path = tmp_path / "m.json"
    path.write_text('{"a": 1}')
    assert read_json_object(path) == {"a": 1}
    path.write_text("[1]")
    with pytest.raises(PipelineError, match="expected a JSON object"):
        read_json_object(path)
    path.write_text("{")
    with pytest.raises(PipelineError, match="not valid JSON"):
        read_json_object(path)


def test_ledger_absent_is_none_and_header_only_is_empty(tmp_path):
    path = tmp_path / "history.csv"
    assert read_history(path) is None
    path.write_text(LEDGER_HEADER + "\n")
    assert read_history(path) == []
    path.write_text("")
    assert read_history(path) == []


def test_ledger_rows_with_and_without_scores(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text(SAMPLE_LEDGER)
    rows = read_history(path)
    assert [r.public_score for r in rows] == [0.951, 0.965, 0.973, None]
    assert [r.private_score for r in rows] == [None] * 4
    assert [r.validation_accuracy for r in rows] == [0.95, 0.96, 0.97, 0.971]
    assert rows[1].message == "adam, cosine" and rows[3].status == "pending" and rows[0].ref == "41000001"


def test_ledger_after_a_git_merge_is_read_as_the_ledger_commands_read_it(tmp_path):
    """The report reads the ledger through the same reader as submit and scores."""
    path = tmp_path / "history.csv"
    path.write_text(ledger("2024-06-01T10:00:00Z,7,first,pending,,,aa,11,d1,0.95", "",
                           "2024-06-01T10:00:00Z,7,first,complete,0.951,,,,,"))
    (row,) = read_history(path)  # one ref twice: one row, the later known values win
    assert (row.ref, row.status, row.public_score, row.validation_accuracy) == ("7", "complete", 0.951, 0.95)
    path.write_text(ledger("<<<<<<< HEAD", "2024-06-01T10:00:00Z,7,first,complete,0.951,,aa,11,d1,0.95",
                           "=======", ">>>>>>> other"))
    with pytest.raises(PipelineError, match="line 2: an unresolved git merge conflict"):
        read_history(path)


def test_ledger_bad_score_names_line_and_column(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text(ledger("2024-06-01T10:00:00Z,1,m,complete,0.95,,a,b,c,0.9",
                           "2024-06-02T10:00:00Z,2,m,complete,high,,a,b,c,0.9"))
    with pytest.raises(PipelineError) as info:
        read_history(path)
    assert f"{path}, line 3, column public_score: expected a number or an empty cell, found 'high'" in str(info.value)


def test_ledger_with_another_header_is_refused(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("submitted_at,score\n2024,0.9\n")
    with pytest.raises(PipelineError, match="line 1: expected the header 'submitted_at,ref,"):
        read_history(path)
