"""The only module that talks to Kaggle, through the real ``kaggle`` client, imported lazily.

Importing ``kaggle`` authenticates at import time and prints to stdout; that noise is kept away
from the user, and every failure becomes a PipelineError with a one-line message.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.kaggle_credentials import HOW_TO


def client():
    """An authenticated ``KaggleApi``; PipelineError if no credentials are configured."""
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            from kaggle.api.kaggle_api_extended import KaggleApi

            api = KaggleApi()
            api.authenticate()
        except SystemExit:
            raise PipelineError(f"no Kaggle credentials found: {HOW_TO}") from None
    return api


def download_competition(competition: str, dest_dir: Path) -> Path:
    """Download ``<competition>.zip`` into ``dest_dir`` and return its path."""
    api = client()
    with contextlib.redirect_stdout(io.StringIO()):
        api.competition_download_files(competition, path=str(dest_dir), force=True, quiet=True)
    return Path(dest_dir) / f"{competition}.zip"
