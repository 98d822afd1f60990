"""A real PostgreSQL server on a loopback port, for the tests of studies shared across machines.

Debian's ``postgresql`` package (``.ci/run`` installs it where it is missing): ``initdb`` a data
folder in the test's temporary directory (as root, a folder of its own in /tmp that the server's user
owns), ``pg_ctl start`` on a free port of 127.0.0.1 with password
authentication, ``pg_ctl stop`` after. As root (CI), the server runs as the ``postgres`` user the
package creates, since PostgreSQL refuses to run as root. Without the binaries the tests skip, and
fail when CI is set.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

USER = "tune"


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    port: int
    password: str
    data: Path
    run_as: list[str]
    pg_ctl: str

    def url(self, database: str = "postgres", password: str | None = None) -> str:
        return f"postgresql://{USER}:{self.password if password is None else password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(self.run_as + [self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"],
                       capture_output=True, check=False)
        if self.run_as:  # its own folder in /tmp
            shutil.rmtree(self.data.parent, ignore_errors=True)


def start_server(folder: Path) -> Server:
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if not (initdb and pg_ctl):
        message = "PostgreSQL's initdb/pg_ctl not found (Debian: apt-get install postgresql)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL will not run as root
        owner = pwd.getpwnam("postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
        # A folder of its own in /tmp, not under pytest's: every pytest session (another one running at the
        # same time included) makes its /tmp/pytest-of-root 0700 again, which the server could not reach.
        folder = Path(tempfile.mkdtemp(prefix="tests-postgres-"))
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    data, sockets, password = folder / "data", folder / "sockets", secrets.token_hex(8)
    password_file = folder / "password"
    password_file.write_text(password)
    sockets.mkdir(exist_ok=True)
    if run_as:
        for path in (password_file, sockets):
            os.chown(path, pwd.getpwnam("postgres").pw_uid, pwd.getpwnam("postgres").pw_gid)
    subprocess.run(run_as + [initdb, "-D", str(data), "-U", USER, "--auth=scram-sha-256",
                             f"--pwfile={password_file}", "-E", "UTF8"], capture_output=True, check=True)
    port = _free_port()
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {sockets} -c fsync=off"
    subprocess.run(run_as + [pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "server.log"), "-w",
                             "start"], capture_output=True, check=True)
    return Server(port, password, data, run_as, pg_ctl)
