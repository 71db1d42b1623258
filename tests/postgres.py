"""A throwaway PostgreSQL server for the tests that claim PostgreSQL support.

One server per test session, on loopback at a free port, its data in a temporary folder (in
memory where possible; fsync off: nothing in it must survive); each test gets a database of its
own, dropped afterwards. The server binaries are looked up on PATH, then in
/usr/lib/postgresql/<version>/bin. Without them the PostgreSQL tests are skipped, unless
SMPM_REQUIRE_POSTGRES=1 (CI) makes that a failure: a skip there would hide that PostgreSQL
support went untested.

Running as root (containers), the server runs as the `postgres` OS user: initdb and postgres
refuse root.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

REQUIRE = "SMPM_REQUIRE_POSTGRES"
SERVER_USER = "postgres"  # the OS user the server runs as when we are root
SUPERUSER = "postgres"  # the database superuser initdb creates
START_TIMEOUT_SECONDS = 60

# For fixtures parametrized over both stores: every test using them runs on SQLite and on
# PostgreSQL; `database_url` turns the parameter into a URL.
BACKENDS = (
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
)


def find_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl: PATH first, then Debian's versioned folders."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    for bindir in reversed(versions):
        if (bindir / "pg_ctl").is_file() and (bindir / "initdb").is_file():
            return bindir
    return None


def scratch() -> str | None:
    """Where the cluster goes: memory when there is a tmpfs (CREATE DATABASE writes megabytes;
    on a disk that is ten times slower, even with fsync off), else the usual temporary folder."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One PostgreSQL cluster in `root`, started by `start` and removed by `stop`."""

    def __init__(self, bindir: Path, root: Path) -> None:
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.sockets = root / "sockets"
        self.log = root / "server.log"
        self.port = free_port()
        self._as = ["runuser", "-u", SERVER_USER, "--"] if os.geteuid() == 0 else []

    def start(self) -> None:
        self.sockets.mkdir()
        if self._as:
            user = pwd.getpwnam(SERVER_USER)
            for path in (self.root, self.sockets):
                os.chown(path, user.pw_uid, user.pw_gid)
        self._run(
            "initdb",
            "--pgdata",
            str(self.data),
            "--username",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        )
        options = (
            f"-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            f" -c listen_addresses=127.0.0.1 -k {self.sockets} -p {self.port}"
        )
        self._run(
            "pg_ctl",
            "start",
            "--wait",
            f"--timeout={START_TIMEOUT_SECONDS}",
            "--pgdata",
            str(self.data),
            "--log",
            str(self.log),
            "--options",
            options,
        )

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):  # never started, or already gone
            self._run("pg_ctl", "stop", "--mode=immediate", "--wait", "--pgdata", str(self.data))
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def admin(self, database: str = "postgres") -> Any:
        """A plain psycopg connection in autocommit, for what tests do behind smpm's back."""
        import psycopg

        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname=database, autocommit=True
        )

    def create_database(self) -> str:
        name = f"smpm_test_{uuid.uuid4().hex[:12]}"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        """Dropped even if code under test left a connection open (FORCE ends its session)."""
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _run(self, program: str, *args: str) -> None:
        command = [*self._as, str(self.bindir / program), *args]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{program} failed ({done.returncode}): {done.stderr.strip() or done.stdout}\n{log}"
            )


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail when PostgreSQL is required: a skipped PG test must not pass CI silently."""
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{REQUIRE}=1 but {reason}", pytrace=False)
    pytest.skip(f"{reason} (set {REQUIRE}=1 to make this a failure)")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole session, started at the first test that asks."""
    try:
        import psycopg  # noqa: F401 - the driver the URLs name
    except ImportError:
        unavailable("the PostgreSQL driver is not installed (pip install 'psycopg[binary]')")
    bindir = find_bindir()
    if bindir is None:
        unavailable("no PostgreSQL server binaries (initdb, pg_ctl) on PATH or /usr/lib/postgresql")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            unavailable(f"running as root and there is no {SERVER_USER!r} user to run PostgreSQL")
    server = PostgresServer(bindir, Path(tempfile.mkdtemp(prefix="smpm-pg-", dir=scratch())))
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a new, empty database; dropped after the test (dispose engines before)."""
    name = postgres_server.create_database()
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


def database_url(request: pytest.FixtureRequest, tmp_path: Path, filename: str = "state.db") -> str:
    """For a fixture parametrized with BACKENDS: a PostgreSQL database, or (the default, when
    not parametrized) a SQLite file in tmp_path."""
    if getattr(request, "param", "sqlite") == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / filename}"
