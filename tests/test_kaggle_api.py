"""``pipeline.kaggle.session`` in this process, with the real kaggle client against the fake server:
what each failure becomes, what is retried and what is not, and the bounds on every call."""

from __future__ import annotations

import socket
import time

import pytest

from fake_kaggle import FAKE_KEY, RULES_MESSAGE
from pipeline.core.errors import PipelineError
from pipeline.kaggle.md5_check import announced_md5
from pipeline.kaggle.session import KaggleSession
from pipeline.kaggle.settings import Settings
from pipeline.kaggle.errors import KaggleError

FAST = Settings(timeout=5, retries=2, backoff=0.01, poll=0.01)  # generous for a local server on a busy machine


def impatient(session: KaggleSession) -> KaggleSession:
    """The same session, signed in, then giving up after 0.5 s: for servers that never answer."""
    session.client()
    session.settings = Settings(timeout=0.5, retries=2, backoff=0.01, poll=0.01)
    return session


@pytest.fixture
def session(fake_kaggle, tmp_path, monkeypatch):
    for name in ("KAGGLE_API_TOKEN", "NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "VERBOSE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "home" / ".kaggle"))
    monkeypatch.setenv("KAGGLE_USERNAME", "tester")
    monkeypatch.setenv("KAGGLE_KEY", FAKE_KEY)
    for name, value in fake_kaggle.env().items():
        monkeypatch.setenv(name, value)
    return KaggleSession("digit-recognizer", FAST)


def test_settings_come_from_the_environment_and_bad_values_are_named():
    settings = Settings.from_env({"DIGIT_PIPELINE_KAGGLE_TIMEOUT": "2.5", "DIGIT_PIPELINE_KAGGLE_RETRIES": "0"})
    assert (settings.timeout, settings.retries, settings.backoff) == (2.5, 0, 2.0)
    for name, value in [("DIGIT_PIPELINE_KAGGLE_TIMEOUT", "0"), ("DIGIT_PIPELINE_KAGGLE_RETRIES", "1.5"),
                        ("DIGIT_PIPELINE_KAGGLE_POLL_SECONDS", "nan"), ("DIGIT_PIPELINE_KAGGLE_BACKOFF_SECONDS", "-1")]:
        with pytest.raises(PipelineError, match=f"environment variable {name} must be"):
            Settings.from_env({name: value})


def test_limits_and_listing(session, fake_kaggle):
    assert session.limits().num_allowed_now == 5
    for i in range(230):  # Kaggle pages by 20 at most, whatever is asked: 12 pages, by token
        fake_kaggle.add_submission(f"s{i}", "f.csv", b"x")
    listed = session.submissions()
    assert len(listed) == 230 and len({s.ref for s in listed}) == 230
    assert fake_kaggle.called("ListSubmissions") == 12  # the 12th page has no next token
    assert [s.ref for s in session.submissions(max_pages=1)] == [s.ref for s in listed[:20]]
    assert {s.status for s in listed} == {"error"}  # b"x" is no submission


def test_429_and_5xx_on_a_read_are_retried_with_backoff(session, fake_kaggle, capsys):
    fake_kaggle.fault("GetSubmissionLimits", status=429, headers={"Retry-After": "0"})
    fake_kaggle.fault("GetSubmissionLimits", status=503)
    assert session.limits().num_allowed_now == 5
    assert fake_kaggle.called("GetSubmissionLimits") == 3
    err = capsys.readouterr().err
    assert "kaggle: HTTP 429 while checking your submission quota; retrying in 0.0 s (attempt 2 of 3)" in err
    assert "kaggle: HTTP 503 while checking your submission quota; retrying in 0.0 s (attempt 3 of 3)" in err


def test_retries_stop_after_the_configured_number(session, fake_kaggle):
    fake_kaggle.fault("ListSubmissions", status=500, times=None)
    with pytest.raises(KaggleError, match=r"Kaggle's server failed \(HTTP 500.*gave up after 3 attempts"):
        session.submissions()
    assert fake_kaggle.called("ListSubmissions") == 3


@pytest.mark.parametrize("status, message, expected", [
    (401, "Unauthenticated", "Kaggle rejected the credentials from KAGGLE_USERNAME/KAGGLE_KEY (401 Unauthenticated)"),
    (403, "Forbidden", "accept the competition's rules at https://www.kaggle.com/competitions/digit-recognizer/rules"),
    (404, "Not found", "404 Not Found while checking your submission quota: no competition named 'digit-recognizer'"),
    (400, "Bad request", "Kaggle answered HTTP 400 while checking your submission quota: Bad request"),
])
def test_client_errors_are_one_clear_line_and_not_retried(session, fake_kaggle, status, message, expected):
    fake_kaggle.fault("GetSubmissionLimits", status=status, message=message, times=None)
    with pytest.raises(KaggleError) as caught:
        session.limits()
    assert expected in str(caught.value) and "\n" not in str(caught.value)
    assert fake_kaggle.called("GetSubmissionLimits") == 1


