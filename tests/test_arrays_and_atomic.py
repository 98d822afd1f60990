import os

import numpy as np
import pytest

from pipeline.core.arrays_file import load_arrays, save_arrays
from pipeline.core.atomic import atomic_output, write_text
from pipeline.core.errors import PipelineError


def test_arrays_round_trip_and_identical_arrays_give_identical_bytes(tmp_path):
    arrays = {"X": np.arange(12, dtype=np.uint8).reshape(3, 4), "y": np.array([1.5, 2.5], dtype=np.float32)}
    save_arrays(tmp_path / "a.npz", arrays)
    save_arrays(tmp_path / "b.npz", arrays)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    loaded = load_arrays(tmp_path / "a.npz", required=("X", "y"))
    for name in arrays:
        np.testing.assert_array_equal(loaded[name], arrays[name])
        assert loaded[name].dtype == arrays[name].dtype


def test_load_arrays_errors(tmp_path):
    with pytest.raises(PipelineError, match="not found; run the stage"):
        load_arrays(tmp_path / "missing.npz")
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(PipelineError, match="corrupt.npz: not a readable array file"):
        load_arrays(corrupt)
    save_arrays(tmp_path / "partial.npz", {"X": np.zeros(2)})
    with pytest.raises(PipelineError, match="missing array\\(s\\) y"):
        load_arrays(tmp_path / "partial.npz", required=("X", "y"))


def test_atomic_output_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "out.txt"
    write_text(path, "old")
    with pytest.raises(RuntimeError):
        with atomic_output(path, "w") as handle:
            handle.write("half")
            raise RuntimeError("crash mid-write")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]  # no temporary left behind


def test_a_dead_writers_temporary_is_removed_by_the_next_write_and_a_live_ones_kept(tmp_path):
    import subprocess
    import sys
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)  # a process that has exited
    orphan = tmp_path / f".out.txt.{dead_pid}.abc123.tmp"
    live = tmp_path / f".out.txt.{os.getpid()}.def456.tmp"  # as if another thread of ours were writing
    other = tmp_path / f".other.txt.{dead_pid}.xyz.tmp"      # another file's: not ours to touch
    for p in (orphan, live, other):
        p.write_text("half")
    write_text(tmp_path / "out.txt", "whole")
    assert (tmp_path / "out.txt").read_text() == "whole"
    assert not orphan.exists() and live.exists() and other.exists()


def test_a_killed_writer_not_yet_reaped_counts_as_dead(tmp_path):
    import subprocess
    import sys
    import time
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])  # exits; not waited for, so a zombie
    deadline = time.monotonic() + 30
    while open(f"/proc/{zombie.pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    orphan = tmp_path / f".out.txt.{zombie.pid}.abc123.tmp"
    orphan.write_text("half")
    write_text(tmp_path / "out.txt", "whole")
    assert not orphan.exists()
    zombie.wait()
