"""The intake store: events are committed here before the sender hears 202, and worked from here.

One row per accepted item. Its life: pending -> processing (claimed under a lease) -> done, or
back to pending with a later `next_attempt_at` after a failure, or dead after the last attempt
(with the reason kept). A live worker renews the leases of the events it holds (`renew`); one
that dies mid-event leaves leases that expire; the next claim takes the events again, and the
executor's idempotency keys make the replay write nothing twice. An event handed back because
the ITSM was unavailable keeps its attempt (`release`).

Claims are one UPDATE ... RETURNING over the rows that are due, so two workers never take the same
row. On PostgreSQL claims take turns on a transaction advisory lock (each is one short statement),
so a lane freed or taken by one claim is seen by the next; candidate rows are locked with FOR
UPDATE SKIP LOCKED, so a claim passes over rows a worker is settling rather than wait for them.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from smpm.intake.models import Intake
from smpm.store import UtcDateTime, metadata

intake = Table(
    "intake_events",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("endpoint", String(32), nullable=False),
    Column("dedup_key", String(64), nullable=False, unique=True),
    Column("subject", String(500), nullable=False),
    Column("lane", String(500), nullable=False),
    Column("delivery_id", String(200)),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # pending | processing | done | dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("lease_owner", String(64)),
    Column("lease_until", UtcDateTime()),
    Column("last_error", Text),
    Column("finished_at", UtcDateTime()),
    Column("outcome", Text),
    Index("ix_intake_due", "status", "next_attempt_at"),
    Index("ix_intake_subject", "subject", "id"),
    Index("ix_intake_lane", "lane", "status"),
)

STATUSES = ("pending", "processing", "done", "dead")
CLAIM_LOCK = 0x736D706D  # the PostgreSQL advisory lock that serialises claims


@dataclass(frozen=True)
class Accepted:
    id: str
    duplicate: bool


@dataclass(frozen=True)
class Claimed:
    id: str
    endpoint: str
    payload: dict[str, Any]
    attempts: int
    received_at: datetime
    subject: str
    # Whether the worker still holds the event (its lease renewed in time); a handler asks
    # before each step, and stops when it is lost. Always true outside a worker.
    held: Callable[[], bool] = field(default=lambda: True, compare=False, repr=False)


_SEQUENCE = itertools.count()


def new_id(now: datetime) -> str:
    """Sortable by receipt: milliseconds, then this process's sequence, then a random tail
    (so ids from several nodes never collide)."""
    return f"{int(now.timestamp() * 1000):012x}{next(_SEQUENCE) % 16**8:08x}{uuid.uuid4().hex[:12]}"


def accept(engine: Engine, items: Sequence[Intake], now: datetime) -> list[Accepted]:
    """Store new items in one transaction; a known dedup key returns the stored row's id."""
    if not items:
        return []
    rows = [
        {
            "id": new_id(now),
            "endpoint": i.endpoint,
            "dedup_key": i.dedup_key,
            "subject": i.subject,
            "lane": i.lane,
            "delivery_id": i.delivery_id,
            "received_at": now,
            "payload": i.payload,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
        }
        for i in items
    ]
    with engine.begin() as conn:
        new = _insert_new(conn, rows)
        if new is not None and len(new) == len(rows):  # the common case: no need to look
            return [Accepted(r["id"], False) for r in rows]
        keys = list({r["dedup_key"] for r in rows if new is None or r["id"] not in new})
        stored = dict(
            conn.execute(
                select(intake.c.dedup_key, intake.c.id).where(intake.c.dedup_key.in_(keys))
            ).all()
        )
    ids = [r["id"] if new and r["id"] in new else stored[r["dedup_key"]] for r in rows]
    return [Accepted(i, i != r["id"]) for i, r in zip(ids, rows, strict=True)]


