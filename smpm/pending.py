"""Pending writes: who holds a key, how to find its write in the ITSM, and settling the rest.

A key is pending from the moment it is committed (before its write is sent) until its outcome
is recorded. It stays pending when that outcome never came: the process was killed once the
ITSM had acted (kill -9), the answer came after the client's read timeout (`OutcomeUnknown`),
or another worker still holds it (an expired lease). The ITSM alone knows what happened, and
it is asked by the key stamped on the write: the correlation id of a record, the reference line
of a work note, the link itself.

For a write that may create something, `pending_writes` keeps beside the key
- `attempt`: the run whose attempt holds it. A run that finds the key pending and its write
  absent takes the attempt over by compare-and-set, so of two runs retrying it one writes;
- `lookup`: how to find the write, and the audit row's contents, so that *any* run can settle
  the key (`sweep`), not only a replay of the plan that decided it. A procedure that decides
  again after a kill often plans the write no more (it sees the record and takes the event
  for a repeat), and without the sweep the key would stay pending and the audit would lack
  the record's creation.

Settling is compare-and-set too (pending -> done), so a record the sweep of one run found and
the answer its writer got later are audited once. Updates are absolute and notifications cannot
be asked about: their keys are left for their plan's replay.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from connector.base import Connector
from connector.entities import ENTITY_TYPES, RecordKind, Relation, WorkNote
from connector.enums import RelationType
from connector.errors import (
    AuthenticationFailed,
    ConfigurationError,
    ConnectorError,
    FormNotFound,
    PermissionDenied,
    RateLimited,
    Rejected,
    RetryableError,
    TLSError,
)
from connector.filters import Field
from procedures.plan import Action, ActionKind
from smpm.store import audit, idempotency, pending_writes, utcnow

log = logging.getLogger("smpm.executor")

LOOKED_UP = (ActionKind.CREATE, ActionKind.ADD_NOTE, ActionKind.RELATE)
RECHECK = timedelta(seconds=60)  # a write not found is looked for again after this long
SWEEP_LIMIT = 50  # pending writes looked up per sweep, those looked for least recently first
# Answers that prove the write was not made: nothing to look for.
REFUSALS = (AuthenticationFailed, PermissionDenied, FormNotFound, Rejected, TLSError, RateLimited)


class InFlight:
    """Keys whose writes this process is sending now. A worker that finds such a key pending
    (it took the event over from an expired lease, say) leaves the write to the thread sending
    it, which a look-up could not see yet; a sweep does not ask the ITSM about it either."""

    def __init__(self) -> None:
        self._keys: set[str] = set()
        self._lock = threading.Lock()

    def hold(self, key: str) -> bool:
        """Hold the key for the caller's write; False when another thread holds it."""
        with self._lock:
            if key in self._keys:
                return False
            self._keys.add(key)
            return True

    def release(self, keys: Iterable[str]) -> None:
        with self._lock:
            self._keys.difference_update(keys)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._keys


IN_FLIGHT = InFlight()


def may_have_acted(error: Exception) -> bool:
    """Whether the ITSM may have made a write that failed with `error`: no answer, a server
    or gateway error, a read-back that failed; not a refusal, nor a failure before sending."""
    if not isinstance(error, ConnectorError) or isinstance(error, REFUSALS):
        return False
    return error.status not in (429, 503)  # answered before acting (http.SAFE_POST_STATUS)


# -- finding a write by its key ----------------------------------------------------------------
def lookup_of(action: Action) -> dict[str, Any] | None:
    """What finds this (resolved) action's write in the ITSM; None: it cannot be asked for."""
    if action.kind is ActionKind.CREATE and action.record is not None:
        return {"kind": "create", "record": action.record.kind.value}
    if action.kind is ActionKind.ADD_NOTE and action.note is not None:
        note = action.note
        return {"kind": "add_note", "parent_kind": note.parent_kind.value, "id": note.parent_id}
    if action.kind is ActionKind.RELATE and action.relation is not None:
        return {"kind": "relate", "relation": action.relation.model_dump(mode="json")}
    return None


