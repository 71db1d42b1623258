"""Problem Management, Procedure 1, Incident Request Review: groups, known problems, reruns."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from connector.entities import IncidentRequest, ProblemInvestigation, RecordKind, Relation
from connector.enums import Impact, ProblemStatus, RelationType, ServiceType, Urgency
from connector.testing import FakeConnector, at, incident
from procedures.config import ProceduresConfig
from procedures.plan import ActionKind, Plan, Ref
from procedures.problem import incident_review as p1
from procedures.problem.config import ProblemConfig
from procedures.problem.incident_review import IncidentReviewConfig
from procedures.registry import Context
from smpm.executor import Executor
from smpm.store import open_engine
from tests.procedures.conftest import NOW, directory

CONFIG = IncidentReviewConfig(min_incidents=3, window_days=14)
KNOWN = ProblemInvestigation(
    id="PBI7",
    summary="Failovers on db-cluster-01",
    status=ProblemStatus.UNDER_INVESTIGATION,
)


def failure(id: str, reported: str = "2026-11-20 09:00", **fields: Any) -> IncidentRequest:
    base: dict[str, Any] = {
        "id": id,
        "summary": "Online Banking times out",
        "ci": "db-cluster-01",
        "service": "Online Banking",
        "operational_category_1": "Failure",
        "service_type": ServiceType.USER_SERVICE_RESTORATION,
        "impact": Impact.MODERATE,
        "urgency": Urgency.MEDIUM,
        "reported_at": at(reported),
    }
    return incident(**{**base, **fields})


def linked(incident_id: str, problem_id: str) -> Relation:
    return Relation(
        source_kind=RecordKind.INCIDENT,
        source_id=incident_id,
        target_kind=RecordKind.PROBLEM,
        target_id=problem_id,
        relation_type=RelationType.CAUSED_BY,
    )


def context(fake: FakeConnector, config: IncidentReviewConfig = CONFIG) -> Context:
    settings = ProceduresConfig(problem=ProblemConfig(review=config))
    return Context(fake, settings, NOW, "test", _directory=directory())


def run(*records: Any, config: IncidentReviewConfig = CONFIG) -> Plan:
    return p1.run(context(FakeConnector().add(*records), config))


@dataclass(frozen=True)
class Case:
    id: str
    smpm: str
    records: tuple[Any, ...]
    kinds: tuple[ActionKind, ...]
    record: str
    outcome: str
    because: str


CASES = [
    Case(
        "a-new-group-registers-a-problem",
        "After the identification of a problem, the problem coordinator registers a new problem "
        "investigation ... subsequently links the incident requests that were caused by the "
        "problem to it",
        (failure("INC1"), failure("INC2"), failure("INC3", reported="2026-11-24 17:00")),
        (ActionKind.CREATE, ActionKind.RELATE, ActionKind.RELATE, ActionKind.RELATE),
        "CI db-cluster-01, Failure",
        "problem investigation registered",
        "3 incident requests on CI db-cluster-01, Failure in 14 days not linked to a problem "
        "(at least 3): a problem is identified",
    ),
    Case(
        "a-group-below-the-minimum-is-left",
        "uses incident request information to identify problems (two alike requests are not "
        "yet one)",
        (failure("INC1"), failure("INC2")),
        (),
        "CI db-cluster-01, Failure",
        "no problem identified",
        "2 incident requests on CI db-cluster-01, Failure in 14 days not linked to a problem; "
        "3 identify one",
    ),
    Case(
        "a-new-incident-matching-a-known-problem-is-linked",
        "When the problem coordinator finds incident requests that have not yet been linked to "
        "a problem investigation, but which were caused by a previously identified problem, "
        "he/she links these incident requests to the problem investigation",
        (
            KNOWN,
            failure("INC1", reported="2026-10-01 09:00"),
            linked("INC1", "PBI7"),
            failure("INC9"),
        ),
        (ActionKind.RELATE,),
        "INC9",
        "linked to PBI7",
        "alike the incident requests of the open problem investigation PBI7 (CI db-cluster-01, "
        "Failure): caused by a previously identified problem",
    ),
    Case(
        "a-problem-registered-by-an-earlier-review-is-known-by-its-summary",
        "caused by a previously identified problem (one this procedure registered, found by "
        "its summary even before any request is linked to it)",
        (
            KNOWN.model_copy(
                update={"id": "PBI8", "summary": "[incident review] CI db-cluster-01, Failure: x"}
            ),
            failure("INC9"),
        ),
        (ActionKind.RELATE,),
        "INC9",
        "linked to PBI8",
        "alike the incident requests of the open problem investigation PBI8",
    ),
    Case(
        "a-closed-problem-is-not-a-known-one",
        "a previously identified problem (a closed problem is solved: new alike requests are a "
        "new problem)",
        (
            KNOWN.model_copy(update={"status": ProblemStatus.CLOSED}),
            failure("INC1", reported="2026-10-01 09:00"),
            linked("INC1", "PBI7"),
            failure("INC8"),
        ),
        (),
        "CI db-cluster-01, Failure",
        "no problem identified",
        "1 incident request on CI db-cluster-01, Failure",
    ),
    Case(
        "another-categorisation-is-another-problem",
        "incident requests that were caused by the problem (alike: same CI and categorisation)",
        (failure("INC1"), failure("INC2"), failure("INC3", operational_category_1="Request")),
        (),
        "CI db-cluster-01, Failure",
        "no problem identified",
        "2 incident requests on CI db-cluster-01, Failure",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_incident_request_review_decision(case: Case) -> None:
    """Each case quotes the SMPM sentence it checks (see `case.smpm`)."""
    plan = run(*case.records)
    assert tuple(a.kind for a in plan.actions) == case.kinds
    finding = next(f for f in plan.findings if f.record == case.record)
    assert finding.outcome == case.outcome
    assert case.because in finding.because
    for action in plan.actions:
        assert str(action.reason).startswith("Problem Management P1 Incident Request Review: ")


def test_the_new_problem_is_assigned_and_its_requests_linked() -> None:
    """'The problem coordinator then assigns the new problem investigation to the most
    appropriate specialist': the configured group, coordinated by the service's coordinator."""
    config = CONFIG.model_copy(update={"specialist_group": "Database Administration"})
    plan = run(
        failure("INC1", impact=Impact.SIGNIFICANT),
        failure("INC2", urgency=Urgency.HIGH),
        failure("INC3"),
        config=config,
    )
    create, *links = plan.actions
    problem = create.record
    assert isinstance(problem, ProblemInvestigation)
    assert (
        problem.summary == "[incident review] CI db-cluster-01, Failure: Online Banking times out"
    )
    assert (problem.assigned_group, problem.status, problem.problem_coordinator) == (
        "Database Administration",
        ProblemStatus.ASSIGNED,
        "paula",
    )
    assert (problem.ci, problem.service) == ("db-cluster-01", "Online Banking")
    assert (problem.impact, problem.urgency) == (Impact.SIGNIFICANT, Urgency.HIGH)
    assert problem.investigation_driver == "Re-Occurring Incidents"
    assert "INC1, INC2, INC3" in (problem.details or "")
    ref = Ref(trigger=create.trigger, step="register-problem")
    assert [(a.target_id, a.relation_target, a.trigger) for a in links] == [
        (f"INC{n}", ref, f"incident:INC{n}:problem-review") for n in (1, 2, 3)
    ]
    assert all(a.relation and a.relation.relation_type is RelationType.CAUSED_BY for a in links)


def test_without_a_group_the_problem_waits_for_its_coordinator() -> None:
    plan = run(failure("INC1"), failure("INC2"), failure("INC3"))
    problem = plan.actions[0].record
    assert isinstance(problem, ProblemInvestigation)
    assert (problem.assigned_group, problem.status) == (None, ProblemStatus.UNDER_REVIEW)


def test_a_rule_changes_the_minimum_the_tiers_and_the_group() -> None:
    """`[[problem.review.rules]]`: two login failures on Online Banking are already a problem."""
    config = IncidentReviewConfig.model_validate(
        {
            "rules": [
                {
                    "match": {"service": "Online Banking", "summary_keywords": ["login"]},
                    "min_incidents": 2,
                    "category_tiers": 0,
                    "group": "Application Support",
                }
            ]
        }
    )
    plan = run(
        failure("INC1", summary="login fails", ci=None),
        failure("INC2", summary="login page blank", ci=None, operational_category_1="Other"),
        config=config,
    )
    problem = plan.actions[0].record
    assert isinstance(problem, ProblemInvestigation)
    assert problem.assigned_group == "Application Support"
    assert problem.summary is not None
    assert problem.summary.startswith("[incident review] service Online Banking:")
    assert [a.target_id for a in plan.actions[1:]] == ["INC1", "INC2"]


def test_requests_outside_the_window_or_of_other_types_are_not_reviewed() -> None:
    plan = run(
        failure("INC1"),
        failure("INC2"),
        failure("INC3", reported="2026-11-01 09:00"),  # 24 days ago
        failure("INC4", service_type=ServiceType.USER_SERVICE_REQUEST),
    )
    assert plan.actions == []


def test_a_request_without_ci_or_service_is_named() -> None:
    plan = run(failure("INC1", ci=None, service=None))
    [finding] = plan.findings
    assert (finding.record, finding.because) == ("INC1", "it names neither a CI nor a service")


def test_links_are_read_only_for_requests_that_could_lead_to_an_action() -> None:
    """The relation lookup asks only for requests of large enough groups or known problems."""
    fake = FakeConnector().add(failure("INC1"), failure("INC2"), failure("INC5", ci="web-01"))
    asked: list[str] = []
    original = fake.find

    def spy(model: Any, where: Any = None, **kw: Any) -> Any:
        if model is Relation and kw.get("within") is RecordKind.INCIDENT:
            asked.append(repr(where))
        return original(model, where, **kw)

    fake.find = spy  # type: ignore[method-assign]
    p1.run(context(fake, CONFIG.model_copy(update={"min_incidents": 2})))
    assert len(asked) == 1  # none for the open problems (there are none), one for INC1 and INC2
    assert "INC1" in asked[0] and "INC2" in asked[0] and "INC5" not in asked[0]


def test_a_rerun_registers_nothing_new_and_links_nothing_twice(tmp_path: Path) -> None:
    """Idempotent: the linked requests are no longer candidates; a later alike request is
    linked to the problem the first run registered."""
    fake = FakeConnector().add(failure("INC1"), failure("INC2"), failure("INC3"))
    engine = open_engine(f"sqlite:///{tmp_path / 'state.db'}")
    first = Executor(fake, engine).apply(p1.run(context(fake)))
    assert [o.outcome for o in first.outcomes] == ["applied"] * 4
    writes = len(fake.writes)
    assert p1.run(context(fake)).actions == []
    assert len(fake.writes) == writes
    fake.add(failure("INC4", reported="2026-11-25 08:00"))
    [link] = p1.run(context(fake)).actions
    [problem] = fake.find(ProblemInvestigation)
    assert (link.target_id, link.relation.target_id if link.relation else None) == (
        "INC4",
        problem.id,
    )
    engine.dispose()
