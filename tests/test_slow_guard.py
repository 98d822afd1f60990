"""The guard in slow_guard.py: a test that starts dvc or a browser without the slow mark fails."""

from __future__ import annotations

import subprocess
import sys

import pytest

from slow_guard import UnmarkedSlowTest, slow_program


@pytest.mark.parametrize("argv, program", [
    (["dvc", "repro"], "dvc"),
    (["/x/.venv/bin/dvc", "exp", "run"], "dvc"),
    ([sys.executable, "-m", "dvc", "status"], "dvc"),
    (["/usr/bin/chromium", "--headless", "--screenshot"], "chromium"),
    (["chromium-browser", "--version"], "chromium-browser"),
    (["/bin/sh", "-c", "cd repo && dvc repro"], "dvc"),
    (["/bin/bash", "-c", "timeout 60 chromium --headless"], "chromium"),
    ("dvc pull", "dvc"),
    (["git", "add", "dvc.yaml", "dvc"], None),
    ([sys.executable, "-m", "pipeline", "train"], None),
    ([sys.executable, "-c", "import dvc"], None),
    ([], None),
])
def test_slow_program_recognises_dvc_and_chromium(argv, program):
    assert slow_program(argv) == program


def fake_dvc(folder) -> str:
    path = folder / "dvc"
    path.write_text("#!/bin/sh\necho fake dvc ran\n")
    path.chmod(0o755)
    return str(path)


def test_an_unmarked_test_cannot_start_dvc(tmp_path):
    with pytest.raises(UnmarkedSlowTest, match="test_an_unmarked_test_cannot_start_dvc starts dvc but is not marked slow"):
        subprocess.run([fake_dvc(tmp_path), "--version"], capture_output=True)


@pytest.mark.slow
def test_a_slow_test_can_start_dvc(tmp_path):  # a fake dvc: the mark is what is tested, not dvc
    assert subprocess.run([fake_dvc(tmp_path)], capture_output=True, text=True, check=True).stdout == "fake dvc ran\n"