def test_wrong_key_is_a_401_naming_where_the_credentials_came_from(session, fake_kaggle, monkeypatch):
    monkeypatch.setenv("KAGGLE_KEY", "not-the-key")
    with pytest.raises(KaggleError, match="Kaggle rejected the credentials from KAGGLE_USERNAME/KAGGLE_KEY"):
        session.limits()


def test_no_credentials_says_the_three_ways(session, monkeypatch):
    monkeypatch.delenv("KAGGLE_USERNAME")
    monkeypatch.delenv("KAGGLE_KEY")
    with pytest.raises(KaggleError) as caught:
        session.limits()
    message = str(caught.value)
    assert message.startswith("no Kaggle credentials found: set KAGGLE_API_TOKEN")
    assert "KAGGLE_USERNAME and KAGGLE_KEY" in message and "kaggle.json" in message


@pytest.mark.parametrize("where", ["KAGGLE_KEY", "kaggle.json"])
def test_an_access_token_given_as_the_legacy_key_says_where_it_belongs(session, fake_kaggle, monkeypatch, tmp_path,
                                                                        where):
    # 5. Sent as HTTP Basic, a KGAT_ token is a 401 like any wrong key.
    from fake_kaggle import FAKE_TOKEN

    if where == "KAGGLE_KEY":
        monkeypatch.setenv("KAGGLE_KEY", FAKE_TOKEN)
    else:
        monkeypatch.delenv("KAGGLE_USERNAME")
        monkeypatch.delenv("KAGGLE_KEY")
        (tmp_path / "home/.kaggle").mkdir(parents=True)
        (tmp_path / "home/.kaggle/kaggle.json").write_text(f'{{"username": "tester", "key": "{FAKE_TOKEN}"}}')
    with pytest.raises(KaggleError) as caught:
        session.limits()
    message = str(caught.value)
    assert f"the key in {where if where == 'KAGGLE_KEY' else tmp_path / 'home/.kaggle/kaggle.json'} is an access " \
           f"token (KGAT_...)" in message
    assert "it belongs in KAGGLE_API_TOKEN or ~/.kaggle/access_token" in message
    assert "check the username and key" not in message and FAKE_TOKEN not in message


def test_a_rejected_token_is_named(session, fake_kaggle, monkeypatch):
    monkeypatch.delenv("KAGGLE_USERNAME")
    monkeypatch.delenv("KAGGLE_KEY")
    monkeypatch.setenv("KAGGLE_API_TOKEN", "KGAT_revoked")
    with pytest.raises(KaggleError, match="Kaggle did not accept the access token in KAGGLE_API_TOKEN"):
        session.limits()


def test_a_server_that_never_answers_is_given_up_on(session, fake_kaggle):
    fake_kaggle.fault("GetSubmissionLimits", hang=True)
    began = time.monotonic()
    with pytest.raises(KaggleError, match="Kaggle did not answer within 0.5 s while checking your submission quota"):
        impatient(session).limits()
    assert time.monotonic() - began < 3


def test_a_refused_connection_is_one_line(session, monkeypatch):
    with socket.socket() as sock:  # a port with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{port}")
    with pytest.raises(KaggleError, match="could not reach Kaggle .* connection refused; check your internet"):
        session.limits()


def test_a_secret_echoed_by_the_server_is_redacted(session, fake_kaggle):
    fake_kaggle.fault("GetSubmissionLimits", status=400, message=f"bad request from tester:{FAKE_KEY}")
    with pytest.raises(KaggleError) as caught:
        session.limits()
    assert FAKE_KEY not in str(caught.value) and "tester:[redacted]" in str(caught.value)


def test_download_writes_the_zip_with_progress(session, fake_kaggle, tmp_path, capsys):
    path = session.download(tmp_path)
    assert path == tmp_path / "digit-recognizer.zip" and path.read_bytes() == fake_kaggle.zip_bytes
    assert "download digit-recognizer.zip:" in capsys.readouterr().err


def test_download_403_says_to_accept_the_rules(session, fake_kaggle, tmp_path):
    fake_kaggle.fault("DownloadDataFiles", status=403, message=RULES_MESSAGE)
    with pytest.raises(KaggleError) as caught:
        session.download(tmp_path)
    assert str(caught.value) == (
        "Kaggle refused the download of digit-recognizer (403: You must accept this competition's rules before "
        "you'll be able to download files.): accept the competition's rules at "
        "https://www.kaggle.com/competitions/digit-recognizer/rules (signed in as the account whose credentials "
        "you use), then rerun")


