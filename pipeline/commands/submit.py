"""Command ``submit``: upload a submission to Kaggle, safely with the daily quota, and record it.

Order matters: everything that can be checked locally is checked before any network call; the
quota is read before uploading; the exact bytes are archived before they leave; the ledger
gets a row as soon as Kaggle gives a ref; the upload is never retried, and when it fails in a
way that may have reached Kaggle, Kaggle's list of submissions decides what happened.
"""

from __future__ import annotations

import hashlib
import math
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from pipeline.submissions import ledger
from pipeline.core import paths
from pipeline.submissions import provenance
from pipeline.submissions import archive as submission_archive
from pipeline.core.arrays_file import load_arrays
from pipeline.core.config import load_params
from pipeline.core.errors import PipelineError
from pipeline.kaggle import credentials as kaggle_credentials
from pipeline.kaggle.errors import KaggleError, UploadUncertain, rules_url
from pipeline.kaggle.records import KaggleSubmission
from pipeline.kaggle.session import KaggleSession
from pipeline.core.progress import Progress
from pipeline.core.timestamps import iso_utc
from pipeline.data.sources import read_source
from pipeline.submissions.format import parse_submission
from pipeline.submissions.scores_table import best_index, ledger_row

SCORES_HINT = "python -m pipeline scores"


def add_arguments(parser) -> None:
    parser.add_argument("-m", "--message", default="",
                        help="the submission's description on Kaggle (default: short commit, key params, "
                             "validation accuracy)")
    # The file as `score FILE` takes it; --file too, as before.
    parser.add_argument("file", nargs="?", default=None, metavar="FILE",
                        help=f"the file to upload (default {paths.SUBMISSION}; --file FILE also works)")
    parser.add_argument("--file", dest="file_option", default=None, metavar="FILE", help="the same as FILE")
    parser.add_argument("--wait", type=float, default=600.0, metavar="SECONDS",
                        help="how long to wait for Kaggle's score (default 600; 0: do not wait). The submission "
                             "is recorded either way; `scores` fills in a score that comes later")


def test_rows() -> int:
    """The number of rows of the competition's test.csv, as the split stage read them (data/prepared/test.npz).

    The competition zip has one reader, ``pipeline.data.competition_zip``, which split went through.
    """
    return len(load_arrays(paths.TEST_ARRAYS, required=("X",))["X"])


def chosen_file(args) -> Path:
    """FILE or --file FILE (the same file if both are given), else the pipeline's submission."""
    if args.file and args.file_option and Path(args.file) != Path(args.file_option):
        raise PipelineError(f"two files given ({args.file} and --file {args.file_option}): submit one at a time")
    return Path(args.file or args.file_option or paths.SUBMISSION)


def check_locally(path: Path, competition: str) -> tuple[bytes, int]:
    """The file's bytes and rows, if it is a valid submission for the fetched competition data.

    The file's own faults (no such file, a bad row, a row missing) come first: they are what the
    user has to fix whatever the data, and a file refused for the data it was predicted for would
    still be refused for them afterwards.
    """
    rows = test_rows()
    if not path.is_file():
        raise PipelineError(f"{path}: no such file" + ("; run dvc repro" if path == paths.SUBMISSION else ""))
    data = path.read_bytes()
    parse_submission(data, str(path), expected_rows=rows)
    source = read_source(paths.RAW_SOURCE)
    if source.get("kind") == "sample":
        raise PipelineError(
            f"{path} was predicted for the embedded MNIST sample ({paths.RAW_SOURCE}: kind sample), not for the "
            f"competition's test.csv, so Kaggle would score it as nothing. Score it locally instead: python -m "
            f"pipeline score {path} --solution {paths.RAW_SOLUTION}; to submit, set Kaggle credentials and run "
            f"dvc repro -f fetch && dvc repro")
    if source.get("kind") == "kaggle" and source.get("origin") != competition:
        raise PipelineError(f"{paths.RAW_SOURCE}: the data was fetched for competition {source.get('origin')!r}, but "
                            f"params.yaml fetch.competition is {competition!r}; run dvc repro")
    return data, rows


