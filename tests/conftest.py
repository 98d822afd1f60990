"""Shared fixtures: a fake Kaggle on 127.0.0.1, and a project folder to run the Kaggle commands in."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# Locally, each run of the property tests draws new examples and so keeps looking for bugs; in CI
# (CI set) the draws are fixed, so a landing is decided by the code and not by the luck of the draw.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

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


# A test that starts dvc or a browser and is not marked slow fails at that call (see slow_guard.py).
import slow_guard  # noqa: E402

slow_guard.install()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item):
    slow_guard.current_test = None if item.get_closest_marker("slow") else item
    try:
        yield
    finally:
        slow_guard.current_test = None


def pytest_collection_modifyitems(items):
    """A test that starts the fake Kaggle server (through its fixture) is slow: it runs the real kaggle
    client against it, with its polls and retries, about a second a test."""
    for item in items:
        if "fake_kaggle" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    """A PostgreSQL server on 127.0.0.1 for this test process (see postgres_support.py)."""
    from postgres_support import start_server

    server = start_server(tmp_path_factory.mktemp("postgres"))
    yield server
    server.stop()
