"""Whether Kaggle credentials are configured, decided without importing the kaggle package.

Importing ``kaggle`` authenticates at import time and prints a long help text when it finds
nothing, so the ``auto`` source looks for the same places the client reads, in its order.
"""

from __future__ import annotations

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


def credentials_source() -> str | None:
    """Where credentials would come from (a short description, never the secret), or None."""
    if os.environ.get("KAGGLE_API_TOKEN"):
        return "KAGGLE_API_TOKEN"
    home_kaggle = Path.home() / ".kaggle"
    for name in ("access_token", "access_token.txt"):
        if (home_kaggle / name).is_file():
            return str(home_kaggle / name)
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return "KAGGLE_USERNAME/KAGGLE_KEY"
    if (config_dir() / "kaggle.json").is_file():
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
    if source == "KAGGLE_USERNAME/KAGGLE_KEY":
        return "KAGGLE_KEY" if os.environ["KAGGLE_KEY"].strip().startswith(ACCESS_TOKEN_PREFIX) else None
    if source and source.endswith("kaggle.json"):
        try:
            key = str(json.loads(_read_quietly(Path(source)) or "{}").get("key", "")).strip()
        except (json.JSONDecodeError, AttributeError):
            return None
        return source if key.startswith(ACCESS_TOKEN_PREFIX) else None
    return None


def _read_quietly(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def secrets() -> set[str]:
    """Every secret the client could send (key, tokens), so that messages can be scrubbed of them."""
    found = {os.environ.get("KAGGLE_KEY", "").strip()}
    token = os.environ.get("KAGGLE_API_TOKEN", "").strip()
    found.add(token)
    try:
        if token and Path(token).is_file():  # KAGGLE_API_TOKEN may name a file holding the token
            found.add(_read_quietly(Path(token)))
    except OSError:  # e.g. a token too long to be a file name
        pass
    home_kaggle = Path.home() / ".kaggle"
    for name in ("access_token", "access_token.txt"):
        found.add(_read_quietly(home_kaggle / name))
    try:
        found.add(str(json.loads(_read_quietly(config_dir() / "kaggle.json") or "{}").get("key", "")).strip())
    except (json.JSONDecodeError, AttributeError):
        pass
    return {s for s in found if len(s) >= 4}


def redact(text: str) -> str:
    """``text`` with every configured secret replaced by ``[redacted]``."""
    for secret in sorted(secrets(), key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text
