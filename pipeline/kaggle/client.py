"""The ``kaggle`` client: imported only here, lazily, and signed in.

Importing ``kaggle`` authenticates at import time (a network call when an access token is set)
and prints to stdout, so ``connect`` is meant to run inside a bounded call
(``pipeline.kaggle.bounded_call``), its output kept from the user; ``preload_dependencies``
imports what the client imports beforehand, outside the deadline.
"""

from __future__ import annotations

import importlib
import os
import re

from pipeline.kaggle import credentials as kaggle_credentials

# What ``kaggle.api.kaggle_api_extended`` imports, loaded before the bounded sign-in: imports touch
# no network but can take seconds on a busy machine, which must not count against the deadline.
CLIENT_DEPENDENCIES = ("requests", "urllib3", "tqdm", "bleach", "dateutil.relativedelta", "dotenv", "slugify",
                       "google.protobuf.field_mask_pb2", "packaging.version", "tarfile", "zipfile",
                       "kagglesdk", "kagglesdk.kaggle_client")


def preload_dependencies() -> None:
    for name in CLIENT_DEPENDENCIES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a missing one is imported (or reported) with the client itself
            pass


def connect():
    """A signed-in ``KaggleApi``, reading its credentials from the config folder as it is now."""
    kaggle_credentials.ensure_config_dir()  # before the import: see ensure_config_dir
    from kaggle.api.kaggle_api_extended import KaggleApi  # runs kaggle/__init__, which authenticates and prints

    api = KaggleApi()
    # The class chose its folder once, at import: a long-lived process (a notebook) that creates
    # ~/.kaggle/kaggle.json later would be signed in from a stale path. Choose it now, as the class does.
    api.config_dir = str(kaggle_credentials.config_dir())
    api.config = os.path.join(api.config_dir, api.config_file)
    api.authenticate()
    return api


def last_line(output: str) -> str:
    """The last non-blank line the client printed, without URLs (they may hold signed tokens)."""
    lines = [line.strip() for line in output.replace("\r", "\n").splitlines() if line.strip()]
    return re.sub(r"https?://\S+", "<url>", lines[-1])[:200] if lines else ""
