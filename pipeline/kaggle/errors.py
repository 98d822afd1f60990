"""Turn whatever the ``kaggle`` client raises into one clear line: a KaggleError.

The client raises ``requests`` exceptions (``HTTPError`` with the status code, a
``requests.exceptions.ConnectionError`` for a refused connection), a ``ValueError`` for a
download of the wrong length, and ``SystemExit`` when it finds no credentials. Each becomes a
message that says what failed and what to do. Every message is scrubbed of the configured
secrets, whatever the server or the client put in it.
"""

from __future__ import annotations

import os
import re

from pipeline.kaggle import credentials as kaggle_credentials
from pipeline.core.errors import PipelineError

SETTINGS_URL = "https://www.kaggle.com/settings"


class KaggleError(PipelineError):
    """A failed Kaggle call. ``transient``: worth retrying (429, 5xx, a cut-off download)."""

    def __init__(self, message: str, status: int | None = None, transient: bool = False,
                 retry_after: float | None = None, timed_out: bool = False):
        super().__init__(kaggle_credentials.redact(message))
        self.status, self.transient, self.retry_after, self.timed_out = status, transient, retry_after, timed_out


class UploadUncertain(KaggleError):
    """The upload call failed in a way that may have reached Kaggle: check the list before anything else."""


def no_answer(action: str, timeout: float) -> KaggleError:
    """The error for a call that got no answer within ``timeout`` seconds."""
    return KaggleError(f"Kaggle did not answer within {timeout:g} s while {action}: check your connection or try "
                       f"later (DIGIT_PIPELINE_KAGGLE_TIMEOUT sets this limit)", timed_out=True)


def competition_url(competition: str) -> str:
    return f"https://www.kaggle.com/competitions/{competition}"


def rules_url(competition: str) -> str:
    return f"{competition_url(competition)}/rules"


def _server_message(exc) -> str:
    """The server's message (JSON bodies), or the status line without the URL (it may hold signed tokens)."""
    text = str(exc).split(" for url:")[0].strip()
    return re.sub(r"https?://\S+", "<url>", text)[:200]


def _storage_refusal(response) -> str | None:
    """'Code: message details' when ``response`` is the storage host's own refusal, else None.

    Kaggle answers DownloadDataFiles with a redirect to a signed storage URL; a refusal there comes
    after the redirect, in the storage host's XML (``<Error><Code>...``), not in Kaggle's JSON.
    """
    if response is None:
        return None
    try:
        body = response.text[:4000]
    except Exception:  # a body that cannot be decoded: judge by the redirect alone
        body = ""
    code = re.search(r"<Code>([^<]*)</Code>", body)
    if not code and not getattr(response, "history", None):
        return None
    parts = [re.search(rf"<{tag}>([^<]*)</{tag}>", body) for tag in ("Message", "Details")]
    said = " ".join(p[1].strip() for p in parts if p and p[1].strip())
    text = f"{code[1].strip()}: {said}" if code and said else (code[1].strip() if code else "") or _server_message(
        response.reason or "Forbidden")
    return re.sub(r"https?://\S+", "<url>", text)[:200]


def _credentials_used() -> str:
    return kaggle_credentials.credentials_source() or "no credentials"


def _download_size_problem(exc) -> str | None:
    text = str(exc)
    match = re.search(r"IncompleteRead\((\d+) bytes read, (\d+) more expected\)", text)
    if match:
        got, more = int(match[1]), int(match[2])
        return f"the connection closed after {got} of {got + more} bytes"
    match = re.search(r"Downloaded file size \((\d+)\) does not match expected size \((\d+)\)", text)
    if match:
        return f"received {match[1]} bytes but the server announced {match[2]}"
    return None


