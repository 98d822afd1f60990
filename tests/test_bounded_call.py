import sys
import threading
import time

import pytest

from pipeline.kaggle.bounded_call import TimedOut, run_bounded


def test_the_value_comes_back_and_the_workers_output_is_kept_from_the_user(capsys):
    def noisy():
        print("Authentication required to call the Kaggle API ...")
        print("Request failed: retrying", file=sys.stderr)
        return 42

    print("main thread line")
    outcome = run_bounded(noisy, timeout=5)
    print("main thread again", file=sys.stderr)
    captured = capsys.readouterr()
    assert outcome.value == 42 and outcome.error is None
    assert "Authentication required" in outcome.output and "Request failed" in outcome.output
    assert captured.out == "main thread line\n" and captured.err == "main thread again\n"


def test_exceptions_and_system_exit_are_returned_not_raised():
    def quits():
        raise SystemExit(1)

    outcome = run_bounded(quits, timeout=5)
    assert isinstance(outcome.error, SystemExit)
    assert isinstance(run_bounded(lambda: 1 / 0, timeout=5).error, ZeroDivisionError)


def test_a_call_that_never_returns_is_given_up_on_in_time(capsys):
    release = threading.Event()

    def hangs():
        release.wait()
        print("late noise")  # after the caller gave up: still not shown to the user

    began = time.monotonic()
    with pytest.raises(TimedOut):
        run_bounded(hangs, timeout=0.2)
    assert time.monotonic() - began < 2
    release.set()
    time.sleep(0.1)
    assert "late noise" not in capsys.readouterr().out


def test_the_streams_are_left_as_they_were_found():
    # A caller (or a test's capture) that swaps sys.stdout/sys.stderr later must not find them wrapped.
    before = sys.stdout, sys.stderr
    assert run_bounded(lambda: print("noise") or 7, timeout=5).value == 7
    assert (sys.stdout, sys.stderr) == before
    assert isinstance(run_bounded(lambda: 1 / 0, timeout=5).error, ZeroDivisionError)
    assert (sys.stdout, sys.stderr) == before


def test_a_worker_given_up_on_keeps_its_late_output_and_the_streams_come_back_when_it_ends(capsys):
    before = sys.stdout, sys.stderr
    release, finished = threading.Event(), threading.Event()

    def hangs():
        release.wait()
        print("late noise")
        finished.set()

    with pytest.raises(TimedOut):
        run_bounded(hangs, timeout=0.1)
    assert run_bounded(lambda: 3, timeout=5).value == 3  # another call meanwhile
    release.set()
    assert finished.wait(5)
    for _ in range(100):  # the worker restores the streams as it ends
        if (sys.stdout, sys.stderr) == before:
            break
        time.sleep(0.01)
    assert (sys.stdout, sys.stderr) == before
    assert "late noise" not in capsys.readouterr().out
