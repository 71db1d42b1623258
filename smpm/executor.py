"""Apply a plan through the connector: once, in order, with an audit record for each action.

For every write the executor
1. derives its idempotency key from (procedure, trigger, step);
2. skips it when the key is recorded as done;
3. records the key as pending and commits, *then* writes to the ITSM, stamping the key on what it
   writes (the record's correlation field, or a reference line in a work note);
4. marks the key done and writes the audit row in one transaction.

A crash between 3 and 4, or an answer that never came (`OutcomeUnknown`: a read timeout, a
connection dropped once the request was sent), leaves a pending key. The ITSM is then asked
whether the write happened (a record with that correlation id, a work note carrying the key,
the relation itself) before anything is written again: at once after a lost answer, by the
plan's replay, and by every run's sweep of the keys other runs left pending (smpm.pending), so
the audit accounts for a record created before a kill -9 even when no plan asks for it again.
Of two runs retrying one pending key, one writes (the attempt is taken over by compare-and-set).
A relate whose link the ITSM holds already, seen from either record, is skipped ("already
related"). Updates set absolute values, so repeating one is harmless. External notifications
(mail, chat) are at-least-once.

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

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from connector.base import BatchWriter, Connector, RecordUpdate
from connector.entities import ENTITY_TYPES, Entity, WorkNote
from connector.errors import ConfigurationError, ConnectorError
from procedures.plan import Action, ActionKind, Plan, Ref
from smpm import pending
from smpm.pending import IN_FLIGHT, LOOKED_UP, InFlight, find_written, lookup_of, related
from smpm.store import audit, idempotency, pending_writes, utcnow

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


BUSY = "another worker of this process is writing it now; left to that worker"


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
    unknown: bool = False  # failed without an answer: the ITSM may hold the write


@dataclass
class RunReport:
    plan: Plan
    run_id: str
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)
    swept: list[str] = field(default_factory=list)  # keys other runs left, found in the ITSM

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.outcome in (FAILED, BLOCKED)]

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)


class Executor:
    """Applies plans for one connector and one state database, one plan at a time (each worker
    thread makes its own executor; `in_flight` is what the threads of a process share)."""

    def __init__(
        self,
        connector: Connector,
        engine: Engine,
        *,
        clock: Callable[[], datetime] = utcnow,
        notifier: Notifier | None = None,
        in_flight: InFlight = IN_FLIGHT,
    ) -> None:
        self.connector = connector
        self.engine = engine
        self.clock = clock
        self.notifier = notifier
        self.in_flight = in_flight
        self._holding: set[str] = set()  # keys this executor's write holds in `in_flight`

    def apply(self, plan: Plan, *, dry_run: bool = False) -> RunReport:
        report = RunReport(plan, uuid.uuid4().hex, dry_run)
        keys = [idempotency_key(plan.procedure, a.trigger, a.step) for a in plan.actions]
        if dry_run:
            report.outcomes = [
                Outcome(a, k, PLANNED) for a, k in zip(plan.actions, keys, strict=True)
            ]
            return report
        report.swept = self.recover_pending(exclude=keys, run_id=report.run_id)
        try:
            self._apply_all(plan, keys, report)
        finally:
            self._release(list(self._holding))
        return report

    def recover_pending(self, *, exclude: list[str] | None = None, run_id: str = "") -> list[str]:
        """Settle the keys other runs left pending whose writes the ITSM holds (smpm.pending);
        returns those keys. `apply` starts with it; a worker or a run may call it on its own."""
        return pending.sweep(
            self.connector,
            self.engine,
            run_id=run_id or uuid.uuid4().hex,
            now=self.clock(),
            exclude=exclude or (),
            in_flight=self.in_flight,
        )

    def _apply_all(self, plan: Plan, keys: list[str], report: RunReport) -> None:
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
            self._release([o.key for o in outcomes])

        run = report.run_id
        batch = _Batch(self, plan, run) if self._batches() else None
        for action, key in zip(plan.actions, keys, strict=True):
            flushed = batch.offer(action, key, states.get(key), results) if batch else None
            if flushed is not None:
                settle(flushed)
                continue
            if batch:
                settle(batch.flush())
            settle([self._apply_one(run, plan, action, key, states.get(key), results)])
        if batch:
            settle(batch.flush())

    def _hold(self, key: str) -> bool:
        """Mark the key's write as being sent by this process; False: another thread is."""
        if key in self._holding:
            return True
        if not self.in_flight.hold(key):
            return False
        self._holding.add(key)
        return True

    def _release(self, keys: list[str]) -> None:
        mine = self._holding.intersection(keys)
        self.in_flight.release(mine)
        self._holding -= mine

    def _batches(self) -> bool:
        """Whether the connector writes many small changes in one round trip (ServiceNow's
        Batch API); Remedy's REST API has no such call."""
        return isinstance(self.connector, BatchWriter) and self.connector.batching

    # -- one action -----------------------------------------------------------------------------
    def _apply_one(
        self,
        run: str,
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
        try:
            if (
                state is None
                and action.relation is not None
                and related(self.connector, action.relation)
            ):
                return Outcome(action, key, SKIPPED, "already related", action.relation.target_id)
            if state is None:
                state = self._claim_new(run, plan, action, key)
                if state is None:
                    return self._attempt(action, key)
            if state["status"] == "done":
                when = f"already applied {state['updated_at']:%Y-%m-%d %H:%M}"
                return Outcome(action, key, SKIPPED, when, state["result_id"])
            return self._retry_pending(run, action, key)
        except (ConnectorError, ConfigurationError, ValueError) as exc:
            return _failure(action, key, exc)

    def _claim_new(self, run: str, plan: Plan, action: Action, key: str) -> dict[str, Any] | None:
        """Commit the key as pending (None), or the row another run committed first."""
        try:
            self._mark_pending_all(run, plan, [(action, key)])
        except IntegrityError:
            return self._states([key]).get(key)
        return None

    def _retry_pending(self, run: str, action: Action, key: str) -> Outcome:
        """A key an earlier or concurrent attempt left pending: the ITSM is asked first; a write
        it lacks is taken over (one run of several wins) and written."""
        if key in self.in_flight:
            return Outcome(action, key, FAILED, BUSY)
        holder = pending.attempt_of(self.engine, key)  # read before the look-up: see take_over
        found = self._already_written(action, key)
        if found is not None:
            return Outcome(action, key, RECOVERED, "found the earlier write in the ITSM", found)
        if action.kind in LOOKED_UP:
            row = pending.intent_row(key, action, _fields(action), run, self.clock())
            if not pending.take_over(self.engine, row, holder):
                return self._taken(action, key)
        return self._attempt(action, key)

    def _taken(self, action: Action, key: str) -> Outcome:
        """Another run took the pending write over between this run's look-up and its own."""
        state = self._states([key]).get(key)
        if state is not None and state["status"] == "done":
            return Outcome(action, key, SKIPPED, "applied by another run", state["result_id"])
        return Outcome(action, key, FAILED, "another run is writing it now; left to that run")

    def _attempt(self, action: Action, key: str) -> Outcome:
        """Write, once its key is pending; what came of it."""
        if not self._hold(key):
            return Outcome(action, key, FAILED, BUSY)
        try:
            result_id = self._write(action, key)
        except (ConnectorError, ConfigurationError, ValueError) as exc:
            return self._unanswered(action, key, exc)
        return Outcome(action, key, APPLIED, "", result_id)

    def _unanswered(self, action: Action, key: str, error: Exception) -> Outcome:
        """A failed write that the ITSM may have made all the same (no answer, a gateway's
        error, a failed read-back) is looked up by its key at once."""
        if action.kind not in LOOKED_UP or not pending.may_have_acted(error):
            return _failure(action, key, error)
        try:
            found = self._already_written(action, key)
        except (ConnectorError, ConfigurationError, ValueError):
            found = None
        if found is not None:
            why = f"the ITSM's answer was lost ({error}); found the write by its key"
            return Outcome(action, key, RECOVERED, why, found)
        why = f"outcome unknown: {error}; not in the ITSM yet, looked for again before writing"
        return Outcome(action, key, FAILED, why, unknown=True)

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
        """Did the pending write reach the ITSM? Returns its result id if so. Updates are
        absolute and notifications cannot be asked about: None, write again."""
        return find_written(self.connector, key, lookup_of(action))

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

    def _mark_pending_all(self, run: str, plan: Plan, items: list[tuple[Action, str]]) -> None:
        """Keys as pending, committed in one transaction before any of their writes is sent,
        with what finds each write that may create something; IntegrityError when another run
        committed one of them first."""
        now = self.clock()
        intents = [
            pending.intent_row(key, action, _fields(action), run, now)
            for action, key in items
            if action.kind in LOOKED_UP
        ]
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
            if intents:
                conn.execute(insert(pending_writes), intents)

    def _record(self, run_id: str, plan: Plan, outcomes: list[Outcome]) -> None:
        """The keys' final states and the audit rows, in one transaction. A key another run
        settled meanwhile (its sweep found the write) keeps that run's audit row alone."""
        if not outcomes:
            return
        with self.engine.begin() as conn:
            for outcome in outcomes:
                action = outcome.action
                if outcome.outcome in (APPLIED, RECOVERED, UNSUPPORTED):
                    if not pending.mark_done(conn, outcome.key, outcome.result_id, self.clock()):
                        continue
                elif outcome.unknown:
                    pending.looked_for(conn, outcome.key)
                elif outcome.outcome == FAILED and action.kind in LOOKED_UP:
                    pending.forget(conn, outcome.key, run_id)
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
    order. Creates and relations, and actions retried after a crash, go one at a time, and so do
    the held ones when another run committed one of their keys first.
    """

    def __init__(self, executor: Executor, plan: Plan, run: str) -> None:
        self.executor, self.plan, self.run = executor, plan, run
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
        try:
            ex._mark_pending_all(self.run, self.plan, held)
        except IntegrityError:  # another run holds one of the keys: each is settled on its own
            states = ex._states([k for _, k in held])
            return [ex._apply_one(self.run, self.plan, a, k, states.get(k), {}) for a, k in held]
        for _, key in held:  # new keys: no other thread can hold them
            ex._hold(key)
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
    if action.kind in LOOKED_UP and pending.may_have_acted(error):  # asked again next run
        return Outcome(action, key, FAILED, f"outcome unknown: {error}", unknown=True)
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
