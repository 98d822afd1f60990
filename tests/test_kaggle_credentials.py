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


# -- found by mutation testing (issue 31) --------------------------------------------------------------


def test_the_config_folder_is_chosen_as_the_client_chooses_it(home, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg"))
    assert credentials.config_dir() == home / "xdg/kaggle"  # no ~/.kaggle on Linux: XDG's folder
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert credentials.config_dir() == home / ".config/kaggle"
    (home / ".kaggle").mkdir()
    assert credentials.config_dir() == home / ".kaggle"  # ~/.kaggle, once it exists
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(home / "mine"))
    assert credentials.config_dir() == home / "mine"  # the variable, over everything


def test_the_config_folder_is_made_once_and_a_folder_that_cannot_be_made_is_left_to_the_client(home, monkeypatch):
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(home / "a/b/kaggle"))
    credentials.ensure_config_dir()
    credentials.ensure_config_dir()  # already there: no error
    assert (home / "a/b/kaggle").is_dir()
    write(home / "file", "")
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(home / "file/kaggle"))
    credentials.ensure_config_dir()  # no error: the client says it in its own words
    assert not (home / "file/kaggle").exists()


@pytest.mark.parametrize("run_type, proxy, expected", [("Interactive", "http://p", True), ("Interactive", None, False),
                                                        (None, "http://p", False), (None, None, False)])
def test_a_notebook_is_seen_by_both_of_its_variables(home, monkeypatch, run_type, proxy, expected):
    for name, value in (("KAGGLE_KERNEL_RUN_TYPE", run_type), ("KAGGLE_DATA_PROXY_URL", proxy)):
        if value is not None:
            monkeypatch.setenv(name, value)
    assert credentials.in_kaggle_notebook() is expected


@pytest.mark.parametrize("token_path", [None, "x" * 5000])
def test_in_a_notebook_without_a_readable_token_file_there_is_no_source(home, monkeypatch, token_path):
    in_notebook(monkeypatch)
    if token_path is not None:
        monkeypatch.setenv("KAGGLE_API_V1_TOKEN", token_path)  # a name too long to be a path
    assert credentials.credentials_source() is None


@pytest.mark.parametrize("text", ["[1, 2]", "{not json", '"a string"'])
def test_a_kaggle_json_that_is_not_an_object_is_no_source_and_no_crash(home, monkeypatch, text):
    write(home / ".kaggle/kaggle.json", text)
    monkeypatch.setenv("KAGGLE_USERNAME", "u")
    assert credentials.credentials_source() is None
    assert credentials.secrets() == set() and credentials.token_given_as_key() is None


def test_a_token_in_kaggle_json_does_not_matter_when_the_client_signs_in_with_a_token(home, monkeypatch):
    write(home / ".kaggle/kaggle.json", '{"username": "u", "key": "KGAT_in_json"}')
    assert credentials.token_given_as_key() == str(home / ".kaggle/kaggle.json")
    monkeypatch.setenv("KAGGLE_API_TOKEN", "KGAT_the_token")
    assert credentials.token_given_as_key() is None  # the client sends the token, never that key
    monkeypatch.delenv("KAGGLE_API_TOKEN")
    write(home / ".kaggle/kaggle.json", '{"username": "u", "key": "0123abcd"}')
    assert credentials.token_given_as_key() is None  # a plain legacy key


def test_a_token_file_that_is_not_utf8_is_read_without_a_crash(home):
    (home / ".kaggle").mkdir()
    (home / ".kaggle/access_token").write_bytes(b"KGAT_\xff\xfe_binary_token\n")
    assert credentials.credentials_source() == str(home / ".kaggle/access_token")
    assert "KGAT_\ufffd\ufffd_binary_token" in credentials.secrets()


@pytest.mark.parametrize("setup, expected", [
    (lambda home, mp: None, set()),
    (lambda home, mp: mp.setenv("KAGGLE_KEY", "abcd"), {"abcd", "OmFiY2Q="}),  # 4 characters: a secret
    # 3 characters: too short to scrub without mangling text (its Basic header, 8, is not)
    (lambda home, mp: mp.setenv("KAGGLE_KEY", "abc"), {"OmFiYw=="}),
    (lambda home, mp: (mp.setenv("KAGGLE_USERNAME", "u"), mp.setenv("KAGGLE_KEY", "key1")),
     {"key1", "dTprZXkx", "OmtleTE="}),  # base64 of u:key1 and of :key1 (kaggle.json gives no username)
    (lambda home, mp: write(home / ".kaggle/kaggle.json", '{"username": "u", "key": null}'), set()),
    (lambda home, mp: write(home / ".kaggle/kaggle.json", '{"username": "u"}'), set()),
    (lambda home, mp: write(home / ".kaggle/kaggle.json", '{"username": null, "key": "key2"}'), {"key2", "OmtleTI="}),
    (lambda home, mp: mp.setenv("KAGGLE_API_TOKEN", "KGAT_t"), {"KGAT_t"}),
])
def test_secrets_are_exactly_what_the_client_could_send(home, monkeypatch, setup, expected):
    setup(home, monkeypatch)
    assert credentials.secrets() == expected
    assert credentials.redact("None of these") == "None of these"


def test_a_secret_inside_a_longer_one_does_not_leave_the_rest_of_the_longer_one(home, monkeypatch):
    """Longest first: 'zzzz1234' sorts after 'aazzzz1234bb' but lies inside it."""
    monkeypatch.setenv("KAGGLE_KEY", "zzzz1234")
    monkeypatch.setenv("KAGGLE_API_TOKEN", "aazzzz1234bb")
    assert credentials.redact("token aazzzz1234bb, key zzzz1234") == "token [redacted], key [redacted]"
