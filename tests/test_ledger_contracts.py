"""Promises of the submission ledger (pipeline/submissions/ledger.py) that no other test pinned, each found by
mutation testing (issue 31): a mutant that changed the behaviour survived until the test here was written."""

from __future__ import annotations

import pytest

from pipeline.core.errors import PipelineError
from pipeline.submissions import ledger
from pipeline.submissions.ledger import Submission

HEADER = ",".join(ledger.HEADER)
WHEN = "2025-03-01T10:00:00Z"


def line(ref: str, when: str = WHEN, message: str = "m", status: str = "complete", public: str = "0.9",
         val: str = "") -> str:
    return f"{when},{ref},{message},{status},{public},,abc,def,123,{val}"


def test_rows_of_the_same_second_sort_by_ref_as_numbers():
    rows = ledger.parse("\n".join([HEADER, line("10"), line("9"), line("100")]) + "\n", "h.csv")
    assert [row.ref for row in rows] == ["9", "10", "100"]


def test_a_byte_order_mark_a_blank_line_and_windows_line_ends_are_read():
    text = "\ufeff" + "\r\n".join([HEADER, line("1"), "", " , ,", line("2")]) + "\r\n"
    assert [row.ref for row in ledger.parse(text, "h.csv")] == ["1", "2"]


@pytest.mark.parametrize("text, message", [
    (f"{HEADER}\n<<<<<<< HEAD\n{line('1')}\n", "h.csv, line 2: an unresolved git merge conflict (<<<<<<<); keep the "
                                               "rows of both sides, delete the marker lines, then run python -m "
                                               "pipeline scores"),
    ("when,ref\n", "h.csv, line 1: expected the header 'submitted_at,ref,message,status,public_score,private_score,"
                   "file_sha256,git_commit,params_digest,validation_accuracy', found 'when,ref'; restore it with: git "
                   "checkout -- h.csv"),
    (f"{HEADER}\n{line('0')}\n", "h.csv, line 2, column ref: expected a Kaggle submission number, found '0'"),
    (f"{HEADER}\n{line('1')}\n{line('2', public='high')}\n", "h.csv, line 3, column public_score: expected a number or "
                                                             "an empty cell, found 'high'"),
])
def test_a_damaged_ledger_is_one_line_naming_the_file_the_line_and_what_is_wrong(text, message):
    with pytest.raises(PipelineError) as caught:
        ledger.parse(text, "h.csv")
    assert str(caught.value) == message


def test_a_ledger_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "history.csv"
    path.write_bytes(HEADER.encode() + b"\n" + line("1").encode().replace(b",m,", b",\xff,") + b"\n")
    with pytest.raises(PipelineError) as caught:
        ledger.read(path)
    assert str(caught.value) == f"{path}: not UTF-8 text; restore it with: git checkout -- {path}"
    path.write_text(f"{HEADER}\n{line('x')}\n")
    with pytest.raises(PipelineError, match=f"^{path}, line 2, column ref"):
        ledger.read(path)


def test_the_ledger_is_written_with_unix_line_ends_and_numbers_that_read_back(tmp_path):
    path = tmp_path / "history.csv"
    ledger.upsert(path, [Submission(WHEN, "1", "a, b", "complete", 1, 0.5, validation_accuracy=0.1 + 0.2)],
                  from_kaggle=True)
    data = path.read_bytes()
    assert b"\r" not in data
    assert data.decode().splitlines()[1] == f'{WHEN},1,"a, b",complete,1.0,0.5,,,,0.30000000000000004'
    assert ledger.read(path)[0].validation_accuracy == 0.1 + 0.2


def test_kaggles_word_on_a_score_stands_even_when_it_is_none():
    old = Submission(WHEN, "1", "m", "complete", 0.9, 0.8, validation_accuracy=0.95)
    rescored = Submission(WHEN, "1", "", "pending", None, None)
    [row], changes = ledger.merge([old], [rescored], from_kaggle=True)
    assert (row.status, row.public_score, row.private_score, row.message) == ("pending", None, None, "m")
    assert row.validation_accuracy == 0.95 and changes == ledger.Changes(0, 1)
    [row], _ = ledger.merge([old], [rescored], from_kaggle=False)  # not Kaggle's answer: only fills blanks
    assert row == old


def test_local_fields_fill_blanks_and_then_stay():
    old = Submission(WHEN, "1", file_sha256="", git_commit="abc")
    new = Submission(WHEN, "1", file_sha256="f00d", git_commit="other")
    [row], changes = ledger.merge([old], [new], from_kaggle=True)
    assert (row.file_sha256, row.git_commit) == ("f00d", "abc") and changes == ledger.Changes(0, 1)


def test_merge_counts_what_it_added_and_what_it_changed():
    rows = [Submission(WHEN, "1", status="pending"), Submission(WHEN, "2", status="complete"),
            Submission(WHEN, "6", status="pending")]
    updates = [Submission(WHEN, "1", status="complete"), Submission(WHEN, "2", status="complete"),
               Submission(WHEN, "3"), Submission(WHEN, "4"), Submission(WHEN, "5"), Submission(WHEN, "6", status="error")]
    merged, changes = ledger.merge(rows, updates, from_kaggle=True)
    assert changes == ledger.Changes(added=3, updated=2)
    assert [r.ref for r in merged] == ["1", "2", "3", "4", "5", "6"]


def test_upsert_passes_on_whether_the_rows_are_kaggles_answer(tmp_path):
    path = tmp_path / "history.csv"
    ledger.upsert(path, [Submission(WHEN, "1", "mine", "pending")], from_kaggle=False)
    ledger.upsert(path, [Submission(WHEN, "1", "kaggle's", "complete", 0.5)], from_kaggle=False)
    assert ledger.read(path)[0].message == "mine"  # after an upload: only blanks are filled
    ledger.upsert(path, [Submission(WHEN, "1", "kaggle's", "complete", 0.5)], from_kaggle=True)
    assert (ledger.read(path)[0].message, ledger.read(path)[0].public_score) == ("kaggle's", 0.5)


def test_the_lock_timeout_comes_from_its_variable(monkeypatch):
    monkeypatch.delenv("DIGIT_PIPELINE_LOCK_TIMEOUT", raising=False)
    assert ledger.lock_timeout() == 30.0
    monkeypatch.setenv("DIGIT_PIPELINE_LOCK_TIMEOUT", "0.25")
    assert ledger.lock_timeout() == 0.25
    monkeypatch.setenv("DIGIT_PIPELINE_LOCK_TIMEOUT", "soon")
    with pytest.raises(PipelineError) as caught:
        ledger.lock_timeout()
    assert str(caught.value) == "environment variable DIGIT_PIPELINE_LOCK_TIMEOUT must be a number of seconds > 0, got 'soon'"
