"""Small promises of pipeline/core that no other test pinned, each found by mutation testing (issue 31):
a mutant that changed the behaviour survived the suite until the test here was written.

docs/testing.md ("Mutation testing") says how to run mutmut; tests/mutation_score.py prints the score.
"""

from __future__ import annotations

import dataclasses
import io
import os
import signal
import subprocess
import sys
import time
import zipfile
import zlib
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from pipeline.core import atomic, config, metrics_io, param_rules, progress, timestamps, zip_files
from pipeline.core.arrays_file import load_arrays, save_arrays
from pipeline.core.env_settings import positive_number
from pipeline.core.errors import InvalidParameter, PipelineError


# -- arrays_file -----------------------------------------------------------------------------------------

def test_arrays_are_stored_or_deflated_as_asked(tmp_path):
    arrays = {"X": np.zeros((50, 20), np.uint8), "y": np.arange(50)}
    save_arrays(tmp_path / "plain.npz", arrays)
    save_arrays(tmp_path / "small.npz", arrays, compress=True)
    for name, kind in (("plain.npz", zipfile.ZIP_STORED), ("small.npz", zipfile.ZIP_DEFLATED)):
        with zipfile.ZipFile(tmp_path / name) as archive:
            assert {info.compress_type for info in archive.infolist()} == {kind}
        loaded = load_arrays(tmp_path / name)
        assert loaded.keys() == arrays.keys() and all(np.array_equal(loaded[k], arrays[k]) for k in arrays)
    assert (tmp_path / "small.npz").stat().st_size < (tmp_path / "plain.npz").stat().st_size


def test_an_object_array_is_never_pickled_either_way(tmp_path):
    with pytest.raises(ValueError, match="allow_pickle=False"):
        save_arrays(tmp_path / "a.npz", {"X": np.array([{"a": 1}], dtype=object)})
    np.savez(tmp_path / "pickled.npz", X=np.array([{"a": 1}], dtype=object))  # numpy's own writer pickles it
    with pytest.raises(PipelineError) as caught:
        load_arrays(tmp_path / "pickled.npz")
    assert str(caught.value) == (f"{tmp_path / 'pickled.npz'}: not a readable array file (ValueError: Object arrays "
                                 f"cannot be loaded when allow_pickle=False)")


def test_every_missing_array_is_named(tmp_path):
    save_arrays(tmp_path / "a.npz", {"X": np.zeros(3)})
    with pytest.raises(PipelineError) as caught:
        load_arrays(tmp_path / "a.npz", required=("X", "y", "ids"))
    assert str(caught.value) == f"{tmp_path / 'a.npz'}: missing array(s) y, ids"


# -- zip_files ---------------------------------------------------------------------------------------------

def test_zip_members_are_plain_files_deflated_at_zlibs_level_6(tmp_path):
    from digits_support import train_csv

    data = train_csv(100).encode()  # real-looking rows, which levels 6 and 7 pack differently
    zip_files.write_zip(tmp_path / "a.zip", {"a.txt": data})
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        [info] = archive.infolist()
        assert info.date_time == (1980, 1, 1, 0, 0, 0) and info.external_attr >> 16 == 0o644
        assert archive.read("a.txt") == data
    raw = (tmp_path / "a.zip").read_bytes()
    start = 30 + len(info.filename) + len(info.extra)  # the local header, then the member's deflated bytes
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    assert raw[start:start + info.compress_size] == packer.compress(data) + packer.flush()


# -- atomic --------------------------------------------------------------------------------------------------

def test_this_process_is_alive_and_a_reaped_one_is_not():
    assert atomic.pid_alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not atomic.pid_alive(child.pid)


def test_asking_whether_a_process_is_alive_sends_it_no_signal():
    # SIGHUP back to its default in the child: under nohup it would be ignored, and a probe with it unseen
    child = subprocess.Popen(["sleep", "30"], preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL))
    try:
        assert atomic.pid_alive(child.pid)
        time.sleep(0.2)
        assert child.poll() is None, "the probe killed it"
    finally:
        child.kill()
        child.wait()


def test_a_process_that_cannot_be_signalled_or_read_counts_as_alive(monkeypatch):
    def refused(pid, signal):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(atomic.os, "kill", refused)  # another user's process
    assert atomic.pid_alive(12345)
    monkeypatch.undo()
    real_path = atomic.Path
    monkeypatch.setattr(atomic, "Path", lambda name: real_path("/nonexistent") / name.lstrip("/"))  # no /proc
    assert atomic.pid_alive(os.getpid())