def _find_uploaded(session: KaggleSession, before: set[int], today_before: int, name: str,
                   error: UploadUncertain, created: bool, sha256: str) -> int:
    """After an upload call that failed in a way that may have reached Kaggle: did it? Its ref, or an error.

    Kaggle's list lags behind an upload as GetSubmission does, so one read that does not show it
    proves nothing: the list is read again after a delay, and today's count in the submission
    limits is compared with the count read before the upload. Only when both say that nothing
    arrived is the user told so (a false "no quota used" would make them spend a second slot).
    """
    print(f"kaggle: the upload call failed ({error}); checking Kaggle's list of your submissions", file=sys.stderr)
    checking_failed = (f"{error}; the upload may have reached Kaggle and checking failed too ({{check}}): run "
                       f"{SCORES_HINT} before submitting again (it adds the submission to the ledger if it "
                       f"went through)")
    today_after = None
    for attempt in range(2):
        if attempt:
            time.sleep(session.settings.poll)
        try:
            found = [s for s in session.submissions() if s.ref not in before and s.file_name == name]
            if attempt:
                today_after = session.limits().num_today
        except KaggleError as check:
            raise PipelineError(checking_failed.format(check=check)) from None
        if found:
            ref = max(s.ref for s in found)
            print(f"kaggle: it went through after all: Kaggle lists it as ref {ref}", file=sys.stderr)
            return ref
        if not attempt:
            print(f"kaggle: not listed yet; reading the list again in {session.settings.poll:g} s", file=sys.stderr)
    if today_after != today_before:
        noun = "submission" if today_after == 1 else "submissions"
        raise PipelineError(f"{error}; Kaggle's list of your submissions does not show it yet, but Kaggle counts "
                            f"{today_after} {noun} today against {today_before} before the upload, so it may "
                            f"still arrive: run {SCORES_HINT} in a few minutes (it records it) before submitting "
                            f"again")
    if error.timed_out:
        raise PipelineError(f"{error}; Kaggle's list of your submissions does not show it yet, but the upload may "
                            f"still arrive: run {SCORES_HINT} in a few minutes before submitting again")
    if created:
        submission_archive.discard(sha256)
    raise PipelineError(f"{error}; Kaggle's list of your submissions does not show it, so nothing was submitted "
                        f"and no quota used: rerun submit when Kaggle answers again")


def _wait_for_score(session: KaggleSession, ref: int, wait: float) -> tuple[KaggleSubmission | None, str]:
    """Poll until the submission is scored or errors, or ``wait`` seconds pass; (last answer, last problem).

    Progress: seconds waited and the last status (live on a terminal, a line every 10 s in logs).
    """
    poll = session.settings.poll
    start = time.monotonic()
    latest, problem, shown = None, "", 0
    with Progress(None, f"waiting up to {wait:g} s for Kaggle to score ref {ref}", unit="s") as bar:
        while True:
            try:
                latest = session.submission(ref)
                problem = ""
            except KaggleError as error:
                if error.status == 404:  # a fresh ref is not readable at once (eventual consistency):
                    problem = (f"Kaggle does not show ref {ref} yet (404 Not Found; a new submission can take "
                               f"a while to appear)")  # the client's own poller takes it for pending too
                elif error.status is not None and 400 <= error.status < 500 and error.status != 429:
                    raise
                else:
                    problem = str(error)  # no answer, 429, 5xx, no connection: the next poll may do better
            status = latest.status if latest is not None else "no answer"
            elapsed = time.monotonic() - start
            seconds = int(elapsed)
            if seconds > shown or status != "pending":
                bar.update(seconds - shown, status=status)
                shown = seconds
            if status not in ("pending", "no answer") or elapsed >= wait:
                break
            time.sleep(min(poll, wait - elapsed))
        bar.update(0, status=status)  # the last line shows how it ended
    return latest, problem


def _check_quota(session: KaggleSession, competition: str) -> int:
    """Refuse when no submission is left now; else today's count so far (to tell later if one arrived)."""
    limits = session.limits()
    if limits.num_allowed_now > 0:
        print(f"quota: {limits.num_allowed_now} submission(s) left now ({limits.num_today} made today); "
              f"this uses one")
        return limits.num_today
    if limits.limited_by_total:
        why = "the competition's limit on the total number of submissions is reached"
    elif limits.num_today == 0 and limits.num_total == 0:  # what Kaggle answers to someone not on a team yet
        why = (f"Kaggle allows you none and you have made none: join the competition by accepting its rules at "
               f"{rules_url(competition)}, then rerun")
    else:
        why = f"you have used today's submissions ({limits.num_today} made today); the quota resets at 00:00 UTC"
    raise PipelineError(f"no Kaggle submissions left for {competition} now: {why}; nothing was uploaded")


