"""The catalogue of bad inputs: each row is one case (what is broken -> the message a user sees).

Every case runs a real command in a fresh project folder and checks: exit status 1, a one-line
`error:` message holding the expected fragment, no traceback, and no output written in place of
what the command would have made. Adding a case is one line in CASES.
"""

from __future__ import annotations

import io
import struct
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import yaml

from digits_support import competition_zip, csv_text, sample_submission, train_csv, unlabelled_csv
from pipeline.cli import main
from pipeline.data.digits_csv import PIXEL_COLUMNS, TRAIN_COLUMNS
from pipeline.submissions.format import write_submission

ZIP = "data/raw/digit-recognizer.zip"
PREPARED = "data/prepared"
SUBMISSION = "submissions/submission.csv"
TINY_TRAIN = {"hidden_layer_sizes": [8], "max_iter": 3, "augment_translate": 0, "eval_every": 1}


def params(path: Path, **sections) -> None:
    raw = {"fetch": {"source": "sample"}, "split": {"validation_fraction": 0.2, "random_state": 0}, "train": dict(TINY_TRAIN)}
    for section, values in sections.items():
        raw.setdefault(section, {}).update(values)
    path.joinpath("params.yaml").write_text(yaml.safe_dump(raw))


def raw_zip(path: Path, **members) -> None:
    base = {"train.csv": train_csv(60), "test.csv": unlabelled_csv(6), "sample_submission.csv": sample_submission(6)}
    base.update(members)
    (path / "data/raw").mkdir(parents=True, exist_ok=True)
    competition_zip(path / ZIP, {k: v for k, v in base.items() if v is not None})


def with_cell(text: str, line: int, column: str, value: str, header=TRAIN_COLUMNS) -> str:
    lines = text.splitlines()
    cells = lines[line - 1].split(",")
    cells[header.index(column)] = value
    lines[line - 1] = ",".join(cells)
    return "\n".join(lines) + "\n"


def with_header(text: str, header) -> str:
    return ",".join(header) + "\n" + text.split("\n", 1)[1]


def swapped(columns, i, j):
    columns = list(columns)
    columns[i], columns[j] = columns[j], columns[i]
    return columns


def local_zip_source(make: Callable[[Path], None]):
    """A fetch case: the user's zip at ./mine.zip, made by ``make``."""
    def setup(path: Path) -> None:
        make(path / "mine.zip")
        params(path, fetch={"source": "mine.zip"})
    return setup


def split_case(**members):
    def setup(path: Path) -> None:
        params(path)
        raw_zip(path, **members)
    return setup


def params_case(**sections):
    def setup(path: Path) -> None:
        params(path, **sections)
        raw_zip(path)
    return setup


def truncated(target: Path) -> None:
    competition_zip(target)
    target.write_bytes(target.read_bytes()[:300])


def escaping(target: Path) -> None:
    competition_zip(target, {"train.csv": "a", "test.csv": "b", "sample_submission.csv": "c", "../../etc/x": "d"})


def crc_broken(target: Path) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
        for name in ("train.csv", "test.csv", "sample_submission.csv"):
            archive.writestr(name, name[0] * 500)
    data = bytearray(target.read_bytes())
    data[data.find(b"t" * 500) + 10] = ord("!")
    target.write_bytes(bytes(data))


def solution_file(text: str):
    def setup(path: Path) -> None:
        competition_zip(path / "mine.zip")
        (path / "answers.csv").write_text(text)
        params(path, fetch={"source": "mine.zip", "solution": "answers.csv"})
    return setup


def scored(submission_text: str, truth_rows: int = 4):
    def setup(path: Path) -> None:
        write_submission(path / "truth.csv", np.arange(truth_rows) % 10)
        (path / "sub.csv").write_bytes(submission_text.encode("utf-8", "surrogateescape"))
    return setup


def broken_answer_key(key_text: str):
    def setup(path: Path) -> None:
        write_submission(path / "sub.csv", np.arange(2) % 10)
        (path / "key.csv").write_text(key_text)
    return setup


def trained_project(path: Path) -> None:
    params(path)
    raw_zip(path)
    assert main(["split"]) == 0 and main(["train"]) == 0


def corrupt_model(path: Path) -> None:
    trained_project(path)
    model = path / "models/model.npz"
    model.write_bytes(model.read_bytes()[:200])


