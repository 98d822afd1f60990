import zipfile

import pytest

from digits_support import competition_zip, sample_submission, train_csv, unlabelled_csv
from pipeline.data.competition_zip import check_competition_zip, read_member
from pipeline.core.errors import PipelineError


def test_a_sound_zip_is_accepted(tmp_path):
    path = tmp_path / "c.zip"
    competition_zip(path)
    check_competition_zip(path)
    assert read_member(path, "train.csv").startswith(b"label,pixel0,")


def test_missing_file_empty_file_and_not_a_zip(tmp_path):
    with pytest.raises(PipelineError, match="no such file"):
        check_competition_zip(tmp_path / "absent.zip")
    empty = tmp_path / "empty.zip"
    empty.write_bytes(b"")
    with pytest.raises(PipelineError, match="the file is empty"):
        check_competition_zip(empty)
    html = tmp_path / "page.zip"
    html.write_text("<html>Please log in</html>")
    with pytest.raises(PipelineError, match=r"page.zip: not a zip archive"):
        check_competition_zip(html)


def test_a_truncated_zip_is_refused(tmp_path):
    path = tmp_path / "c.zip"
    competition_zip(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(PipelineError, match=r"c.zip: (not a zip archive|damaged zip archive)"):
        check_competition_zip(path)


def test_a_missing_member_is_named(tmp_path):
    path = tmp_path / "c.zip"
    competition_zip(path, {"train.csv": "x", "sample_submission.csv": "y"})
    with pytest.raises(PipelineError, match=r"missing test.csv \(expected train.csv, test.csv, sample_submission.csv"):
        check_competition_zip(path)


@pytest.mark.parametrize("evil", ["../evil.csv", "/etc/passwd", "data/../../x.csv", "C:/x.csv", "..\\x.csv"])
def test_a_member_escaping_the_folder_is_refused(tmp_path, evil):
    path = tmp_path / "c.zip"
    competition_zip(path, {"train.csv": "a", "test.csv": "b", "sample_submission.csv": "c", evil: "boom"})
    with pytest.raises(PipelineError, match="escapes the target folder"):
        check_competition_zip(path)


def test_a_corrupt_member_fails_its_crc_check(tmp_path):
    path = tmp_path / "c.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("train.csv", "A" * 1000)
        archive.writestr("test.csv", "B" * 1000)
        archive.writestr("sample_submission.csv", "C" * 1000)
    data = bytearray(path.read_bytes())
    position = data.find(b"B" * 1000)
    data[position + 500] = ord("X")  # flip a byte inside test.csv's stored data
    path.write_bytes(bytes(data))
    with pytest.raises(PipelineError, match="member test.csv is corrupt"):
        check_competition_zip(path)


def test_streaming_stops_at_the_limit_even_when_the_header_check_is_skipped(tmp_path, monkeypatch):
    """The second guard: bytes are counted as they inflate, whatever the header said."""
    import zipfile as _zipfile

    from pipeline.core.errors import PipelineError as _Error
    from pipeline.data import competition_zip as cz

    target = tmp_path / "big.zip"
    with _zipfile.ZipFile(target, "w", _zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("train.csv", b"0," * (1 << 20))  # 2 MB
    monkeypatch.setenv(cz.MAX_MEMBER_MB_ENV, "1")
    monkeypatch.setattr(cz, "_check_sizes", lambda *a: None)
    with pytest.raises(_Error, match="inflates past 1,048,576 bytes"):
        cz.read_member(target, "train.csv")


def _folder_zip(path, folder: str, extras: dict[str, str] | None = None) -> dict[str, str]:
    members = {"train.csv": train_csv(60), "test.csv": unlabelled_csv(6), "sample_submission.csv": sample_submission(6)}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(folder, b"")  # the folder's own entry, as most zip tools write it
        for name, text in members.items():
            archive.writestr(folder + name, text)
        for name, text in (extras or {}).items():
            archive.writestr(name, text)
    return members


def test_the_files_in_one_subfolder_are_found(tmp_path):
    """A zip of the folder rather than of its files (digit-recognizer/train.csv): unambiguous, so accepted."""
    path = tmp_path / "c.zip"
    members = _folder_zip(path, "digit-recognizer/", {"__MACOSX/digit-recognizer/._train.csv": "resource fork",
                                                     "digit-recognizer/README.txt": "notes"})
    check_competition_zip(path)
    for name, text in members.items():
        assert read_member(path, name) == text.encode()


def test_a_zip_of_the_folder_runs_through_fetch_and_split(tmp_path, monkeypatch, capsys):
    import yaml

    from pipeline.cli import main

    monkeypatch.chdir(tmp_path)
    _folder_zip(tmp_path / "mine.zip", "digit-recognizer/")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"fetch": {"source": "mine.zip"},
                                                         "split": {"validation_fraction": 0.2, "random_state": 0}}))
    assert main(["fetch"]) == 0 and main(["split"]) == 0
    assert "split: 48 train, 12 validation, 6 test rows" in capsys.readouterr().out


def test_a_member_found_twice_is_refused_naming_both_even_with_one_at_the_top(tmp_path):
    path = tmp_path / "c.zip"
    _folder_zip(path, "digit-recognizer/", {"test.csv": unlabelled_csv(6)})
    with pytest.raises(PipelineError, match=r"c.zip: test.csv is in the zip 2 times \(digit-recognizer/test.csv, test.csv\)"):
        check_competition_zip(path)
