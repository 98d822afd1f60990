"""The one reader of text files: each way a file cannot be read is one line naming it and what to do."""

from __future__ import annotations

import pytest

from pipeline.core.errors import PipelineError
from pipeline.core.text_file import read_text


def test_text_comes_back_as_written(tmp_path):
    (tmp_path / "a.txt").write_text("één\n", encoding="utf-8")
    assert read_text(tmp_path / "a.txt", "fix it") == "één\n"


@pytest.mark.parametrize("make, words", [
    (lambda p: None, "a.txt: not found; make it first"),
    (lambda p: p.write_bytes(b"\xff\xfe junk"), "a.txt: not UTF-8 text; fix it"),
    (lambda p: p.mkdir(), "a.txt: cannot be read (Is a directory); fix it"),
])
def test_each_failure_is_one_line_naming_the_file(tmp_path, make, words):
    make(tmp_path / "a.txt")
    with pytest.raises(PipelineError) as raised:
        read_text(tmp_path / "a.txt", "fix it", missing="make it first")
    assert str(raised.value) == f"{tmp_path}/{words}"


def test_a_missing_file_without_its_own_words_gets_the_remedy(tmp_path):
    with pytest.raises(PipelineError, match=r"b.txt: not found; fix it$"):
        read_text(tmp_path / "b.txt", "fix it")
