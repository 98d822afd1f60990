"""A small fake of Kaggle's API, for driving the real ``kaggle`` client in tests.

It speaks the request shapes of ``shared/kaggle-api.md`` (kaggle 2.2.5): every API call is a
``POST http://localhost/api/v1/<service>/<Method>`` with a JSON body, which the client sends to
this server as an HTTP proxy (``KAGGLE_API_ENVIRONMENT=LOCALHOST`` and ``HTTP_PROXY``; see
``FakeKaggle.env``). It serves a competition zip through a redirect, takes uploads (start,
``PUT``, create), scores them against an answer key, lists them, reports the daily quota and
a leaderboard, and checks credentials (HTTP Basic key, or a Bearer token it introspects).

Faults are injected per method with ``fault(method, ...)``: an HTTP status (JSON error body,
optional headers such as Retry-After), a hang (accept, never answer), or, for
``CreateSubmission``, ``after=True`` (the submission is made, then the answer fails). The
download can be cut short, stall half-way, or arrive gzip-encoded so its length does not
match the announced Content-Length.

It is as strict as the real service where the kaggle client's code and its public issues show
the service to be unkind (issue 10), each switch named after the behaviour:

1. ``fresh_404_gets``: GetSubmission answers 404 for a new submission this many times
   (eventual consistency; the client's own poller takes that 404 for "pending").
2. ``list_lag``: a new submission is missing from ListSubmissions for this many list calls.
3. ListSubmissions gives at most ``LIST_PAGE_ROWS`` (20) rows whatever ``pageSize`` asks, pages
   only by ``pageToken`` and ignores ``page``; the leaderboard, at most ``LEADERBOARD_PAGE_ROWS``.
4. The leaderboard shows a team by its display name (``team_name``, not the username), with the
   date of the team's latest submission (not of its best), only submissions of the last
   ``BOARD_DAYS`` days, and (``decoy_team``) another team with the user's best score.
   ListSubmissions gives each submission's ``teamName``.
5. HTTP Basic with an access token (``KGAT_...``) as the key is 401, as for any wrong key.
6. ``upload_mode = "redirect"``: the storage host answers every upload PUT with a 307 to a
   signed URL (a redirect loop): the client gives up, prints why ("Exceeded 30 redirects.")
   and returns ref 0 with its generic "Could not submit to competition".
7. ``storage_status``: the storage host (the redirect's target) refuses the download
   with its own XML error body, not Kaggle's JSON.

8. ``echo_secrets``: a careless server (or a debugging proxy) that repeats the credential each request
   came with (the key or token, and the Authorization header as sent) in every error body, in an
   ``X-Echo-Credential`` header, and in a failed submission's ``errorDescription``; ``echo_version``
   puts it in the ``X-Kaggle-APIVersion`` header of every answer, which the client parses as a
   version (and so raises with it). Every credential a request came with is kept in ``credentials``.

9. The service checks the credentials first: a request it refuses is answered 401, whatever fault
   was injected for the method, except the infrastructure's in front of it (a hang, 429, 5xx).

Like Google Cloud Storage, the storage host announces each download's hashes in an
``x-goog-hash: crc32c=...,md5=...`` header (``storage_md5``; whether Kaggle's storage host sends
it is not known: docs/kaggle-unverified.md); ``bad_md5`` downloads announce a wrong MD5.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

API_PREFIX = "/api/v1/"
RULES_MESSAGE = "You must accept this competition's rules before you'll be able to download files."
FAKE_KEY = "fake-key-5ecr3t-d0-not-print-9f8e7d6c"
FAKE_TOKEN = "KGAT_fake-token-5ecr3t-a1b2c3d4e5f6"
LIST_PAGE_ROWS = 20
LEADERBOARD_PAGE_ROWS = 10
BOARD_DAYS = 60
SIGNED = "X-Goog-Signature=5ecr3t0f5t0rage"
STORAGE_DENIED = ("<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code><Message>Access denied."
                  "</Message><Details>Request has expired</Details></Error>")


@dataclass
class Fault:
    status: int | None = None
    message: str = ""
    headers: dict = field(default_factory=dict)
    hang: bool = False
    after: bool = False  # CreateSubmission: make the submission, then fail the answer
    times: int | None = 1  # None: every request
    skip: int = 0  # let this many matching requests through first


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


class FakeKaggle:
    def __init__(self, zip_bytes: bytes, answer_key: bytes, competition: str = "digit-recognizer",
                 username: str = "tester", key: str = FAKE_KEY, token: str | None = FAKE_TOKEN,
                 team_name: str = "Test User"):
        self.zip_bytes, self.competition = zip_bytes, competition
        answers = pd.read_csv(io.BytesIO(answer_key))
        self.answers = answers["Label"].to_numpy()
        self.username, self.key, self.token, self.team_name = username, key, token, team_name
        self.daily_quota = 5
        self.pending_polls = 0  # GetSubmission answers PENDING this many times before a new one is scored
        self.reveal_private = False
        self.user_on_leaderboard = True
        self.fresh_404_gets = 0  # 1.
        self.list_lag = 0  # 2.
        self.decoy_team = True  # 4.
        self.upload_mode = "ok"  # 6. ok | redirect
        self.storage_status: int | None = None  # 7.
        self.echo_secrets = False  # 8.
        self.echo_version = False  # 8.
        self.scoring_error = ""  # score every new submission as an error with this description
        self.credentials: set[str] = set()  # 8. every key or token a request came with
        self.download_mode = "ok"  # ok | short | gzip | stall
        self.storage_md5 = True  # send x-goog-hash with the download
        self.bad_md5 = 0  # this many downloads announce a wrong MD5
        self.submissions: dict[int, dict] = {}
        self.blobs: dict[str, bytes] = {}
        self.upload_names: dict[str, str] = {}
        self.faults: dict[str, list[Fault]] = {}
        self.calls: list[tuple[str, str]] = []  # (method, auth scheme) of every request
        self.other_teams = [(f"Team {i:02d}", f"{1.0 - i * 0.01:.5f}") for i in range(25)]
        self._next_ref = 41000001
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None

    # -- control -------------------------------------------------------------------------------

    def start(self) -> "FakeKaggle":
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        self._server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def env(self) -> dict[str, str]:
        """Environment variables that point the real client at this server."""
        return {"KAGGLE_API_ENVIRONMENT": "LOCALHOST", "HTTP_PROXY": self.url, "http_proxy": self.url}

    def fault(self, method: str, **kwargs) -> None:
        self.faults.setdefault(method, []).append(Fault(**kwargs))

    def add_submission(self, description: str, file_name: str, data: bytes, when: datetime | None = None) -> int:
        """A submission made elsewhere (the website, another machine), long enough ago to be listed."""
        with self._lock:
            ref = self._create(description, file_name, data, when)
            self.submissions[ref].update(unlisted=0, unseen=0)
            return ref

    def called(self, method: str) -> int:
        return sum(1 for name, _ in self.calls if name == method)

    # -- behaviour -------------------------------------------------------------------------------

    def take_fault(self, method: str, after: bool = False, signed_in: bool = True) -> Fault | None:
        """The next fault for ``method``; for a request whose credentials are refused, only the faults of the
        infrastructure in front of the service (9.)."""
        with self._lock:
            for fault in self.faults.get(method, []):
                in_front = fault.hang or fault.status is None or fault.status >= 500 or fault.status == 429
                if not signed_in and not in_front:
                    continue
                if fault.after == after and (fault.times is None or fault.times > 0):
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    def _create(self, description: str, file_name: str, data: bytes, when: datetime | None = None) -> int:
        ref = self._next_ref
        self._next_ref += 1
        public, private, error = self._score(data)
        self.submissions[ref] = {
            "ref": ref, "date": when or datetime.now(timezone.utc), "description": description,
            "fileName": file_name, "public": public, "private": private, "error": error,
            "polls_left": self.pending_polls, "bytes": data, "unseen": self.fresh_404_gets,
            "unlisted": self.list_lag}
        return ref

    def _score(self, data: bytes) -> tuple[str | None, str | None, str | None]:
        if self.scoring_error:
            return None, None, self.scoring_error
        try:
            frame = pd.read_csv(io.BytesIO(data))
            labels = frame["Label"].to_numpy()
            ids = frame["ImageId"].to_numpy()
        except Exception as exc:  # noqa: BLE001 - any unreadable file is a scoring error
            return None, None, f"could not parse the submission: {exc}"
        if len(labels) != len(self.answers) or not np.array_equal(ids, np.arange(1, len(self.answers) + 1)):
            return None, None, f"expected {len(self.answers)} rows with ImageId 1..{len(self.answers)}"
        correct = labels == self.answers
        half = len(correct) // 2
        return f"{correct.mean():.5f}", f"{correct[half:].mean():.5f}", None

    def submission_json(self, sub: dict, echo: str = "") -> dict:
        pending = sub["polls_left"] > 0
        status = "PENDING" if pending else ("ERROR" if sub["error"] else "COMPLETE")
        out = {"ref": sub["ref"], "date": _iso(sub["date"]), "description": sub["description"],
               "fileName": sub["fileName"], "status": status, "totalBytes": len(sub["bytes"]),
               "teamName": self.team_name, "submittedBy": self.username}
        if status == "COMPLETE":
            out["publicScore"] = sub["public"]
            if self.reveal_private:
                out["privateScore"] = sub["private"]
        if status == "ERROR":
            out["errorDescription"] = sub["error"] + echo
        return out

    def today_count(self) -> int:
        today = datetime.now(timezone.utc).date()
        return sum(1 for s in self.submissions.values() if s["date"].date() == today)

    def leaderboard(self) -> list[dict]:
        long_ago = datetime(2020, 1, 1, tzinfo=timezone.utc)
        rows = [{"teamName": name, "score": score, "date": long_ago} for name, score in self.other_teams]
        recent = datetime.now(timezone.utc) - timedelta(days=BOARD_DAYS)
        scored = [s for s in self.submissions.values() if s["public"] and s["polls_left"] <= 0 and s["date"] >= recent]
        if scored and self.user_on_leaderboard:
            best = max(scored, key=lambda s: (float(s["public"]), -s["date"].timestamp()))
            latest = max(s["date"] for s in scored)  # the board's date is the team's last submission
            rows.append({"teamName": self.team_name, "score": best["public"], "date": latest})
            if self.decoy_team:  # a team named like nobody, with the user's best score, just ahead of the user
                rows.append({"teamName": "Doppelganger", "score": best["public"], "date": latest - timedelta(seconds=1)})
        rows.sort(key=lambda r: (-float(r["score"]), r["date"]))
        return [{"teamId": 1000 + i, "teamName": r["teamName"], "score": r["score"],
                 "submissionDate": _iso(r["date"])} for i, r in enumerate(rows)]


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def _page(items: list, body: dict, default_size: int, max_size: int) -> tuple[list, str]:
    """A page as the real service pages: at most ``max_size`` rows, by ``pageToken`` only (``page`` is ignored)."""
    size = min(int(body.get("pageSize") or default_size), max_size)
    start = int(body["pageToken"][len("after-"):]) if body.get("pageToken") else 0
    chunk = items[start:start + size]
    return chunk, f"after-{start + size}" if start + size < len(items) else ""


class _Handler(BaseHTTPRequestHandler):
    fake: FakeKaggle

    def log_message(self, *args):  # keep test output clean
        pass

    # -- plumbing ------------------------------------------------------------------------------

    def _json(self, status: int, payload: dict, headers: dict | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in {**self._echo_headers(), **(headers or {})}.items():
            self.send_header(name, str(value))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, message: str, headers: dict | None = None) -> None:
        self._json(status, {"code": status, "message": message + self._echo()}, headers)

    # -- 8. a server that repeats what it was sent ---------------------------------------------------

    def _credential(self) -> str:
        """The key or token this request came with ('' when none): Basic's key, Bearer's token, or the
        token in an IntrospectToken body."""
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        if scheme == "Basic":
            try:
                return base64.b64decode(value).decode().partition(":")[2]
            except ValueError:
                return value
        if scheme == "Bearer":
            return value
        return getattr(self, "_body_token", "")

    def _echo(self) -> str:
        credential, sent = self._credential(), self.headers.get("Authorization", "")
        if not self.fake.echo_secrets or not (credential or sent):
            return ""
        return f" (this request came with {credential!r}; Authorization: {sent})"

    def _echo_headers(self) -> dict:
        credential, headers = self._credential(), {}
        if credential and self.fake.echo_secrets:
            headers["X-Echo-Credential"] = f"{credential}; {self.headers.get('Authorization', '')}"
        if credential and self.fake.echo_version:
            headers["X-Kaggle-APIVersion"] = credential
        return headers

    def _apply(self, fault: Fault) -> None:
        if fault.hang:
            self.fake._stopping.wait()
            self.close_connection = True
            return
        self._error(fault.status, fault.message or f"injected {fault.status}", fault.headers)

    def _auth_scheme(self) -> str:
        header = self.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme == "Basic":
            try:
                user, _, key = base64.b64decode(value).decode().partition(":")
            except ValueError:
                return "bad"
            if key.startswith("KGAT_"):  # 5. an access token is never a legacy key
                return "bad"
            return "basic" if (user, key) == (self.fake.username, self.fake.key) else "bad"
        if scheme == "Bearer":
            return "bearer" if self.fake.token and value == self.fake.token else "bad"
        return "none"

    # -- requests ------------------------------------------------------------------------------

    def do_POST(self):
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if not path.startswith(API_PREFIX):
            return self._error(404, f"no such path {path}")
        method = path.rsplit("/", 1)[-1]
        scheme = self._auth_scheme()
        self._body_token = str(body.get("token", "")) if method == "IntrospectToken" else ""
        if self._credential():
            self.fake.credentials.add(self._credential())
        self.fake.calls.append((method, scheme))
        signed_in = scheme in ("basic", "bearer") or method == "IntrospectToken"
        fault = self.fake.take_fault(method, signed_in=signed_in)
        if fault is not None:
            return self._apply(fault)
        if method == "IntrospectToken":
            active = bool(self.fake.token) and body.get("token") == self.fake.token
            return self._json(200, {"active": True, "username": self.fake.username} if active else {"active": False})
        if not signed_in:  # 9. refused before anything else the service would say
            return self._error(401, "Unauthenticated")
        if body.get("competitionName", self.fake.competition) != self.fake.competition:
            return self._error(404, "Competition not found")
        handler = getattr(self, f"api_{method}", None)
        if handler is None:
            return self._error(404, f"fake Kaggle does not know {method}")
        return handler(body)

    def api_DownloadDataFiles(self, body):
        self.send_response(302)
        self.send_header("Location", f"http://localhost/download/{self.fake.competition}.zip?sig=abc123")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def api_GetSubmissionLimits(self, body):
        used = self.fake.today_count()
        self._json(200, {"numToday": used, "numTotal": len(self.fake.submissions),
                         "numAllowedNow": max(0, self.fake.daily_quota - used)})

    def api_StartSubmissionUpload(self, body):
        token = f"blob-{len(self.fake.blobs) + 1}"
        self.fake.blobs[token] = b""
        self.fake.upload_names[token] = body.get("fileName", "")
        self._json(200, {"token": token, "createUrl": f"http://localhost/upload/{token}"})

    def api_CreateSubmission(self, body):
        data = self.fake.blobs.get(body.get("blobFileTokens", ""))
        if data is None:
            return self._error(400, "unknown blob token")
        with self.fake._lock:
            ref = self.fake._create(body.get("submissionDescription", ""),
                                    self.fake.upload_names.get(body.get("blobFileTokens"), ""), data)
        fault = self.fake.take_fault("CreateSubmission", after=True)
        if fault is not None:
            return self._apply(fault)
        self._json(200, {"message": "Successfully submitted to Digit Recognizer", "ref": ref})

    def api_ListSubmissions(self, body):
        with self.fake._lock:
            items = []
            for sub in sorted(self.fake.submissions.values(), key=lambda s: (s["date"], s["ref"]), reverse=True):
                if sub["unlisted"] > 0:  # 2. not listed yet
                    sub["unlisted"] -= 1
                else:
                    items.append(sub)
        chunk, token = _page(items, body, LIST_PAGE_ROWS, LIST_PAGE_ROWS)
        self._json(200, {"submissions": [self.fake.submission_json(s, self._echo()) for s in chunk],
                         "nextPageToken": token})

    def api_GetSubmission(self, body):
        sub = self.fake.submissions.get(int(body.get("ref") or 0))
        if sub is None:
            return self._error(404, "Submission not found")
        if sub["unseen"] > 0:  # 1. a fresh ref, not readable yet
            sub["unseen"] -= 1
            return self._error(404, "Submission not found")
        answer = self.fake.submission_json(sub, self._echo())
        sub["polls_left"] -= 1
        self._json(200, answer)

    def api_GetLeaderboard(self, body):
        chunk, token = _page(self.fake.leaderboard(), body, 20, LEADERBOARD_PAGE_ROWS)
        self._json(200, {"submissions": chunk, "nextPageToken": token})

    def do_PUT(self):
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length)
        self.fake.calls.append(("PutUpload", "none"))
        fault = self.fake.take_fault("PutUpload")
        if fault is not None:
            return self._apply(fault)
        token = path.rsplit("/", 1)[-1]
        if token not in self.fake.blobs:
            return self._error(404, "no such upload")
        if self.fake.upload_mode == "redirect":  # 6. a loop: the client gives up and prints why
            self.send_response(307)
            self.send_header("Location", f"http://localhost/upload/{token}?{SIGNED}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.fake.blobs[token] = data
        self._json(200, {})

    def do_GET(self):
        path = urlsplit(self.path).path
        self.fake.calls.append(("GetDownload", "none"))
        fault = self.fake.take_fault("GetDownload")
        if fault is not None:
            return self._apply(fault)
        if path != f"/download/{self.fake.competition}.zip":
            return self._error(404, "no such file")
        if self.fake.storage_status is not None:  # 7. the storage host's own error, in its own format
            body = STORAGE_DENIED.encode()
            self.send_response(self.fake.storage_status)
            self.send_header("Content-Type", "application/xml; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        data, mode = self.fake.zip_bytes, self.fake.download_mode
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        if mode == "gzip":
            data = gzip.compress(data)
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(data)))
        if self.fake.storage_md5:
            md5 = hashlib.md5(data, usedforsecurity=False).digest()
            if self.fake.bad_md5 > 0:
                self.fake.bad_md5 -= 1
                md5 = bytes(16)
            self.send_header("x-goog-hash", f"crc32c=AAAAAA==,md5={base64.b64encode(md5).decode()}")
        self.end_headers()
        if mode in ("short", "stall"):
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            if mode == "stall":
                self.fake._stopping.wait()
            self.close_connection = True
            return
        self.wfile.write(data)
