"""smpm's own durable state, through SQLAlchemy: SQLite by default, PostgreSQL for several nodes.

Tables:
- `idempotency`: one row per write smpm decided, keyed by its idempotency key; written *before*
  the ITSM call (status pending) and completed after it (done, with the record it produced).
- `audit`: one row per action outcome: when, procedure, trigger, target, fields, reason, outcome.
- `pending_writes`: for a pending key whose write may create something (a record, a work note,
  a link), which run's attempt holds it, how to find the write in the ITSM and what its audit
  row says; removed once the key is done. It lets any later run settle the key even when no
  plan asks for that write again (smpm.pending says how).

SQLite runs in WAL mode with `synchronous=FULL`, so a committed row survives a power cut.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from connector.errors import ConfigurationError

metadata = MetaData()


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC out, on every database.

    SQLite has no time zones: it would hand back naive values and compare stored strings, so
    every value is normalised to naive UTC on the way in and made aware again on the way out.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the state store; use aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


idempotency = Table(
    "idempotency",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("procedure", String(100), nullable=False),
    Column("trigger", Text, nullable=False),
    Column("step", String(200), nullable=False),
    Column("status", String(16), nullable=False),  # pending | done
    Column("result_id", String(200)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_idempotency_procedure_trigger", "procedure", "trigger"),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("procedure", String(100), nullable=False),
    Column("trigger", Text, nullable=False),
    Column("step", String(200), nullable=False),
    Column("action", String(20), nullable=False),
    Column("target_kind", String(40), nullable=False),
    Column("target_id", String(200)),
    Column("fields", JSON, nullable=False),
    Column("reason", Text, nullable=False),
    Column("outcome", String(20), nullable=False),  # applied | skipped | failed | recovered
    Column("detail", Text),
    Column("idempotency_key", String(64)),
    Index("ix_audit_procedure_at", "procedure", "at"),
    Index("ix_audit_target", "target_id"),
)


pending_writes = Table(
    "pending_writes",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("attempt", String(64), nullable=False),  # run id of the attempt holding the key
    Column("lookup", JSON(none_as_null=True)),  # finds the write (smpm.pending.lookup_of)
    Column("action", String(20), nullable=False),
    Column("target_kind", String(40), nullable=False),
    Column("target_id", String(200)),
    Column("fields", JSON, nullable=False),
    Column("reason", Text, nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("checked_at", UtcDateTime()),  # last look-up that did not find the write
)


def settled_triggers(engine: Engine, procedure: str, triggers: Iterable[str]) -> set[str]:
    """Triggers of `procedure` with at least one done key and no pending one."""
    wanted = list(dict.fromkeys(triggers))
    done: set[str] = set()
    pending: set[str] = set()
    with engine.connect() as conn:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = conn.execute(
                select(idempotency.c.trigger, idempotency.c.status).where(
                    idempotency.c.procedure == procedure, idempotency.c.trigger.in_(chunk)
                )
            )
            for trigger, status in rows:
                (done if status == "done" else pending).add(trigger)
    return done - pending


def utcnow() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(autocheckpoint: bool) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=10000")
        if not autocheckpoint:  # the caller checkpoints (smpm.intake.checkpoint says why)
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    return on_connect


BACKENDS = ("sqlite", "postgresql")
URL_FORM = "sqlite:///path/to/smpm.db or postgresql+psycopg://user@host/database"


class StoreUnavailable(ConfigurationError):
    """The state database that `database.url` names cannot be opened (no such host, refused,
    a folder that cannot be made, a file that is not a database); the CLI adds where the URL
    was set."""


def check_url(url: str) -> None:
    """Raise ValueError unless `url` names a store smpm can open: SQLite or PostgreSQL, with its
    driver installed. Checked when the settings load, before anything is written; the message
    never repeats the URL, which may hold a password."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(f"not a database URL; write {URL_FORM}") from None
    backend = parsed.get_backend_name()
    if backend not in BACKENDS:
        raise ValueError(f"smpm keeps its state in SQLite or PostgreSQL, not {backend}")
    try:
        parsed.get_dialect().import_dbapi()
    except (ImportError, ArgumentError):
        raise ValueError(
            f"the driver {parsed.get_driver_name()} is not installed; use postgresql+psycopg:// "
            "(pip install 'smpm[postgresql]')"
        ) from None


def open_engine(url: str, *, autocheckpoint: bool = True) -> Engine:
    """An engine for `url` with the tables created; SQLite folders are made as needed.

    `autocheckpoint=False` leaves an SQLite WAL's checkpoints to the caller. A store that
    cannot be opened raises StoreUnavailable, naming the URL without its password."""
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(
                f"database.url: cannot make the folder {str(folder)!r} of {shown}: {exc.strerror}"
            ) from None
    engine = create_engine(url, future=True)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas(autocheckpoint))
    try:
        metadata.create_all(engine)
    except DBAPIError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise StoreUnavailable(f"database.url: cannot open {shown}: {reason}") from None
    return engine
