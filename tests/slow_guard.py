"""Every test that starts dvc or a browser must be marked ``slow``: ``pytest -m "not slow"`` is the
one-minute loop (issue #19), and one unmarked ``dvc repro`` would cost it a minute.

conftest.py installs an audit hook on ``subprocess.Popen`` (every ``subprocess.run`` goes through it):
while a test that is not marked slow runs (its fixtures included), starting one of these programs
raises :class:`UnmarkedSlowTest` before anything is executed.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

SLOW_PROGRAMS = frozenset({"dvc", "chromium", "chromium-browser"})


class UnmarkedSlowTest(Exception):
    pass


def slow_program(argv) -> str | None:
    """The slow program that ``argv`` (as Popen gets it) starts, if any: directly, as ``python -m``, or via ``sh -c``."""
    words = shlex.split(os.fsdecode(argv)) if isinstance(argv, (str, bytes, os.PathLike)) else [os.fsdecode(w) for w in argv]
    if not words:
        return None
    name = Path(words[0]).name
    if name in SLOW_PROGRAMS:
        return name
    if name.startswith("python") and "-m" in words[1:-1] and words[words.index("-m") + 1] in SLOW_PROGRAMS:
        return words[words.index("-m") + 1]
    if name in {"sh", "bash", "dash"} and len(words) > 2 and words[1] == "-c":  # any word of the script
        return next((Path(w).name for w in shlex.split(words[2]) if Path(w).name in SLOW_PROGRAMS), None)
    return None


current_test = None  # the item being run (setup, call and teardown), unless it is marked slow


def _audit(event: str, args: tuple) -> None:
    if event == "subprocess.Popen" and current_test is not None:
        program = slow_program(args[1])
        if program is not None:
            raise UnmarkedSlowTest(f"{current_test.nodeid} starts {program} but is not marked slow: add "
                                   "@pytest.mark.slow (or a module-level pytestmark = pytest.mark.slow)")


def install() -> None:
    sys.addaudithook(_audit)  # stays for the life of the process (audit hooks cannot be removed)
