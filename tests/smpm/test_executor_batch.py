"""The executor on a connector with a Batch API: few round trips, the same guarantees."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from connector.base import BatchWrite, RecordUpdate
from connector.entities import ProblemInvestigation, RecordKind, Relation, WorkNote
from connector.enums import IncidentStatus, RelationType
from connector.errors import ConnectorError, Rejected
from connector.testing import FakeConnector, incident
from procedures.plan import Action, ActionKind, Plan, Reason, Ref, note_action
from smpm.executor import Executor
from smpm.store import audit, idempotency, open_engine

REASON = Reason(process="Incident Management", procedure="P3 Test", rule="a rule fired")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_engine(f"sqlite:///{tmp_path / 'state.db'}")
    yield engine
    engine.dispose()


class Batching(FakeConnector):
    """A fake with a Batch API: records each batch, applies it, and can fail or die."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []
        self.reject: set[str] = set()  # record ids whose update the instance refuses
        self.die_after_batch = False
        self.batching = True

    def apply_batch(self, writes: Sequence[BatchWrite]) -> list[Exception | None]:
        self.batches.append([_label(w) for w in writes])
        results: list[Exception | None] = []
        for write in writes:
            if isinstance(write, WorkNote):
                self.add_note(write)
                results.append(None)
            elif str(write.record) in self.reject:
                results.append(Rejected(f"update of {write.record} refused"))
            else:
                self.update(write.model, write.record, write.changes)
                results.append(None)
        if self.die_after_batch:
            self.die_after_batch = False
            raise SystemExit("killed after the batch was applied, before it was recorded")
        return results


def _label(write: BatchWrite) -> str:
    if isinstance(write, RecordUpdate):
        return f"update {write.record}"
    return f"note {write.parent_id}"


def update(record: str, step: str, **changes: object) -> Action:
    return Action(
        kind=ActionKind.UPDATE,
        step=step,
        trigger=f"incident:{record}",
        reason=REASON,
        target_kind=RecordKind.INCIDENT,
        target_id=record,
        changes=changes,
    )


def note(record: str, step: str) -> Action:
    return note_action(
        on=RecordKind.INCIDENT,
        record=record,
        step=step,
        trigger=f"incident:{record}",
        reason=REASON,
        summary="SLA escalation",
        text=f"escalated {record}",
    )


def notify(record: str) -> Action:
    return Action(
        kind=ActionKind.NOTIFY,
        step="notify",
        trigger=f"incident:{record}",
        reason=REASON,
        target_kind=RecordKind.INCIDENT,
        target_id=record,
        recipient="Olivia",
        message=f"{record} escalated",
    )


def fake(*records: str) -> Batching:
    connector = Batching()
    connector.add(*(incident(id=r, status=IncidentStatus.ASSIGNED) for r in records))
    return connector


def plan_of(*actions: Action) -> Plan:
    plan = Plan(procedure="test.batch", trigger="run-1")
    for action in actions:
        plan.add(action)
    return plan


def test_consecutive_updates_notes_and_notifications_share_a_round_trip(engine: Engine) -> None:
    """Updates and notes go in one batch; the notification waits until the note is written;
    a create and the link to it go one at a time; the report keeps the plan's order."""
    itsm, told = fake("INC1", "INC2"), []
    create = Action(
        kind=ActionKind.CREATE,
        step="register",
        trigger="incident:INC2",
        reason=REASON,
        target_kind=RecordKind.PROBLEM,
        record=ProblemInvestigation(summary="Recurring"),
    )
    link = Action(
        kind=ActionKind.RELATE,
        step="link",
        trigger="incident:INC2",
        reason=REASON,
        target_kind=RecordKind.INCIDENT,
        target_id="INC2",
        relation=Relation(
            source_kind=RecordKind.INCIDENT,
            source_id="INC2",
            target_kind=RecordKind.PROBLEM,
            target_id="?",
            relation_type=RelationType.CAUSED_BY,
        ),
        relation_target=Ref(trigger="incident:INC2", step="register"),
    )
    plan = plan_of(
        update("INC1", "route", assigned_group="Service Desk"),
        note("INC1", "escalation-note"),
        notify("INC1"),
        note("INC2", "escalation-note"),
        create,
        link,
        note("INC2", "link-note"),
    )

    def notifier(recipient: str, message: str, action: Action) -> None:
        told.append((message, list(itsm.batches)))

    report = Executor(itsm, engine, notifier=notifier).apply(plan)

    assert itsm.batches == [["update INC1", "note INC1", "note INC2"], ["note INC2"]]
    assert told == [("INC1 escalated", [["update INC1", "note INC1", "note INC2"]])]
    assert [o.action.step for o in report.outcomes] == [a.step for a in plan.actions]
    assert {o.outcome for o in report.outcomes} == {"applied"}
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(audit)).scalar() == 7
        assert set(conn.execute(select(idempotency.c.status)).scalars()) == {"done"}


