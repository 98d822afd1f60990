import numpy as np
import pytest

from pipeline.core.errors import PipelineError
from pipeline.submissions.format import accuracy, format_submission, parse_submission, read_submission, write_submission


def test_written_submission_has_kaggle_format_and_reads_back(tmp_path):
    labels = np.array([3, 0, 9, 9, 1])
    path = tmp_path / "submission.csv"
    write_submission(path, labels)
    assert path.read_text().splitlines() == ["ImageId,Label", "1,3", "2,0", "3,9", "4,9", "5,1"]
    ids, parsed = read_submission(path, expected_rows=5)
    assert ids.tolist() == [1, 2, 3, 4, 5] and parsed.tolist() == labels.tolist()


def test_writer_refuses_invalid_labels_and_leaves_the_old_file(tmp_path):
    path = tmp_path / "submission.csv"
    path.write_text("old")
    with pytest.raises(ValueError):
        write_submission(path, np.array([1, 10]))
    with pytest.raises(ValueError):
        format_submission(np.array([]))
    assert path.read_text() == "old"


@pytest.mark.parametrize("text, fragment", [
    ("", "is empty"),
    ("Id,Label\n1,2\n", "line 1: expected the header 'ImageId,Label', found 'Id,Label'"),
    ("ImageId,Label,Extra\n1,2,3\n", "expected the header 'ImageId,Label'"),
    ("ImageId,Label\n", "has a header but no rows"),
    ("ImageId,Label\n1,2\n2,x\n", "line 3, column Label: expected an integer, found 'x'"),
    ("ImageId,Label\n1,2\n2,2.0\n", "line 3, column Label: expected an integer, found '2.0'"),
    ("ImageId,Label\n1,2\n2,\n", "line 3, column Label: expected an integer, found a blank cell"),
    ("ImageId,Label\n1,2\n1,3\n", "line 3, column ImageId: expected 2"),
    ("ImageId,Label\n1,2\n3,3\n", "line 3, column ImageId: expected 2 (ImageId must run 1..N in test.csv order), found 3"),
    ("ImageId,Label\n1,2\n2,10\n", "line 3, column Label: expected a digit 0..9, found 10"),
    ("ImageId,Label\n1,2\n2,-1\n", "line 3, column Label: expected a digit 0..9, found -1"),
])
def test_bad_submissions_are_named_precisely(text, fragment):
    with pytest.raises(PipelineError) as err:
        parse_submission(text.encode(), "sub.csv")
    assert fragment in str(err.value)


def test_duplicate_ids_are_called_out():
    with pytest.raises(PipelineError, match="ImageId 2 appears 2 times"):
        parse_submission(b"ImageId,Label\n1,0\n2,0\n2,0\n", "sub.csv")


def test_row_count_must_match_the_test_set():
    with pytest.raises(PipelineError, match=r"has 2 rows, expected 3 \(one per row of test.csv\)"):
        parse_submission(b"ImageId,Label\n1,0\n2,0\n", "sub.csv", expected_rows=3)


def test_accuracy_against_an_answer_key(tmp_path):
    truth, sub = tmp_path / "solution.csv", tmp_path / "sub.csv"
    write_submission(truth, np.array([1, 2, 3, 4]))
    write_submission(sub, np.array([1, 2, 0, 4]))
    assert accuracy(sub, truth) == (0.75, 4)


def test_accuracy_refuses_mismatched_ids(tmp_path):
    truth, sub = tmp_path / "solution.csv", tmp_path / "sub.csv"
    write_submission(truth, np.array([1, 2, 3, 4]))
    write_submission(sub, np.array([1, 2, 3]))
    with pytest.raises(PipelineError, match="ImageIds do not match"):
        accuracy(sub, truth)


def test_spaces_around_header_names_and_cells_are_harmless():
    ids, labels = parse_submission(b"ImageId , Label\n1, 7\n 2 ,3\n", "sub.csv")
    assert ids.tolist() == [1, 2] and labels.tolist() == [7, 3]
