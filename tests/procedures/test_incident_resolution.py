"""Incident Management, Procedure 4, Incident Request Resolution by Specialist: a recurring
workaround informs the problem coordinator through a related problem investigation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from connector.entities import IncidentRequest, ProblemInvestigation, RecordKind, Relation
from connector.enums import IncidentStatus, ProblemStatus, RelationType
from connector.testing import FakeConnector, incident
from procedures.config import ProceduresConfig
from procedures.incident import resolution
from procedures.incident.resolution import Candidate, Recurrence, ResolutionConfig
from procedures.plan import ActionKind, Plan, Ref
from procedures.registry import Context
from smpm.executor import Executor
from smpm.store import open_engine
from tests.procedures.conftest import NOW, directory

SMPM = (
    "if the incident request was resolved using a workaround, and the specialist believes that "
    "the incident for which the workaround was provided is likely to recur, he/she informs the "
    "problem coordinator of the affected service to ensure that action is taken to prevent "
    "future occurrences"
)
WORKAROUND: dict[str, Any] = {
    "status": IncidentStatus.RESOLVED,
    "status_reason": "Temporary Corrective Action",
    "summary": "Web page times out",
    "service": "Online Banking",
    "ci": "web-01",
    "operational_category_1": "Failure",
    "resolved_at": NOW - timedelta(hours=2),
    "reported_at": NOW - timedelta(hours=5),
}
REQUEST = incident(id="INC1", **WORKAROUND)


def problem(id: str, **fields: Any) -> ProblemInvestigation:
    base: dict[str, Any] = {
        "summary": "Web timeouts",
        "service": "Online Banking",
        "ci": "web-01",
        "status": ProblemStatus.ASSIGNED,
    }
    return ProblemInvestigation(id=id, **{**base, **fields})


def earlier(id: str, **fields: Any) -> IncidentRequest:
    """A request reported before, on web-01 unless told otherwise."""
    base = {"ci": "web-01", "service": "Online Banking", "reported_at": NOW - timedelta(days=3)}
    return incident(id=id, **{**base, **fields})


CAPACITY = problem(
    "PBI5",
    summary="[capacity] web-01 / cpu: utilisation 93% exceeds threshold 85%",
    operational_category_1="Capacity",
)
MONITORED = earlier("INC0", summary="CPU utilisation 93% on web-01")


def decide(*items: Recurrence, config: ResolutionConfig | None = None) -> Plan:
    return resolution.decide(list(items), directory(), config or ResolutionConfig(), "t")


@dataclass(frozen=True)
class Case:
    id: str
    smpm: str
    item: Recurrence
    target: str | None  # the problem investigation linked and noted; None: a new one
    because: str
    config: ResolutionConfig | None = None


CASES = [
    Case(
        "problem-of-the-request-s-categorisation-is-related",
        f"{SMPM} (an open problem investigation of its symptom is the one acting on it)",
        Recurrence(
            REQUEST, 3, candidates=(Candidate(problem("PBI9", operational_category_1="Failure")),)
        ),
        "PBI9",
        "PBI9 is related: its categorisation (Failure) is the request's",
    ),
    Case(
        "capacity-problem-on-the-same-ci-is-not-related",
        f"{SMPM} (a capacity problem on the CI prevents other occurrences, not these)",
        Recurrence(REQUEST, 3, candidates=(Candidate(CAPACITY, (MONITORED,)),)),
        None,
        "not related: PBI5 ([capacity] web-01 / cpu",
    ),
    Case(
        "uncategorised-problem-with-unlike-requests-is-not-related",
        f"{SMPM} (nothing says the problem is the one causing this request)",
        Recurrence(REQUEST, 3, candidates=(Candidate(problem("PBI6"), (MONITORED,)),)),
        None,
        "no open problem investigation on web-01 has its symptom (CI web-01, Failure)",
    ),
    Case(
        "problem-with-an-alike-linked-request-is-related",
        f"{SMPM} (requests alike this one were linked to the problem as caused by it)",
        Recurrence(
            REQUEST,
            3,
            candidates=(
                Candidate(CAPACITY, (MONITORED,)),
                Candidate(problem("PBI8"), (earlier("INC7", operational_category_1="Failure"),)),
            ),
        ),
        "PBI8",
        "PBI8 is related: INC7 linked to it is alike (CI web-01, Failure)",
    ),
    Case(
        "problem-registered-for-such-requests-is-related",
        f"{SMPM} (the problem registered earlier for requests alike this one)",
        Recurrence(
            REQUEST,
            3,
            candidates=(Candidate(problem("PBI4", summary="Recurring on CI web-01, Failure: x")),),
        ),
        "PBI4",
        "PBI4 is related: it was registered for requests alike this one (CI web-01, Failure)",
    ),
    Case(
        "uncategorised-request-shares-no-symptom-with-an-uncategorised-problem",
        f"{SMPM} (an empty categorisation is no evidence of the same symptom)",
        Recurrence(
            incident(id="INC1", **{**WORKAROUND, "operational_category_1": None}),
            3,
            candidates=(Candidate(problem("PBI6"), (MONITORED,)),),
        ),
        None,
        "not related: PBI6",
    ),
    Case(
        "same-category-off-any-open-problem-on-the-ci-is-related",
        f"{SMPM} (same_category = false: the CI alone makes requests alike)",
        Recurrence(REQUEST, 3, candidates=(Candidate(CAPACITY),)),
        "PBI5",
        "PBI5 is related: it is open on web-01 and same_category is off",
        ResolutionConfig(same_category=False),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_problem_informed_is_a_related_one(case: Case) -> None:
    """Each case quotes the SMPM sentence it checks (see `case.smpm`); the reason says why the
    problem investigation is (or none is) related."""
    plan = decide(case.item, config=case.config)
    kinds = [a.kind for a in plan.actions]
    [finding] = plan.findings
    assert case.because in finding.because, finding.because
    if case.target is None:
        assert kinds == [ActionKind.CREATE, ActionKind.RELATE, ActionKind.ADD_NOTE]
        target: str | Ref = Ref(trigger="incident:INC1:recurrence", step="register-problem")
    else:
        assert kinds == [ActionKind.RELATE, ActionKind.ADD_NOTE]
        target = case.target
    relate, note = plan.actions[-2:]
    assert relate.relation is not None and relate.relation.target_id == str(target)
    assert note.target_id == target
    for action in plan.actions:
        assert str(action.reason).startswith(
            "Incident Management P4 Incident Request Resolution by Specialist: "
        )
        assert case.because in str(action.reason)


def test_a_request_already_linked_to_a_problem_is_never_relinked() -> None:
    """'informs the problem coordinator ... to ensure that action is taken': a request linked to
    a problem investigation already has it taken; no second link (ServiceNow would overwrite its
    problem_id), no new problem."""
    related = Candidate(problem("PBI9", operational_category_1="Failure"))
    plan = decide(Recurrence(REQUEST, 3, linked_to="PBI3", candidates=(related,)))
    assert plan.actions == []
    [finding] = plan.findings
    assert (finding.outcome, "already linked to problem investigation PBI3" in finding.because) == (
        "no action",
        True,
    )


def test_a_new_problem_carries_the_symptom_and_its_coordinator() -> None:
    """The problem registered names the requests' symptom, so the next alike request finds it."""
    create, relate, note = decide(Recurrence(REQUEST, 3)).actions
    assert isinstance(create.record, ProblemInvestigation)
    assert create.record.summary == "Recurring on CI web-01, Failure: Web page times out"
    assert create.record.operational_category_1 == "Failure"
    assert create.record.problem_coordinator == "paula"
    assert create.record.investigation_driver == "Re-Occurring Incidents"
    assert relate.relation_target == Ref(trigger=create.trigger, step="register-problem")
    assert note.target_id == Ref(trigger=create.trigger, step="register-problem")
    assert "likely to recur" in str(note.reason)