def find_written(connector: Connector, key: str, lookup: dict[str, Any] | None) -> str | None:
    """The result id of the write `key` stands for, when the ITSM holds it; else None."""
    if lookup is None:
        return None
    if lookup["kind"] == "create":
        model = ENTITY_TYPES[RecordKind(lookup["record"])]
        for found in connector.find(model, Field("correlation_id") == key, limit=1):
            return found.id
        return None
    if lookup["kind"] == "add_note":
        parent = str(lookup["id"])
        where = (Field("parent_id") == parent) & Field("text").contains(key)
        within = RecordKind(lookup["parent_kind"])
        for _ in connector.find(WorkNote, where, within=within, limit=1):
            return parent
        return None
    relation = Relation.model_validate(lookup["relation"])
    return relation.target_id if related(connector, relation) else None


def related(connector: Connector, rel: Relation) -> bool:
    """Whether the ITSM holds this link already: on the source with its type, or on the target
    with the type seen from there (Remedy's reciprocal association row, or a platform keeping
    the link on that record only)."""
    ways = [(rel.source_kind, rel.source_id, rel.relation_type, rel.target_kind, rel.target_id)]
    back = rel.relation_type.inverse
    if back is not None:
        ways.append((rel.target_kind, rel.target_id, back, rel.source_kind, rel.source_id))
    return any(_holds(connector, *way) for way in ways)


def _holds(
    connector: Connector,
    kind: RecordKind,
    source: str,
    relation_type: RelationType,
    to_kind: RecordKind,
    target: str,
) -> bool:
    """One record's links include this one; rows are checked here, not trusted to the filter.
    A kind the platform keeps no links on holds none (the write then says why it cannot)."""
    where = (
        (Field("source_id") == source)
        & (Field("target_id") == target)
        & (Field("target_kind") == to_kind)
    )
    wanted = (kind, source, relation_type, to_kind, target)
    try:
        found = connector.find(Relation, where, within=kind)
        return any(
            (r.source_kind, r.source_id, r.relation_type, r.target_kind, r.target_id) == wanted
            for r in found
        )
    except ConfigurationError:
        return False


# -- holding a key -----------------------------------------------------------------------------
def intent_row(
    key: str, action: Action, fields: dict[str, Any], run_id: str, now: datetime
) -> dict[str, Any]:
    """The `pending_writes` row of a write about to be sent by run `run_id`."""
    return {
        "key": key,
        "attempt": run_id,
        "lookup": lookup_of(action),
        "action": action.kind.value,
        "target_kind": action.target_kind.value,
        "target_id": None if action.target_id is None else str(action.target_id),
        "fields": fields,
        "reason": str(action.reason),
        "started_at": now,
        "checked_at": None,
    }


def attempt_of(engine: Engine, key: str) -> str | None:
    """The run whose attempt holds a pending key (None: no attempt recorded for it)."""
    with engine.connect() as conn:
        query = select(pending_writes.c.attempt).where(pending_writes.c.key == key)
        return conn.execute(query).scalar_one_or_none()


def take_over(engine: Engine, row: dict[str, Any], seen: str | None) -> bool:
    """Make `row["attempt"]` the holder of a pending key last held by `seen` (None: by no
    recorded attempt); False when another run took it (or settled it) in between. The holder
    is read before the look-up, so a run that took the key over and wrote meanwhile is seen."""
    try:
        with engine.begin() as conn:
            if seen is None:
                conn.execute(insert(pending_writes), [row])
                return True
            taken = conn.execute(
                update(pending_writes)
                .where(pending_writes.c.key == row["key"], pending_writes.c.attempt == seen)
                .values({k: v for k, v in row.items() if k != "key"})
            )
            return bool(taken.rowcount)
    except IntegrityError:  # another run recorded its attempt first
        return False


