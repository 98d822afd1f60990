"""``python -m pipeline scores``: the ledger follows Kaggle; table, leaderboard position and plot."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest

from kaggle_support import ANSWERS, kaggle_env, ledger_rows, one_line_error, pipeline, submission_text

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def env(tmp_path, fake_kaggle):
    return kaggle_env(fake_kaggle, tmp_path / "home")


def labels(correct: int) -> bytes:
    return submission_text([a if i < correct else (a + 1) % 10 for i, a in enumerate(ANSWERS)]).encode()


def test_a_submission_made_elsewhere_joins_the_ledger_with_its_score(project, env, fake_kaggle):
    when = datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
    fake_kaggle.add_submission("from the website", "my-notebook.csv", labels(19), when)
    result = pipeline(["scores"], project, env)
    assert result.returncode == 0, result.stderr
    assert "ledger: 1 submission(s) on Kaggle; 1 added, 0 updated" in result.stdout
    [row] = ledger_rows(project)
    assert row == {"submitted_at": "2025-03-04T05:06:07Z", "ref": "41000001", "message": "from the website",
                   "status": "complete", "public_score": "0.95", "private_score": "", "file_sha256": "",
                   "git_commit": "", "params_digest": "", "validation_accuracy": ""}
    assert (project / "submissions/scores.png").read_bytes().startswith(PNG)


def test_rerunning_never_duplicates_rows_and_updates_a_pending_score(project, env, fake_kaggle):
    fake_kaggle.pending_polls = 10_000
    assert pipeline(["submit", "--wait", "0"], project, env).returncode == 0
    first = pipeline(["scores"], project, env)
    assert "0 added, 0 updated" in first.stdout
    assert ledger_rows(project)[0]["status"] == "pending"
    for sub in fake_kaggle.submissions.values():
        sub["polls_left"] = 0  # Kaggle has scored it meanwhile
    second = pipeline(["scores"], project, env)
    assert "0 added, 1 updated" in second.stdout
    third = pipeline(["scores", "--no-leaderboard"], project, env)
    assert "0 added, 0 updated" in third.stdout
    rows = ledger_rows(project)
    assert [(r["ref"], r["status"], r["public_score"]) for r in rows] == [("41000001", "complete", "0.9")]
    assert rows[0]["validation_accuracy"] == "0.91234"  # kept from submit: Kaggle does not know it


def test_an_interrupted_submit_is_recovered_with_its_provenance_from_the_archive(project, env, fake_kaggle):
    # `submit` archived the file and uploaded it, then died before writing the ledger row.
    data = (project / "submissions/submission.csv").read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    archive = project / "submissions/archive"
    archive.mkdir()
    (archive / f"{sha}.csv").write_bytes(data)
    (archive / f"{sha}.json").write_text(json.dumps({"git_commit": "abc123", "params_digest": "0123456789ab",
                                                     "validation_accuracy": "0.9", "summary": "x"}))
    fake_kaggle.add_submission("interrupted", f"submission-{sha[:12]}.csv", data)
    assert pipeline(["scores"], project, env).returncode == 0
    [row] = ledger_rows(project)
    assert (row["message"], row["file_sha256"], row["git_commit"], row["params_digest"],
            row["validation_accuracy"]) == ("interrupted", sha, "abc123", "0123456789ab", "0.9")


def days_ago(days: int, hour: int = 0) -> datetime:
    return (datetime.now(timezone.utc) - timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


def test_the_table_marks_the_best_and_the_leaderboard_position_is_found(project, env, fake_kaggle):
    fake_kaggle.add_submission("weak", "a.csv", labels(12), days_ago(3))
    fake_kaggle.add_submission("strong", "b.csv", labels(19), days_ago(2))
    fake_kaggle.add_submission("middle", "c.csv", labels(16), days_ago(1))
    result = pipeline(["scores"], project, env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    table = lines[lines.index(next(l for l in lines if l.startswith("submitted (UTC)"))):]
    assert table[1].split()[:6] == [days_ago(3).strftime("%Y-%m-%d"), "00:00", "41000001", "complete", "-", "0.60000"]
    assert table[2].split()[5:8] == ["0.95000", "*", "strong"]
    assert "*" not in table[1] and "*" not in table[3]
    assert "* best public score: 0.95000 (ref 41000002)" in result.stdout
    # 4. Team "Test User" (a display name, not the username "tester") is found by the team name of the
    # user's own submissions, not by score and date: the board dates the team by its latest submission,
    # and "Doppelganger" has the same score. 1.00 .. 0.95 (earlier), then the doppelganger, lead.
    assert "leaderboard: #8 (among the first 10 entries read), public score 0.95000, team 'Test User'" in result.stdout
    assert fake_kaggle.called("GetLeaderboard") == 1  # stops once found


def test_submissions_older_than_two_months_are_off_the_board_and_the_user_is_told(project, env, fake_kaggle):
    fake_kaggle.add_submission("long ago", "a.csv", labels(19), days_ago(90))
    result = pipeline(["scores"], project, env)
    assert result.returncode == 0, result.stderr
    assert ("leaderboard: you are not on the leaderboard: Digit Recognizer's board drops submissions older than "
            "two months, and your last scored one is from " + days_ago(90).strftime("%Y-%m-%d")) in result.stdout


def test_a_user_with_25_earlier_submissions_ends_with_all_25_in_the_ledger(project, env, fake_kaggle):
    # 3. Kaggle gives at most 20 rows a page, whatever the page size asked, and pages by token only.
    for i in range(25):
        fake_kaggle.add_submission(f"try {i}", "a.csv", labels(12), days_ago(30, hour=i % 24))
    result = pipeline(["scores", "--no-leaderboard"], project, env)
    assert result.returncode == 0, result.stderr
    assert "ledger: 25 submission(s) on Kaggle; 25 added, 0 updated" in result.stdout
    assert sorted(int(r["ref"]) for r in ledger_rows(project)) == sorted(fake_kaggle.submissions)
    assert fake_kaggle.called("ListSubmissions") == 2


@pytest.mark.parametrize("correct, pages, line", [
    (12, 3, "leaderboard: you are not on the leaderboard"),  # 0.60: below all 25 teams, so every page is read
    (19, 1, "leaderboard: you are not among the first 10 entries"),  # 0.95: the first page already goes lower
])
def test_the_leaderboard_is_read_page_by_page_until_past_the_user(project, env, fake_kaggle, correct, pages, line):
    fake_kaggle.user_on_leaderboard = False
    fake_kaggle.add_submission("only", "a.csv", labels(correct))
    result = pipeline(["scores"], project, env)
    assert result.returncode == 0, result.stderr
    assert line in result.stdout
    assert fake_kaggle.called("GetLeaderboard") == pages


def test_a_leaderboard_failure_does_not_fail_the_refresh(project, env, fake_kaggle):
    fake_kaggle.add_submission("x", "a.csv", labels(12))
    fake_kaggle.fault("GetLeaderboard", status=500, times=None)
    result = pipeline(["scores"], project, env)
    assert result.returncode == 0, result.stderr
    assert "notice: leaderboard not available (Kaggle's server failed (HTTP 500" in result.stderr
    assert "gave up after 3 attempts" in result.stderr
    assert len(ledger_rows(project)) == 1


def test_offline_prints_the_ledger_without_asking_kaggle(project, fake_kaggle, tmp_path):
    (project / "submissions/history.csv").write_text(
        "submitted_at,ref,message,status,public_score,private_score,file_sha256,git_commit,params_digest,"
        "validation_accuracy\n2025-01-01T00:00:00Z,7,\"adam, cosine\",complete,0.97,,,,,0.96\n")
    result = pipeline(["scores", "--offline"], project, kaggle_env(None, tmp_path / "home", credentials="none"))
    assert result.returncode == 0, result.stderr
    assert "adam, cosine" in result.stdout and "0.97000  *" in result.stdout
    assert fake_kaggle.calls == []


def test_an_empty_ledger_says_how_to_start(project, env):
    result = pipeline(["scores"], project, env)
    assert result.returncode == 0 and "no submissions yet: run python -m pipeline submit" in result.stdout


def test_a_damaged_ledger_is_refused_and_left_alone(project, env, fake_kaggle):
    fake_kaggle.add_submission("x", "a.csv", labels(12))
    bad = ("submitted_at,ref,message,status,public_score,private_score,file_sha256,git_commit,params_digest,"
           "validation_accuracy\n2025-01-01T00:00:00Z,7,m,complete,high,,,,,\n")
    (project / "submissions/history.csv").write_text(bad)
    line = one_line_error(pipeline(["scores"], project, env))
    assert line == ("error: submissions/history.csv, line 2, column public_score: expected a number or an empty "
                    "cell, found 'high'")
    assert (project / "submissions/history.csv").read_text() == bad


def test_an_unknown_competition_is_a_404_with_advice(project, env):
    (project / "params.yaml").write_text("fetch:\n  competition: digit-recogniser\n")
    line = one_line_error(pipeline(["scores"], project, env))
    assert "404 Not Found while listing your submissions: no competition named 'digit-recogniser'" in line
    assert "check fetch.competition in params.yaml" in line


def test_the_access_token_path_works_and_the_token_is_never_shown(project, tmp_path, fake_kaggle):
    fake_kaggle.add_submission("x", "a.csv", labels(12))
    env = kaggle_env(fake_kaggle, tmp_path / "home", credentials="token")
    result = pipeline(["scores"], project, env)  # `pipeline` fails the test if the token is printed
    assert result.returncode == 0, result.stderr
    assert fake_kaggle.called("IntrospectToken") >= 1
    assert {scheme for method, scheme in fake_kaggle.calls if method == "ListSubmissions"} == {"bearer"}


def test_kaggle_json_credentials_work(project, tmp_path, fake_kaggle):
    env = kaggle_env(fake_kaggle, tmp_path / "home", credentials="json")
    result = pipeline(["scores"], project, env)
    assert result.returncode == 0, result.stderr
    assert {scheme for method, scheme in fake_kaggle.calls} == {"basic"}