def _insert_new(conn: Connection, rows: list[dict[str, Any]]) -> set[str] | None:
    """Insert the rows whose dedup key is new; the ids of those inserted, None if unknown.

    The ids come back with RETURNING rather than being inferred from the row count: the count of
    a many-row INSERT is not reliable across drivers (psycopg through SQLAlchemy reports -1, and
    SQLAlchemy's batched "insertmanyvalues" counts the rows sent, not the rows inserted).
    """
    dialect = conn.dialect
    upsert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect.name)
    if upsert is None:  # no ON CONFLICT here: a known key fails the batch, storing nothing
        conn.execute(insert(intake), rows)
        return {r["id"] for r in rows}
    statement = upsert(intake).on_conflict_do_nothing(index_elements=["dedup_key"])
    if not dialect.insert_executemany_returning:  # SQLite before 3.35: the caller reads back
        conn.execute(statement, rows)
        return None
    return set(conn.execute(statement.returning(intake.c.id), rows).scalars())


def claim(engine: Engine, owner: str, now: datetime, lease: timedelta, limit: int) -> list[Claimed]:
    """Take up to `limit` due events (pending and due, or processing with an expired lease).

    A lane (one CI's events, one record's notifications) is worked by one worker at a time:
    events in a lane another worker holds are left for later, and all due events of a free
    lane go to the same claimer, which works them in order. Two workers therefore never decide
    about one CI at once, which is what would open two incidents for one condition.
    """
    due = ((intake.c.status == "pending") & (intake.c.next_attempt_at <= now)) | (
        (intake.c.status == "processing") & (intake.c.lease_until < now)
    )
    held = select(intake.c.lane).where(intake.c.status == "processing", intake.c.lease_until >= now)
    candidates = (
        select(intake.c.id)
        .where(due, intake.c.lane.not_in(held))
        .order_by(intake.c.next_attempt_at, intake.c.id)
        .limit(limit)
    )
    if engine.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    statement = (
        update(intake)
        .where(intake.c.id.in_(candidates.scalar_subquery()))
        .values(
            status="processing",
            lease_owner=owner,
            lease_until=now + lease,
            attempts=intake.c.attempts + 1,
        )
        .returning(
            intake.c.id,
            intake.c.endpoint,
            intake.c.payload,
            intake.c.attempts,
            intake.c.received_at,
            intake.c.subject,
        )
    )
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # claimers one at a time, so lanes stay single
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK})
        rows = conn.execute(statement).all()
    return sorted((Claimed(*row) for row in rows), key=lambda c: c.id)


def renew(
    engine: Engine, owner: str, ids: Collection[str], now: datetime, lease: timedelta
) -> set[str]:
    """Extend the leases `owner` still holds on `ids` to `now + lease`; the ids renewed.

    A lease that has run out is not renewed, even when nobody has taken the event yet: its
    lane may have gone to another worker meanwhile, so the event is no longer this one's."""
    if not ids:
        return set()
    statement = (
        update(intake)
        .where(
            intake.c.id.in_(list(ids)),
            intake.c.lease_owner == owner,
            intake.c.status == "processing",
            intake.c.lease_until >= now,
        )
        .values(lease_until=now + lease)
        .returning(intake.c.id)
    )
    with engine.begin() as conn:
        return set(conn.execute(statement).scalars())


def in_flight_before(engine: Engine, lanes: Collection[str], event_id: str) -> bool:
    """Whether an event received before `event_id` in one of `lanes` is still to be decided
    (being worked, or never tried yet) and is the first of its condition to be: a later event
    that may depend on it should wait. Repeats of a condition already decided change nothing
    upstream, so they hold nobody up."""
    if not lanes:
        return False
    unsettled = (intake.c.status == "processing") | (
        (intake.c.status == "pending") & (intake.c.attempts == 0)
    )
    earlier = intake.alias("earlier")
    decided_before = (
        select(earlier.c.id)
        .where(
            earlier.c.subject == intake.c.subject,
            earlier.c.id < intake.c.id,
            earlier.c.status == "done",
        )
        .exists()
    )
    query = (
        select(intake.c.id)
        .where(intake.c.lane.in_(list(lanes)), intake.c.id < event_id, unsettled, ~decided_before)
        .limit(1)
    )
    with engine.connect() as conn:
        return conn.execute(query).first() is not None