def test_two_alike_recurrences_in_one_run_share_one_new_problem() -> None:
    """Two requests alike each other in one run register one problem, linked to both; one of
    another symptom on the same CI gets its own."""
    other = incident(id="INC3", **{**WORKAROUND, "operational_category_1": "Request"})
    plan = decide(
        Recurrence(REQUEST, 3),
        Recurrence(incident(id="INC2", **WORKAROUND), 3),
        Recurrence(other, 3),
    )
    assert [a.kind for a in plan.actions].count(ActionKind.CREATE) == 2
    links = [a for a in plan.actions if a.kind is ActionKind.RELATE]
    assert links[0].relation_target == links[1].relation_target != links[2].relation_target


def test_an_isolated_workaround_is_not_likely_to_recur() -> None:
    """Below `min_similar` the incident is not 'likely to recur'."""
    plan = decide(Recurrence(REQUEST, 1), config=ResolutionConfig(min_similar=2))
    assert plan.actions == []
    assert "1 similar requests" in plan.findings[0].because


# -- gathering ------------------------------------------------------------------------------------
def link(request: str, problem_id: str) -> Relation:
    return Relation(
        source_kind=RecordKind.INCIDENT,
        source_id=request,
        target_kind=RecordKind.PROBLEM,
        target_id=problem_id,
        relation_type=RelationType.RELATED_TO,
    )


