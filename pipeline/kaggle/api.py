"""The only module that talks to Kaggle, through the real ``kaggle`` client, imported lazily.

Importing ``kaggle`` authenticates at import time (a network call when an access token is set)
and prints to stdout, and no call of the client has a timeout. So every call here, the import
included, runs in a worker thread with a deadline (``pipeline.kaggle.bounded_call``), its output kept
from the user; every failure becomes one ``KaggleError`` line (``pipeline.kaggle.errors``).
Calls that only read (limits, lists, the leaderboard, the download) are retried with backoff
on 429, 5xx and cut-off downloads; the upload never is (see ``KaggleSession.submit``).

Limits come from the environment, so that tests can use sub-second values:

- ``DIGIT_PIPELINE_KAGGLE_TIMEOUT`` (60): seconds to wait for one call; for the download, the
  longest time without progress (a 64 KiB chunk);
- ``DIGIT_PIPELINE_KAGGLE_RETRIES`` (3): retries of a read-only call after a 429 / 5xx;
- ``DIGIT_PIPELINE_KAGGLE_BACKOFF_SECONDS`` (2): the first retry's delay, doubled each time
  (a server's ``Retry-After`` is honoured, up to 60 s);
- ``DIGIT_PIPELINE_KAGGLE_POLL_SECONDS`` (10): time between checks while a submission is scored;
- ``DIGIT_PIPELINE_KAGGLE_DOWNLOAD_LIMIT_SECONDS`` (3600): the longest a whole download may take.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import math
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from pipeline.kaggle import credentials as kaggle_credentials
from pipeline.kaggle.bounded_call import TimedOut, run_bounded, start
from pipeline.core.env_settings import positive_number
from pipeline.kaggle.errors import KaggleError, translate
from pipeline.core.progress import Progress
from pipeline.core.timestamps import iso_utc

MAX_RETRY_AFTER = 60.0
PAGE_SIZE = 100  # asked for; the service gives fewer (20, later 50) and the token says whether more follow
MAX_PAGES = 500  # a bound on any listing: 10,000 submissions at 20 a page
# The client writes the download in chunks of this size, each read in full before it is written:
# small enough that a slow connection shows progress well within the stall timeout.
DOWNLOAD_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Settings:
    timeout: float = 60.0
    retries: int = 3
    backoff: float = 2.0
    poll: float = 10.0
    download_limit: float = 3600.0

    @classmethod
    def from_env(cls, environ=None) -> "Settings":
        def seconds(name: str, default: float) -> float:
            return positive_number(name, default, unit="seconds", environ=environ)

        return cls(timeout=seconds("DIGIT_PIPELINE_KAGGLE_TIMEOUT", cls.timeout),
                   retries=positive_number("DIGIT_PIPELINE_KAGGLE_RETRIES", cls.retries, kind=int, zero_ok=True,
                                           environ=environ),
                   backoff=seconds("DIGIT_PIPELINE_KAGGLE_BACKOFF_SECONDS", cls.backoff),
                   poll=seconds("DIGIT_PIPELINE_KAGGLE_POLL_SECONDS", cls.poll),
                   download_limit=seconds("DIGIT_PIPELINE_KAGGLE_DOWNLOAD_LIMIT_SECONDS", cls.download_limit))


@dataclass(frozen=True)
class KaggleSubmission:
    ref: int
    date: str  # ISO 8601 UTC, e.g. 2025-01-02T03:04:05Z ('' when Kaggle gives none)
    description: str
    file_name: str
    status: str  # pending | complete | error
    public_score: str  # '' until scored
    private_score: str
    error_description: str = ""
    team_name: str = ""  # the name the leaderboard shows (usually a display name, not the username)


@dataclass(frozen=True)
class Limits:
    num_today: int
    num_total: int
    num_allowed_now: int
    limited_by_total: bool


@dataclass(frozen=True)
class LeaderboardEntry:
    rank: int
    team_name: str
    score: str
    submission_date: str


class UploadUncertain(KaggleError):
    """The upload call failed in a way that may have reached Kaggle: check the list before anything else."""


def _score(value) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    return str(value).strip() if math.isfinite(number) else ""


def _submission(raw) -> KaggleSubmission:
    status = getattr(raw.status, "name", str(raw.status or "PENDING"))
    return KaggleSubmission(
        ref=int(raw.ref or 0), date=iso_utc(raw.date), description=(raw.description or "").strip(),
        file_name=raw.file_name or "", status=status.lower(), public_score=_score(raw.public_score),
        private_score=_score(raw.private_score), error_description=(raw.error_description or "").strip(),
        team_name=(getattr(raw, "team_name", None) or "").strip())


def last_line(output: str) -> str:
    """The last non-blank line the client printed, without URLs (they may hold signed tokens)."""
    lines = [line.strip() for line in output.replace("\r", "\n").splitlines() if line.strip()]
    return re.sub(r"https?://\S+", "<url>", lines[-1])[:200] if lines else ""


# What ``kaggle.api.kaggle_api_extended`` imports, loaded before the bounded sign-in: imports touch
# no network but can take seconds on a busy machine, which must not count against the deadline.
_CLIENT_DEPENDENCIES = ("requests", "urllib3", "tqdm", "bleach", "dateutil.relativedelta", "dotenv", "slugify",
                        "google.protobuf.field_mask_pb2", "packaging.version", "tarfile", "zipfile",
                        "kagglesdk", "kagglesdk.kaggle_client")


def announced_md5(headers) -> str | None:
    """The base64 MD5 that the storage host announces for the bytes it sends, if it announces one.

    Google Cloud Storage sends ``x-goog-hash: crc32c=...,md5=...``. The hash is of the stored
    object, so it is ignored when the response is content-encoded: the bytes written are decoded.
    """
    encodings = (headers.get("Content-Encoding"), headers.get("x-goog-stored-content-encoding"))
    if any(e and e.strip().lower() != "identity" for e in encodings):
        return None
    for part in (headers.get("x-goog-hash") or "").split(","):
        name, _, value = part.strip().partition("=")
        if name.lower() == "md5" and value:
            return value
    return None


def check_md5(path: Path, expected: str) -> None:
    """Delete ``path`` and raise a transient KaggleError unless its MD5 (base64) is ``expected``."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    if base64.b64encode(digest.digest()).decode() != expected:
        path.unlink(missing_ok=True)
        raise KaggleError(f"the download of {path.name} was corrupt (its MD5 differs from the one the storage host "
                          f"announced in x-goog-hash); nothing was kept: rerun to download it again", transient=True)


