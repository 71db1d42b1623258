"""The executor applies a plan once: idempotency keys, crash recovery, audit, dry runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from connector.entities import IncidentRequest, ProblemInvestigation, RecordKind, Relation, WorkNote
from connector.enums import IncidentStatus, RelationType
from connector.errors import Rejected
from connector.testing import FakeConnector, incident
from procedures.plan import Action, ActionKind, Plan, Reason, Ref
from smpm.executor import Executor, idempotency_key
from smpm.store import audit, idempotency, open_engine
from tests.postgres import BACKENDS, database_url

REASON = Reason(process="Incident Management", procedure="P2 Test", rule="a rule fired")


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The state store, on SQLite and on PostgreSQL: idempotency must hold on both."""
    engine = open_engine(database_url(request, tmp_path))
    yield engine
    engine.dispose()


def sample_plan() -> Plan:
    plan = Plan(procedure="test.procedure", trigger="run-1")
    plan.add(
        Action(
            kind=ActionKind.ASSIGN,
            step="route",
            trigger="incident:INC1",
            reason=REASON,
            target_kind=RecordKind.INCIDENT,
            target_id="INC1",
            changes={"assigned_group": "Service Desk", "status": IncidentStatus.ASSIGNED},
        )
    )
    plan.add(
        Action(
            kind=ActionKind.CREATE,
            step="register",
            trigger="incident:INC1",
            reason=REASON,
            target_kind=RecordKind.PROBLEM,
            record=ProblemInvestigation(summary="Recurring outage"),
        )
    )
    ref = Ref(trigger="incident:INC1", step="register")
    plan.add(
        Action(
            kind=ActionKind.RELATE,
            step="link",
            trigger="incident:INC1",
            reason=REASON,
            target_kind=RecordKind.INCIDENT,
            target_id="INC1",
            relation=Relation(
                source_kind=RecordKind.INCIDENT,
                source_id="INC1",
                target_kind=RecordKind.PROBLEM,
                target_id="?",
                relation_type=RelationType.CAUSED_BY,
            ),
            relation_target=ref,
        )
    )
    plan.add(
        Action(
            kind=ActionKind.ADD_NOTE,
            step="note",
            trigger="incident:INC1",
            reason=REASON,
            target_kind=RecordKind.INCIDENT,
            target_id="INC1",
            note=WorkNote(parent_kind=RecordKind.INCIDENT, parent_id="INC1", text="Routed"),
        )
    )
    return plan


def fake_with_incident() -> FakeConnector:
    return FakeConnector().add(incident(id="INC1", status=IncidentStatus.NEW))


def test_applies_every_action_and_audits_it(engine: Engine) -> None:
    """Each write reaches the connector once; the audit log has a row per action with its reason."""
    fake = fake_with_incident()
    report = Executor(fake, engine).apply(sample_plan())
    assert [o.outcome for o in report.outcomes] == ["applied"] * 4
    assert [w.operation for w in fake.writes] == ["update", "create", "relate", "add_note"]
    problem_id = report.outcomes[1].result_id
    assert fake.relations[0].target_id == problem_id
    created = fake.records[RecordKind.PROBLEM][str(problem_id)]
    assert created.correlation_id == report.outcomes[1].key
    assert fake.notes[0].text.endswith(f"[smpm ref {report.outcomes[3].key}]")
    with engine.connect() as conn:
        rows = conn.execute(select(audit.c.step, audit.c.outcome, audit.c.reason)).all()
    assert [(r.step, r.outcome) for r in rows] == [
        ("route", "applied"),
        ("register", "applied"),
        ("link", "applied"),
        ("note", "applied"),
    ]
    assert rows[0].reason == "Incident Management P2 Test: a rule fired"


def test_the_same_plan_twice_writes_nothing_the_second_time(engine: Engine) -> None:
    """Running the same trigger twice changes nothing the second time."""
    fake = fake_with_incident()
    Executor(fake, engine).apply(sample_plan())
    writes = len(fake.writes)
    again = Executor(fake, engine).apply(sample_plan())
    assert len(fake.writes) == writes
    assert [o.outcome for o in again.outcomes] == ["skipped"] * 4


class CrashAfterWrite(FakeConnector):
    """Dies right after the ITSM accepted a write, before the executor can record it."""

    crash_on: str = "create"

    def _maybe_crash(self, operation: str) -> None:
        if operation == self.crash_on:
            self.crash_on = ""
            raise SystemExit("killed between write and record")

    def create(self, entity: Any) -> Any:
        created = super().create(entity)
        self._maybe_crash("create")
        return created

    def add_note(self, note: WorkNote) -> WorkNote:
        written = super().add_note(note)
        self._maybe_crash("add_note")
        return written