def mark_done(conn: Connection, key: str, result_id: str | None, now: datetime) -> bool:
    """pending -> done, once: False when another run settled the key first."""
    done = conn.execute(
        update(idempotency)
        .where(idempotency.c.key == key, idempotency.c.status == "pending")
        .values(status="done", result_id=result_id, updated_at=now)
    )
    conn.execute(delete(pending_writes).where(pending_writes.c.key == key))
    return bool(done.rowcount)


def forget(conn: Connection, key: str, run_id: str) -> None:
    """The write was refused or never sent: nothing for a sweep to look for. The key stays
    pending, so its plan's replay still looks before writing."""
    conn.execute(
        delete(pending_writes).where(
            pending_writes.c.key == key, pending_writes.c.attempt == run_id
        )
    )


def looked_for(conn: Connection, key: str) -> None:
    """A look-up did not find the write: ask again no sooner than RECHECK from now."""
    conn.execute(
        update(pending_writes).where(pending_writes.c.key == key).values(checked_at=utcnow())
    )


# -- settling what earlier runs left -----------------------------------------------------------
def sweep(
    connector: Connector,
    engine: Engine,
    *,
    run_id: str,
    now: datetime,
    exclude: Iterable[str] = (),
    in_flight: InFlight = IN_FLIGHT,
    limit: int = SWEEP_LIMIT,
) -> list[str]:
    """Look up pending writes of any run and procedure; those the ITSM holds are settled as
    recovered, with their audit rows (stamped `now`, in run `run_id`). Keys in `exclude` (the
    plan's own, which it settles itself) and writes this process is sending are left alone;
    a write not found stays pending for its plan's replay. Returns the keys recovered."""
    skip = set(exclude)
    recovered: list[str] = []
    for row in _due(engine, limit + len(skip)):
        if row["key"] in skip or row["key"] in in_flight:
            continue
        try:
            found = find_written(connector, row["key"], row["lookup"])
        except RetryableError as exc:  # the ITSM is not answering: the next run asks again
            log.warning("pending writes not looked up: %s", exc)
            break
        except (ConnectorError, ConfigurationError, ValueError) as exc:
            log.warning("pending write %s not looked up: %s", row["key"], exc)
            continue
        with engine.begin() as conn:
            if found is None:
                looked_for(conn, row["key"])
            elif mark_done(conn, row["key"], found, now):
                conn.execute(insert(audit).values(recovered_audit(row, found, run_id, now)))
                recovered.append(row["key"])
        if len(recovered) >= limit:
            break
    return recovered


def _due(engine: Engine, limit: int) -> list[dict[str, Any]]:
    """Pending writes that can be looked up and were not looked for lately, with the names of
    their procedure, trigger and step."""
    p, i = pending_writes.c, idempotency.c
    query = (
        select(pending_writes, i.procedure, i.trigger, i.step)
        .join(idempotency, i.key == p.key)
        .where(
            i.status == "pending",
            p.lookup.is_not(None),
            (p.checked_at.is_(None)) | (p.checked_at < utcnow() - RECHECK),
        )
        .order_by(p.checked_at.is_not(None), p.checked_at, p.started_at)
        .limit(limit)
    )
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def recovered_audit(row: dict[str, Any], found: str, run_id: str, now: datetime) -> dict[str, Any]:
    """The audit row of a write a sweep found: what the run that decided it would have written,
    with the record it produced."""
    target = found if row["action"] == ActionKind.CREATE.value else row["target_id"]
    return {
        "at": now,
        "run_id": run_id,
        "procedure": row["procedure"],
        "trigger": row["trigger"],
        "step": row["step"],
        "action": row["action"],
        "target_kind": row["target_kind"],
        "target_id": target,
        "fields": row["fields"],
        "reason": row["reason"],
        "outcome": "recovered",
        "detail": "left pending by an earlier run; found in the ITSM by its key",
        "idempotency_key": row["key"],
    }