def _record(row: ledger.Submission, from_kaggle: bool) -> None:
    """Write the submission's row; if that fails, say that it is on Kaggle all the same."""
    try:
        ledger.upsert(paths.SUBMISSION_HISTORY, [row], from_kaggle=from_kaggle)
    except (PipelineError, OSError) as exc:
        reason = f"{exc.filename}: {exc.strerror}" if isinstance(exc, OSError) and exc.filename else str(exc)
        raise PipelineError(f"submission ref {row.ref} is on Kaggle, but {paths.SUBMISSION_HISTORY} could not be "
                            f"updated ({reason}); fix that, then run {SCORES_HINT} to record it") from None


def run(args) -> int:
    if not (math.isfinite(args.wait) and args.wait >= 0):
        raise PipelineError(f"--wait must be a number of seconds >= 0, got {args.wait:g}")
    competition = load_params(paths.PARAMS).fetch.competition
    path = chosen_file(args)
    data, rows = check_locally(path, competition)
    sha256 = hashlib.sha256(data).hexdigest()
    origin = provenance.of_file(path, data)
    archived = submission_archive.load(sha256)
    if archived and not origin.params_digest:  # e.g. --file submissions/archive/<sha256>.csv: sent before
        origin = archived[1]
    message = " ".join((args.message or provenance.default_message(origin, path, sha256)).split())
    print(f"submit: {path} ({rows} rows, sha256 {sha256[:12]}) to {competition} as {message!r}")

    ledger.read(paths.SUBMISSION_HISTORY)  # a damaged ledger is refused before anything is uploaded

    session = KaggleSession(competition)
    today_before = _check_quota(session, competition)
    before = {s.ref for s in session.submissions()}

    created = submission_archive.save(data, sha256, origin)
    name = submission_archive.upload_name(path, sha256)
    with tempfile.TemporaryDirectory(prefix="digit-submit-") as tmp:
        upload = Path(tmp) / name
        upload.write_bytes(data)
        try:
            ref = session.submit(upload, message)
        except UploadUncertain as error:
            ref = _find_uploaded(session, before, today_before, name, error, created, sha256)
        except KaggleError:
            if created:
                submission_archive.discard(sha256)
            raise
        except KeyboardInterrupt:
            print(f"interrupted during the upload: it may have reached Kaggle; run {SCORES_HINT} before "
                  f"submitting again", file=sys.stderr)
            raise

    pending = KaggleSubmission(ref, iso_utc(datetime.now(timezone.utc)), message, name, "pending", "", "")
    _record(ledger_row(pending, sha256, origin), from_kaggle=False)
    print(f"submitted: ref {ref}, recorded in {paths.SUBMISSION_HISTORY}; the file is archived as "
          f"{submission_archive.archived_file(sha256)}")
    if args.wait == 0:
        print(f"not waiting for the score (--wait 0): run {SCORES_HINT} later")
        return 0
    try:
        latest, problem = _wait_for_score(session, ref, args.wait)
    except KeyboardInterrupt:
        print(f"interrupted while waiting; ref {ref} is recorded: run {SCORES_HINT} later for its score",
              file=sys.stderr)
        raise
    except KaggleError as error:
        raise PipelineError(f"{error}; ref {ref} is recorded as pending: run {SCORES_HINT} later for its score") from None
    if latest is not None:
        _record(ledger_row(latest, sha256, origin), from_kaggle=True)
    if latest is None or latest.status == "pending":
        why = f" (last problem: {problem})" if problem else ""
        print(f"notice: Kaggle has not scored ref {ref} within {args.wait:g} s{why}; it is recorded as pending: "
              f"run {SCORES_HINT} later to fill in its score", file=sys.stderr)
        return 0
    if latest.status == "error":
        reason = kaggle_credentials.redact(latest.error_description) or "no reason given"  # the server's words
        raise PipelineError(f"Kaggle could not score submission ref {ref}: {reason}; recorded with status error")
    rows = ledger.read(paths.SUBMISSION_HISTORY)
    index = best_index(rows)  # as the scores table marks it
    best = rows[index] if index is not None else None
    private = f", private score {latest.private_score}" if latest.private_score else ""
    print(f"public score {latest.public_score}{private} (ref {ref})")
    if best is not None and best.ref != str(ref):
        print(f"your best public score so far: {best.public_score:.5f} (ref {best.ref}, {best.submitted_at[:10]})")
    elif best is not None:
        print("this is your best public score so far")
    return 0
