"""Credential detection sees every source the kaggle client reads, so ``auto`` never falls back to the
sample when the client could sign in (and never claims credentials the client would not find)."""

from __future__ import annotations

import pytest

from pipeline.data.sources import resolve_source
from pipeline.kaggle import credentials

ENV = ("KAGGLE_API_TOKEN", "KAGGLE_API_V1_TOKEN", "KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_CONFIG_DIR",
       "XDG_CONFIG_HOME", "KAGGLE_KERNEL_RUN_TYPE", "KAGGLE_DATA_PROXY_URL")


@pytest.fixture
def home(tmp_path, monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


def in_notebook(monkeypatch):
    monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Interactive")
    monkeypatch.setenv("KAGGLE_DATA_PROXY_URL", "http://localhost:1")


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_nothing_configured_is_none_and_auto_uses_the_sample(home, capsys):
    assert credentials.credentials_source() is None
    assert resolve_source("auto") == "sample"


@pytest.mark.parametrize("setup, source", [
    (lambda home, mp: mp.setenv("KAGGLE_API_TOKEN", "KGAT_0123456789"), "KAGGLE_API_TOKEN"),
    (lambda home, mp: write(home / ".kaggle/access_token", "KGAT_0123456789\n"), "{home}/.kaggle/access_token"),
    (lambda home, mp: write(home / ".kaggle/access_token.txt", "KGAT_0123"), "{home}/.kaggle/access_token.txt"),
    (lambda home, mp: (mp.setenv("KAGGLE_USERNAME", "u"), mp.setenv("KAGGLE_KEY", "k" * 8)),
     "KAGGLE_USERNAME/KAGGLE_KEY"),
    (lambda home, mp: write(home / ".kaggle/kaggle.json", '{"username": "u", "key": "kkkk"}'),
     "{home}/.kaggle/kaggle.json"),
    # no ~/.kaggle: the client reads $XDG_CONFIG_HOME/kaggle (else ~/.config/kaggle) on Linux
    (lambda home, mp: write(home / ".config/kaggle/kaggle.json", '{"username": "u", "key": "kkkk"}'),
     "{home}/.config/kaggle/kaggle.json"),
    # the client merges the variables with kaggle.json, field by field
    (lambda home, mp: (write(home / ".kaggle/kaggle.json", '{"key": "kkkk"}'), mp.setenv("KAGGLE_USERNAME", "u")),
     "{home}/.kaggle/kaggle.json"),
    (lambda home, mp: write(home / ".kaggle/credentials.json", '{"refresh_token": "r"}'),
     "{home}/.kaggle/credentials.json"),
    (lambda home, mp: (in_notebook(mp), mp.setenv("KAGGLE_API_V1_TOKEN", str(write(home / "t", "KGAT_01234")))),
     "KAGGLE_API_V1_TOKEN"),
])
def test_every_source_the_client_reads_is_seen_and_auto_uses_kaggle(home, monkeypatch, setup, source):
    setup(home, monkeypatch)
    assert credentials.credentials_source() == source.format(home=home)
    assert resolve_source("auto") == "kaggle"


@pytest.mark.parametrize("setup", [
    lambda home, mp: write(home / ".kaggle/access_token", "  \n"),  # blank: the client skips it
    lambda home, mp: mp.setenv("KAGGLE_USERNAME", "u"),  # a username without a key
    lambda home, mp: write(home / ".kaggle/kaggle.json", '{"username": "u"}'),
    # outside a notebook the client ignores KAGGLE_API_V1_TOKEN
    lambda home, mp: mp.setenv("KAGGLE_API_V1_TOKEN", str(write(home / "t", "KGAT_01234"))),
    lambda home, mp: (in_notebook(mp), mp.setenv("KAGGLE_API_V1_TOKEN", str(home / "missing"))),
])
def test_what_the_client_would_not_sign_in_with_is_not_a_source(home, monkeypatch, setup):
    setup(home, monkeypatch)
    assert credentials.credentials_source() is None


def test_the_notebook_token_is_a_secret_scrubbed_from_messages(home, monkeypatch):
    in_notebook(monkeypatch)
    monkeypatch.setenv("KAGGLE_API_V1_TOKEN", str(write(home / "t", "KGAT_notebook_secret\n")))
    assert credentials.redact("said KGAT_notebook_secret") == "said [redacted]"


@pytest.mark.parametrize("setup, where", [
    (lambda home, mp: (mp.setenv("KAGGLE_USERNAME", "u"), mp.setenv("KAGGLE_KEY", "KGAT_0123")), "KAGGLE_KEY"),
    (lambda home, mp: write(home / ".kaggle/kaggle.json", '{"username": "u", "key": "KGAT_0123"}'),
     "{home}/.kaggle/kaggle.json"),
    (lambda home, mp: (mp.setenv("KAGGLE_USERNAME", "u"), mp.setenv("KAGGLE_KEY", "0123abcd")), None),
    (lambda home, mp: mp.setenv("KAGGLE_API_TOKEN", "KGAT_0123"), None),  # where it belongs
])
def test_an_access_token_given_as_the_legacy_key_is_spotted(home, monkeypatch, setup, where):
    setup(home, monkeypatch)
    assert credentials.token_given_as_key() == (where.format(home=home) if where else None)


@pytest.mark.parametrize("setup, secret", [
    (lambda home, mp: mp.setenv("KAGGLE_KEY", "key-from-the-variable"), "key-from-the-variable"),
    (lambda home, mp: write(home / ".kaggle/kaggle.json", '{"username": "u", "key": "key-from-json"}'), "key-from-json"),
    (lambda home, mp: mp.setenv("KAGGLE_API_TOKEN", "KGAT_token_value"), "KGAT_token_value"),
    (lambda home, mp: mp.setenv("KAGGLE_API_TOKEN", str(write(home / "tok", "KGAT_token_in_a_file\n"))),
     "KGAT_token_in_a_file"),
    (lambda home, mp: write(home / ".kaggle/access_token", "KGAT_access_token\n"), "KGAT_access_token"),
    (lambda home, mp: write(home / ".kaggle/access_token.txt", "KGAT_access_token_txt"), "KGAT_access_token_txt"),
    (lambda home, mp: (in_notebook(mp), mp.setenv("KAGGLE_API_V1_TOKEN", str(write(home / "t", "KGAT_nb\n")))),
     "KGAT_nb"),
])
def test_every_secret_the_client_could_send_is_scrubbed(home, monkeypatch, setup, secret):
    setup(home, monkeypatch)
    assert secret in credentials.secrets()
    assert credentials.redact(f"the server said {secret}.") == "the server said [redacted]."


def test_the_legacy_keys_basic_header_is_scrubbed_for_each_username_and_key_the_client_could_merge(home, monkeypatch):
    """HTTP Basic carries base64("username:key"); the client takes each field from its variable, else kaggle.json."""
    import base64

    write(home / ".kaggle/kaggle.json", '{"username": "json-user", "key": "json-key-123"}')
    monkeypatch.setenv("KAGGLE_USERNAME", "env-user")
    monkeypatch.setenv("KAGGLE_KEY", "env-key-456")
    for user in ("json-user", "env-user"):
        for key in ("json-key-123", "env-key-456"):
            header = base64.b64encode(f"{user}:{key}".encode()).decode()
            assert credentials.redact(f"Authorization: Basic {header}") == "Authorization: Basic [redacted]"
    assert "env-user" not in credentials.secrets()  # a username is no secret