def test_a_zombie_whose_name_is_not_ascii_is_gone(tmp_path):
    name = tmp_path / "z\u00f6mbie"
    name.symlink_to("/bin/true")
    child = subprocess.Popen([str(name)])
    try:
        deadline = time.monotonic() + 10
        while b") Z " not in open(f"/proc/{child.pid}/stat", "rb").read():  # exited, not yet waited for
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert not atomic.pid_alive(child.pid)
    finally:
        child.wait()


def test_a_live_process_whose_name_holds_a_parenthesis_a_state_letter_and_non_ascii_is_alive(tmp_path):
    """/proc/PID/stat puts the command name in parentheses; the state follows the last ')'."""
    name = tmp_path / "sl\u00e9ep) Z ("  # the name a process started through this link gets
    name.symlink_to("/bin/sleep")
    child = subprocess.Popen([str(name), "30"])
    try:
        deadline = time.monotonic() + 10
        while ") Z (" not in open(f"/proc/{child.pid}/stat", "rb").read().decode("utf-8", "replace"):
            assert time.monotonic() < deadline, "the child never showed its new name"
            time.sleep(0.01)
        assert atomic.pid_alive(child.pid)
    finally:
        child.kill()
        child.wait()


def test_a_stale_temporary_that_cannot_be_removed_is_left_without_an_error(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    stale = tmp_path / f".out.txt.{child.pid}.abc.tmp"
    stale.mkdir()  # unlink() fails on a folder
    (tmp_path / f".out.txt.{child.pid}.def.tmp").write_text("left by a dead writer")
    atomic.write_text(tmp_path / "out.txt", "new")
    assert stale.is_dir() and not (tmp_path / f".out.txt.{child.pid}.def.tmp").exists()
    assert (tmp_path / "out.txt").read_text() == "new"


# -- threads -----------------------------------------------------------------------------------------------------

def test_without_an_affinity_call_the_cores_are_the_cpu_count_or_one(monkeypatch):
    from pipeline.core import threads

    monkeypatch.delattr(threads.os, "sched_getaffinity")
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 3)
    assert threads.available_cores({}) == 3 and threads.available_cores({"OMP_NUM_THREADS": "2"}) == 2
    monkeypatch.setattr(threads.os, "cpu_count", lambda: None)
    assert threads.available_cores({}) == 1


# -- timestamps ------------------------------------------------------------------------------------------------

def test_an_aware_time_is_written_in_utc_whatever_the_machines_zone(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        when = datetime(2025, 1, 2, 12, 0, 0, tzinfo=timezone(timedelta(hours=-5)))
        assert timestamps.iso_utc(when) == "2025-01-02T17:00:00Z"
        assert timestamps.iso_utc(datetime(2025, 1, 2, 3, 4, 5)) == "2025-01-02T03:04:05Z"  # naive: UTC already
    finally:
        monkeypatch.undo()
        time.tzset()


# -- config ----------------------------------------------------------------------------------------------------

def test_load_params_reads_params_yaml_here_and_names_the_file_it_read(tmp_path, monkeypatch):
    (tmp_path / "params.yaml").write_text("train:\n  max_iter: 7\n")
    monkeypatch.chdir(tmp_path)
    assert config.load_params().train.max_iter == 7
    (tmp_path / "other.yaml").write_text("train:\n  max_iter: 0\n")
    with pytest.raises(PipelineError) as caught:
        config.load_params(tmp_path / "other.yaml")
    assert str(caught.value) == f"{tmp_path / 'other.yaml'}.train.max_iter must be > 0, got 0"


def test_a_params_file_that_is_missing_or_not_utf8_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PipelineError) as caught:
        config.load_params()
    assert str(caught.value) == "params.yaml: not found; run from the project root, where params.yaml lives"
    (tmp_path / "params.yaml").write_bytes(b"train:\n  optimizer: \xe9\n")
    with pytest.raises(PipelineError) as caught:
        config.load_params()
    assert str(caught.value) == "params.yaml: not UTF-8 text; fix or restore it: git checkout -- params.yaml"


def test_an_empty_section_takes_the_defaults():
    assert config.parse_params({"train": None, "split": None}) == config.Params()


def test_unknown_keys_of_any_type_are_listed_and_the_known_ones_are_comma_separated():
    with pytest.raises(PipelineError) as caught:
        config.parse_params({"predict": {1: 2, "tta_shif": 1}})
    assert str(caught.value) == ("params.yaml.predict has unknown key(s) 1, tta_shif (did you mean tta_shift?); "
                                 "known keys: tta_shift")
    with pytest.raises(PipelineError) as caught:
        config.parse_params({"split": {"zzz": 1}})
    assert str(caught.value).endswith("known keys: random_state, validation_fraction")


