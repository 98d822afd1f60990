import json
import shutil

import numpy as np
import pytest

from digits_support import competition_zip
from pipeline.data.competition_zip import check_competition_zip, read_member
from pipeline.core.config import FetchParams
from pipeline.data.digits_csv import parse_digits_csv
from pipeline.core.errors import PipelineError
from pipeline.data.sample import N_TEST, N_TRAIN, build_sample, load_mnist_sample
from pipeline.data.sources import fetch, resolve_source
from pipeline.submissions.format import parse_submission


@pytest.fixture(scope="module")
def sample():
    return build_sample(*load_mnist_sample())


def test_sample_is_a_competition_shaped_zip_of_real_digits(sample, tmp_path):
    data, solution = sample
    path = tmp_path / "sample.zip"
    path.write_bytes(data)
    check_competition_zip(path)
    x, y = parse_digits_csv(read_member(path, "train.csv"), "train.csv", labelled=True)
    test_x, _ = parse_digits_csv(read_member(path, "test.csv"), "test.csv", labelled=False)
    assert x.shape == (N_TRAIN, 784) and test_x.shape == (N_TEST, 784)
    assert np.bincount(y).tolist() == [N_TRAIN // 10] * 10  # stratified: 300 of each digit
    ids, answers = parse_submission(solution, "solution.csv", expected_rows=N_TEST)
    assert np.bincount(answers).tolist() == [N_TEST // 10] * 10
    ids, zeros = parse_submission(read_member(path, "sample_submission.csv"), "sample_submission.csv", N_TEST)
    assert not zeros.any()
    # Real handwriting, not noise: mostly blank background, ink in the middle.
    assert np.mean(x == 0) > 0.7 and x.reshape(-1, 28, 28)[:, 10:18, 10:18].mean() > 50


def test_sample_is_byte_reproducible(sample):
    assert build_sample(*load_mnist_sample()) == sample


def _fetch(tmp_path, **params):
    raw = tmp_path / "raw"
    return fetch(FetchParams(**params), raw / "digit-recognizer.zip", raw / "solution.csv", raw / "source.json"), raw


def test_fetch_from_a_local_zip_copies_it_and_records_where_it_came_from(tmp_path):
    given = tmp_path / "mine.zip"
    competition_zip(given)
    fetched, raw = _fetch(tmp_path, source=str(given))
    assert (raw / "digit-recognizer.zip").read_bytes() == given.read_bytes()
    assert fetched.kind == "file" and not fetched.has_solution
    assert json.loads((raw / "source.json").read_text())["kind"] == "file"
    assert given.exists()  # the user's file is untouched


def test_fetch_copies_an_answer_key_when_given(tmp_path):
    given, key = tmp_path / "mine.zip", tmp_path / "solution.csv"
    competition_zip(given)
    key.write_text("ImageId,Label\n1,3\n2,4\n")
    fetched, raw = _fetch(tmp_path, source=str(given), solution=str(key))
    assert fetched.has_solution and (raw / "solution.csv").read_text() == key.read_text()


def test_fetch_refuses_a_bad_local_zip_and_writes_nothing(tmp_path):
    given = tmp_path / "broken.zip"
    given.write_text("not a zip")
    with pytest.raises(PipelineError, match="broken.zip: not a zip archive"):
        _fetch(tmp_path, source=str(given))
    assert not (tmp_path / "raw" / "digit-recognizer.zip").exists()


def test_unknown_source_names_the_param(tmp_path):
    with pytest.raises(PipelineError, match="fetch.source is 'kagle', which is neither auto, kaggle, sample"):
        _fetch(tmp_path, source="kagle")


def test_fetch_sample_writes_zip_solution_and_source(tmp_path, sample):
    fetched, raw = _fetch(tmp_path, source="sample")
    assert fetched.kind == "sample" and fetched.has_solution
    assert (raw / "digit-recognizer.zip").read_bytes() == sample[0]
    assert (raw / "solution.csv").read_bytes() == sample[1]


@pytest.fixture
def no_credentials(tmp_path, monkeypatch):
    for name in ("KAGGLE_API_TOKEN", "KAGGLE_USERNAME", "KAGGLE_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "home" / "kaggle-config"))
    return tmp_path / "home"


def test_auto_without_credentials_uses_the_sample_and_says_so(no_credentials, capsys):
    assert resolve_source("auto") == "sample"
    assert "NOT the competition data" in capsys.readouterr().err


def test_auto_with_credentials_uses_kaggle(no_credentials, monkeypatch):
    monkeypatch.setenv("KAGGLE_USERNAME", "someone")
    monkeypatch.setenv("KAGGLE_KEY", "0123456789abcdef")
    assert resolve_source("auto") == "kaggle"


def test_auto_finds_a_kaggle_json(no_credentials):
    config = no_credentials / "kaggle-config"
    config.mkdir(parents=True)
    (config / "kaggle.json").write_text('{"username": "u", "key": "k"}')
    assert resolve_source("auto") == "kaggle"
