"""Every part of the ``kaggle`` client and of ``kagglesdk`` that pipeline/kaggle touches, beyond the
documented ``KaggleApi`` calls, still exists in the installed versions.

pipeline/kaggle replaces ``KaggleApi.config_dir`` and ``config`` (client.py), builds kagglesdk
request objects itself and calls its service client (session.py, download.py), calls
``download_file(..., max_retries=0)`` (download.py) and reads fields of the client's answers
(records.py). None of that is a promise of either package: pyproject.toml bounds both to the
tested range, and this test names the installed versions when one of them is gone.
"""

from __future__ import annotations

import contextlib
import inspect
import io
from importlib.metadata import version

import pytest

INSTALLED = f"kaggle {version('kaggle')}, kagglesdk {version('kagglesdk')}"


def _kaggle_api():
    with contextlib.redirect_stdout(io.StringIO()):  # importing kaggle tries to sign in and prints help
        from kaggle.api.kaggle_api_extended import KaggleApi
    return KaggleApi


def _sdk_types():
    from kagglesdk.competitions.types import competition_api_service

    return competition_api_service


def _missing(what: str) -> str:
    return (f"{what}: not in the installed {INSTALLED}; pipeline/kaggle relies on it. pyproject.toml bounds "
            f"kaggle and kagglesdk to the tested range: check the new versions against the fake "
            f"(tests/fake_kaggle.py, shared/kaggle-api.md) before widening it")


# KaggleApi attributes and methods the code uses, and how it calls each method (arguments as in the code).
API_CALLS = {
    "authenticate": ((), {}),
    "build_kaggle_client": ((), {}),
    "competition_get_submission_limits": (("digit-recognizer",), {}),
    "get_submission": ((1,), {}),
    "competition_submit": (("file.csv", "message", "digit-recognizer"), {"quiet": True}),
    "download_file": (("response", "out.zip", "http_client"),
                      {"quiet": True, "resume": False, "chunk_size": 65536, "max_retries": 0}),
}
API_ATTRIBUTES = ("config_dir", "config", "config_file", "config_values")

# kagglesdk request types the code builds, with the fields it sets.
REQUESTS = {
    "ApiListSubmissionsRequest": ("competition_name", "page_size", "page_token"),
    "ApiGetLeaderboardRequest": ("competition_name", "page_size", "page_token"),
    "ApiDownloadDataFilesRequest": ("competition_name",),
}
# kagglesdk answer types, with the fields the code reads.
ANSWERS = {
    "ApiListSubmissionsResponse": ("submissions", "next_page_token"),
    "ApiGetLeaderboardResponse": ("submissions", "next_page_token"),
    "ApiSubmission": ("ref", "date", "description", "file_name", "status", "public_score", "private_score",
                      "error_description", "team_name"),
    "ApiLeaderboardSubmission": ("team_name", "score", "submission_date"),
    "ApiSubmissionLimits": ("num_today", "num_total", "num_allowed_now", "limited_by_total"),
    "ApiCreateSubmissionResponse": ("ref", "message"),
}
# Methods of kagglesdk's competition service client the code calls (client.competitions.competition_api_client).
SERVICE_METHODS = ("list_submissions", "get_leaderboard", "download_data_files")


@pytest.mark.parametrize("name", API_ATTRIBUTES)
def test_kaggle_api_attributes(name):
    assert hasattr(_kaggle_api(), name), _missing(f"KaggleApi.{name}")


@pytest.mark.parametrize("name", list(API_CALLS))
def test_kaggle_api_methods_take_the_arguments_the_code_passes(name):
    method = getattr(_kaggle_api(), name, None)
    assert callable(method), _missing(f"KaggleApi.{name}()")
    args, kwargs = API_CALLS[name]
    try:
        inspect.signature(method).bind(None, *args, **kwargs)
    except TypeError as exc:
        shown = ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())])
        pytest.fail(_missing(f"KaggleApi.{name}({shown}) as pipeline/kaggle calls it ({exc}; the installed "
                             f"signature is {inspect.signature(method)})"))


@pytest.mark.parametrize("name", list(REQUESTS))
def test_kagglesdk_requests_the_code_builds(name):
    cls = getattr(_sdk_types(), name, None)
    assert cls is not None, _missing(f"kagglesdk.competitions.types.competition_api_service.{name}")
    request = cls()
    values = {"competition_name": "digit-recognizer", "page_size": 100, "page_token": "token"}
    for field in REQUESTS[name]:
        assert isinstance(getattr(cls, field, None), property), _missing(f"{name}.{field}")
        setattr(request, field, values[field])
        assert getattr(request, field) == values[field], _missing(f"{name}.{field} (as a settable field)")


@pytest.mark.parametrize("name", list(ANSWERS))
def test_kagglesdk_answers_have_the_fields_the_code_reads(name):
    cls = getattr(_sdk_types(), name, None)
    assert cls is not None, _missing(f"kagglesdk.competitions.types.competition_api_service.{name}")
    for field in ANSWERS[name]:
        assert isinstance(getattr(cls, field, None), property), _missing(f"{name}.{field}")


def test_kagglesdk_client_has_the_competition_service_the_code_calls():
    from kagglesdk.kaggle_client import KaggleClient

    client = KaggleClient(username="someone", password="not-a-key")  # builds its parts; no request is sent
    assert hasattr(KaggleClient, "__enter__") and hasattr(KaggleClient, "__exit__"), _missing(
        "KaggleClient as a context manager (with api.build_kaggle_client() as kaggle)")
    assert callable(getattr(client, "http_client", None)), _missing("KaggleClient.http_client()")
    service = getattr(getattr(client, "competitions", None), "competition_api_client", None)
    assert service is not None, _missing("KaggleClient.competitions.competition_api_client")
    for method in SERVICE_METHODS:
        assert callable(getattr(service, method, None)), _missing(f"competition_api_client.{method}()")
