"""Shared fixtures: a fake Kaggle on 127.0.0.1, and a project folder to run the Kaggle commands in."""

from __future__ import annotations

import os

import pytest

# The kaggle client picks its server when it is imported (LOCALHOST: http://localhost, reached
# through HTTP_PROXY = the fake). Set before any test imports it in this process, so that no
# test can ever reach the real Kaggle.
os.environ["KAGGLE_API_ENVIRONMENT"] = "LOCALHOST"

from fake_kaggle import FakeKaggle  # noqa: E402
from kaggle_support import answer_key, make_project, small_zip  # noqa: E402


@pytest.fixture
def fake_kaggle():
    fake = FakeKaggle(small_zip(), answer_key()).start()
    yield fake
    fake.stop()


@pytest.fixture
def project(tmp_path, fake_kaggle):
    return make_project(tmp_path / "project", fake_kaggle.zip_bytes)
