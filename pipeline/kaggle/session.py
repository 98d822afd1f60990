"""Calls about one competition, through the real ``kaggle`` client: each bounded, translated and (when safe) retried.

No call of the client has a timeout, and importing it authenticates and prints. So every call
here, the sign-in included, runs in a worker thread with a deadline
(``pipeline.kaggle.bounded_call``), its output kept from the user; every failure becomes one
``KaggleError`` line (``pipeline.kaggle.errors``). Calls that only read (limits, lists, the
leaderboard, the download) are retried with backoff on 429, 5xx and cut-off downloads; the
upload never is (see ``KaggleSession.submit``). The limits are ``pipeline.kaggle.settings``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Callable

from pipeline.kaggle import client as kaggle_client
from pipeline.kaggle import credentials as kaggle_credentials
from pipeline.kaggle.bounded_call import TimedOut, run_bounded
from pipeline.kaggle.download import download_once
from pipeline.kaggle.errors import KaggleError, UploadUncertain, no_answer, translate
from pipeline.kaggle.records import (KaggleSubmission, LeaderboardEntry, Limits, leaderboard_entry_of, limits_of,
                                     submission_of)
from pipeline.kaggle.settings import Settings

MAX_RETRY_AFTER = 60.0
PAGE_SIZE = 100  # asked for; the service gives fewer (20, later 50) and the token says whether more follow
MAX_PAGES = 500  # a bound on any listing: 10,000 submissions at 20 a page


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
            raise no_answer(action, self.settings.timeout) from None
        if outcome.error is not None:
            raise translate(outcome.error, action, self.competition, download, not_found)
        return outcome

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
            kaggle_client.preload_dependencies()
            self._client = self._retrying(
                "signing in to Kaggle",
                lambda: self._attempt("signing in to Kaggle", kaggle_client.connect, False, None).value)
        return self._client

    @property
    def username(self) -> str:
        return str(self.client().config_values.get("username") or "")

    # -- calls ---------------------------------------------------------------------------------

    def limits(self) -> Limits:
        raw, _ = self._call("checking your submission quota",
                            lambda api: api.competition_get_submission_limits(self.competition))
        return limits_of(raw)

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
            found.update((s.ref, s) for s in map(submission_of, raw.submissions or [])
                         if s.ref and s.ref not in found)
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
        return submission_of(raw)

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
            cause = kaggle_client.last_line(output)
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
                entries.append(leaderboard_entry_of(item, rank=len(entries) + 1))
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
        """Download ``<competition>.zip`` into ``dest_dir``, showing progress and retrying as any read;
        returns its path (see ``pipeline.kaggle.download``)."""
        outfile = Path(dest_dir) / f"{self.competition}.zip"
        api = self.client()
        return self._retrying(f"downloading {outfile.name}",
                              lambda: download_once(api, self.competition, outfile, self.settings, self.log))


def download_competition(competition: str, dest_dir: Path) -> Path:
    """Download ``<competition>.zip`` into ``dest_dir`` and return its path."""
    return KaggleSession(competition).download(dest_dir)