def test_download_403_from_the_storage_host_is_not_about_the_rules(session, fake_kaggle, tmp_path):
    # 7. Kaggle answered with a redirect; the storage host refused the file itself.
    fake_kaggle.storage_status = 403
    dest = tmp_path / "raw"  # not tmp_path itself: it holds the test's HOME, whose config folder is made at sign-in
    dest.mkdir()
    with pytest.raises(KaggleError) as caught:
        session.download(dest)
    message = str(caught.value)
    assert "rules" not in message
    assert message.startswith("the storage host Kaggle sent the download to refused digit-recognizer.zip (403 "
                              "AccessDenied: Access denied. Request has expired)")
    assert "X-Goog-Signature" not in message and not list(dest.iterdir())


@pytest.mark.parametrize("mode, problem", [
    ("short", "the connection closed after {half} of {size} bytes"),
    ("gzip", "received {size} bytes but the server announced {compressed}"),
])
def test_a_download_of_the_wrong_length_is_retried_then_reported(session, fake_kaggle, tmp_path, mode, problem):
    import gzip

    fake_kaggle.download_mode = mode
    size = len(fake_kaggle.zip_bytes)
    expected = problem.format(half=size // 2, size=size, compressed=len(gzip.compress(fake_kaggle.zip_bytes)))
    with pytest.raises(KaggleError) as caught:
        session.download(tmp_path)
    assert f"the download of digit-recognizer.zip was incomplete ({expected})" in str(caught.value)
    assert fake_kaggle.called("GetDownload") == 3


def test_a_download_cut_short_once_succeeds_on_retry(session, fake_kaggle, tmp_path):
    fake_kaggle.download_mode = "short"
    fake_kaggle.fault("GetDownload", status=502)  # and a flaky file server, for good measure
    original = fake_kaggle.take_fault

    def heal(method, after=False, **kwargs):  # after the first failure, the transfer works
        if method == "GetDownload" and fake_kaggle.called("GetDownload") >= 2:
            fake_kaggle.download_mode = "ok"
        return original(method, after, **kwargs)

    fake_kaggle.take_fault = heal
    assert session.download(tmp_path).read_bytes() == fake_kaggle.zip_bytes


@pytest.mark.parametrize("headers, expected", [
    ({"x-goog-hash": "crc32c=n03x6A==,md5=Ojk9c3dhfxgoKVVHYwFbHQ=="}, "Ojk9c3dhfxgoKVVHYwFbHQ=="),
    ({"x-goog-hash": "crc32c=n03x6A=="}, None),  # a composite object has no MD5
    ({}, None),
    ({"x-goog-hash": "md5=Ojk9c3dhfxgoKVVHYwFbHQ==", "Content-Encoding": "gzip"}, None),  # hash of the stored bytes
    ({"x-goog-hash": "md5=Ojk9c3dhfxgoKVVHYwFbHQ==", "x-goog-stored-content-encoding": "gzip"}, None),
])
def test_the_md5_the_storage_host_announces(headers, expected):
    import requests

    assert announced_md5(requests.structures.CaseInsensitiveDict(headers)) == expected


def test_a_download_that_stalls_half_way_is_given_up_on(session, fake_kaggle, tmp_path):
    fake_kaggle.download_mode = "stall"
    fake_kaggle.zip_bytes = bytes(300_000)  # half of it is two whole 64 KiB chunks
    with pytest.raises(KaggleError, match=r"the download of digit-recognizer.zip stalled: no progress for 0.5 s "
                                          r"after 131072 bytes"):
        impatient(session).download(tmp_path)


def test_a_download_that_never_answers_is_given_up_on(session, fake_kaggle, tmp_path):
    fake_kaggle.fault("GetDownload", hang=True)
    with pytest.raises(KaggleError, match=r"Kaggle did not answer within 0.5 s while downloading digit-recognizer.zip"):
        impatient(session).download(tmp_path)


def test_leaderboard_pages_follow_the_token_the_client_prints(session, fake_kaggle):
    entries, whole = session.leaderboard(stop=lambda read: False)
    assert whole and len(entries) == 25 and fake_kaggle.called("GetLeaderboard") == 3
    assert [e.rank for e in entries] == list(range(1, 26)) and entries[0].score == "1.00000"


def test_the_clients_last_printed_line_comes_without_links_or_secrets(monkeypatch):
    # 6. What a refused upload's error quotes: the last line the client printed, links (signed) dropped.
    from pipeline.kaggle.client import last_line

    printed = "Starting upload\r 50%\rUpload to https://storage.example/u?X-Goog-Signature=5ecr3t failed\n\n  \n"
    assert last_line(printed) == "Upload to <url> failed"
    assert last_line(" \n") == ""
    monkeypatch.setenv("KAGGLE_KEY", "sekr1tkey")
    assert str(KaggleError(f"the client printed: {last_line('401: bad key sekr1tkey')!r}")) == \
        "the client printed: '401: bad key [redacted]'"
