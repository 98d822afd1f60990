"""Zips and array files we write are byte-reproducible even when the clock moves between writes."""

import time
import zipfile

import numpy as np
import pytest

from pipeline.core.arrays_file import save_arrays
from pipeline.core.zip_files import ZIP_EPOCH, write_zip

MEMBERS = {"a.csv": b"1,2\n", "b.csv": b"3,4\n"}


@pytest.fixture
def move_clock(monkeypatch):
    """Call to put the clock a day and a few seconds ahead: any timestamp that creeps in shows."""
    def move():
        later = time.time() + 86_400 + 7
        monkeypatch.setattr(time, "time", lambda: later)
        monkeypatch.setattr(time, "localtime", lambda secs=None: time.gmtime(later if secs is None else secs))
    return move


def test_write_zip_gives_the_same_bytes_an_hour_later(tmp_path, move_clock):
    write_zip(tmp_path / "1.zip", MEMBERS)
    move_clock()
    write_zip(tmp_path / "2.zip", MEMBERS)
    assert (tmp_path / "1.zip").read_bytes() == (tmp_path / "2.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "1.zip") as archive:
        assert archive.read("b.csv") == b"3,4\n"
        assert {info.date_time for info in archive.infolist()} == {ZIP_EPOCH}


def test_save_arrays_gives_the_same_bytes_a_day_later(tmp_path, move_clock):
    arrays = {"X": np.arange(12, dtype=np.uint8).reshape(3, 4), "y": np.array([1.5, 2.5], dtype=np.float32)}
    for compress in (False, True):
        save_arrays(tmp_path / "a.npz", arrays, compress=compress)
        move_clock()
        save_arrays(tmp_path / "b.npz", arrays, compress=compress)
        assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