def seeded(*extra: Any) -> FakeConnector:
    return FakeConnector().add(
        REQUEST,
        earlier("INC2", operational_category_1="Failure"),
        earlier("INC3", operational_category_1="Failure", reported_at=NOW - timedelta(days=60)),
        earlier("INC4", ci="db-01", operational_category_1="Failure"),
        earlier("INC5", operational_category_1="Failure", reported_at=NOW - timedelta(days=9)),
        *extra,
    )


def test_gather_counts_alike_requests_and_reads_the_open_problems_on_the_ci() -> None:
    """Similar = same CI and category tier 1 within the window, not counting the request itself;
    the candidates are the open problem investigations on the CI, with their linked requests."""
    closed = problem("PBI2", status=ProblemStatus.CLOSED)
    elsewhere = problem("PBI3", ci="db-01")
    fake = seeded(CAPACITY, MONITORED, link("INC0", "PBI5"), closed, elsewhere)
    [item] = resolution.gather(Context(fake, ProceduresConfig(), NOW))
    assert (item.incident.id, item.similar, item.linked_to) == ("INC1", 2, None)
    assert [(c.problem.id, [i.id for i in c.linked]) for c in item.candidates] == [
        ("PBI5", ["INC0"])
    ]


def test_gather_knows_the_problem_a_request_is_linked_to() -> None:
    fake = seeded(problem("PBI9"), link("INC1", "PBI9"))
    [item] = resolution.gather(Context(fake, ProceduresConfig(), NOW))
    assert item.linked_to == "PBI9"


def test_a_rerun_writes_nothing(tmp_path: Path) -> None:
    """Replay: the first run registers, links and notes; the same run again writes nothing (the
    request is linked now), even with a fresh state database (the ITSM says so)."""
    fake = seeded(CAPACITY)

    def apply(state: str) -> None:
        engine = open_engine(f"sqlite:///{tmp_path / state}.db")
        Executor(fake, engine).apply(resolution.run(Context(fake, ProceduresConfig(), NOW)))
        engine.dispose()

    apply("state")
    first = list(fake.writes)
    assert [w.operation for w in first] == ["create", "relate", "add_note"]
    apply("state")
    apply("fresh")
    assert fake.writes == first
    [linked] = [r.target_id for r in fake.relations if r.source_id == "INC1"]
    assert linked != "PBI5"  # not the capacity problem on its CI