def mismatched_model(path: Path) -> None:
    trained_project(path)
    model = path / "models/model.npz"
    with np.load(model) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["W0"] = arrays["W0"][:, :5]  # a first layer narrower than the architecture says
    with open(model, "wb") as handle:
        np.savez(handle, **arrays)


def missing_test_arrays(path: Path) -> None:
    trained_project(path)
    (path / PREPARED / "test.npz").unlink()


def unsolved_answers(path: Path) -> None:
    params(path)
    raw_zip(path)
    (path / "data/raw/solution.csv").write_text(csv_text(("ImageId", "Label"), [[1, 3], [2, 4]]))


def rows_zip(target: Path, train_bytes: int, declared: int | None = None) -> None:
    """A zip whose train.csv is ``train_bytes`` of valid-looking rows, written in chunks (never held whole);
    ``declared`` rewrites the sizes its headers claim, as a hostile zip would."""
    row = ("3," + ",".join(["0"] * 783) + "\n").encode()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("train.csv", "w", force_zip64=True) as handle:
            handle.write((",".join(TRAIN_COLUMNS) + "\n").encode())
            written = 0
            while written < train_bytes:
                handle.write(row * 64)
                written += len(row) * 64
        archive.writestr("test.csv", U)
        archive.writestr("sample_submission.csv", sample_submission(6))
    if declared is not None:
        with zipfile.ZipFile(target) as archive:
            info = archive.getinfo("train.csv")
        data = bytearray(target.read_bytes())
        data = bytes(data)
        for fmt in ("<Q", "<I"):  # the zip64 extra (local header) and the central directory's 4-byte field
            real = struct.pack(fmt, info.file_size)
            assert real in data
            data = data.replace(real, struct.pack(fmt, declared))
        target.write_bytes(data)
        with zipfile.ZipFile(target) as archive:
            assert archive.getinfo("train.csv").file_size == declared


def bomb(target: Path) -> None:
    rows_zip(target, 4 << 20, declared=3 << 30)


def _patched_headers(target: Path, member: str, offsets: dict[bytes, int], value: int) -> None:
    """Rewrite a 2-byte field of ``member``'s local header and central directory entry (at its
    offset after each signature), as a hostile or exotic zip writer would have set it."""
    data = bytearray(target.read_bytes())
    with zipfile.ZipFile(target) as archive:
        info = archive.getinfo(member)
    local = info.header_offset
    assert data[local:local + 4] == b"PK\x03\x04"
    data[local + offsets[b"PK\x03\x04"]:local + offsets[b"PK\x03\x04"] + 2] = struct.pack("<H", value)
    central = data.find(b"PK\x01\x02")
    while central >= 0:  # the central entry whose name is member
        name_length = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46:central + 46 + name_length] == member.encode():
            data[central + offsets[b"PK\x01\x02"]:central + offsets[b"PK\x01\x02"] + 2] = struct.pack("<H", value)
            break
        central = data.find(b"PK\x01\x02", central + 4)
    target.write_bytes(bytes(data))


def stored_zip(target: Path, members: dict[str, str | bytes]) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def encrypted(target: Path) -> None:
    stored_zip(target, {"train.csv": T, "test.csv": U, "sample_submission.csv": sample_submission(6)})
    _patched_headers(target, "train.csv", {b"PK\x03\x04": 6, b"PK\x01\x02": 8}, 0x1)  # flag bit 0: encrypted


def deflate64(target: Path) -> None:
    competition_zip(target, {"train.csv": T, "test.csv": U, "sample_submission.csv": sample_submission(6)})
    _patched_headers(target, "test.csv", {b"PK\x03\x04": 8, b"PK\x01\x02": 10}, 9)  # method 9: Deflate64


def deflate_broken(target: Path) -> None:
    competition_zip(target, {"train.csv": T, "test.csv": U, "sample_submission.csv": sample_submission(6)})
    with zipfile.ZipFile(target) as archive:
        info = archive.getinfo("train.csv")
    data = bytearray(target.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start:start + 64] = b"\xff" * 64  # the deflate stream's first blocks
    target.write_bytes(bytes(data))


def folder_member(target: Path) -> None:
    stored_zip(target, {"train.csv/": b"", "test.csv": U, "sample_submission.csv": sample_submission(6)})


