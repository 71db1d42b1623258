"""Scheduled periods: which fire times of a job are owed, which one is running, which are done.

APScheduler is only the alarm clock. Whether a period runs is decided here, from smpm's store,
so the outcome does not depend on when (or how often) APScheduler wakes a job up:
- a job's periods are its cron fire times; the first time a job is seen, a `registered` row
  marks its start, so fire times before it are not owed;
- a wake-up at `now` owes the latest fire time in (last settled period, now]; earlier fire times
  in that span were missed (downtime) and are coalesced into it, so they run once, together;
- a period is claimed by inserting its row (job, fire time) before it runs: the key is unique,
  so a period is never run twice, whoever wakes up;
- a row left `running` by a scheduler that died is released when the next scheduler becomes
  active (it holds the lock, so the other is gone) and then run again; the run's trigger names
  the period, so the executor's idempotency keys skip what the first try applied. A running row
  is never taken from an owner that might still be running it.

Outcomes: registered | running | done (ran; nothing failed) | planned (a dry run) | failed
(an error, or a failed action) | interrupted (left running, then superseded by a later period).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from smpm.store import UtcDateTime, audit, metadata

REGISTERED, RUNNING, DONE, PLANNED, FAILED, INTERRUPTED = (
    "registered",
    "running",
    "done",
    "planned",
    "failed",
    "interrupted",
)
RELEASED = ""  # the owner of a period left running by a scheduler that is gone
COALESCE_COUNT_LIMIT = 100  # missed periods are counted up to this, for the record only

schedule_periods = Table(
    "schedule_periods",
    metadata,
    Column("job", String(100), primary_key=True),
    Column("fire_time", UtcDateTime(), primary_key=True),
    Column("procedure", String(100), nullable=False),
    Column("owner", String(100), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime()),
    Column("outcome", String(20), nullable=False),
    Column("coalesced", Integer, nullable=False, default=0),  # missed periods run with this one
    Column("attempts", Integer, nullable=False, default=1),
    Column("detail", Text),
    Column("run_id", String(64)),
)
_SETTLED = schedule_periods.c.finished_at.is_not(None)


def due_fire_times(
    trigger: BaseTrigger, after: datetime, now: datetime, limit: int = COALESCE_COUNT_LIMIT
) -> list[datetime]:
    """The trigger's fire times in (after, now], oldest first; only the latest `limit` of them.

    Looks back from `now` in doubling spans rather than walking forward from `after`, so a job
    firing every minute costs the same after a minute of downtime as after a year.
    """
    span = timedelta(minutes=1)
    while True:
        start = max(after, now - span)
        times = _fire_times(trigger, start, now)
        if len(times) >= limit or start == after:
            return times[-limit:]
        span *= 2


def _fire_times(trigger: BaseTrigger, after: datetime, now: datetime) -> list[datetime]:
    found: list[datetime] = []
    moment = after
    while True:
        # +1 µs: strictly after; CronTrigger rounds up to the next whole second.
        moment = trigger.get_next_fire_time(None, moment + timedelta(microseconds=1))
        if moment is None or moment > now:
            return found
        found.append(moment)


def owed(engine: Engine, job: str, trigger: BaseTrigger, now: datetime) -> list[datetime]:
    """Fire times not yet settled, up to `now` (see `due_fire_times`); empty if unregistered."""
    after = last_settled(engine, job)
    return [] if after is None else due_fire_times(trigger, after, now)


def last_settled(engine: Engine, job: str) -> datetime | None:
    with engine.connect() as conn:
        return conn.execute(
            select(func.max(schedule_periods.c.fire_time)).where(
                schedule_periods.c.job == job, _SETTLED
            )
        ).scalar()


def register(engine: Engine, job: str, procedure: str, owner: str, now: datetime) -> bool:
    """Mark a job's start the first time it is seen; True if this call did."""
    with engine.connect() as conn:
        if conn.execute(select(1).where(schedule_periods.c.job == job).limit(1)).first():
            return False
    row = {
        "outcome": REGISTERED,
        "finished_at": now,
        "detail": "first seen: earlier fire times are not owed",
    }
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(schedule_periods).values(_row(job, procedure, now, owner, now, row))
            )
    except IntegrityError:
        return False
    return True


def claim(
    engine: Engine,
    job: str,
    procedure: str,
    fire_time: datetime,
    owner: str,
    now: datetime,
    coalesced: int,
) -> bool:
    """Take the period for this owner; False if it is settled or running under an owner.

    A released row (see `release_unfinished`) is taken again; older released rows are
    superseded by this period (`interrupted`).
    """
    key = (schedule_periods.c.job == job) & (schedule_periods.c.fire_time == fire_time)
    try:
        with engine.begin() as conn:
            taken = conn.execute(
                update(schedule_periods)
                .where(key, ~_SETTLED, schedule_periods.c.owner == RELEASED)
                .values(owner=owner, started_at=now, attempts=schedule_periods.c.attempts + 1)
            ).rowcount
            if not taken:
                if conn.execute(select(1).where(key)).first():
                    return False
                values = {"outcome": RUNNING, "coalesced": coalesced}
                conn.execute(
                    insert(schedule_periods).values(
                        _row(job, procedure, fire_time, owner, now, values)
                    )
                )
            conn.execute(
                update(schedule_periods)
                .where(
                    schedule_periods.c.job == job,
                    schedule_periods.c.fire_time < fire_time,
                    ~_SETTLED,
                    schedule_periods.c.owner == RELEASED,
                )
                .values(outcome=INTERRUPTED, finished_at=now, detail=f"superseded by {fire_time}")
            )
    except IntegrityError:  # another claimer inserted it first
        return False
    return True


def release_unfinished(engine: Engine, jobs: list[str], owner: str) -> int:
    """Free the periods other schedulers left running, so they run again; returns how many.

    Only for the scheduler that holds the lock, at activation: no other owner can still run.
    """
    with engine.begin() as conn:
        return conn.execute(
            update(schedule_periods)
            .where(
                schedule_periods.c.job.in_(jobs),
                ~_SETTLED,
                schedule_periods.c.owner != owner,
            )
            .values(owner=RELEASED)
        ).rowcount


def finish(
    engine: Engine,
    job: str,
    fire_time: datetime,
    now: datetime,
    outcome: str,
    detail: str,
    run_id: str,
    audit_row: Mapping[str, Any],
) -> None:
    """The period's outcome and its audit row, in one transaction."""
    with engine.begin() as conn:
        conn.execute(
            update(schedule_periods)
            .where(schedule_periods.c.job == job, schedule_periods.c.fire_time == fire_time)
            .values(finished_at=now, outcome=outcome, detail=detail, run_id=run_id)
        )
        conn.execute(insert(audit).values(**audit_row))


def latest_run(engine: Engine, job: str) -> Mapping[str, Any] | None:
    """The job's most recent period that was run (or is running), for `smpm schedule --list`."""
    with engine.connect() as conn:
        return (
            conn.execute(
                select(schedule_periods)
                .where(schedule_periods.c.job == job, schedule_periods.c.outcome != REGISTERED)
                .order_by(schedule_periods.c.fire_time.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )


def _row(
    job: str,
    procedure: str,
    fire_time: datetime,
    owner: str,
    now: datetime,
    values: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        "job": job,
        "fire_time": fire_time,
        "procedure": procedure,
        "owner": owner,
        "started_at": now,
        "coalesced": 0,
        "attempts": 1,
        **values,
    }
