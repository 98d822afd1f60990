"""Progress output: plain, readable lines off a terminal; a tqdm bar on one."""

from __future__ import annotations

import io
import re

import pytest

from pipeline.core.progress import Progress, _amount, _duration


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_every_tenth_with_fields_and_time_left():
    stream, clock = io.StringIO(), FakeClock()
    progress = Progress(100, "train", unit="it", stream=stream, clock=clock)
    assert not progress.interactive
    for i in range(100):
        clock.now += 0.5
        progress.update(1, loss=1.0 / (i + 1), acc=i / 100)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    # the first update, then every 10 items, and nothing extra at close (100 was already reported)
    assert len(lines) == 11
    assert lines[0] == "train: 1/100 it (1%) loss=1.0000 acc=0.0000, elapsed 0s, about 50s left"
    assert lines[5].startswith("train: 51/100 it (51%) loss=0.0196 acc=0.5000, elapsed 26s, about 24s left")
    assert lines[-1] == "train: 100/100 it (100%) loss=0.0100 acc=0.9900, elapsed 50s"


def test_plain_lines_for_bytes_are_human_sized():
    stream, clock = io.StringIO(), FakeClock()
    with Progress(10 * 2**20, "download", unit="B", stream=stream, clock=clock) as progress:
        for _ in range(10):
            clock.now += 1
            progress.update(2**20)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "download: 1.0 MiB/10.0 MiB (10%), elapsed 1s, about 9s left"
    assert lines[-1] == "download: 10.0 MiB/10.0 MiB (100%), elapsed 10s"


def test_unknown_total_prints_by_time_and_a_final_line():
    stream, clock = io.StringIO(), FakeClock()
    with Progress(None, "download", unit="B", stream=stream, clock=clock, every_s=10) as progress:
        for _ in range(25):
            clock.now += 1
            progress.update(1000)
    lines = stream.getvalue().splitlines()
    assert lines == ["download: 9.8 KiB, elapsed 10s", "download: 19.5 KiB, elapsed 20s",
                     "download: 24.4 KiB, elapsed 25s"]


def test_close_reports_work_that_stopped_early():
    stream, clock = io.StringIO(), FakeClock()
    progress = Progress(1000, "train", stream=stream, clock=clock)
    for _ in range(150):
        clock.now += 1
        progress.update(1)
    progress.close()
    last = stream.getvalue().splitlines()[-1]
    assert last.startswith("train: 150/1000 it (15%)") and "left" in last


def test_terminal_gets_a_live_bar_with_postfix():
    stream = FakeTerminal()
    with Progress(20, "train", stream=stream) as progress:
        for _ in range(20):
            progress.update(1, loss=0.25)
    out = stream.getvalue()
    assert "\r" in out  # redrawn in place
    assert "20/20" in out and "loss=0.2500" in out


def test_byte_bar_uses_binary_units():
    stream = FakeTerminal()
    with Progress(3 * 2**20, "download", unit="B", stream=stream) as progress:
        progress.update(3 * 2**20)
    assert re.search(r"3\.00?M", stream.getvalue())


@pytest.mark.parametrize("seconds, text", [(0.4, "0s"), (59, "59s"), (61, "1m01s"), (3725, "1h02m"),
                                           (float("nan"), "?")])
def test_duration(seconds, text):
    assert _duration(seconds) == text


@pytest.mark.parametrize("n, unit, text", [(512, "B", "512 B"), (1536, "B", "1.5 KiB"),
                                           (5 * 2**30, "B", "5.0 GiB"), (7, "rows", "7 rows")])
def test_amount(n, unit, text):
    assert _amount(n, unit) == text