def _preload_client_dependencies() -> None:
    for name in _CLIENT_DEPENDENCIES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a missing one is imported (or reported) with the client itself
            pass


def _connect():
    kaggle_credentials.ensure_config_dir()  # before the import: see ensure_config_dir
    from kaggle.api.kaggle_api_extended import KaggleApi  # runs kaggle/__init__, which authenticates and prints

    api = KaggleApi()
    # The class chose its folder once, at import: a long-lived process (a notebook) that creates
    # ~/.kaggle/kaggle.json later would be signed in from a stale path. Choose it now, as the class does.
    api.config_dir = str(kaggle_credentials.config_dir())
    api.config = os.path.join(api.config_dir, api.config_file)
    api.authenticate()
    return api


class KaggleSession:
    """Authenticated calls about one competition, each bounded, translated and (when safe) retried."""

    def __init__(self, competition: str, settings: Settings | None = None, log=None):
        self.competition = competition
        self.settings = settings or Settings.from_env()
        self._log = log
        self._client = None

    @property
    def log(self):
        """Where retry notices and progress go (sys.stderr as it is when they are written)."""
        return self._log or sys.stderr

    # -- plumbing ------------------------------------------------------------------------------

    def _attempt(self, action: str, fn: Callable[[], Any], download: bool, not_found: str | None):
        try:
            outcome = run_bounded(fn, self.settings.timeout, name=f"kaggle: {action}")
        except TimedOut:
            raise self._no_answer(action) from None
        if outcome.error is not None:
            raise translate(outcome.error, action, self.competition, download, not_found)
        return outcome

    def _no_answer(self, action: str) -> KaggleError:
        return KaggleError(f"Kaggle did not answer within {self.settings.timeout:g} s while {action}: check your "
                           f"connection or try later (DIGIT_PIPELINE_KAGGLE_TIMEOUT sets this limit)", timed_out=True)

    def _retrying(self, action: str, attempt_once: Callable[[], Any]):
        """``attempt_once()``, retried with backoff while it fails with a transient KaggleError."""
        for attempt in range(self.settings.retries + 1):
            try:
                return attempt_once()
            except KaggleError as error:
                if not error.transient or attempt == self.settings.retries:
                    if attempt:
                        raise KaggleError(f"{error} (gave up after {attempt + 1} attempts)", error.status) from None
                    raise
                delay = self._delay(attempt, error.retry_after)
                reason = f"HTTP {error.status}" if error.status else "incomplete or corrupt download"
                print(f"kaggle: {reason} while {action}; retrying in {delay:.1f} s "
                      f"(attempt {attempt + 2} of {self.settings.retries + 1})", file=self.log, flush=True)
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER)
        return min(self.settings.backoff * 2 ** attempt, MAX_RETRY_AFTER)

    def _call(self, action: str, fn: Callable[[Any], Any], safe: bool = True, download: bool = False,
              not_found: str | None = None):
        """``fn(api)`` bounded; returns (value, captured output)."""
        api = self.client()

        def once():
            outcome = self._attempt(action, lambda: fn(api), download, not_found)
            return outcome.value, outcome.output

        return self._retrying(action, once) if safe else once()

    def client(self):
        """The authenticated ``KaggleApi`` (authenticating once, bounded)."""
        if self._client is None:
            if kaggle_credentials.credentials_source() is None:
                # Checked here: the client takes an empty KAGGLE_KEY for a key and only learns better from a 401.
                raise KaggleError(f"no Kaggle credentials found: {kaggle_credentials.HOW_TO}")
            _preload_client_dependencies()
            self._client = self._retrying(
                "signing in to Kaggle", lambda: self._attempt("signing in to Kaggle", _connect, False, None).value)
        return self._client

    @property
    def username(self) -> str:
        return str(self.client().config_values.get("username") or "")

    # -- calls ---------------------------------------------------------------------------------

    def limits(self) -> Limits:
        raw, _ = self._call("checking your submission quota",
                            lambda api: api.competition_get_submission_limits(self.competition))
        return Limits(int(raw.num_today or 0), int(raw.num_total or 0), int(raw.num_allowed_now or 0),
                      bool(raw.limited_by_total))

    def submissions(self, max_pages: int = MAX_PAGES) -> list[KaggleSubmission]:
        """The user's submissions to the competition, newest first: every page (up to ``max_pages``).

        Through kagglesdk's list call, because ``KaggleApi.competition_submissions`` drops the
        answer's ``next_page_token``. The service caps the page size (20, later 50, whatever is
        asked) and pages by token: the token is followed until it comes back empty (or repeats).
        """
        found: dict[int, KaggleSubmission] = {}
        token, seen = "", set()
        for _ in range(max_pages):
            raw, _ = self._call("listing your submissions",
                                lambda api, token=token: self._list_page(api, token))
            found.update((s.ref, s) for s in map(_submission, raw.submissions or []) if s.ref and s.ref not in found)
            token = raw.next_page_token or ""
            if not token or token in seen:
                break
            seen.add(token)
        return list(found.values())

    def _list_page(self, api, token: str):
        from kagglesdk.competitions.types.competition_api_service import ApiListSubmissionsRequest

        return self._page(api, ApiListSubmissionsRequest(), "list_submissions", token)

    def _page(self, api, request, method: str, token: str):
        """One page of a kagglesdk list call; the page size asked for is only a wish (the service caps it)."""
        with api.build_kaggle_client() as kaggle:
            request.competition_name = self.competition
            request.page_size = PAGE_SIZE
            if token:
                request.page_token = token
            return getattr(kaggle.competitions.competition_api_client, method)(request)

    def submission(self, ref: int) -> KaggleSubmission:
        """One submission by ref, one attempt (the caller polls)."""
        raw, _ = self._call(f"checking submission {ref}", lambda api: api.get_submission(ref), safe=False,
                            not_found=f"no submission with ref {ref} in your account")
        return _submission(raw)

    def submit(self, path: Path, message: str) -> int:
        """Upload ``path`` and return its ref. Never retried.

        Raises KaggleError when Kaggle certainly did not take it (4xx, or the client's silent
        upload failure, ``ref == 0``), and UploadUncertain when it may have (no answer in time,
        a dropped connection, 5xx): then only Kaggle's list of submissions can tell.
        """
        action = f"uploading {path.name}"
        try:
            outcome = self._call(action, lambda api: api.competition_submit(
                str(path), message, self.competition, quiet=True), safe=False)
        except KaggleError as error:
            definite = error.status is not None and 400 <= error.status < 500
            if definite:
                raise KaggleError(f"{error}; nothing was submitted", error.status) from None
            raise UploadUncertain(str(error), error.status, timed_out=error.timed_out) from None
        (result, output) = outcome
        ref = int(getattr(result, "ref", 0) or 0)
        if ref == 0:
            # The client prints the real cause (when it has one) and returns a generic message.
            said = (getattr(result, "message", "") or "no message").strip()
            cause = last_line(output)
            printed = f"; the client printed: {cause!r}" if cause else "; the client printed no cause"
            raise KaggleError(f"Kaggle did not take the upload of {path.name} (the client said: {said!r}{printed}); "
                              f"nothing was submitted: try again later")
        return ref

    def leaderboard(self, stop: Callable[[list[LeaderboardEntry]], bool], max_pages: int = 20
                    ) -> tuple[list[LeaderboardEntry], bool]:
        """Leaderboard entries page by page until ``stop(entries)``; returns (entries, whole board read)."""
        entries: list[LeaderboardEntry] = []
        token, seen = "", set()
        for _ in range(max_pages):
            raw, _ = self._call("reading the leaderboard", lambda api, token=token: self._leaderboard_page(api, token))
            for item in raw.submissions or []:
                entries.append(LeaderboardEntry(len(entries) + 1, (item.team_name or "").strip(), _score(item.score),
                                                iso_utc(item.submission_date)))
            token = raw.next_page_token or ""
            if not token or token in seen:
                return entries, True
            seen.add(token)
            if stop(entries):
                break
        return entries, False

    def _leaderboard_page(self, api, token: str):
        """One page through kagglesdk (``competition_leaderboard_view`` prints the next token, not returns it)."""
        from kagglesdk.competitions.types.competition_api_service import ApiGetLeaderboardRequest

        return self._page(api, ApiGetLeaderboardRequest(), "get_leaderboard", token)

    def download(self, dest_dir: Path) -> Path:
        """Download ``<competition>.zip`` into ``dest_dir``, showing progress; returns its path.

        Like ``KaggleApi.competition_download_files``, but with the client's own retries off
        (``max_retries=0``: its backoff runs to minutes), so that a stalled or cut-off transfer is
        seen here, reported precisely, and retried by the same policy as every other call. When the
        storage host announces the file's MD5 (``x-goog-hash``), the file is checked against it, as
        kagglehub does (docs/kagglehub.md); the client itself checks only the length.
        """
        outfile = Path(dest_dir) / f"{self.competition}.zip"
        api = self.client()
        return self._retrying(f"downloading {outfile.name}", lambda: self._download_once(api, outfile))

    def _download_once(self, api, outfile: Path) -> Path:
        action = f"downloading {outfile.name}"
        state: dict = {}

        def work():
            from kagglesdk.competitions.types.competition_api_service import ApiDownloadDataFilesRequest

            with api.build_kaggle_client() as kaggle:
                request = ApiDownloadDataFilesRequest()
                request.competition_name = self.competition
                response = kaggle.competitions.competition_api_client.download_data_files(request)
                state["total"] = int(response.headers.get("Content-Length") or 0) or None
                expected_md5 = announced_md5(response.headers)
                api.download_file(response, str(outfile), kaggle.http_client(), quiet=True, resume=False,
                                  chunk_size=DOWNLOAD_CHUNK, max_retries=0)
            if expected_md5:
                check_md5(outfile, expected_md5)
            return outfile

        outcome = start(work, name=f"kaggle: {action}")
        self._watch(outcome, outfile, state, action)
        if outcome.error is not None:
            raise translate(outcome.error, action, self.competition, download=True)
        return outfile

    def _watch(self, outcome, outfile: Path, state: dict, action: str) -> None:
        """Show the download's progress; give up when no byte arrives for ``timeout`` s, or after the limit."""
        timeout, tick = self.settings.timeout, min(0.25, self.settings.timeout / 5)
        began = last_change = time.monotonic()
        size, shown, progress = 0, 0, None
        try:
            while not outcome.done.wait(tick):
                now = time.monotonic()
                current = outfile.stat().st_size if outfile.exists() else 0
                if current != size:
                    size, last_change = current, now
                if progress is None and (size or state.get("total")):
                    progress = Progress(state.get("total"), f"download {outfile.name}", unit="B", stream=self.log)
                if progress is not None and size > shown:
                    progress.update(size - shown)
                    shown = size
                if now - last_change > timeout:
                    raise self._no_answer(action) if not size else KaggleError(
                        f"the download of {outfile.name} stalled: no progress for {timeout:g} s after {size} bytes; "
                        f"check your connection and rerun (DIGIT_PIPELINE_KAGGLE_TIMEOUT sets this limit)",
                        timed_out=True)
                if now - began > self.settings.download_limit:
                    raise KaggleError(f"the download of {outfile.name} took longer than "
                                      f"{self.settings.download_limit:g} s; check your connection and rerun "
                                      f"(DIGIT_PIPELINE_KAGGLE_DOWNLOAD_LIMIT_SECONDS sets this limit)")
        finally:
            finished = outcome.done.is_set() and outcome.error is None and outfile.exists()
            if progress is None and finished:  # faster than one tick: still say what came
                progress = Progress(state.get("total"), f"download {outfile.name}", unit="B", stream=self.log)
            if progress is not None:
                if finished:
                    progress.update(max(0, outfile.stat().st_size - shown))
                progress.close()


def download_competition(competition: str, dest_dir: Path) -> Path:
    """Download ``<competition>.zip`` into ``dest_dir`` and return its path."""
    return KaggleSession(competition).download(dest_dir)
