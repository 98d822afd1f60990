"""No Kaggle secret reaches the user's terminal, a log, the ledger or the archive, from any source the client
reads it from, even when the server repeats it back.

For each credential source of the kaggle client (``shared/kaggle-api.md``; ``credentials_source``), the user
signs in with a secret of their own, and the fake Kaggle (``echo_secrets``, ``echo_version``) repeats the
credential each request came with in its error bodies, in a header, in a failed submission's description,
and in the ``X-Kaggle-APIVersion`` header the client parses (and raises on). The user runs ``fetch``,
``submit`` and ``scores`` as they would, each made to fail in those ways; then the output of every
command and every file the commands could write (ledger, archive, plots, logs, the client's config folder)
are searched for the secret, whole or in part, and for the HTTP Basic header it travels in.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from kaggle_support import N_TEST, kaggle_env, ledger_rows, make_project, pipeline, submission_text

USERNAME = "tester"


def key_env(home: Path, secret: str) -> dict:
    return {"KAGGLE_USERNAME": USERNAME, "KAGGLE_KEY": secret}


def kaggle_json(home: Path, secret: str) -> dict:
    (home / ".kaggle").mkdir(parents=True, exist_ok=True)
    (home / ".kaggle/kaggle.json").write_text(json.dumps({"username": USERNAME, "key": secret}))
    (home / ".kaggle/kaggle.json").chmod(0o600)
    return {}


def token_value(home: Path, secret: str) -> dict:
    return {"KAGGLE_API_TOKEN": secret}


def token_file(home: Path, secret: str) -> dict:
    (home / "kaggle-token.txt").write_text(secret + "\n")
    return {"KAGGLE_API_TOKEN": str(home / "kaggle-token.txt")}


def access_token(home: Path, secret: str) -> dict:
    (home / ".kaggle").mkdir(parents=True, exist_ok=True)
    (home / ".kaggle/access_token").write_text(secret + "\n")
    return {}


def notebook_token(home: Path, secret: str) -> dict:
    (home / "notebook-token").write_text(secret)
    return {"KAGGLE_KERNEL_RUN_TYPE": "Interactive", "KAGGLE_DATA_PROXY_URL": "http://127.0.0.1:9",
            "KAGGLE_API_V1_TOKEN": str(home / "notebook-token")}


# (name, setup, secret, sent as): the fake accepts the secret as a key ("key") or a token ("token"); a token
# given as the legacy key is refused with 401, as the real service does (fake_kaggle's rule 5).
SOURCES = [
    ("KAGGLE_KEY", key_env, "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "key"),
    ("kaggle.json key", kaggle_json, "9a8b7c6d5e4f30211203f4e5d6c7b8a9", "key"),
    ("KAGGLE_API_TOKEN value", token_value, "KGAT_tokenvalue5ecr3t0a1b2c3d4e5f6a7b8", "token"),
    ("KAGGLE_API_TOKEN file", token_file, "KGAT_tokenfile5ecr3t9f8e7d6c5b4a39281", "token"),
    ("~/.kaggle/access_token", access_token, "KGAT_accesstoken5ecr3t1122334455667788", "token"),
    ("notebook token", notebook_token, "KGAT_notebook5ecr3tffeeddccbbaa998877", "token"),
    ("KGAT_ token as KAGGLE_KEY", key_env, "KGAT_askey5ecr3t00112233445566778899", "refused"),
    ("KGAT_ token as kaggle.json key", kaggle_json, "KGAT_asjson5ecr3t99887766554433221100", "refused"),
]


def forms(secret: str) -> list[str]:
    """The secret, pieces of it, and the HTTP Basic header value that carries a key."""
    basic = base64.b64encode(f"{USERNAME}:{secret}".encode()).decode()
    return [secret, secret[:16], secret[-16:], secret[8:24], basic]


def assert_clean(text: str, secret: str, where: str) -> None:
    for form in forms(secret):
        assert form not in text, f"{form!r} (from the secret) appears in {where}:\n{text}"


@pytest.mark.parametrize("name, setup, secret, sent_as", SOURCES, ids=[s[0] for s in SOURCES])
def test_no_secret_from_any_source_appears_anywhere_even_when_kaggle_echoes_it(tmp_path, fake_kaggle, name, setup,
                                                                                secret, sent_as):
    fake = fake_kaggle
    if sent_as == "token":
        fake.token, fake.key = secret, "another-key-the-user-does-not-have"
    else:
        fake.key, fake.token = secret, None
    home = tmp_path / "home"
    env = {**kaggle_env(fake, home, credentials="none", VERBOSE="1"), **setup(home, secret)}
    project = make_project(tmp_path / "project", fake.zip_bytes)
    fake.echo_secrets = True
    outputs: list[tuple[str, str]] = []

    def user_runs(*args: str) -> None:
        result = pipeline(list(args), project, env)  # also checks the fixed test secrets
        outputs.append((" ".join(args), result.stdout + result.stderr))
        assert result.returncode != 0, (args, result.stdout + result.stderr)

    fake.fault("DownloadDataFiles", status=400, times=None)
    user_runs("fetch")
    fake.fault("GetSubmission", status=400, times=None)  # after the upload: the ledger and archive have it
    user_runs("submit", "-m", "an echo", "--wait", "5")
    fake.fault("ListSubmissions", status=500, times=None)
    user_runs("scores")
    fake.faults.clear()
    fake.scoring_error = "the file could not be scored"  # Kaggle's reason, with the credential echoed
    (project / "second.csv").write_text(submission_text([1] * N_TEST))
    user_runs("submit", "second.csv", "-m", "scored as an error", "--wait", "5")
    fake.echo_version = True  # every answer's version header is the credential, which the client parses
    user_runs("scores")

    assert secret in fake.credentials, f"{name}: the client never sent this secret, so nothing was tested"
    if sent_as != "refused":
        assert [row["message"] for row in ledger_rows(project)] == ["an echo", "scored as an error"]
        assert len(list((project / "submissions/archive").glob("*.csv"))) == 2
    for command, text in outputs:
        assert_clean(text, secret, f"the output of {command}")
        if sent_as == "refused" and command.startswith(("fetch", "submit")):  # (scores met a 500 first)
            assert "is an access token (KGAT_...)" in text, text
    credential_files = {home / ".kaggle/kaggle.json", home / ".kaggle/access_token", home / "kaggle-token.txt",
                        home / "notebook-token"}
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p not in credential_files]
    assert any(p.name == "history.csv" for p in files)
    for path in files:
        assert_clean(path.read_bytes().decode("latin-1"), secret, str(path))