# -- env_settings ----------------------------------------------------------------------------------------------

def test_a_number_from_the_environment_is_above_zero_unless_zero_is_allowed():
    assert positive_number("N", 5.0, environ={}) == 5.0
    with pytest.raises(PipelineError) as caught:
        positive_number("N", 5.0, environ={"N": "0"})
    assert str(caught.value) == "environment variable N must be a number > 0, got '0'"
    assert positive_number("N", 5.0, zero_ok=True, environ={"N": "0"}) == 0


# -- param_rules -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("interval, words", [
    (param_rules.Interval(0, 1), "must be between 0 and 1"),
    (param_rules.Interval(0, 1, low_open=True), "must be > 0 and <= 1"),
    (param_rules.Interval(0, 1, high_open=True), "must be >= 0 and below 1"),
    (param_rules.Interval(0, 1, low_open=True, high_open=True), "must be between 0 and 1 (exclusive)"),
    (param_rules.Interval(2), "must be >= 2"),
    (param_rules.Interval(2, low_open=True, unit=" pixels"), "must be > 2 pixels"),
])
def test_an_intervals_words_say_which_ends_are_allowed(interval, words):
    assert interval.words() == words


@dataclasses.dataclass(frozen=True)
class Table:
    """A params table where a rule that compares with another field sorts before that field by name."""
    a_below: int = param_rules.rule(0, param_rules.Below("z_top"))
    z_top: int = param_rules.rule(5, param_rules.Interval(0, low_open=True))
    flag: bool = param_rules.rule(False)
    name: str = param_rules.rule("x")


def test_a_rule_that_compares_with_another_field_waits_for_that_field_to_pass_its_own():
    with pytest.raises(InvalidParameter) as caught:
        param_rules.check_fields(Table, {"a_below": 3, "z_top": -1}, "t")
    assert str(caught.value) == "t.z_top must be > 0, got -1"


@pytest.mark.parametrize("values, message", [
    ({"flag": "yes"}, "t.flag must be true or false, got 'yes'"),
    ({"name": 3}, "t.name must be a string, got 3"),
    ({"z_top": 2.5}, "t.z_top must be an integer, got 2.5"),
])
def test_a_value_of_the_wrong_type_is_named_with_what_it_was(values, message):
    with pytest.raises(InvalidParameter) as caught:
        param_rules.check_fields(Table, values, "t")
    assert str(caught.value) == message


def test_a_list_field_given_something_else_is_named_with_what_it_was():
    with pytest.raises(InvalidParameter) as caught:
        param_rules.coerce("64", tuple[int, ...], "t.widths")
    assert str(caught.value) == "t.widths must be a list of int, got '64'"
    with pytest.raises(TypeError, match="unsupported annotation <class 'complex'>"):
        param_rules.coerce(1, complex, "t.z")


# -- progress -------------------------------------------------------------------------------------------------------

class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_line_every_ten_seconds_by_default_when_the_total_is_unknown():
    stream, clock = io.StringIO(), Clock()
    bar = progress.Progress(None, "scan", unit="files", stream=stream, clock=clock)
    clock.now = 9.9
    bar.update(3)
    assert stream.getvalue() == ""
    clock.now = 10.0
    bar.update()  # one by default
    assert stream.getvalue() == "scan: 4 files, elapsed 10s\n"


@pytest.mark.parametrize("total", [0, -3])
def test_a_total_of_nothing_counts_as_unknown(total):
    stream, clock = io.StringIO(), Clock()
    with progress.Progress(total, "scan", stream=stream, clock=clock) as bar:
        bar.update(2)
    assert stream.getvalue() == "scan: 2 it, elapsed 0s\n"


def test_a_total_of_one_is_known():
    stream, clock = io.StringIO(), Clock()
    with progress.Progress(1, "scan", stream=stream, clock=clock) as bar:
        bar.update(1)
    assert stream.getvalue() == "scan: 1/1 it (100%), elapsed 0s\n"


def test_the_first_update_prints_at_once_even_with_nothing_done():
    stream = io.StringIO()
    progress.Progress(10, "wait", stream=stream, clock=Clock()).update(0, status="pending")
    assert stream.getvalue() == "wait: 0/10 it (0%) status=pending, elapsed 0s, about ? left\n"


