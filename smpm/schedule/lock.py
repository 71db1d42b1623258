"""Exactly one active scheduler per store.

Two active schedulers would both wake jobs up. The period keys (`periods.claim`) already keep a
period from running twice; this lock keeps the second scheduler from even trying.

- SQLite: an exclusive `flock` on `<database file>.scheduler.lock` (the file the path
  resolves to, so a symlink or a relative path reaches the same lock), taken without waiting. A
  second scheduler refuses to start and names the holder, whose id and start time are written
  into the file. A file lock rather than a lock row with a heartbeat, because the kernel
  releases it when the holding process ends, however it ends (kill -9 included): no stale lock
  to time out, no heartbeat interval to tune, no clocks to trust. Its reach is one host, which
  is the reach of SQLite itself (its own locking needs a local file system). The file is left in
  place when released: deleting a lock file races with the next process opening it.
- PostgreSQL: `pg_try_advisory_lock` on a dedicated connection. A second scheduler stays on
  standby and tries again every few seconds; the lock lives as long as the holder's session, so
  when the holder dies and its connection closes, a standby takes over. A holder that loses its
  connection has lost the lock and stops scheduling. A holder whose host vanishes without
  closing its connection is noticed when the server's TCP keepalive gives up on it
  (`tcp_keepalives_idle`).
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from connector.errors import ConfigurationError, SmpmError

try:
    import fcntl
except ImportError:  # Windows: no flock; the SQLite lock says so when asked for
    fcntl = None  # type: ignore[assignment]

SCHEDULER_LOCK = int.from_bytes(b"smpm-sch", "big")  # advisory lock key; fits a signed bigint


class SchedulerBusy(SmpmError):
    """Raised when a scheduler starts on a SQLite store that another active scheduler holds."""


class SchedulerLock(Protocol):
    waits: bool  # True: a scheduler that cannot take it stands by; False: it refuses to start

    def acquire(self) -> bool: ...
    def held(self) -> bool: ...
    def holder(self) -> str: ...
    def release(self) -> None: ...


def new_owner() -> str:
    """An id for one scheduler instance: host, process, and a random tail."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def scheduler_lock(engine: Engine, owner: str) -> SchedulerLock:
    """The lock that fits the store's database."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        return AdvisoryLock(url, owner)
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:") or url.database.startswith("file:"):
            raise ConfigurationError(
                "database.url: the scheduler needs a database file or PostgreSQL; "
                "an in-memory database lives and dies with one connection"
            )
        return FileLock(lock_path(Path(url.database)), owner)
    raise ConfigurationError(
        f"database.url: the scheduler runs on SQLite or PostgreSQL, not {url.get_backend_name()}"
    )


def lock_path(database: Path) -> Path:
    """`<database file>.scheduler.lock`, beside the file SQLite opens: symlinks, `..` and a
    relative path resolved first, so every spelling of one database meets on one lock (a link
    named `smpm.db` would otherwise get a lock of its own, and both schedulers run).

    A hard link is a second name the file system cannot trace back; do not give one database
    two hard-linked names."""
    real = database.resolve()
    return real.with_name(real.name + ".scheduler.lock")


class FileLock:
    """An exclusive flock on a file next to the SQLite database."""

    waits = False

    def __init__(self, path: Path, owner: str) -> None:
        self.path = path
        self.owner = owner
        self._fd: int | None = None

    def acquire(self) -> bool:
        if fcntl is None:
            raise ConfigurationError(
                "database.url: the scheduler's SQLite lock needs POSIX file locks, which this "
                "system lacks; use PostgreSQL"
            )
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{self.owner} since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC\n".encode(), 0)
        self._fd = fd
        return True

    def held(self) -> bool:
        return self._fd is not None

    def holder(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8").strip() or "unknown"
        except OSError:
            return "unknown"

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor releases the flock
            self._fd = None


class AdvisoryLock:
    """A PostgreSQL session advisory lock, held on a connection of its own."""

    waits = True

    def __init__(self, url: URL, owner: str, key: int = SCHEDULER_LOCK) -> None:
        self.owner = owner
        self.key = key
        # No pool: closing the connection must end the session, and the lock with it.
        self._engine = create_engine(url, poolclass=NullPool)
        self._conn: Connection | None = None
        # Whether our session took the lock: a standby keeps its session too, without the lock.
        self._mine = False

    def acquire(self) -> bool:
        if self.held():  # taking it again would stack a second hold on the session
            return True
        try:
            if self._conn is None:
                self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            query = text("SELECT pg_try_advisory_lock(:key)")
            self._mine = bool(self._conn.execute(query, {"key": self.key}).scalar())
        except SQLAlchemyError:
            self._drop()
        return self._mine

    def held(self) -> bool:
        """Taken by our session, and the session is still there (the lock ends with it)."""
        if self._conn is None or not self._mine:
            return False
        try:
            self._conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            self._drop()
            return False
        return True

    def holder(self) -> str:
        return f"another session holds PostgreSQL advisory lock {self.key}"

    def release(self) -> None:
        if self._conn is not None:
            if self._mine:
                with contextlib.suppress(SQLAlchemyError):  # else the session, and lock, are gone
                    self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            self._drop()
        self._engine.dispose()

    def _drop(self) -> None:
        self._mine = False
        if self._conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._conn.close()
            self._conn = None
