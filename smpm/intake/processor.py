"""What a worker does with one stored event: run the procedures it triggers, through the executor.

Monitoring events (generic or from Alertmanager) go to Event Management P1, and a capacity
warning P1 registers goes straight on to Capacity Management P2. Record notifications
from the ITSM go to the Incident Management procedures that act on one record: P2 routing for a
new request, P4 for a request resolved with a workaround, P7 for a proposed solution.

Each worker thread has its own connector (a Remedy connector serialises its calls). The CMDB
snapshot and the directory are shared and refreshed every `cache_seconds`, since events come in
storms and the organisation changes slowly. Any failed action makes the whole event fail, so the
worker retries it; the executor's keys make the retry write only what is still missing. The
connectors are watched (`smpm.intake.watched`): a failed plan is raised from the ITSM outage one
of its calls met, so the worker keeps the attempt and pauses, and no ITSM call starts once the
worker's lease on the event is lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import Engine

from connector.base import Connector
from connector.entities import Event, IncidentRequest, SupportGroup
from connector.enums import EventSeverity, ServiceType
from connector.errors import SmpmError
from procedures.capacity import warning_handling
from procedures.directory import Directory
from procedures.event.cmdb import CmdbSnapshot
from procedures.event.config import HandlingConfig
from procedures.event.handling import decide, outcome_code
from procedures.event.situation import gather
from procedures.incident import assignment, resolution, solution_approval
from procedures.plan import ActionKind, Plan
from procedures.registry import Context
from smpm.executor import Executor, RunReport
from smpm.intake.models import GenericEvent, RecordNotification, ci_lane
from smpm.intake.store import Claimed, in_flight_before, occurrence
from smpm.intake.watched import Attempt, Watched
from smpm.intake.worker import Deferred, LeaseLost
from smpm.notify import build_notifier
from smpm.settings import Settings
from smpm.store import settled_triggers

T = TypeVar("T")
log = logging.getLogger("smpm.intake")


class ProcessingFailed(RuntimeError):
    """Some actions of the event failed; the worker will retry it."""


class _Cached(Generic[T]):
    def __init__(self, load: Callable[[], T], seconds: float) -> None:
        self._load, self._seconds = load, seconds
        self._value: T | None = None
        self._at = 0.0
        self._lock = threading.Lock()

    def get(self) -> T:
        with self._lock:
            if self._value is None or time.monotonic() - self._at > self._seconds:
                self._value, self._at = self._load(), time.monotonic()
            return self._value


class Processor:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        connector_factory: Callable[[Settings], Connector],
        clock: Callable[[], datetime],
        *,
        cache_seconds: float = 300.0,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.clock = clock
        self._factory = connector_factory
        self._local = threading.local()
        self._opened: list[Connector] = []
        self._cmdb = _Cached(lambda: CmdbSnapshot.load(self.connector()), cache_seconds)
        self._directory = _Cached(
            lambda: Directory.load(self.connector(), settings.contacts), cache_seconds
        )

    def connector(self) -> Connector:
        if getattr(self._local, "connector", None) is None:
            opened = self._factory(self.settings)
            self._opened.append(opened)
            self._local.connector = Watched(opened, self._local)
        return self._local.connector  # type: ignore[no-any-return]

    def __call__(self, claimed: Claimed) -> str:
        self._local.attempt = Attempt(claimed.held)
        try:
            if claimed.endpoint in ("events", "alertmanager"):
                return self._handle_event(claimed)
            plans = self._record_plans(claimed)
            return "; ".join(self._apply(plan) for plan in plans) or "nothing to do"
        finally:
            self._local.attempt = None

    def probe(self) -> None:
        """The circuit breaker's cheap read: one support group, one page of one row."""
        next(iter(self.connector().find(SupportGroup, limit=1)), None)

    def _handle_event(self, claimed: Claimed) -> str:
        """Event Handling (P1), its outcome code first (Event Review counts by it); then, for a
        capacity warning it registered, Capacity Warning Handling on the new request."""
        plan = self._event_plan(claimed)
        report = self._execute(plan)
        code = outcome_code(plan.findings[0].outcome) if plan.findings else "unknown"
        outcomes = [f"[{code}] {_summary(plan)}"]
        outcomes += [self._capacity(claimed, i) for i in _capacity_warnings(report)]
        return "; ".join(o for o in outcomes if o)[:1000]

    def _capacity(self, claimed: Claimed, incident_id: str) -> str:
        """P2 on a warning P1 just registered. Its failure does not fail the event: a retry of
        P1 would see what P2 already changed (a closed warning) and register the warning
        again; P2's own scheduled run finishes what is left."""
        ctx = self._context(warning_handling.NAME, f"event:{claimed.id}")
        try:
            return self._apply(warning_handling.for_record(ctx, incident_id))
        except (ProcessingFailed, SmpmError) as exc:
            log.warning("capacity warning %s left for the scheduled run: %s", incident_id, exc)
            return f"{warning_handling.NAME} on {incident_id} left for its scheduled run: {exc}"

    def _context(self, procedure: str, trigger: str) -> Context:
        return Context(
            self.connector(),
            self.settings.procedures(),
            self.clock(),
            trigger,
            settled=lambda triggers: settled_triggers(self.engine, procedure, triggers),
            _directory=self._directory.get(),
        )

    def _event_plan(self, claimed: Claimed) -> Plan:
        payload = GenericEvent.model_validate(claimed.payload)
        event = Event(
            id=claimed.id,
            source=payload.source,
            node=payload.node,
            ci=payload.ci,
            event_type=payload.type,
            resource=payload.resource,
            metric=payload.metric,
            severity=payload.severity,
            message_key=payload.key(),
            message=payload.message,
            value=payload.value,
            threshold=payload.threshold,
            occurred_at=payload.time,
        )
        config = self.settings.procedures()
        cmdb = self._cmdb.get()
        self._wait_for_upstream(claimed, event, cmdb, config.event.handling)
        n = occurrence(self.engine, claimed.subject, claimed.id)
        situation = gather(self.connector(), event, n, cmdb, config.event.handling)
        return decide(
            situation, self._directory.get(), config.event.handling, config.incident.assignment
        )

    def _wait_for_upstream(
        self, claimed: Claimed, event: Event, cmdb: CmdbSnapshot, config: HandlingConfig
    ) -> None:
        """P1 relates an event to an outage on a CI it depends on; when an earlier event about
        such a CI is still being decided, decide this one after it, not beside it."""
        ci = cmdb.find(event.ci) or cmdb.find(event.node)
        if ci is None or event.severity is EventSeverity.CLEAR or event.value is not None:
            return
        lanes = [ci_lane(name) for name in cmdb.dependencies(ci, config.dependency_depth)]
        if in_flight_before(self.engine, lanes, claimed.id):
            raise Deferred(f"an earlier event about a CI {ci.name} depends on is in flight")

    def _record_plans(self, claimed: Claimed) -> list[Plan]:
        note = RecordNotification.model_validate(claimed.payload)
        trigger = f"record:{claimed.id}"
        if note.operation == "delete":
            return []
        if note.kind == "incident":
            return [
                assignment.for_record(self._context(assignment.NAME, trigger), note.record),
                resolution.for_record(self._context(resolution.NAME, trigger), note.record),
            ]
        if note.kind == "knowledge_article":
            ctx = self._context(solution_approval.NAME, trigger)
            return [solution_approval.for_record(ctx, note.record)]
        return []

    def _apply(self, plan: Plan) -> str:
        self._execute(plan)
        return _summary(plan)

    def _execute(self, plan: Plan) -> RunReport:
        """Apply the plan, unless the lease was lost while it was decided; a failed plan is
        raised from the ITSM outage one of its calls met, if any (the worker then keeps the
        attempt and pauses the queue)."""
        attempt: Attempt | None = getattr(self._local, "attempt", None)
        if attempt is not None and not attempt.held():
            raise LeaseLost(f"lease lost before {plan.procedure} was applied")
        connector = self.connector()
        notifier = build_notifier(self.settings.notify, connector)
        report = Executor(connector, self.engine, notifier=notifier, clock=self.clock).apply(plan)
        if report.failed:
            failed = "; ".join(f"{o.action.step}: {o.detail}" for o in report.failed)[:1000]
            raise ProcessingFailed(failed) from (attempt.outage if attempt else None)
        return report

    def close(self) -> None:
        """Close every worker thread's connector (call once the workers have stopped)."""
        for connector in self._opened:
            connector.close()
        self._opened.clear()


def _summary(plan: Plan) -> str:
    return "; ".join(f"{f.outcome} ({f.because})" for f in plan.findings)[:1000]


def _capacity_warnings(report: RunReport) -> list[str]:
    """Ids of the capacity warning requests (Infrastructure Event) the plan registered."""
    return [
        o.result_id
        for o in report.outcomes
        if o.action.kind is ActionKind.CREATE
        and isinstance(o.action.record, IncidentRequest)
        and o.action.record.service_type is ServiceType.INFRASTRUCTURE_EVENT
        and o.result_id
    ]