@pytest.mark.parametrize("crash_on", ["create", "add_note"])
def test_a_crash_between_write_and_record_replays_without_duplicates(
    engine: Engine, crash_on: str
) -> None:
    """The pending key makes the replay look in the ITSM first; the earlier write is found."""
    fake = CrashAfterWrite().add(incident(id="INC1", status=IncidentStatus.NEW))
    fake.crash_on = crash_on
    with pytest.raises(SystemExit):
        Executor(fake, engine).apply(sample_plan())
    report = Executor(fake, engine).apply(sample_plan())
    operations = [w.operation for w in fake.writes]
    assert operations.count("create") == 1
    assert operations.count("add_note") == 1
    assert operations.count("relate") == 1
    recovered = [o.action.step for o in report.outcomes if o.outcome == "recovered"]
    assert recovered == ["register" if crash_on == "create" else "note"]
    with engine.connect() as conn:
        statuses = conn.execute(select(idempotency.c.status)).scalars().all()
    assert set(statuses) == {"done"}


class RejectsUpdates(FakeConnector):
    def update(self, model: Any, record: Any, changes: Any) -> None:
        raise Rejected("Remedy update: HTTP 400: ERROR (326): Required field cannot be blank")


def test_a_failing_action_does_not_stop_unrelated_ones(engine: Engine) -> None:
    """The run reports what failed and why, and the rest still happens."""
    fake = RejectsUpdates().add(incident(id="INC1", status=IncidentStatus.NEW))
    report = Executor(fake, engine).apply(sample_plan())
    assert [o.outcome for o in report.outcomes] == ["failed", "applied", "applied", "applied"]
    assert "ERROR (326)" in report.failed[0].detail


class RejectsCreates(FakeConnector):
    def create(self, entity: Any) -> Any:
        raise Rejected("Remedy create: HTTP 400: ERROR (307): Required field")


def test_an_action_needing_a_failed_create_is_blocked(engine: Engine) -> None:
    """Linking to a problem that could not be registered is reported, not attempted."""
    fake = RejectsCreates().add(incident(id="INC1", status=IncidentStatus.NEW))
    report = Executor(fake, engine).apply(sample_plan())
    assert [o.outcome for o in report.outcomes] == ["applied", "failed", "blocked", "applied"]
    assert "which failed" in report.outcomes[2].detail


def test_a_failed_write_is_tried_again_on_the_next_run(engine: Engine) -> None:
    """A pending key from a failed attempt does not block the retry."""
    failing = RejectsCreates().add(incident(id="INC1", status=IncidentStatus.NEW))
    Executor(failing, engine).apply(sample_plan())
    healthy = fake_with_incident()
    report = Executor(healthy, engine).apply(sample_plan())
    assert report.outcomes[1].outcome == "applied"
    assert [w.operation for w in healthy.writes].count("create") == 1


def test_dry_run_writes_nothing_anywhere(engine: Engine) -> None:
    """--dry-run: no ITSM write, no idempotency key, no audit row."""
    fake = fake_with_incident()
    report = Executor(fake, engine).apply(sample_plan(), dry_run=True)
    assert [o.outcome for o in report.outcomes] == ["planned"] * 4
    assert fake.writes == []
    with engine.connect() as conn:
        assert conn.execute(select(idempotency)).all() == []
        assert conn.execute(select(audit)).all() == []


def test_keys_are_deterministic_and_distinct() -> None:
    """Same (procedure, trigger, step) -> same key; any difference -> another key."""
    key = idempotency_key("p", "incident:INC1", "route")
    assert key == idempotency_key("p", "incident:INC1", "route")
    assert key != idempotency_key("p", "incident:INC1", "note")
    assert key != idempotency_key("p", "incident:INC2", "route")
    assert key.startswith("smpm-") and len(key) == 32


def test_an_update_on_a_missing_record_fails_cleanly(engine: Engine) -> None:
    plan = Plan(procedure="p", trigger="t")
    plan.add(
        Action(
            kind=ActionKind.UPDATE,
            step="s",
            trigger="incident:NOPE",
            reason=REASON,
            target_kind=RecordKind.INCIDENT,
            target_id="NOPE",
            changes={"status": IncidentStatus.CLOSED},
        )
    )
    report = Executor(FakeConnector(), engine).apply(plan)
    assert report.outcomes[0].outcome == "failed"
    assert "no incident 'NOPE'" in report.outcomes[0].detail
    assert IncidentRequest.kind is RecordKind.INCIDENT


class NoCiLinks(FakeConnector):
    def relate(self, relation: Relation) -> Relation:
        from connector.errors import ConfigurationError

        raise ConfigurationError("relations from incident records point at problem records only")


def test_an_optional_action_the_platform_cannot_keep_is_skipped_and_settled(
    engine: Engine,
) -> None:
    """A nicety (linking an impacted CI) is not a reason to fail the event on ServiceNow."""
    plan = Plan(procedure="p", trigger="t")
    plan.add(
        Action(
            kind=ActionKind.RELATE,
            step="ci",
            trigger="x",
            reason=REASON,
            target_kind=RecordKind.INCIDENT,
            target_id="INC1",
            optional=True,
            relation=Relation(
                source_kind=RecordKind.INCIDENT,
                source_id="INC1",
                target_kind=RecordKind.CI,
                target_id="CI1",
                relation_type=RelationType.IMPACTS,
            ),
        )
    )
    first = Executor(NoCiLinks(), engine).apply(plan)
    assert [o.outcome for o in first.outcomes] == ["unsupported"]
    assert first.failed == []
    again = Executor(NoCiLinks(), engine).apply(plan)
    assert [o.outcome for o in again.outcomes] == ["skipped"]