def translate(exc: BaseException, action: str, competition: str, download: bool = False,
              not_found: str | None = None) -> KaggleError:
    """A KaggleError for ``exc`` raised while ``action`` (e.g. 'listing your submissions')."""
    import requests  # a dependency of kaggle; imported here so that importing this module stays cheap

    if isinstance(exc, KaggleError):
        return exc
    if isinstance(exc, SystemExit):
        source = kaggle_credentials.credentials_source()
        if source in ("KAGGLE_API_TOKEN", kaggle_credentials.NOTEBOOK_TOKEN) or (source or "").endswith(("access_token", "access_token.txt")):
            return KaggleError(f"Kaggle did not accept the access token in {source} (expired or revoked?): "
                               f"create a new one at {SETTINGS_URL} (API section)", 401)
        return KaggleError(f"no Kaggle credentials found: {kaggle_credentials.HOW_TO}")
    if isinstance(exc, requests.exceptions.HTTPError):
        status = exc.response.status_code if exc.response is not None else None
        said = _server_message(exc)
        if status == 401:
            misplaced = kaggle_credentials.token_given_as_key()
            if misplaced:
                return KaggleError(f"Kaggle rejected the credentials (401 {said}) while {action}: the key in "
                                   f"{misplaced} is an access token (KGAT_...), which the client sends as a "
                                   f"legacy key: it belongs in KAGGLE_API_TOKEN or ~/.kaggle/access_token", 401)
            return KaggleError(f"Kaggle rejected the credentials from {_credentials_used()} (401 {said}) while "
                               f"{action}: check the username and key, or create a new token at {SETTINGS_URL}", 401)
        if status == 403:
            refusal = _storage_refusal(exc.response) if download else None
            if refusal:
                return KaggleError(f"the storage host Kaggle sent the download to refused {competition}.zip (403 "
                                   f"{refusal}): its signed link may have expired; rerun to get a fresh one (if "
                                   f"it persists, check the clock and any proxy between you and the storage host)",
                                   403, transient=True)
            if download:
                return KaggleError(f"Kaggle refused the download of {competition} (403: {said}): accept the "
                                   f"competition's rules at {rules_url(competition)} (signed in as the account "
                                   f"whose credentials you use), then rerun", 403)
            return KaggleError(f"Kaggle refused access to {competition} (403: {said}) while {action}: accept the "
                               f"competition's rules at {rules_url(competition)} with the account whose "
                               f"credentials you use", 403)
        if status == 404:
            what = not_found or (f"no competition named {competition!r}; check fetch.competition in params.yaml "
                                 f"(the name in {competition_url(competition)})")
            return KaggleError(f"Kaggle answered 404 Not Found while {action}: {what}", 404)
        if status == 429:
            return KaggleError(f"Kaggle is limiting the rate of requests (429 Too Many Requests) while {action}: "
                               f"wait a few minutes, then rerun", 429, transient=True,
                               retry_after=_retry_after(exc.response))
        if status is not None and status >= 500:
            return KaggleError(f"Kaggle's server failed (HTTP {status}: {said}) while {action}: "
                               f"Kaggle may be down; try again later", status, transient=True,
                               retry_after=_retry_after(exc.response))
        return KaggleError(f"Kaggle answered HTTP {status} while {action}: {said}", status)
    if download and (isinstance(exc, (requests.exceptions.ChunkedEncodingError, ValueError))
                     or type(exc).__name__ == "ProtocolError"):
        problem = _download_size_problem(exc) or _server_message(exc)
        return KaggleError(f"the download of {competition}.zip was incomplete ({problem}); nothing was kept: "
                           f"rerun to download it again", transient=True)
    if isinstance(exc, requests.exceptions.Timeout):
        return KaggleError(f"Kaggle did not answer in time while {action}: check your connection, or try later",
                           timed_out=True)
    if isinstance(exc, requests.exceptions.ConnectionError):
        proxy = " (through the proxy set in HTTPS_PROXY/HTTP_PROXY)" if _proxy_set() else ""
        refused = "connection refused" if "refused" in str(exc).lower() else "no connection"
        return KaggleError(f"could not reach Kaggle{proxy} while {action}: {refused}; check your internet "
                           f"connection and proxy settings, then rerun")
    return KaggleError(f"the Kaggle client failed while {action}: {type(exc).__name__}: "
                       f"{_server_message(exc) or 'no details'}")


def _proxy_set() -> bool:
    return any(os.environ.get(name) for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"))


def _retry_after(response) -> float | None:
    """A Retry-After header given in seconds (the HTTP-date form is rare enough to ignore)."""
    try:
        value = float(response.headers.get("Retry-After", ""))
    except (AttributeError, TypeError, ValueError):
        return None
    return value if value >= 0 else None