def defer(engine: Engine, event_id: str, owner: str, at: datetime) -> bool:
    """Back to pending until `at`, the attempt not counted: nothing was tried."""
    return _settle(
        engine,
        event_id,
        owner,
        status="pending",
        next_attempt_at=at,
        attempts=intake.c.attempts - 1,
        lease_owner=None,
        lease_until=None,
    )


def release(engine: Engine, event_id: str, owner: str, at: datetime, why: str) -> bool:
    """Back to pending until `at`, the attempt given back: the ITSM was unavailable, which
    says nothing about the event. `why` is kept as its last error, for `smpm events`."""
    return _settle(
        engine,
        event_id,
        owner,
        status="pending",
        next_attempt_at=at,
        attempts=intake.c.attempts - 1,
        last_error=why[:2000],
        lease_owner=None,
        lease_until=None,
    )


def finish(engine: Engine, event_id: str, owner: str, now: datetime, outcome: str = "") -> bool:
    """Done, with what was decided; False when the lease was lost meanwhile."""
    return _settle(
        engine,
        event_id,
        owner,
        status="done",
        finished_at=now,
        last_error=None,
        lease_owner=None,
        lease_until=None,
        outcome=outcome[:2000] or None,
    )


def occurrence(engine: Engine, subject: str, event_id: str) -> int:
    """How many stored items about `subject` arrived up to and including this one."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(intake)
                .where(intake.c.subject == subject, intake.c.id <= event_id)
            ).scalar_one()
        )


def retry_later(engine: Engine, event_id: str, owner: str, error: str, at: datetime) -> bool:
    return _settle(
        engine,
        event_id,
        owner,
        status="pending",
        next_attempt_at=at,
        last_error=error,
        lease_owner=None,
        lease_until=None,
    )


def bury(engine: Engine, event_id: str, owner: str, error: str, now: datetime) -> bool:
    """Dead: the last attempt failed; kept with its reason, never dropped."""
    return _settle(
        engine,
        event_id,
        owner,
        status="dead",
        finished_at=now,
        last_error=error,
        lease_owner=None,
        lease_until=None,
    )


def _settle(engine: Engine, event_id: str, owner: str, **values: Any) -> bool:
    with engine.begin() as conn:
        result = conn.execute(
            update(intake)
            .where(
                intake.c.id == event_id,
                intake.c.lease_owner == owner,
                intake.c.status == "processing",
            )
            .values(**values)
        )
    return result.rowcount == 1


def requeue(engine: Engine, event_id: str, now: datetime) -> bool:
    """`smpm events retry ID`: a dead (or failed) event is due again, with fresh attempts."""
    with engine.begin() as conn:
        result = conn.execute(
            update(intake)
            .where(intake.c.id == event_id, intake.c.status.in_(("dead", "pending")))
            .values(status="pending", attempts=0, next_attempt_at=now, finished_at=None)
        )
    return result.rowcount == 1


def requeue_all(
    engine: Engine, status: str, now: datetime, since: datetime | None = None
) -> list[str]:
    """`smpm events retry --all --status dead [--since DATE]`: every event in `status`
    (received at or after `since`) is due again with fresh attempts; their ids."""
    if status not in ("dead", "pending"):
        raise ValueError(f"only dead or pending events are requeued, not {status!r}")
    where = [intake.c.status == status]
    if since is not None:
        where.append(intake.c.received_at >= since)
    statement = (
        update(intake)
        .where(*where)
        .values(status="pending", attempts=0, next_attempt_at=now, finished_at=None)
        .returning(intake.c.id)
    )
    with engine.begin() as conn:
        return sorted(conn.execute(statement).scalars())


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(select(intake.c.status, func.count()).group_by(intake.c.status)).all()
    found = {status: 0 for status in STATUSES}
    found.update({status: int(n) for status, n in rows})
    return found


def listing(engine: Engine, statuses: Iterable[str], limit: int) -> list[dict[str, Any]]:
    query = (
        select(
            intake.c.id,
            intake.c.endpoint,
            intake.c.status,
            intake.c.attempts,
            intake.c.received_at,
            intake.c.next_attempt_at,
            intake.c.last_error,
            intake.c.outcome,
            intake.c.subject,
        )
        .where(intake.c.status.in_(list(statuses)))
        .order_by(intake.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
