"""A study on a journal file: its space is kept, dead workers' trials are failed and queued again,
the train stage's hook reports and prunes, the table and the export say what happened."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from pipeline.core.atomic import pid_alive
from pipeline.core.errors import PipelineError
from pipeline.tuning import workers
from pipeline.tuning.space import parse_settings
from pipeline.tuning.storage import open_storage
from pipeline.tuning.study import open_study, reap_dead_workers, retried_trial_number, retry, table
from pipeline.tuning.study_file import export, rebuild
from pipeline.tuning.trial_channel import TrialChannel
from pipeline.tuning.trial_hook import TrialHook, TrialStopped, context

SPACE = {"train.learning_rate": {"low": 0.001, "high": 0.01, "log": True}, "train.max_iter": {"low": 10, "high": 30}}
SETTINGS = parse_settings({"space": SPACE, "pruner": {"startup_trials": 2, "warmup_percent": 10}})


@pytest.fixture
def journal(tmp_path):
    return str(tmp_path / "tune" / "journal.log")


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_study_keeps_the_space_it_was_made_with(journal):
    open_study(open_storage(journal), journal, "s", SETTINGS)
    open_study(open_storage(journal), journal, "s", SETTINGS)  # the same space: loads
    other = parse_settings({"space": {**SPACE, "train.max_iter": {"low": 10, "high": 40}}})
    with pytest.raises(PipelineError) as caught:
        open_study(open_storage(journal), journal, "s", other)
    message = str(caught.value)
    assert "study 's' in " in message and "another search space" in message
    assert "they differ in train.max_iter" in message and "--study" in message
    open_study(open_storage(journal), journal, "t", other)  # another name is another study


def test_a_dead_workers_trial_is_failed_with_its_reason_and_queued_again(journal):
    storage = open_storage(journal)
    study = open_study(storage, journal, "s", SETTINGS)
    dead, alive_, elsewhere = study.ask(), study.ask(), study.ask()
    for trial in (dead, alive_, elsewhere):
        SETTINGS.suggest(trial)
    pid = dead_pid()
    dead.set_user_attr("worker", f"{workers.host()}:{pid}:")
    alive_.set_user_attr("worker", workers.this_worker())
    elsewhere.set_user_attr("worker", f"another-machine:{pid}:1")

    assert reap_dead_workers(study, storage) == [dead.number]
    trials = {t.number: t for t in study.get_trials()}
    assert trials[dead.number].state == TrialState.FAIL
    assert trials[dead.number].user_attrs["fail_reason"] == f"its worker (pid {pid}) died mid-trial"
    assert trials[alive_.number].state == TrialState.RUNNING
    assert trials[elsewhere.number].state == TrialState.RUNNING  # left to the storage's heartbeat
    waiting = [t for t in study.get_trials() if t.state == TrialState.WAITING]
    assert len(waiting) == 1 and retried_trial_number(waiting[0]) == dead.number
    assert "worker" not in waiting[0].user_attrs  # never taken for the dead worker's trial
    again = study.ask()  # the queued trial is the next one asked, with the dead one's params
    assert SETTINGS.suggest(again) == SETTINGS.suggest(optuna.trial.FixedTrial(trials[dead.number].params))
    assert reap_dead_workers(study, storage) == []  # reaped once


def test_a_retried_trial_whose_worker_dies_again_is_not_queued_a_third_time(journal):
    storage = open_storage(journal)
    study = open_study(storage, journal, "s", SETTINGS)
    trial = study.ask()
    SETTINGS.suggest(trial)
    trial.set_user_attr("worker", f"{workers.host()}:{dead_pid()}:")
    assert reap_dead_workers(study, storage) == [trial.number]
    again = study.ask()  # the retry, whose worker dies too
    assert retried_trial_number(study.get_trials()[again.number]) == trial.number
    again.set_user_attr("worker", f"{workers.host()}:{dead_pid()}:")
    assert reap_dead_workers(study, storage) == [again.number]
    assert not [t for t in study.get_trials() if t.state == TrialState.WAITING]


def test_a_trial_queued_again_before_its_worker_died_is_not_queued_twice(journal):
    """A full disk: the worker queued its trial again, then could not record the trial's end and exited,
    leaving it running; the next tune reaps it as a dead worker's and used to queue a second copy."""
    storage = open_storage(journal)
    study = open_study(storage, journal, "s", SETTINGS)
    trial = study.ask()
    SETTINGS.suggest(trial)
    trial.set_user_attr("worker", f"{workers.host()}:{dead_pid()}:")
    retry(study, storage, trial.number)  # as the worker's OSError (or Ctrl-C) branch does
    assert reap_dead_workers(study, storage) == [trial.number]
    assert study.get_trials()[trial.number].state == TrialState.FAIL
    waiting = [t for t in study.get_trials() if t.state == TrialState.WAITING]
    assert [retried_trial_number(t) for t in waiting] == [trial.number]


def test_a_reused_pid_is_not_taken_for_the_worker():
    me = workers.this_worker()
    assert workers.alive(me) is True
    host, pid, start = me.rsplit(":", 2)
    if not start:
        pytest.skip("no /proc start times here")
    assert workers.alive(f"{host}:{pid}:{int(start) + 1}") is False
    assert workers.alive(None) is None and workers.alive("garbage") is None


