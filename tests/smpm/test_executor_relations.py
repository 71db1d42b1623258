"""The executor relates two records once: a link already in the ITSM, seen from either record,
makes the relate a no-op; a link of another type does not.

Remedy keeps a link as two association rows, one on each record with the type as seen from
there ("Caused By" on the incident, "Caused" on the problem) [reference 4.4]; ServiceNow keeps
it once, on the incident. The fake connector holds exactly the rows it is given, so each case
names the row the platform holds and the relation a plan asks for.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from connector.entities import RecordKind, Relation
from connector.enums import RelationType
from connector.testing import FakeConnector
from procedures.plan import Action, ActionKind, Plan, Reason
from smpm.executor import Executor, idempotency_key
from smpm.store import audit, idempotency, open_engine, utcnow

REASON = Reason(process="Problem Management", procedure="P1 Test", rule="a rule fired")
INC, PBI = RecordKind.INCIDENT, RecordKind.PROBLEM
R = RelationType


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_engine(f"sqlite:///{tmp_path / 'state.db'}")
    yield engine
    engine.dispose()


def link(
    source: tuple[RecordKind, str], kind: RelationType, target: tuple[RecordKind, str]
) -> Relation:
    return Relation(
        source_kind=source[0],
        source_id=source[1],
        target_kind=target[0],
        target_id=target[1],
        relation_type=kind,
    )


def relate_plan(relation: Relation) -> Plan:
    plan = Plan(procedure="test.relations", trigger="run-1")
    plan.add(
        Action(
            kind=ActionKind.RELATE,
            step="link",
            trigger=f"{relation.source_kind.value}:{relation.source_id}",
            reason=REASON,
            target_kind=relation.source_kind,
            target_id=relation.source_id,
            relation=relation,
        )
    )
    return plan


INC1, INC2, PBI1, PBI2 = (INC, "INC1"), (INC, "INC2"), (PBI, "PBI1"), (PBI, "PBI2")
ALREADY_RELATED = {
    "same way round": (link(INC1, R.CAUSED_BY, PBI1), link(INC1, R.CAUSED_BY, PBI1)),
    "other way round": (link(INC1, R.CAUSED_BY, PBI1), link(PBI1, R.CAUSES, INC1)),
    "through the reciprocal row": (link(PBI1, R.CAUSES, INC1), link(INC1, R.CAUSED_BY, PBI1)),
    "original of a duplicate": (link(INC2, R.DUPLICATE_OF, INC1), link(INC1, R.ORIGINAL_OF, INC2)),
    "resolved by": (link(PBI1, R.RESOLVES, INC1), link(INC1, R.RESOLVED_BY, PBI1)),
    "related to, either way": (link(PBI1, R.RELATED_TO, INC1), link(INC1, R.RELATED_TO, PBI1)),
}


@pytest.mark.parametrize(
    ("held", "planned"), list(ALREADY_RELATED.values()), ids=list(ALREADY_RELATED)
)
def test_relating_records_already_related_is_a_no_op(
    engine: Engine, held: Relation, planned: Relation
) -> None:
    """The link is in the ITSM already, on either record: skipped, nothing written, twice over."""
    fake = FakeConnector().add(held)
    for _ in range(2):
        report = Executor(fake, engine).apply(relate_plan(planned))
        assert [(o.outcome, o.detail) for o in report.outcomes] == [("skipped", "already related")]
        assert report.outcomes[0].result_id == planned.target_id
    assert fake.writes == []
    assert fake.relations == [held]
    with engine.connect() as conn:
        assert conn.execute(select(audit)).all() == []


NOT_THE_SAME_LINK = {
    "another type": (link(INC1, R.RELATED_TO, PBI1), link(INC1, R.CAUSED_BY, PBI1)),
    "the type turned the wrong way": (link(INC1, R.CAUSES, PBI1), link(INC1, R.CAUSED_BY, PBI1)),
    "another target": (link(INC1, R.CAUSED_BY, PBI2), link(INC1, R.CAUSED_BY, PBI1)),
    "another kind, same number": (
        link(INC1, R.RELATED_TO, (INC, "PBI1")),
        link(INC1, R.RELATED_TO, PBI1),
    ),
}


@pytest.mark.parametrize(
    ("held", "planned"), list(NOT_THE_SAME_LINK.values()), ids=list(NOT_THE_SAME_LINK)
)
def test_a_different_link_between_the_records_does_not_count(
    engine: Engine, held: Relation, planned: Relation
) -> None:
    """Only the same link (its type, seen from its side) makes a relate a no-op."""
    fake = FakeConnector().add(held)
    report = Executor(fake, engine).apply(relate_plan(planned))
    assert [o.outcome for o in report.outcomes] == ["applied"]
    assert fake.relations == [held, planned]


def test_a_pending_relate_is_recovered_only_by_the_same_link(engine: Engine) -> None:
    """After a crash before the write, a link of another type is not mistaken for ours."""
    planned = link(INC1, R.CAUSED_BY, PBI1)
    plan = relate_plan(planned)
    action = plan.actions[0]
    key = idempotency_key(plan.procedure, action.trigger, action.step)
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            idempotency.insert().values(
                key=key,
                procedure=plan.procedure,
                trigger=action.trigger,
                step=action.step,
                status="pending",
                result_id=None,
                created_at=now,
                updated_at=now,
            )
        )
    fake = FakeConnector().add(link(INC1, R.RELATED_TO, PBI1))
    first = Executor(fake, engine).apply(plan)
    assert [o.outcome for o in first.outcomes] == ["applied"]
    fake.relations = [link(PBI1, R.CAUSES, INC1)]  # the ITSM holds it, from the problem's side
    with engine.begin() as conn:
        conn.execute(idempotency.update().values(status="pending"))
    again = Executor(fake, engine).apply(plan)
    assert [o.outcome for o in again.outcomes] == ["recovered"]
    assert [w.operation for w in fake.writes] == ["relate"]