def test_closing_before_any_update_says_nothing_was_done():
    stream = io.StringIO()
    progress.Progress(10, "train", stream=stream, clock=Clock()).close()
    assert stream.getvalue() == "train: 0/10 it (0%), elapsed 0s, about ? left\n"


def test_one_unreported_item_of_an_unknown_total_gets_its_line_at_close():
    stream = io.StringIO()
    with progress.Progress(None, "scan", stream=stream, clock=Clock()) as bar:
        bar.update(1)
    assert stream.getvalue() == "scan: 1 it, elapsed 0s\n"


def test_the_line_for_the_last_item_comes_before_close():
    stream, clock = io.StringIO(), Clock()
    bar = progress.Progress(20, "train", stream=stream, clock=clock)
    for _ in range(20):
        bar.update(1)
    assert stream.getvalue().splitlines()[-1] == "train: 20/20 it (100%), elapsed 0s"


@pytest.mark.parametrize("total, reported", [(5, [1, 2, 3, 4, 5]), (25, [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25])])
def test_lines_come_every_tenth_and_at_least_every_item(total, reported):
    stream = io.StringIO()
    with progress.Progress(total, "t", stream=stream, clock=Clock()) as bar:
        for _ in range(total):
            bar.update(1)
    assert [int(line.split()[1].split("/")[0]) for line in stream.getvalue().splitlines()] == reported


def test_a_terminal_can_be_told_to_get_plain_lines_and_a_stream_without_isatty_gets_them():
    stream = Terminal()
    with progress.Progress(2, "t", stream=stream, interactive=False, clock=Clock()) as bar:
        bar.update(2)
    assert stream.getvalue() == "t: 2/2 it (100%), elapsed 0s\n"

    class Pipe:
        def __init__(self):
            self.text = ""

        def write(self, text):
            self.text += text

        def flush(self):
            pass

    pipe = Pipe()
    with progress.Progress(2, "t", stream=pipe, clock=Clock()) as bar:
        bar.update(2, epoch=3, loss=0.5)
    assert pipe.text == "t: 2/2 it (100%) epoch=3 loss=0.5000, elapsed 0s\n"


def test_a_terminal_bar_shows_its_name_and_unit():
    stream = Terminal()
    with progress.Progress(4, "parse", unit="rows", stream=stream) as bar:
        bar.update(4)
    assert "parse:" in stream.getvalue() and "4/4 [" in stream.getvalue() and "rows/s" in stream.getvalue()


@pytest.mark.parametrize("seconds, text", [(59.4, "59s"), (59.6, "1m00s"), (60, "1m00s"), (3599, "59m59s"),
                                           (3600, "1h00m")])
def test_durations_at_the_minute_and_the_hour(seconds, text):
    assert progress._duration(seconds) == text


def test_sizes_past_a_tebibyte_stay_in_gibibytes():
    assert progress._amount(2**41, "B") == "2048.0 GiB"


# -- metrics_io ------------------------------------------------------------------------------------------------------

def test_metrics_json_is_sorted_indented_and_reads_back(tmp_path):
    metrics_io.write_json(tmp_path / "m.json", {"b": 1.5, "a": 2})
    assert (tmp_path / "m.json").read_text() == '{\n  "a": 2,\n  "b": 1.5\n}\n'
    assert metrics_io.read_json_object(tmp_path / "m.json") == {"a": 2, "b": 1.5}


def test_a_plot_table_has_its_header_rounded_floats_and_only_its_columns(tmp_path):
    rows = [{"iteration": 1, "loss": 0.123456789, "extra": "x"}, {"iteration": 2, "loss": 2.0}]
    metrics_io.write_csv(tmp_path / "c.csv", ["iteration", "loss"], rows)
    assert (tmp_path / "c.csv").read_bytes() == b"iteration,loss\n1,0.123457\n2,2.0\n"


@pytest.mark.parametrize("text, problem", [
    ("{not json", "not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"),
    ("[1, 2]", "expected a JSON object of named values, found list"),
])
def test_a_bad_json_object_is_one_line_naming_the_file_and_the_remedy(tmp_path, text, problem):
    (tmp_path / "m.json").write_text(text)
    with pytest.raises(PipelineError) as caught:
        metrics_io.read_json_object(tmp_path / "m.json", remedy="run dvc repro -f fetch")
    assert str(caught.value) == f"{tmp_path / 'm.json'}: {problem}; run dvc repro -f fetch"
    with pytest.raises(PipelineError) as caught:
        metrics_io.read_json_object(tmp_path / "none.json")
    assert str(caught.value) == f"{tmp_path / 'none.json'}: not found; run the stage that makes it (dvc repro)"