@contextlib.contextmanager
def hook_for(storage, study, trial, worker_pid: int | None = None):
    """The train stage's hook for ``trial``, as ``tune`` hands it over: the context in its environment,
    the worker's channel listening."""
    with TrialChannel(trial, storage, trial._trial_id) as channel:
        yield TrialHook(json.loads(context(trial.number, channel.path, worker_pid or os.getpid())))


def test_the_hook_reports_percent_steps_and_prunes_a_trial_below_the_median(journal):
    storage = open_storage(journal)
    study = open_study(storage, journal, "s", SETTINGS)
    for value in (0.9, 0.92):  # two finished trials that were good at every step
        trial = study.ask()
        for step in range(0, 101, 5):
            trial.report(value, step)
        study.tell(trial, value)
    ahead = study.ask()
    with hook_for(storage, study, ahead) as hook:
        hook(4, 40, 0.95)  # 10 %: above the median there, goes on
    trial = study.ask()
    with hook_for(storage, study, trial) as hook:
        hook(1, 40, 0.1)  # 2 %: on the grid at 0 %, before the warmup (10 %): not pruned however low
        hook(2, 40, 0.3)  # 5 %
        hook(3, 40, 0.99)  # 7 %: the 5 % grid point is reported already, this is not
        with pytest.raises(TrialStopped, match=r"trial 3 pruned at 25 % of its updates: validation accuracy 0.5000"):
            hook(11, 40, 0.5)  # 27 %: the 25 % grid point, the best so far below the median there
    frozen = study.get_trials()[-1]
    assert frozen.intermediate_values == {0: 0.1, 5: 0.3, 25: 0.5}
    assert study.get_trials()[2].intermediate_values == {10: 0.95}
    assert frozen.user_attrs["pruned_at_percent"] == 25


def test_the_hook_stops_when_its_worker_is_gone_or_the_trial_was_ended(journal):
    storage = open_storage(journal)
    study = open_study(storage, journal, "s", SETTINGS)
    trial = study.ask()
    with hook_for(storage, study, trial, worker_pid=dead_pid()) as hook:
        with pytest.raises(TrialStopped, match=r"its tune worker \(pid \d+\) is gone; stopping"):
            hook(1, 10, 0.5)
    with hook_for(storage, study, trial) as hook:
        hook(1, 10, 0.5)
        study.tell(trial, state=TrialState.FAIL)
        with pytest.raises(TrialStopped, match="was ended by another worker"):
            hook(2, 10, 0.5)
    # a live worker whose channel is closed (its trial is over for it): the training stops too
    with pytest.raises(TrialStopped, match=r"its tune worker \(pid \d+\) is gone \(.+\); stopping"):
        hook(8, 10, 0.5)


def test_a_channel_removes_its_folder_and_those_dead_workers_left(journal, monkeypatch):
    short = Path(tempfile.mkdtemp(prefix="tc-", dir="/tmp"))  # a socket's path must stay short
    monkeypatch.setattr(tempfile, "tempdir", str(short))
    try:
        dead, live = short / f"tune-trial-{dead_pid()}-x", short / f"tune-trial-{os.getpid()}-y"
        dead.mkdir()
        live.mkdir()
        storage = open_storage(journal)
        study = open_study(storage, journal, "s", SETTINGS)
        trial = study.ask()
        with TrialChannel(trial, storage, trial._trial_id) as channel:
            assert Path(channel.path).parent.parent == short
        assert sorted(p.name for p in short.iterdir()) == [live.name]
    finally:
        shutil.rmtree(short)


def test_the_hook_imports_nothing_of_the_study_and_optuna_is_not_loaded():
    """The train stage's process: its hook reaches the study only through the worker's channel."""
    code = ("import sys, pipeline.tuning.trial_hook; "
            "print(sorted(m for m in sys.modules if m.startswith(('pipeline.tuning', 'optuna', 'sqlalchemy'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "['pipeline.tuning', 'pipeline.tuning.trial_hook']"


def test_the_table_says_why_a_trial_failed_and_the_export_rebuilds_the_study(journal):
    study = open_study(open_storage(journal), journal, "s", SETTINGS)
    good = study.ask()
    SETTINGS.suggest(good)
    good.set_user_attr("experiment", "s-0")
    good.report(0.8, 50)
    study.tell(good, 0.91)
    bad = study.ask()
    SETTINGS.suggest(bad)
    bad.set_user_attr("fail_reason", "training diverged at iteration 3: the loss is nan")
    study.tell(bad, state=TrialState.FAIL)
    text = table(study, width=80)
    assert "91.00 %" in text and "s-0" in text
    assert "why: training diverged at iteration 3: the loss is nan" in text
    assert all(len(line) <= 80 for line in text.splitlines()), text

    data = json.loads(json.dumps(export(study, journal)))
    again = rebuild(data)
    assert [t.state for t in again.trials] == [TrialState.COMPLETE, TrialState.FAIL]
    assert again.best_value == 0.91 and again.trials[0].intermediate_values == {50: 0.8}
    assert again.trials[0].params == study.trials[0].params


def test_a_killed_worker_its_parent_has_not_waited_for_yet_counts_as_dead():
    """A zombie still answers kill(pid, 0): a sweep's killed worker would look alive until reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while workers._stat(child.pid)[:1] != ["Z"]:  # exited, not yet waited for
        assert time.monotonic() < deadline
    assert pid_alive(child.pid) is False
    child.wait()