def test_two_updates_of_one_record_never_share_a_batch(engine: Engine) -> None:
    """The Batch API does not promise to run its items in order; the plan's order must hold."""
    itsm = fake("INC1")
    plan = plan_of(
        update("INC1", "first", status=IncidentStatus.IN_PROGRESS),
        update("INC1", "second", status=IncidentStatus.PENDING),
    )
    Executor(itsm, engine).apply(plan)
    assert itsm.batches == [["update INC1"], ["update INC1"]]
    assert itsm.get(type(incident(id="x")), "INC1").status is IncidentStatus.PENDING


def test_a_refused_write_fails_alone_and_is_the_only_one_tried_again(engine: Engine) -> None:
    itsm = fake("INC1", "INC2")
    itsm.reject = {"INC2"}
    plan = plan_of(
        update("INC1", "route", assigned_group="Service Desk"),
        update("INC2", "route", assigned_group="Service Desk"),
    )
    first = Executor(itsm, engine).apply(plan)
    assert [o.outcome for o in first.outcomes] == ["applied", "failed"]
    assert "update of INC2 refused" in first.outcomes[1].detail
    itsm.reject = set()
    again = Executor(itsm, engine).apply(plan)
    assert [o.outcome for o in again.outcomes] == ["skipped", "applied"]
    assert itsm.batches == [["update INC1", "update INC2"]]  # the retry went one at a time


def test_a_crash_after_a_batch_replays_without_a_second_note(engine: Engine) -> None:
    """Every key of the batch was committed as pending before it was sent; the next run finds
    the notes in the ITSM (by the key they carry) instead of writing them again."""
    itsm = fake("INC1", "INC2")
    itsm.die_after_batch = True
    plan = plan_of(note("INC1", "escalation-note"), note("INC2", "escalation-note"))
    with pytest.raises(SystemExit):
        Executor(itsm, engine).apply(plan)
    with engine.connect() as conn:
        assert set(conn.execute(select(idempotency.c.status)).scalars()) == {"pending"}
    report = Executor(itsm, engine).apply(plan)
    assert [o.outcome for o in report.outcomes] == ["recovered", "recovered"]
    assert [w.operation for w in itsm.writes].count("add_note") == 2


class Unreachable(Batching):
    def apply_batch(self, writes: Sequence[BatchWrite]) -> list[Exception | None]:
        return [ConnectorError("instance unavailable")] * len(writes)


def test_a_batch_the_instance_never_answered_leaves_every_write_to_retry(engine: Engine) -> None:
    itsm = Unreachable()
    itsm.add(incident(id="INC1", status=IncidentStatus.ASSIGNED))
    plan = plan_of(update("INC1", "route", assigned_group="Service Desk"), note("INC1", "n"))
    report = Executor(itsm, engine).apply(plan)
    assert [o.outcome for o in report.outcomes] == ["failed", "failed"]
    with engine.connect() as conn:
        assert set(conn.execute(select(idempotency.c.status)).scalars()) == {"pending"}


def test_batching_configured_off_writes_one_at_a_time(engine: Engine) -> None:
    """`[servicenow] batch_size = 0`, for an instance that denies the Batch API."""
    itsm = fake("INC1")
    itsm.batching = False
    Executor(itsm, engine).apply(plan_of(note("INC1", "a"), note("INC1", "b")))
    assert itsm.batches == []
    assert [w.operation for w in itsm.writes] == ["add_note", "add_note"]


class LookupsFail(Batching):
    def apply_batch(self, writes: Sequence[BatchWrite]) -> list[Exception | None]:
        raise ConnectorError("the sys_id look-up before the batch failed")


def test_a_batch_that_fails_before_sending_fails_each_write_and_keeps_it_pending(
    engine: Engine,
) -> None:
    itsm = LookupsFail()
    itsm.add(incident(id="INC1", status=IncidentStatus.ASSIGNED))
    plan = plan_of(update("INC1", "route", assigned_group="Service Desk"), note("INC1", "n"))
    report = Executor(itsm, engine).apply(plan)
    assert [o.outcome for o in report.outcomes] == ["failed", "failed"]
    assert "look-up before the batch failed" in report.outcomes[0].detail
    with engine.connect() as conn:
        assert set(conn.execute(select(idempotency.c.status)).scalars()) == {"pending"}