def nested_zip(target: Path) -> None:
    stored_zip(target, {"train.csv.zip": _zip_bytes({"train.csv": T}), "test.csv.zip": _zip_bytes({"test.csv": U}),
                        "sample_submission.csv": sample_submission(6)})


def _zip_bytes(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    competition_zip(buffer, members)
    return buffer.getvalue()


def two_train_files(target: Path) -> None:
    stored_zip(target, {"old/train.csv": T, "new/train.csv": T, "test.csv": U, "sample_submission.csv": sample_submission(6)})


def duplicate_member(target: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns "Duplicate name", and writes it
        stored_zip(target, {"train.csv": T, "test.csv": U, "sample_submission.csv": sample_submission(6)})
        with zipfile.ZipFile(target, "a") as archive:
            archive.writestr("train.csv", T)


def huge_header(path: Path) -> None:
    """train.csv whose first line is 100 MB with no line end; stored, so no ratio check stops it first."""
    params(path)
    (path / "data/raw").mkdir(parents=True)
    with zipfile.ZipFile(path / ZIP, "w", zipfile.ZIP_STORED) as archive:
        with archive.open("train.csv", "w") as handle:
            for _ in range(100):
                handle.write(b"pixel," * 174_763)  # ~1 MB a write
        archive.writestr("test.csv", U)
        archive.writestr("sample_submission.csv", sample_submission(6))


@dataclass(frozen=True)
class Case:
    id: str
    command: list[str]
    setup: Callable[[Path], None]
    message: str
    absent: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()


T = train_csv(60)
U = unlabelled_csv(6)
SUB_OK = "ImageId,Label\n1,0\n2,1\n3,2\n4,3\n"

CASES = [
    # --- fetch: the competition zip -----------------------------------------------------------
    Case("zip-truncated", ["fetch"], local_zip_source(truncated), "mine.zip: not a zip archive", (ZIP,)),
    Case("zip-not-a-zip", ["fetch"], local_zip_source(lambda t: t.write_text("<html>login</html>")), "mine.zip: not a zip archive", (ZIP,)),
    Case("zip-empty-file", ["fetch"], local_zip_source(lambda t: t.write_bytes(b"")), "mine.zip: the file is empty", (ZIP,)),
    Case("zip-missing-member", ["fetch"], local_zip_source(lambda t: competition_zip(t, {"train.csv": T, "sample_submission.csv": "x"})), "missing test.csv", (ZIP,)),
    Case("zip-escaping-member", ["fetch"], local_zip_source(escaping), "member '../../etc/x' has a path that escapes the target folder", (ZIP,)),
    Case("zip-bad-crc", ["fetch"], local_zip_source(crc_broken), "member train.csv is corrupt (CRC check failed)", (ZIP,)),
    Case("zip-bomb-declared", ["fetch"], local_zip_source(bomb), "member train.csv declares 3,221,225,472 bytes uncompressed, past the limit of 1024 MB", (ZIP,)),
    Case("zip-bomb-ratio", ["fetch"], local_zip_source(lambda t: rows_zip(t, 4 << 20)), "this looks like a zip bomb", (ZIP,)),
    Case("zip-member-over-limit", ["fetch"], local_zip_source(lambda t: rows_zip(t, 3 << 20)), "past the limit of 1 MB per member (the competition's train.csv is ~73 MB", (ZIP,), (("DIGIT_PIPELINE_MAX_MEMBER_MB", "1"),)),
    Case("zip-header-understates", ["fetch"], local_zip_source(lambda t: rows_zip(t, 3 << 20, declared=5000)), "member train.csv is corrupt (CRC check failed)", (ZIP,), (("DIGIT_PIPELINE_MAX_MEMBER_MB", "1"),)),
    Case("zip-member-is-a-folder", ["fetch"], local_zip_source(folder_member), "member train.csv/ is a folder, expected the file train.csv", (ZIP,)),
    Case("zip-inside-the-zip", ["fetch"], local_zip_source(nested_zip), "missing train.csv, test.csv, but it holds train.csv.zip, test.csv.zip: a zip inside the zip", (ZIP,)),
    Case("zip-two-train-csv-in-folders", ["fetch"], local_zip_source(two_train_files), "train.csv is in the zip 2 times (old/train.csv, new/train.csv)", (ZIP,)),
    Case("zip-duplicate-member", ["fetch"], local_zip_source(duplicate_member), "member train.csv appears 2 times in the zip; refusing it", (ZIP,)),
    Case("zip-encrypted-member", ["fetch"], local_zip_source(encrypted), "member train.csv is encrypted (the zip has a password)", (ZIP,)),
    Case("zip-deflate64-member", ["fetch"], local_zip_source(deflate64), "member test.csv uses compression method 9, which Python's zipfile cannot read", (ZIP,)),
    Case("zip-deflate-stream-broken", ["fetch"], local_zip_source(deflate_broken), "member train.csv is corrupt (Error -3 while decompressing data", (ZIP,)),
    Case("zip-train-csv-escapes", ["fetch"], local_zip_source(lambda t: stored_zip(t, {"../train.csv": T, "test.csv": U, "sample_submission.csv": "x"})), "member '../train.csv' has a path that escapes the target folder", (ZIP,)),
    Case("zip-limit-env-bad", ["fetch"], local_zip_source(lambda t: competition_zip(t)), "DIGIT_PIPELINE_MAX_MEMBER_MB must be a whole number", (ZIP,), (("DIGIT_PIPELINE_MAX_MEMBER_MB", "lots"),)),
    Case("source-not-found", ["fetch"], lambda p: params(p, fetch={"source": "nowhere.zip"}), "fetch.source is 'nowhere.zip', which is neither", (ZIP,)),
    Case("solution-missing", ["fetch"], lambda p: params(p, fetch={"source": "sample", "solution": "gone.csv"}), "fetch.solution 'gone.csv': no such file", (ZIP,)),
    Case("solution-bad-header", ["fetch"], solution_file("Id,Digit\n1,2\n"), "answers.csv, line 1: expected the header 'ImageId,Label', found 'Id,Digit'", (ZIP,)),
    # --- split: train.csv and test.csv --------------------------------------------------------
    Case("train-empty", ["split"], split_case(**{"train.csv": ""}), "train.csv is empty", (PREPARED,)),
    Case("test-empty", ["split"], split_case(**{"test.csv": ""}), "test.csv is empty", (PREPARED,)),
    Case("train-header-100-mb-line", ["split"], huge_header, "train.csv, line 1: no line end in the first 1,048,576 bytes, so this is not the header", (PREPARED,)),
    Case("train-header-not-utf8", ["split"], split_case(**{"train.csv": b"\xff\xfe\x00l\x00a\x00b\x00e\x00l\x00\n1,2\n"}), "train.csv, line 1: the header is not UTF-8 text", (PREPARED,)),
    Case("train-csv-is-a-zip", ["split"], split_case(**{"train.csv": _zip_bytes({"train.csv": T})}), "train.csv is a zip archive, not CSV text", (PREPARED,)),
    Case("train-header-only", ["split"], split_case(**{"train.csv": ",".join(TRAIN_COLUMNS) + "\n"}), "train.csv has a header but no data rows", (PREPARED,)),
    Case("header-missing-column", ["split"], split_case(**{"train.csv": with_header(T, TRAIN_COLUMNS[:-1])}), "train.csv, line 1: wrong header: missing column(s) 'pixel783'", (PREPARED,)),
    Case("header-extra-column", ["split"], split_case(**{"train.csv": with_header(T, TRAIN_COLUMNS + ("notes",))}), "unexpected column(s) 'notes'", (PREPARED,)),
    Case("header-renamed-column", ["split"], split_case(**{"train.csv": with_header(T, ("digit",) + PIXEL_COLUMNS)}), "'digit' where 'label' was expected", (PREPARED,)),
    Case("header-reordered", ["split"], split_case(**{"train.csv": with_header(T, swapped(TRAIN_COLUMNS, 0, 1))}), "columns out of order: position 1 holds 'pixel0', expected 'label'", (PREPARED,)),
    Case("cell-non-numeric", ["split"], split_case(**{"train.csv": with_cell(T, 7, "pixel300", "dark")}), "train.csv, line 7, column pixel300: expected an integer pixel value 0..255, found 'dark'", (PREPARED,)),
    Case("cell-blank", ["split"], split_case(**{"train.csv": with_cell(T, 3, "pixel5", "")}), "train.csv, line 3, column pixel5: expected an integer pixel value 0..255, found a blank cell", (PREPARED,)),
    Case("cell-float", ["split"], split_case(**{"train.csv": with_cell(T, 4, "pixel9", "12.5")}), "line 4, column pixel9: expected an integer pixel value 0..255, found '12.5'", (PREPARED,)),
    Case("cell-negative", ["split"], split_case(**{"train.csv": with_cell(T, 9, "pixel0", "-3")}), "line 9, column pixel0: expected an integer pixel value 0..255, found '-3'", (PREPARED,)),
    Case("cell-over-255", ["split"], split_case(**{"train.csv": with_cell(T, 2, "pixel783", "256")}), "line 2, column pixel783: expected an integer pixel value 0..255, found '256'", (PREPARED,)),
    Case("label-out-of-range", ["split"], split_case(**{"train.csv": with_cell(T, 6, "label", "11")}), "train.csv, line 6, column label: expected a digit 0..9, found '11'", (PREPARED,)),
    Case("test-cell-bad", ["split"], split_case(**{"test.csv": with_cell(U, 3, "pixel2", "x", PIXEL_COLUMNS)}), "test.csv, line 3, column pixel2: expected an integer pixel value 0..255, found 'x'", (PREPARED,)),
    Case("test-narrower-than-train", ["split"], split_case(**{"test.csv": csv_text(PIXEL_COLUMNS[:700], [[0] * 700])}), "test.csv, line 1: wrong header: missing column(s) 'pixel700'", (PREPARED,)),
    Case("test-has-label-column", ["split"], split_case(**{"test.csv": T}), "test.csv, line 1: has a 'label' column, so it looks like train.csv", (PREPARED,)),
    Case("row-extra-field", ["split"], split_case(**{"train.csv": T.replace("\n", ",0\n", 3).replace(",0\n", "\n", 2)}), "train.csv: line 3: expected 785 fields to match the header, found 786", (PREPARED,)),
    Case("train-one-digit-only", ["split"], split_case(**{"train.csv": csv_text(TRAIN_COLUMNS, [[3] + [0] * 784] * 30)}), "train.csv: no rows with label 0, 1, 2, 4, 5, 6, 7, 8, 9; a digit recognizer needs all ten", (PREPARED,)),
    Case("train-missing-digit-7", ["split"], split_case(**{"train.csv": csv_text(TRAIN_COLUMNS, [[d] + [0] * 784 for d in (0, 1, 2, 3, 4, 5, 6, 8, 9) * 3])}), "no rows with label 7;", (PREPARED,)),
    Case("answers-for-another-test-set", ["split"], unsolved_answers, "data/raw/solution.csv has 2 rows but test.csv has 6", (PREPARED,)),
    # --- params.yaml ----------------------------------------------------------------------------
    Case("params-unknown-key", ["split"], params_case(train={"learnig_rate": 0.1}), "params.yaml.train has unknown key(s) learnig_rate", (PREPARED,)),
    Case("params-wrong-type", ["split"], params_case(train={"max_iter": "many"}), "params.yaml.train.max_iter must be an integer, got 'many'", (PREPARED,)),
    Case("params-negative-learning-rate", ["split"], params_case(train={"learning_rate": -0.1}), "params.yaml.train.learning_rate must be > 0, got -0.1", (PREPARED,)),
    Case("params-zero-iterations", ["split"], params_case(train={"max_iter": 0}), "params.yaml.train.max_iter must be > 0, got 0", (PREPARED,)),
    Case("params-empty-hidden-layers", ["split"], params_case(train={"hidden_layer_sizes": []}), "params.yaml.train.hidden_layer_sizes must list one or more layer widths, each > 0, got []", (PREPARED,)),
    Case("params-zero-augment-groups", ["split"], params_case(train={"augment_groups": 0}), "params.yaml.train.augment_groups must be > 0, got 0", (PREPARED,)),
    Case("params-validation-fraction", ["split"], params_case(split={"validation_fraction": 1.5}), "params.yaml.split.validation_fraction must be between 0 and 1 (exclusive), got 1.5", (PREPARED,)),
    # --- predict: the model file ----------------------------------------------------------------
    Case("model-corrupt", ["predict"], corrupt_model, "models/model.npz: not a readable array file", (SUBMISSION,)),
    Case("model-incompatible", ["predict"], mismatched_model, "models/model.npz: layer 0 should be 784x8", (SUBMISSION,)),
    Case("test-arrays-missing", ["predict"], missing_test_arrays, "data/prepared/test.npz: not found; run the stage that makes it", (SUBMISSION,)),
    # --- score: submissions and answer keys -----------------------------------------------------
    Case("submission-wrong-header", ["score", "sub.csv", "--solution", "truth.csv"], scored("Id,Label\n1,0\n"), "sub.csv, line 1: expected the header 'ImageId,Label', found 'Id,Label'"),
    Case("submission-duplicate-ids", ["score", "sub.csv", "--solution", "truth.csv"], scored("ImageId,Label\n1,0\n2,1\n2,1\n4,3\n"), "line 4, column ImageId: expected 3"),
    Case("submission-missing-id", ["score", "sub.csv", "--solution", "truth.csv"], scored("ImageId,Label\n1,0\n2,1\n4,3\n"), "line 4, column ImageId: expected 3 (ImageId must run 1..N in test.csv order), found 4"),
    Case("submission-non-integer-label", ["score", "sub.csv", "--solution", "truth.csv"], scored("ImageId,Label\n1,0\n2,seven\n"), "sub.csv, line 3, column Label: expected an integer, found 'seven'"),
    Case("submission-wrong-row-count", ["score", "sub.csv", "--solution", "truth.csv"], scored(SUB_OK, truth_rows=5), "sub.csv has 4 rows but truth.csv has 5"),
    Case("solution-not-found", ["score", "sub.csv", "--solution", "nope.csv"], scored(SUB_OK), "nope.csv: no such file"),
    Case("submission-extra-field", ["score", "sub.csv", "--solution", "truth.csv"], scored("ImageId,Label\n1,0\n2,1,3\n3,2\n4,3\n"), "sub.csv, line 3: expected 2 fields (ImageId,Label), found 3"),
    Case("submission-20-digit-label", ["score", "sub.csv", "--solution", "truth.csv"], scored("ImageId,Label\n1,0\n2,12345678901234567890\n"), "sub.csv, line 3, column Label: expected a digit 0..9, found 12345678901234567890"),
    Case("submission-not-utf8", ["score", "sub.csv", "--solution", "truth.csv"], scored("ImageId,Label\n1,0\n2,\udcff\n"), "sub.csv, line 3: not UTF-8 text"),
    Case("solution-20-digit-id", ["score", "sub.csv", "--solution", "key.csv"], broken_answer_key("ImageId,Label\n1,0\n99999999999999999999,1\n"), "key.csv, line 3, column ImageId: expected 2 (ImageId must run 1..N in test.csv order), found 99999999999999999999"),
    Case("solution-blank-label", ["score", "sub.csv", "--solution", "key.csv"], broken_answer_key("ImageId , Label\n1,0\n2,\n"), "key.csv, line 3, column Label: expected an integer, found a blank cell"),
]


def test_ids_are_unique_every_reading_command_has_cases_and_no_two_cases_share_a_message():
    """Each row pins its own message: a fragment shared with another row could pass on the wrong error."""
    assert {case.command[0] for case in CASES} >= {"fetch", "split", "predict", "score"}
    assert len({case.id for case in CASES}) == len(CASES)
    for case in CASES:
        assert case.message.strip() and len(case.message) >= 12, case.id
    # Rows that rightly get another row's message: a truncated zip and an HTML page are both "not a zip";
    # a header that understates a member's size fails its CRC like a flipped byte does.
    same_as_another = {"zip-not-a-zip", "zip-header-understates"}
    messages = [case.message for case in CASES if case.id not in same_as_another]
    assert len(set(messages)) == len(messages), [m for m in messages if messages.count(m) > 1]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_gets_one_clear_message_and_writes_nothing(case, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for name, value in case.env:
        monkeypatch.setenv(name, value)
    case.setup(tmp_path)
    capsys.readouterr()
    assert main(case.command) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("error: ") and "Traceback" not in "\n".join(err)
    assert case.message in err[-1], err[-1]
    for output in case.absent:
        assert not (tmp_path / output).exists(), f"{output} was written despite the error"
