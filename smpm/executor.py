"""Apply a plan through the connector: once, in order, with an audit record for each action.

For every write the executor
1. derives its idempotency key from (procedure, trigger, step);
2. skips it when the key is recorded as done;
3. records the key as pending and commits, *then* writes to the ITSM, stamping the key on what it
   writes (the record's correlation field, or a reference line in a work note);
4. marks the key done and writes the audit row in one transaction.

A crash between 3 and 4 leaves a pending key. The next run finds it and asks the ITSM whether the
write happened (a record with that correlation id, a work note carrying the key, the relation
itself) before writing again, so a replay never creates a second record. A relate whose link
the ITSM holds already, seen from either record, is skipped ("already related"). Updates set
absolute values, so repeating one is harmless. External notifications (mail, chat) are
at-least-once.

A failed action does not stop the others; an action that needs the record a failed step was to
create is reported as blocked.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from connector.base import BatchWriter, Connector, RecordUpdate
from connector.entities import ENTITY_TYPES, Entity, RecordKind, Relation, WorkNote
from connector.enums import RelationType
from connector.errors import ConfigurationError, ConnectorError
from connector.filters import Field
from procedures.plan import Action, ActionKind, Plan, Ref
from smpm.store import audit, idempotency, utcnow

Notifier = Callable[[str, str, Action], None]

APPLIED, SKIPPED, FAILED, RECOVERED, PLANNED, BLOCKED, UNSUPPORTED = (
    "applied",
    "skipped",
    "failed",
    "recovered",
    "planned",
    "blocked",
    "unsupported",
)


def idempotency_key(procedure: str, trigger: str, step: str) -> str:
    """Deterministic, short enough for any ITSM text field, and free of query metacharacters."""
    digest = hashlib.sha256(f"{procedure}\x1f{trigger}\x1f{step}".encode()).hexdigest()
    return f"smpm-{digest[:27]}"


def note_marker(key: str) -> str:
    return f"[smpm ref {key}]"


@dataclass
class Outcome:
    action: Action
    key: str
    outcome: str
    detail: str = ""
    result_id: str | None = None


@dataclass
class RunReport:
    plan: Plan
    run_id: str
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.outcome in (FAILED, BLOCKED)]

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)


class Executor:
    """Applies plans for one connector and one state database."""

    def __init__(
        self,
        connector: Connector,
        engine: Engine,
        *,
        clock: Callable[[], datetime] = utcnow,
        notifier: Notifier | None = None,
    ) -> None:
        self.connector = connector
        self.engine = engine
        self.clock = clock
        self.notifier = notifier

    def apply(self, plan: Plan, *, dry_run: bool = False) -> RunReport:
        report = RunReport(plan, uuid.uuid4().hex, dry_run)
        keys = [idempotency_key(plan.procedure, a.trigger, a.step) for a in plan.actions]
        if dry_run:
            report.outcomes = [
                Outcome(a, k, PLANNED) for a, k in zip(plan.actions, keys, strict=True)
            ]
            return report
        states = self._states(keys)
        results: dict[tuple[str, str], str | None] = {}

        def settle(outcomes: list[Outcome]) -> None:
            for outcome in outcomes:
                ok = outcome.outcome in (APPLIED, SKIPPED, RECOVERED, UNSUPPORTED)
                action = outcome.action
                results[(action.trigger, action.step)] = outcome.result_id if ok else None
                report.outcomes.append(outcome)
                if outcome.outcome != SKIPPED:
                    states[outcome.key] = {
                        "status": "done" if ok else "pending",
                        "updated_at": self.clock(),
                        "result_id": outcome.result_id,
                    }
            self._record(report.run_id, plan, [o for o in outcomes if o.outcome != SKIPPED])

        batch = _Batch(self, plan) if self._batches() else None
        for action, key in zip(plan.actions, keys, strict=True):
            flushed = batch.offer(action, key, states.get(key), results) if batch else None
            if flushed is not None:
                settle(flushed)
                continue
            if batch:
                settle(batch.flush())
            settle([self._apply_one(plan, action, key, states.get(key), results)])
        if batch:
            settle(batch.flush())
        return report

    def _batches(self) -> bool:
        """Whether the connector writes many small changes in one round trip (ServiceNow's
        Batch API); Remedy's REST API has no such call."""
        return isinstance(self.connector, BatchWriter) and self.connector.batching

    # -- one action -----------------------------------------------------------------------------
    def _apply_one(
        self,
        plan: Plan,
        action: Action,
        key: str,
        state: dict[str, Any] | None,
        results: dict[tuple[str, str], str | None],
    ) -> Outcome:
        try:
            action = _resolve_refs(action, results)
        except _Blocked as blocked:
            return Outcome(action, key, BLOCKED, str(blocked))
        if state is not None and state["status"] == "done":
            when = f"already applied {state['updated_at']:%Y-%m-%d %H:%M}"
            return Outcome(action, key, SKIPPED, when, state["result_id"])
        try:
            if state is not None:
                found = self._already_written(action, key)
                if found is not None:
                    return Outcome(
                        action, key, RECOVERED, "found the earlier write in the ITSM", found
                    )
            elif action.relation is not None and _related(self.connector, action.relation):
                return Outcome(action, key, SKIPPED, "already related", action.relation.target_id)
            else:
                self._mark_pending(plan, action, key)
        except (ConnectorError, ConfigurationError, ValueError) as exc:
            return _failure(action, key, exc)
        return self._attempt(action, key)

    def _attempt(self, action: Action, key: str) -> Outcome:
        """Write, once its key is pending; what came of it."""
        try:
            result_id = self._write(action, key)
        except (ConnectorError, ConfigurationError, ValueError) as exc:
            return _failure(action, key, exc)
        return Outcome(action, key, APPLIED, "", result_id)

    def _write(self, action: Action, key: str) -> str | None:
        """The ITSM write itself; returns the id of what it produced, where there is one."""
        c = self.connector
        if action.kind is ActionKind.CREATE:
            assert action.record is not None
            created = c.create(action.record.model_copy(update={"correlation_id": key}))
            return created.id
        if action.kind in (ActionKind.UPDATE, ActionKind.ASSIGN):
            c.update(ENTITY_TYPES[action.target_kind], str(action.target_id), self._changes(action))
            return str(action.target_id)
        if action.kind is ActionKind.RELATE:
            assert action.relation is not None
            c.relate(action.relation)
            return action.relation.target_id
        if action.kind is ActionKind.ADD_NOTE:
            assert action.note is not None
            c.add_note(_stamped(action.note, key))
            return action.note.parent_id
        assert action.recipient and action.message
        if self.notifier is None:
            raise ConfigurationError("a notification was planned but no notifier is configured")
        self.notifier(action.recipient, action.message, action)
        return action.recipient

    def _changes(self, action: Action) -> dict[str, Any]:
        """An update's changes, with the extras the platform keeps a field for."""
        maps = getattr(self.connector, "maps", None)
        kind = ENTITY_TYPES[action.target_kind].kind
        extras = {k: v for k, v in action.extras.items() if maps is None or maps(kind, k)}
        return {**extras, **action.changes}

    def _already_written(self, action: Action, key: str) -> str | None:
        """After a crash: did the pending write reach the ITSM? Returns its result id if so."""
        c = self.connector
        if action.kind is ActionKind.CREATE:
            assert action.record is not None
            model = type(action.record)
            for found in c.find(model, Field("correlation_id") == key, limit=1):
                return found.id
            return None
        if action.kind is ActionKind.ADD_NOTE:
            assert action.note is not None
            where = (Field("parent_id") == action.note.parent_id) & Field("text").contains(key)
            for _ in c.find(WorkNote, where, within=action.note.parent_kind, limit=1):
                return action.note.parent_id
            return None
        if action.kind is ActionKind.RELATE:
            assert action.relation is not None
            return action.relation.target_id if _related(c, action.relation) else None
        return None  # updates are absolute; notifications cannot be asked about: write again

    # -- state ----------------------------------------------------------------------------------
    def _states(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """What the store knows of these keys, read in a few queries rather than one per key."""
        found: dict[str, dict[str, Any]] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                rows = conn.execute(select(idempotency).where(idempotency.c.key.in_(chunk)))
                found |= {row["key"]: dict(row) for row in rows.mappings()}
        return found

    def _mark_pending(self, plan: Plan, action: Action, key: str) -> None:
        self._mark_pending_all(plan, [(action, key)])

    def _mark_pending_all(self, plan: Plan, items: list[tuple[Action, str]]) -> None:
        """Keys as pending, committed in one transaction before any of their writes is sent."""
        now = self.clock()
        rows = [
            {
                "key": key,
                "procedure": plan.procedure,
                "trigger": action.trigger,
                "step": action.step,
                "status": "pending",
                "result_id": None,
                "created_at": now,
                "updated_at": now,
            }
            for action, key in items
        ]
        with self.engine.begin() as conn:
            conn.execute(insert(idempotency), rows)

    def _record(self, run_id: str, plan: Plan, outcomes: list[Outcome]) -> None:
        """The keys' final states and the audit rows, in one transaction."""
        if not outcomes:
            return
        with self.engine.begin() as conn:
            for outcome in outcomes:
                action = outcome.action
                if outcome.outcome in (APPLIED, RECOVERED, UNSUPPORTED):
                    conn.execute(
                        update(idempotency)
                        .where(idempotency.c.key == outcome.key)
                        .values(status="done", result_id=outcome.result_id, updated_at=self.clock())
                    )
                target = outcome.result_id if action.kind is ActionKind.CREATE else action.target_id
                conn.execute(
                    insert(audit).values(
                        at=self.clock(),
                        run_id=run_id,
                        procedure=plan.procedure,
                        trigger=action.trigger,
                        step=action.step,
                        action=action.kind.value,
                        target_kind=action.target_kind.value,
                        target_id=None if target is None else str(target),
                        fields=_fields(action),
                        reason=str(action.reason),
                        outcome=outcome.outcome,
                        detail=outcome.detail or None,
                        idempotency_key=outcome.key,
                    )
                )


class _Blocked(Exception):
    pass


BATCHED = (ActionKind.UPDATE, ActionKind.ASSIGN, ActionKind.ADD_NOTE, ActionKind.NOTIFY)
BATCH_LIMIT = 500  # actions held back at most, so a long plan is not one long pending window


class _Batch:
    """Consecutive new updates, work notes and notifications of a plan, held back and written
    together through the connector's `apply_batch` (many writes, few round trips).

    The guarantees stay those of one write at a time: every held key is committed as pending
    (in one transaction) before the batch is sent, and each write's outcome is recorded with its
    own key and audit row (the lot in one transaction), so a crash or a failed batch leaves
    pending keys the next run checks in the ITSM before writing again. What
    changes is the order of round trips only: the writes go first, then the notifications held
    with them, in plan order (a person is told after the note is on the record). Two updates of
    one record are never in one batch, since the Batch API does not promise to run its items in
    order. Creates and relations, and actions retried after a crash, go one at a time.
    """

    def __init__(self, executor: Executor, plan: Plan) -> None:
        self.executor, self.plan = executor, plan
        self.held: list[tuple[Action, str]] = []
        self.updated: set[tuple[str, str]] = set()

    def offer(
        self,
        action: Action,
        key: str,
        state: dict[str, Any] | None,
        results: dict[tuple[str, str], str | None],
    ) -> list[Outcome] | None:
        """Hold the action (returning what had to be flushed first), or None: not batchable."""
        if state is not None or action.kind not in BATCHED:
            return None
        try:
            action = _resolve_refs(action, results)
        except _Blocked:
            return None  # the caller reports it as blocked, in order
        target = (action.target_kind.value, str(action.target_id))
        is_update = action.kind in (ActionKind.UPDATE, ActionKind.ASSIGN)
        flushed: list[Outcome] = []
        if len(self.held) >= BATCH_LIMIT or (is_update and target in self.updated):
            flushed = self.flush()
        self.held.append((action, key))
        if is_update:
            self.updated.add(target)
        return flushed

    def flush(self) -> list[Outcome]:
        """Send what is held; the outcomes in plan order."""
        held, self.held, self.updated = self.held, [], set()
        if not held:
            return []
        ex = self.executor
        ex._mark_pending_all(self.plan, held)
        writes = [(a, k) for a, k in held if a.kind is not ActionKind.NOTIFY]
        batch = [
            _stamped(a.note, k)
            if a.note is not None
            else RecordUpdate(ENTITY_TYPES[a.target_kind], str(a.target_id), ex._changes(a))
            for a, k in writes
        ]
        assert isinstance(ex.connector, BatchWriter)
        try:
            errors: list[Exception | None] = ex.connector.apply_batch(batch)
        except (ConnectorError, ConfigurationError) as exc:  # e.g. the look-ups before it failed
            errors = [exc] * len(batch)
        outcomes = {k: _batch_outcome(a, k, e) for (a, k), e in zip(writes, errors, strict=True)}
        for action, key in held:  # notifications after the writes, in plan order
            if action.kind is ActionKind.NOTIFY:
                outcomes[key] = ex._attempt(action, key)
        return [outcomes[key] for _, key in held]


def _batch_outcome(action: Action, key: str, error: Exception | None) -> Outcome:
    if error is None:
        result = action.note.parent_id if action.note is not None else str(action.target_id)
        return Outcome(action, key, APPLIED, "", result)
    return _failure(action, key, error)


def _failure(action: Action, key: str, error: Exception) -> Outcome:
    """A write that did not happen: unsupported where the platform cannot keep an optional one."""
    if isinstance(error, ConfigurationError) and action.optional:
        return Outcome(action, key, UNSUPPORTED, f"not kept on this platform: {error}")
    return Outcome(action, key, FAILED, str(error))


def _resolve_refs(action: Action, results: dict[tuple[str, str], str | None]) -> Action:
    def resolve(ref: Ref) -> str:
        if (ref.trigger, ref.step) not in results:
            raise _Blocked(f"needs the record of step {ref.step!r}, which is not in this plan")
        value = results[(ref.trigger, ref.step)]
        if value is None:
            raise _Blocked(f"needs the record of step {ref.step!r}, which failed")
        return value

    updates: dict[str, Any] = {}
    if isinstance(action.target_id, Ref):
        updates["target_id"] = resolve(action.target_id)
    if action.relation_target is not None and action.relation is not None:
        updates["relation"] = action.relation.model_copy(
            update={"target_id": resolve(action.relation_target)}
        )
        updates["relation_target"] = None
    if action.note is not None and isinstance(action.target_id, Ref):
        updates["note"] = action.note.model_copy(update={"parent_id": updates["target_id"]})
    return action.model_copy(update=updates) if updates else action


def _related(connector: Connector, rel: Relation) -> bool:
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


def _stamped(note: WorkNote, key: str) -> WorkNote:
    return note.model_copy(update={"text": f"{note.text}\n\n{note_marker(key)}".strip()})


def _fields(action: Action) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, Entity):
            return value.model_dump(mode="json", exclude_none=True)
        return (
            getattr(value, "value", value) if not isinstance(value, datetime) else value.isoformat()
        )

    if action.kind is ActionKind.CREATE and action.record is not None:
        return action.record.model_dump(mode="json", exclude_none=True)
    if action.changes:
        return {k: plain(v) for k, v in action.changes.items()}
    if action.relation is not None:
        return action.relation.model_dump(mode="json", exclude_none=True)
    if action.note is not None:
        return {"summary": action.note.summary, "text": action.note.text}
    return {"recipient": action.recipient, "message": action.message}
