"""Several commands started at once on a machine without Kaggle's config folder all sign in.

The ``kaggle`` client's class body checks for its config folder, then creates it without
``exist_ok``. Processes that import it at once on a fresh machine race: the losers die with
FileExistsError. The race window is microseconds, so load decides whether a test sees it; here
every child is held at that very check (a ``sitecustomize`` wraps ``os.path.exists`` for the
folder: the first answer "missing" waits until every child has had it) so the race happens on
every run unless the pipeline made the folder before importing the client.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from kaggle_support import kaggle_env

CHILDREN = 4

HOLD_AT_THE_CHECK = """
import os, time
from pathlib import Path

_target = os.path.abspath(os.environ["RACE_TARGET"])
_meeting = Path(os.environ["RACE_MEETING"])
_children = int(os.environ["RACE_CHILDREN"])
_exists = os.path.exists


def exists(path):
    found = _exists(path)
    if not found and os.path.abspath(os.fspath(path)) == _target:
        (_meeting / str(os.getpid())).touch()  # "missing", says the check: wait for every child to see that
        deadline = time.monotonic() + 60
        while len(list(_meeting.iterdir())) < _children and time.monotonic() < deadline:
            time.sleep(0.01)
    return found


os.path.exists = exists
"""

SIGN_IN = "from pipeline.kaggle.session import KaggleSession; KaggleSession('digit-recognizer').client(); print('signed in')"


@pytest.mark.parametrize("where", ["xdg", "KAGGLE_CONFIG_DIR"])
def test_commands_started_at_once_on_a_fresh_home_all_sign_in(tmp_path, fake_kaggle, where):
    home = tmp_path / "home"
    env = kaggle_env(fake_kaggle, home)
    if where == "xdg":  # no ~/.kaggle, no KAGGLE_CONFIG_DIR: the client picks ~/.config/kaggle on Linux
        del env["KAGGLE_CONFIG_DIR"]
        env.pop("XDG_CONFIG_HOME", None)
        target = home / ".config" / "kaggle"
    else:
        target = home / ".kaggle"
    assert not (home / ".kaggle").exists() and not (home / ".config").exists()
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(textwrap.dedent(HOLD_AT_THE_CHECK))
    meeting = tmp_path / "meeting"
    meeting.mkdir()
    env.update(PYTHONPATH=f"{site}:{env['PYTHONPATH']}", RACE_TARGET=str(target), RACE_MEETING=str(meeting),
               RACE_CHILDREN=str(CHILDREN))
    children = [subprocess.Popen([sys.executable, "-c", SIGN_IN], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(CHILDREN)]
    results = [(child.wait(timeout=120), *child.communicate()) for child in children]
    assert [(code, out.strip()) for code, out, _ in results] == [(0, "signed in")] * CHILDREN, \
        [err for _, _, err in results]
    assert target.is_dir()
    if where == "xdg":
        assert not (home / ".kaggle").exists()  # the pipeline made the folder the client itself would choose
