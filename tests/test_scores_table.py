from datetime import datetime, timezone

from pipeline.kaggle.records import LeaderboardEntry
from pipeline.submissions.ledger import Submission
from pipeline.submissions.scores_table import (best_index, find_me, format_table, off_board_since, passed_me,
                                                  position_line)


def sub(when, public, ref="1", message="m", validation=None):
    return Submission(submitted_at=when, status="complete" if public is not None else "pending",
                      public_score=public, private_score=None, validation_accuracy=validation, ref=ref,
                      message=message)


def test_the_table_has_one_line_per_submission_and_marks_the_first_best():
    rows = [sub("2025-01-01T10:00:00Z", 0.95, "1", "a", 0.96), sub("2025-01-02T11:30:00Z", None, "2", "b"),
            sub("2025-01-03T12:00:00Z", 0.97, "3", "x" * 80, 0.97), sub("2025-01-04T00:00:00Z", 0.97, "4", "d")]
    lines = format_table(rows).splitlines()
    assert lines[0].split() == ["submitted", "(UTC)", "ref", "status", "val", "acc", "public", "message"]
    assert lines[1].split() == ["2025-01-01", "10:00", "1", "complete", "0.9600", "0.95000", "a"]
    assert lines[2].split() == ["2025-01-02", "11:30", "2", "pending", "-", "-", "b"]
    assert lines[3].split()[5:7] == ["0.97000", "*"] and lines[3].endswith("x" * 45 + "...")
    assert "*" not in lines[4]
    assert lines[-1] == "* best public score: 0.97000 (ref 3)"
    assert best_index([sub("t", None)]) is None


def entry(rank, team, score, date="2025-01-01T00:00:00Z"):
    return LeaderboardEntry(rank, team, score, date)


def test_the_user_is_found_by_the_team_name_of_their_own_submissions_not_by_score_and_date():
    board = [entry(1, "A", "0.99000"), entry(2, "Twin", "0.97000", "2025-01-03T12:00:00Z"),
             entry(3, "Jane Doe", "0.97000", "2025-01-03T12:00:00Z"), entry(4, "B", "0.9")]
    assert find_me(board, {"jane doe ", "jdoe"}).rank == 3  # the team name Kaggle lists on her submissions
    assert find_me(board, {"b"}).rank == 4
    assert find_me(board, {"jdoe", ""}) is None  # "Twin" has her score and time: no guess


def test_a_user_whose_last_scored_submission_is_over_two_months_old_is_off_digit_recognizers_board():
    now = datetime(2025, 6, 1, tzinfo=timezone.utc)
    old = [sub("2025-03-01T00:00:00Z", 0.97), sub("2025-05-30T00:00:00Z", None)]  # the pending one does not count
    assert off_board_since("digit-recognizer", old, now) == "2025-03-01"
    assert off_board_since("digit-recognizer", [*old, sub("2025-04-15T00:00:00Z", 0.9)], now) is None
    assert off_board_since("titanic", old, now) is None  # a board that keeps everything
    assert off_board_since("digit-recognizer", [sub("t", None)], now) is None
    line = position_line(None, [entry(1, "A", "0.99")], False, "2025-03-01")
    assert line == ("leaderboard: you are not on the leaderboard: Digit Recognizer's board drops submissions older "
                    "than two months, and your last scored one is from 2025-03-01; submit again to be on it")


def test_reading_stops_once_the_board_is_below_the_users_best():
    mine = [sub("t", 0.95)]
    assert not passed_me([entry(1, "A", "0.99")], mine)
    assert passed_me([entry(1, "A", "0.99"), entry(2, "B", "0.94")], mine)
    assert passed_me([entry(1, "A", "0.99")], [sub("t", None)])  # nothing scored: nothing to look for


def test_position_lines():
    board = [entry(1, "A", "0.99"), entry(2, "Me", "0.98")]
    assert position_line(board[1], board, True) == "leaderboard: #2 of 2, public score 0.98, team 'Me'"
    assert position_line(board[1], board, False) == ("leaderboard: #2 (among the first 2 entries read), "
                                                     "public score 0.98, team 'Me'")
    assert position_line(None, board, True).startswith("leaderboard: you are not on the leaderboard")
