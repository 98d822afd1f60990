"""The fetch stage with ``fetch.source: kaggle``, run as a subprocess against the fake Kaggle."""

from __future__ import annotations

import json

import pytest

from fake_kaggle import RULES_MESSAGE
from kaggle_support import SHORT_TIMEOUT, kaggle_env, one_line_error, pipeline


@pytest.fixture
def fetch_project(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    (root / "params.yaml").write_text("fetch:\n  source: kaggle\n  competition: digit-recognizer\n")
    return root


@pytest.fixture
def env(tmp_path, fake_kaggle):
    return kaggle_env(fake_kaggle, tmp_path / "home", VERBOSE="1")  # VERBOSE makes the client print headers


def test_fetch_downloads_the_competition_zip(fetch_project, env, fake_kaggle):
    result = pipeline(["fetch"], fetch_project, env)
    assert result.returncode == 0, result.stderr
    assert (fetch_project / "data/raw/digit-recognizer.zip").read_bytes() == fake_kaggle.zip_bytes
    source = json.loads((fetch_project / "data/raw/source.json").read_text())
    assert (source["kind"], source["origin"]) == ("kaggle", "digit-recognizer")
    assert "download digit-recognizer.zip: 56" in result.stderr  # progress, in KiB
    assert result.stdout.startswith("fetch: data/raw/digit-recognizer.zip from kaggle (digit-recognizer)")
    assert "Authorization" not in result.stdout + result.stderr  # the client's verbose noise is kept away


@pytest.mark.parametrize("setup, expected", [
    (lambda fake: fake.fault("DownloadDataFiles", status=403, message=RULES_MESSAGE),
     "accept the competition's rules at https://www.kaggle.com/competitions/digit-recognizer/rules"),
    (lambda fake: fake.fault("DownloadDataFiles", status=401, message="Unauthenticated"),
     "Kaggle rejected the credentials from KAGGLE_USERNAME/KAGGLE_KEY (401 Unauthenticated)"),
    (lambda fake: fake.fault("DownloadDataFiles", status=404, message="Not found"),
     "no competition named 'digit-recognizer'; check fetch.competition in params.yaml"),
    (lambda fake: fake.fault("DownloadDataFiles", status=429, times=None),
     "Kaggle is limiting the rate of requests (429 Too Many Requests)"),
    (lambda fake: fake.fault("DownloadDataFiles", hang=True),
     "Kaggle did not answer within 1 s while downloading digit-recognizer.zip"),
    (lambda fake: setattr(fake, "download_mode", "short"),
     "the download of digit-recognizer.zip was incomplete (the connection closed after"),
    (lambda fake: setattr(fake, "download_mode", "gzip"),
     "the download of digit-recognizer.zip was incomplete (received"),
    (lambda fake: setattr(fake, "bad_md5", 99),
     "the download of digit-recognizer.zip was corrupt (its MD5 differs from the one the storage host announced"),
])
def test_a_failed_download_is_one_line_and_keeps_the_earlier_data(fetch_project, env, fake_kaggle, setup, expected):
    raw = fetch_project / "data/raw"
    raw.mkdir(parents=True)
    (raw / "digit-recognizer.zip").write_bytes(b"the zip fetched last week")
    setup(fake_kaggle)
    line = one_line_error(pipeline(["fetch"], fetch_project, {**env, **SHORT_TIMEOUT}))
    assert expected in line
    assert (raw / "digit-recognizer.zip").read_bytes() == b"the zip fetched last week"
    assert sorted(p.name for p in raw.iterdir()) == ["digit-recognizer.zip"]  # no temporary leftovers


def test_a_server_error_is_retried_and_the_download_completes(fetch_project, env, fake_kaggle):
    fake_kaggle.fault("DownloadDataFiles", status=503, times=2)
    result = pipeline(["fetch"], fetch_project, env)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("kaggle: HTTP 503 while downloading digit-recognizer.zip; retrying") == 2


def test_a_download_that_fails_the_storage_hosts_md5_is_retried(fetch_project, env, fake_kaggle):
    fake_kaggle.bad_md5 = 1
    result = pipeline(["fetch"], fetch_project, env)
    assert result.returncode == 0, result.stderr
    assert "kaggle: incomplete or corrupt download while downloading digit-recognizer.zip; retrying" in result.stderr
    assert fake_kaggle.called("GetDownload") == 2
    assert (fetch_project / "data/raw/digit-recognizer.zip").read_bytes() == fake_kaggle.zip_bytes


def test_a_download_without_an_announced_md5_is_taken_on_its_length_and_crcs(fetch_project, env, fake_kaggle):
    fake_kaggle.storage_md5 = False
    result = pipeline(["fetch"], fetch_project, env)
    assert result.returncode == 0, result.stderr
    assert (fetch_project / "data/raw/digit-recognizer.zip").read_bytes() == fake_kaggle.zip_bytes


def test_no_credentials_says_the_three_ways_to_set_them(fetch_project, tmp_path, fake_kaggle):
    env = kaggle_env(fake_kaggle, tmp_path / "bare-home", credentials="none")
    line = one_line_error(pipeline(["fetch"], fetch_project, env))
    assert line.startswith("error: no Kaggle credentials found: set KAGGLE_API_TOKEN")
    assert "Authentication required" not in pipeline(["fetch"], fetch_project, env).stdout  # the client's help text
    assert fake_kaggle.calls == []


def test_empty_credential_variables_are_no_credentials(fetch_project, tmp_path, fake_kaggle):
    env = kaggle_env(fake_kaggle, tmp_path / "home", KAGGLE_USERNAME="", KAGGLE_KEY="", KAGGLE_API_TOKEN="")
    assert one_line_error(pipeline(["fetch"], fetch_project, env)).startswith("error: no Kaggle credentials found")
    assert fake_kaggle.calls == []


def test_a_refused_connection_is_one_line(fetch_project, tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = kaggle_env(None, tmp_path / "home", KAGGLE_API_ENVIRONMENT="LOCALHOST",
                     HTTP_PROXY=f"http://127.0.0.1:{port}", http_proxy=f"http://127.0.0.1:{port}")
    line = one_line_error(pipeline(["fetch"], fetch_project, env))
    assert "could not reach Kaggle (through the proxy set in HTTPS_PROXY/HTTP_PROXY)" in line
    assert "connection refused" in line
