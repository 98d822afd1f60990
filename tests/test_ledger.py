"""The submission ledger: merge rules, strict reading, and safety under concurrency and crashes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kaggle_support import ROOT, kaggle_env, ledger_rows, pipeline
from pipeline.submissions import ledger
from pipeline.core.errors import PipelineError
from pipeline.submissions.ledger import Submission, read_history

HEADER = ",".join(ledger.HEADER)


def entry(ref: int, **fields) -> Submission:
    return Submission(submitted_at=fields.pop("submitted_at", f"2025-01-{ref % 28 + 1:02d}T00:00:00Z"), ref=str(ref), **fields)


def test_the_header_is_the_committed_one():
    assert (ROOT / "submissions/history.csv").read_text().splitlines()[0] == HEADER


def test_rows_round_trip_and_the_report_reads_them(tmp_path):
    path = tmp_path / "history.csv"
    rows = [entry(2, message='adam, "cosine"\nlong', status="complete", public_score=0.97, validation_accuracy=0.96),
            entry(1, status="pending")]
    ledger.upsert(path, rows, from_kaggle=True)
    assert ledger.read(path) == [ledger.normalized(r) for r in sorted(rows, key=Submission.sort_key)]
    assert ledger.read(path)[1].message == 'adam, "cosine" long'  # one line per row
    report = read_history(path)
    assert [(s.ref, s.public_score, s.validation_accuracy) for s in report] == [("1", None, None), ("2", 0.97, 0.96)]


def test_kaggle_is_the_source_of_truth_for_status_and_scores_but_not_for_local_facts():
    local = entry(5, message="mine", status="pending", file_sha256="ab" * 32, git_commit="c0ffee",
                  validation_accuracy=0.95)
    kaggle = entry(5, submitted_at="2025-02-02T02:02:02Z", message="mine", status="complete", public_score=0.96)
    merged, changes = ledger.merge([local], [kaggle], from_kaggle=True)
    assert merged == [Submission("2025-02-02T02:02:02Z", "5", "mine", "complete", 0.96, None, "ab" * 32, "c0ffee", "",
                                 0.95)]
    assert changes == ledger.Changes(added=0, updated=1)
    # A row written after an upload never turns a scored row back into a pending one.
    again, changes = ledger.merge(merged, [local], from_kaggle=False)
    assert again == merged and changes == ledger.Changes(0, 0)


def test_numbers_are_written_as_they_read_back_and_a_score_of_zero_is_a_score(tmp_path):
    path = tmp_path / "history.csv"
    ledger.upsert(path, [entry(1, status="complete", public_score=0.99371, private_score=0.0,
                               validation_accuracy=0.956712)], from_kaggle=True)
    assert path.read_text().splitlines()[1] == "2025-01-02T00:00:00Z,1,,complete,0.99371,0.0,,,,0.956712"
    # Kaggle saying "no private score" clears it; a zero from the ledger is not taken for a blank.
    merged, _ = ledger.merge(ledger.read(path), [entry(1, status="complete", public_score=0.5)], from_kaggle=True)
    assert (merged[0].public_score, merged[0].private_score, merged[0].validation_accuracy) == (0.5, None, 0.956712)
    merged, _ = ledger.merge(ledger.read(path), [entry(1, validation_accuracy=0.7)], from_kaggle=False)
    assert merged[0].private_score == 0.0 and merged[0].validation_accuracy == 0.956712


def test_rows_kaggle_does_not_list_are_kept():
    merged, _ = ledger.merge([entry(1), entry(2)], [entry(3)], from_kaggle=True)
    assert [e.ref for e in merged] == ["1", "2", "3"]


def test_rows_that_share_a_ref_after_a_git_merge_become_one(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text(f"{HEADER}\n2025-01-01T00:00:00Z,7,m,pending,,,,abc,,0.9\n"
                    f"2025-01-01T00:00:05Z,7,m,complete,0.95,,,,,\n")
    [row] = ledger.read(path)
    assert (row.status, row.public_score, row.git_commit, row.validation_accuracy) == ("complete", 0.95, "abc", 0.9)
    ledger.upsert(path, [], from_kaggle=True)
    assert len(path.read_text().splitlines()) == 2


@pytest.mark.parametrize("text, message", [
    ("when,ref\n", "line 1: expected the header 'submitted_at,ref,message"),
    (f"{HEADER}\n2025,x,m,complete,,,,,,\n", "line 2, column ref: expected a Kaggle submission number, found 'x'"),
    (f"{HEADER}\n2025,7,m,complete,0.9,,,,,high\n", "line 2, column validation_accuracy: expected a number"),
    (f"{HEADER}\n2025,7,m,complete\n", "line 2: expected 10 fields, found 4"),
    (f"{HEADER}\n<<<<<<< HEAD\n2025,7,m,complete,0.9,,,,,\n=======\n", "line 2: an unresolved git merge conflict"),
])
def test_a_damaged_ledger_is_refused_and_not_rewritten(tmp_path, text, message):
    path = tmp_path / "history.csv"
    path.write_text(text)
    with pytest.raises(PipelineError, match=message):
        ledger.upsert(path, [entry(1)], from_kaggle=True)
    assert path.read_text() == text


def test_an_update_that_would_drop_a_row_writes_nothing(tmp_path):
    path = tmp_path / "history.csv"
    ledger.upsert(path, [entry(1), entry(2)], from_kaggle=True)
    before = path.read_bytes()
    with pytest.raises(AssertionError, match="drop refs"):
        ledger.update(path, lambda rows: rows[:1])
    assert path.read_bytes() == before


def _python(code: str, cwd: Path, env: dict | None = None) -> subprocess.Popen:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=full_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


WRITER = """
    import sys
    from pipeline.submissions import ledger
    first, count = int(sys.argv[1]), int(sys.argv[2])
    for ref in range(first, first + count):
        ledger.upsert("submissions/history.csv", [ledger.Submission("2025-01-01T00:00:00Z", str(ref), "w", "pending")],
                      from_kaggle=False)
