"""The study's journal is checked before anything is appended: broken lines (a crash mid-write) are
removed after a backup, every earlier trial still loads with Optuna's own load_study, a file that is
not a journal is refused, and a lock left by a dead process is removed at once."""

from __future__ import annotations

import errno
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from pipeline.core.errors import PipelineError
from pipeline.tuning import workers
from pipeline.tuning.space import parse_settings
from pipeline.tuning.storage import open_storage
from pipeline.tuning.study import open_study

SETTINGS = parse_settings({"space": {"train.learning_rate": {"low": 0.001, "high": 0.01, "log": True}}})

# A crash mid-write, a full disk, a bad copy: what each leaves at the end of the journal.
DAMAGE = {
    "cut mid-line": b'{"op_code":5,"worker_id":"w","trial_id":3,"param_na',
    "cut mid-UTF-8 character": '{"op_code":8,"worker_id":"w","trial_id":3,"user_attr":{"why":"caf\u00e9'.encode()[:-1],
    "an empty last line": b"\n",
    "garbage bytes": b"\x00\xff\xfe not json\n\x89PNG\r\n\x1a",
}


def plain_load(path: Path):
    """The study as Optuna alone reads it (no product code)."""
    return optuna.load_study(study_name="s", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(path))))


def summary(study) -> list[tuple]:
    return [(t.number, t.state, t.value, t.params) for t in study.get_trials()]


@pytest.fixture
def journal(tmp_path) -> Path:
    """A journal with three finished trials, as tune leaves it."""
    path = tmp_path / "tune" / "journal.log"
    study = open_study(open_storage(str(path)), str(path), "s", SETTINGS)
    for value in (0.91, 0.93):
        trial = study.ask()
        SETTINGS.suggest(trial)
        trial.report(value - 0.1, 50)
        study.tell(trial, value)
    trial = study.ask()
    SETTINGS.suggest(trial)
    study.tell(trial, state=TrialState.FAIL)
    return path


@pytest.mark.parametrize("kind", DAMAGE)
def test_a_broken_end_is_removed_after_a_backup_and_every_trial_still_loads(journal, kind):
    good = journal.read_bytes()
    before = summary(plain_load(journal))
    journal.write_bytes(good + DAMAGE[kind])
    said: list[str] = []
    study = open_study(open_storage(str(journal), say=said.append), str(journal), "s", SETTINGS)
    trial = study.ask()  # something appended after the repair
    SETTINGS.suggest(trial)
    study.tell(trial, 0.95)
    assert len(said) == 1 and said[0].startswith(f"{journal}: removed ") and "beside it" in said[0], said
    [backup] = journal.parent.glob("journal.log.damaged-*")
    assert backup.read_bytes() == good + DAMAGE[kind]
    assert journal.read_bytes().startswith(good)
    after = summary(plain_load(journal))
    assert after[:3] == before and after[3][1:3] == (TrialState.COMPLETE, 0.95)


def test_a_broken_line_that_records_follow_is_removed_and_the_later_records_kept(journal):
    """What an older tune (or plain Optuna) left: records appended after a broken line, which Optuna can
    no longer read past. No reader applied the broken line, so removing it is safe."""
    line = len(journal.read_bytes().splitlines()) + 1
    journal.write_bytes(journal.read_bytes() + b'{"op_code":4,"worker_id":"w","study_id":0,"dat\n')
    optuna.storages.journal.JournalFileBackend(str(journal)).append_logs(
        [{"op_code": 2, "worker_id": "other", "study_id": 0, "user_attr": {"later": 1}}])
    with pytest.raises(ValueError):
        plain_load(journal)
    said: list[str] = []
    open_storage(str(journal), say=said.append)
    assert len(said) == 1 and f"(line {line}: 47 bytes, not a record)" in said[0], said
    study = plain_load(journal)
    assert study.user_attrs["later"] == 1 and len(study.get_trials()) == 3


def test_a_file_that_is_no_journal_is_refused_and_left_as_it_is(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"my notes\nnot a study\n")
    with pytest.raises(PipelineError, match=f"^{path} is not an Optuna journal .*name another file with --storage$"):
        open_storage(str(path))
    assert path.read_bytes() == b"my notes\nnot a study\n"
    assert list(tmp_path.iterdir()) == [path]


def test_a_journal_damaged_while_open_is_repaired_before_the_next_append(journal):
    """Another process died mid-write while this one had the study open."""
    said: list[str] = []
    study = open_study(open_storage(str(journal), say=said.append), str(journal), "s", SETTINGS)
    with open(journal, "ab") as handle:
        handle.write(DAMAGE["cut mid-line"])
    study.set_user_attr("note", "after the damage")
    assert len(said) == 1 and "cut off" in said[0]
    assert plain_load(journal).user_attrs["note"] == "after the damage"


def test_when_no_backup_can_be_written_nothing_is_appended(journal, monkeypatch):
    damaged = journal.read_bytes() + DAMAGE["cut mid-line"]
    journal.write_bytes(damaged)
    real = Path.write_bytes

    def full(self, data):
        if ".damaged-" in self.name:
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(PipelineError, match=r"and its backup journal\.log\.damaged-\d+T\d+ could not be written "
                                            r"beside it: No space left on device; nothing was changed or appended"):
        open_storage(str(journal))
    assert journal.read_bytes() == damaged
    assert not list(journal.parent.glob("*.damaged-*"))


def test_a_lock_left_by_a_dead_process_is_removed_at_once_and_said(journal):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    lock = Path(f"{journal}.lock")
    lock.write_text(f"{workers.host()}:{child.pid}:")
    said: list[str] = []
    open_study(open_storage(str(journal), say=said.append), str(journal), "s", SETTINGS).set_user_attr("x", 1)
    assert said == [f"removed {lock}, left by a process that died while it wrote to the journal (pid {child.pid})"]
    assert not lock.exists()
