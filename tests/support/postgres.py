"""A throwaway PostgreSQL server for the test session: ``initdb`` + ``pg_ctl start`` in a
temporary folder, on a free port of 127.0.0.1, stopped and removed at the end.

The server binaries are Debian's (``/usr/lib/postgresql/*/bin``, or ``pg_config
--bindir``, or ``initdb`` on the PATH). PostgreSQL refuses to run as root, so as root the
cluster belongs to the ``postgres`` user (else ``nobody``) and its commands run through
``runuser``; its folder is then made outside pytest's root-only temporary tree. The tests
that need the server are skipped only when no binary is found, and fail instead when
``CI=true`` (``.ci/run`` installs the package).
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.receivers import free_port

USER = "newswatch"
PASSWORD = "pg-test-s3cret"  # the test cluster's; scram over 127.0.0.1 checks it


def server_bindir() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``, the newest version first; None if none."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version, reverse=True)
    if pg_config := shutil.which("pg_config"):
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        found.append(Path(out.stdout.strip()))
    if initdb := shutil.which("initdb"):
        found.append(Path(initdb).resolve().parent)
    return next((d for d in found if (d / "initdb").exists() and (d / "pg_ctl").exists()), None)


def _version(bindir: Path) -> int:
    name = bindir.parent.name
    return int(name) if name.isdigit() else 0


class PgServer:
    """One cluster, started in ``root``; ``url(db)`` names a database on it."""

    def __init__(self, bindir: Path, root: Path, owner: str | None) -> None:
        self.bindir, self.root, self.owner = bindir, root, owner
        self.data = root / "data"
        self.port = free_port()
        self._names = itertools.count(1)

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.owner is not None:
            command = ["runuser", "-u", self.owner, "--", *command]
        done = subprocess.run(command, cwd=self.root, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stdout}{done.stderr}")

    def start(self) -> None:
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD)
        if self.owner is not None:
            shutil.chown(pwfile, self.owner)
        self._run(
            "initdb", "-D", str(self.data), "-U", USER, "--pwfile", str(pwfile),
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-o", options,
                  "-w", "-t", "60", "start")  # fmt: skip

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """The URL of a new, empty database of its own."""
        import psycopg

        name = f"t{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)


def server_owner() -> str | None:
    """Whom the cluster runs as: this user, or (as root) an unprivileged one."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("no unprivileged user to run PostgreSQL as")


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgServer]:
    """The session's PostgreSQL server (skipped where none is installed, failed in CI)."""
    bindir = server_bindir()
    if bindir is None:
        message = "no PostgreSQL server binaries (apt-get install postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    owner = server_owner()
    if owner is None:
        root = tmp_path_factory.mktemp("pg")
    else:  # pytest's temporary tree is root's alone
        root = Path(tempfile.mkdtemp(prefix="newswatch-pg-"))
        shutil.chown(root, owner)
    server = PgServer(bindir, root, owner)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        if owner is not None:
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """The URL of a fresh database on the session's server."""
    return pg_server.new_database()