"""


def test_a_held_lock_makes_a_writer_wait_then_give_up_clearly(tmp_path):
    path = tmp_path / "submissions/history.csv"
    ledger.upsert(path, [entry(1)], from_kaggle=True)
    with ledger.locked(path):
        waiter = _python("""
            from pipeline.submissions import ledger
            from pipeline.cli import main
            raise SystemExit(main(["scores", "--offline"]))
        """, tmp_path, {"DIGIT_PIPELINE_LOCK_TIMEOUT": "0.3"})
        # `scores --offline` only reads: it does not wait for the lock.
        assert waiter.wait(30) == 0, waiter.stderr.read()
        writer = _python(WRITER.replace("sys.argv[1]", "'50'").replace("sys.argv[2]", "'1'"), tmp_path,
                         {"DIGIT_PIPELINE_LOCK_TIMEOUT": "0.3"})  # a writer does wait, then says why it stops
        assert writer.wait(30) != 0
        assert "is being updated by another process (submit or scores)" in writer.stderr.read()
    assert [e.ref for e in ledger.read(path)] == ["1"]


def test_concurrent_writers_and_scores_refreshes_lose_and_duplicate_nothing(tmp_path, fake_kaggle, project):
    for i in range(5):
        fake_kaggle.add_submission(f"kaggle {i}", "k.csv", b"ImageId,Label\n")
    env = {**kaggle_env(fake_kaggle, tmp_path / "home"), "DIGIT_PIPELINE_LOCK_TIMEOUT": "60"}
    writers = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(WRITER), str(1000 + 100 * i), "12"],
                                cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for i in range(4)]
    refreshes = [subprocess.Popen([sys.executable, "-m", "pipeline", "scores", "--no-leaderboard"], cwd=project,
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    for process in writers + refreshes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    refs = [row["ref"] for row in ledger_rows(project)]
    expected = {str(1000 + 100 * i + k) for i in range(4) for k in range(12)} | {str(r) for r in fake_kaggle.submissions}
    assert sorted(refs) == sorted(expected)  # every row, each once
    assert read_history(project / "submissions/history.csv")  # and the report can read it
    assert pipeline(["scores", "--no-leaderboard"], project, env).stdout.count("0 added, 0 updated") == 1


def test_a_writer_killed_mid_write_leaves_the_ledger_whole_and_the_lock_free(tmp_path):
    path = tmp_path / "submissions/history.csv"
    ledger.upsert(path, [entry(1), entry(2)], from_kaggle=True)
    before = path.read_bytes()
    victim = _python("""
        import time
        from pathlib import Path
        from pipeline.core import atomic
        from pipeline.submissions import ledger

        def stall(fd):  # the new ledger is written to its temporary file, not yet renamed
            Path("writing").touch()
            time.sleep(600)

        atomic.os.fsync = stall
        ledger.upsert("submissions/history.csv", [ledger.Submission("2025-01-09T00:00:00Z", "3", "new")], from_kaggle=True)
    """, tmp_path)
    deadline = time.monotonic() + 60
    while not (tmp_path / "writing").exists():
        assert victim.poll() is None and time.monotonic() < deadline, victim.stderr.read()
        time.sleep(0.02)
    assert list(path.parent.glob(".history.csv.*.tmp"))  # caught mid-write
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    assert path.read_bytes() == before and [e.ref for e in ledger.read(path)] == ["1", "2"]
    began = time.monotonic()
    ledger.upsert(path, [entry(4)], from_kaggle=True)  # the lock died with the process
    assert time.monotonic() - began < 5
    assert [e.ref for e in ledger.read(path)] == ["1", "2", "4"]
    assert not list(path.parent.glob(".history.csv.*.tmp"))  # the dead writer's temporary is cleared
    assert not list(path.parent.glob(".history.csv.*.tmp"))  # the dead writer's leftovers are gone
