"""Whether Kaggle credentials are configured, decided without importing the kaggle package.

Importing ``kaggle`` authenticates at import time and prints a long help text when it finds
nothing, so the ``auto`` source looks for the same places the client reads, in its order.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path

HOW_TO = ("set KAGGLE_API_TOKEN (a token from kaggle.com > Settings > API), or KAGGLE_USERNAME and "
          "KAGGLE_KEY, or save kaggle.json in ~/.kaggle/ (chmod 600)")


def config_dir() -> Path:
    """The folder the client reads ``kaggle.json`` from, chosen as ``KaggleApi``'s class body chooses it."""
    if os.environ.get("KAGGLE_CONFIG_DIR"):
        return Path(os.environ["KAGGLE_CONFIG_DIR"])
    home_kaggle = Path(os.path.expanduser("~")) / ".kaggle"
    if sys.platform.startswith("linux") and not os.path.exists(home_kaggle):
        return Path(os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")) / "kaggle"
    return home_kaggle


def ensure_config_dir() -> None:
    """Create the client's config folder before ``kaggle`` is first imported.

    The client's class body checks for the folder, then creates it (``os.makedirs`` without
    ``exist_ok``): two processes importing it at once on a machine without the folder race, and
    the loser dies with FileExistsError. Created here first, with ``exist_ok``, the client finds it.
    A folder that cannot be made is left to the client, which says so in its own words.
    """
    try:
        os.makedirs(config_dir(), exist_ok=True)
    except OSError:
        pass


NOTEBOOK_TOKEN = "KAGGLE_API_V1_TOKEN"  # in a Kaggle notebook: the path of a file holding a token


def in_kaggle_notebook() -> bool:
    """As kagglesdk's ``is_in_kaggle_notebook``: the run-type variable and the data proxy are both set."""
    return os.environ.get("KAGGLE_KERNEL_RUN_TYPE") is not None and os.environ.get("KAGGLE_DATA_PROXY_URL") is not None


def _token_file(path: str | os.PathLike | None) -> bool:
    """Whether ``path`` is a file holding a token (the client ignores a missing or blank one)."""
    if not path:
        return False
    try:
        return Path(path).exists() and bool(_read_quietly(Path(path)))
    except OSError:  # e.g. a name too long to be a path
        return False


def _saved() -> dict:
    """kaggle.json's fields in the config folder ({} when it is missing, unreadable, not JSON or no object)."""
    try:
        data = json.loads(_read_quietly(config_dir() / "kaggle.json"))
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def _saved_field(data: dict, name: str) -> str:
    """A field of kaggle.json as text ('' when absent or null)."""
    return str(data.get(name) or "").strip()


def _legacy_key_configured() -> bool:
    """Username and key, each from its variable or else from kaggle.json (the client merges the two)."""
    data = _saved()
    return all(os.environ.get(env) or data.get(field) for env, field in (("KAGGLE_USERNAME", "username"),
                                                                         ("KAGGLE_KEY", "key")))


def credentials_source() -> str | None:
    """Where the client would take its credentials from (never the secret), or None.

    Every source the client (kaggle 2.2.5 / kagglesdk) reads, in its order: in a Kaggle notebook
    the token file named by KAGGLE_API_V1_TOKEN; KAGGLE_API_TOKEN (a token, or a file holding
    one); ~/.kaggle/access_token(.txt); the legacy username and key (KAGGLE_USERNAME/KAGGLE_KEY,
    or kaggle.json in the config folder, merged); the OAuth login in ~/.kaggle/credentials.json.
    """
    if in_kaggle_notebook() and _token_file(os.environ.get(NOTEBOOK_TOKEN)):
        return NOTEBOOK_TOKEN
    if os.environ.get("KAGGLE_API_TOKEN"):
        return "KAGGLE_API_TOKEN"
    home_kaggle = Path(os.path.expanduser("~")) / ".kaggle"
    for name in ("access_token", "access_token.txt"):
        if _token_file(home_kaggle / name):
            return str(home_kaggle / name)
    if _legacy_key_configured():
        if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
            return "KAGGLE_USERNAME/KAGGLE_KEY"
        return str(config_dir() / "kaggle.json")
    if (home_kaggle / "credentials.json").is_file():
        return str(home_kaggle / "credentials.json")
    return None


ACCESS_TOKEN_PREFIX = "KGAT_"


def token_given_as_key() -> str | None:
    """Where a legacy key that is really an access token (``KGAT_...``) is configured, or None.

    The client sends ``KAGGLE_KEY`` / kaggle.json's ``key`` as HTTP Basic, which Kaggle refuses
    for an access token: it belongs in KAGGLE_API_TOKEN or ~/.kaggle/access_token.
    """
    source = credentials_source()
    if not source or not (source == "KAGGLE_USERNAME/KAGGLE_KEY" or source.endswith("kaggle.json")):
        return None  # signed in by a token, or not at all
    if os.environ.get("KAGGLE_KEY"):  # the variable wins over kaggle.json's key
        return "KAGGLE_KEY" if os.environ["KAGGLE_KEY"].strip().startswith(ACCESS_TOKEN_PREFIX) else None
    key = _saved_field(_saved(), "key")
    return str(config_dir() / "kaggle.json") if key.startswith(ACCESS_TOKEN_PREFIX) else None


def _read_quietly(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def secrets() -> set[str]:
    """Every secret the client could send (key, tokens), so that messages can be scrubbed of them."""
    found: set[str] = set()
    token = os.environ.get("KAGGLE_API_TOKEN", "").strip()
    found.add(token)
    if token:  # KAGGLE_API_TOKEN may name a file holding the token (a token that is no file name reads as '')
        found.add(_read_quietly(Path(token)))
    home_kaggle = Path(os.path.expanduser("~")) / ".kaggle"
    for name in ("access_token", "access_token.txt"):
        found.add(_read_quietly(home_kaggle / name))
    if os.environ.get(NOTEBOOK_TOKEN):
        found.add(_read_quietly(Path(os.environ[NOTEBOOK_TOKEN])))
    saved = _saved()
    keys = {os.environ.get("KAGGLE_KEY", "").strip(), _saved_field(saved, "key")} - {""}
    found |= keys
    # The legacy key travels as HTTP Basic, base64 of "username:key" (the client merges the variables and
    # kaggle.json field by field): a server or proxy that repeats the Authorization header repeats that.
    for user in {os.environ.get("KAGGLE_USERNAME", "").strip(), _saved_field(saved, "username")}:
        found |= {base64.b64encode(f"{user}:{key}".encode()).decode() for key in keys}
    return {s for s in found if len(s) >= 4}


def redact(text: str) -> str:
    """``text`` with every configured secret replaced by ``[redacted]``."""
    for secret in sorted(secrets(), key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text
