"""Incident Management, Procedure 2, Incident Request Assignment: the routing decisions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import ValidationError

from connector.entities import IncidentRequest
from connector.enums import IncidentStatus, ReportedSource, ServiceType
from connector.testing import FakeConnector, at, incident
from procedures.config import ProceduresConfig
from procedures.incident.assignment import AssignmentConfig, decide, run
from procedures.plan import ActionKind
from procedures.registry import Context
from tests.procedures.conftest import NOW, directory

RULES = AssignmentConfig.model_validate(
    {
        "default_group": "Service Desk",
        "change_group": "Change Management",
        "change_criteria": [{"operational_category": "Change/Functionality"}],
        "rules": [
            {
                "name": "banking-login",
                "priority": 10,
                "group": "Application Support",
                "match": {"service": "Online Banking", "summary_keywords": ["login", "password"]},
            },
            {
                "name": "banking",
                "priority": 20,
                "group": "Network Operations",
                "match": {"service": "Online Banking"},
            },
            {
                "name": "events",
                "priority": 30,
                "group": "Network Operations",
                "match": {
                    "reported_source": "systems_management",
                    "service_type": "infrastructure_restoration",
                },
            },
            {
                "name": "hardware",
                "priority": 40,
                "group": "Service Desk",
                "assignee": "sam",
                "match": {"operational_category": "Failure/Hardware/*"},
            },
        ],
    }
)


@dataclass(frozen=True)
class Case:
    id: str
    smpm: str
    request: IncidentRequest
    kind: ActionKind | None
    changes: dict[str, Any] = field(default_factory=dict)
    reason_has: str = ""


CASES = [
    Case(
        "first-match-wins",
        "the service management application applies the automatic routing rules to "
        "automatically assign it to the most appropriate group",
        incident(id="INC1", service="Online Banking", summary="Login fails with error 500"),
        ActionKind.ASSIGN,
        {
            "assigned_group": "Application Support",
            "status": IncidentStatus.ASSIGNED,
            "assigned_company": "Calbro Services",
            "assigned_organization": "IT Support",
        },
        "routing rule 'banking-login' (priority 10) matched: service = Online Banking; "
        "summary mentions 'login'",
    ),
    Case(
        "later-rule-when-first-fails",
        "automatic routing rules ... assign it to the most appropriate group",
        incident(id="INC2", service="Online Banking", summary="Statements missing"),
        ActionKind.ASSIGN,
        {"assigned_group": "Network Operations", "status": IncidentStatus.ASSIGNED},
        "routing rule 'banking' (priority 20)",
    ),
    Case(
        "source-and-service-type",
        "automatic routing rules (reported source, service type)",
        incident(
            id="INC3",
            reported_source=ReportedSource.SYSTEMS_MANAGEMENT,
            service_type=ServiceType.INFRASTRUCTURE_RESTORATION,
        ),
        ActionKind.ASSIGN,
        {"assigned_group": "Network Operations"},
        "reported_source = systems_management; service_type = infrastructure_restoration",
    ),
    Case(
        "categorization-with-assignee",
        "automatic routing rules (operational categorization)",
        incident(
            id="INC4",
            operational_category_1="Failure",
            operational_category_2="Hardware",
            operational_category_3="Disk",
        ),
        ActionKind.ASSIGN,
        {"assigned_group": "Service Desk", "assignee": "sam"},
        "operational categorization is Failure/Hardware/Disk",
    ),
    Case(
        "default-group",
        "to automatically assign it to the most appropriate group (no rule: the default)",
        incident(id="INC5", service="Payroll", summary="Payslip wrong"),
        ActionKind.ASSIGN,
        {"assigned_group": "Service Desk"},
        "no routing rule matched; default group",
    ),
    Case(
        "reopened-is-manual",
        "If the service desk analyst reopened an existing incident request, he/she manually "
        "selects the most appropriate assignment group.",
        incident(
            id="INC6",
            service="Online Banking",
            summary="Login fails again",
            reopened_at=at("2026-11-24 09:00"),
        ),
        ActionKind.ADD_NOTE,
        {},
        "reopened",
    ),
    Case(
        "change-management",
        "The group coordinator assigns incident requests that require Change Management to the "
        "change coordinator of the concerned service.",
        incident(
            id="INC7",
            service="Online Banking",
            summary="Add a field to the login page",
            operational_category_1="Change",
            operational_category_2="Functionality",
        ),
        ActionKind.ASSIGN,
        {"assigned_group": "Change Management", "assignee": "carl"},
        "requires Change Management (operational categorization is Change/Functionality/-)",
    ),
    Case(
        "change-management-without-coordinator",
        "assigns incident requests that require Change Management to the change coordinator "
        "(none known: flagged, not guessed)",
        incident(
            id="INC8",
            service="Payroll",
            operational_category_1="Change",
            operational_category_2="Functionality",
        ),
        ActionKind.ADD_NOTE,
        {},
        "no change coordinator is known for service Payroll",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_routing_decision(case: Case) -> None:
    """Each case quotes the SMPM sentence it checks (see `case.smpm`)."""
    plan = decide([case.request], directory(), RULES, "test")
    if case.kind is None:
        assert plan.actions == []
        return
    assert [a.kind for a in plan.actions] == [case.kind]
    action = plan.actions[0]
    assert action.target_id == case.request.id
    written = {**action.extras, **action.changes}
    for key, value in case.changes.items():
        assert written[key] == value
    assert case.reason_has in str(action.reason)
    assert str(action.reason).startswith("Incident Management P2 Incident Request Assignment: ")


def test_nothing_matches_and_no_default_leaves_it_alone() -> None:
    """Without a default group an unmatched request is left for the service desk, and said so."""
    config = RULES.model_copy(update={"default_group": None})
    plan = decide([incident(id="INC9", service="Payroll")], directory(), config, "test")
    assert plan.actions == []
    assert plan.findings[0].outcome == "left unassigned"


def test_run_reads_only_new_unassigned_requests() -> None:
    """Assigned or in-progress requests are not routed again."""
    fake = FakeConnector().add(
        incident(id="INC1", status=IncidentStatus.NEW, service="Payroll"),
        incident(id="INC2", status=IncidentStatus.NEW, assigned_group="Service Desk"),
        incident(id="INC3", status=IncidentStatus.IN_PROGRESS),
    )
    config = ProceduresConfig(incident={"assignment": RULES})  # type: ignore[arg-type]
    plan = run(Context(fake, config, NOW))
    assert [a.target_id for a in plan.actions] == ["INC1"]
    assert fake.writes == []


BAD = [
    (
        "same priority twice",
        {
            "rules": [
                {"name": "a", "priority": 1, "group": "G", "match": {"service": "S"}},
                {"name": "b", "priority": 1, "group": "G", "match": {"service": "T"}},
            ]
        },
        "share priority 1",
    ),
    (
        "bad regex",
        {"rules": [{"name": "a", "priority": 1, "group": "G", "match": {"summary_regex": "(("}}]},
        "not a valid regular expression",
    ),
    (
        "empty match",
        {"rules": [{"name": "a", "priority": 1, "group": "G", "match": {}}]},
        "at least one condition",
    ),
    (
        "unknown condition",
        {"rules": [{"name": "a", "priority": 1, "group": "G", "match": {"colour": "red"}}]},
        "Extra inputs are not permitted",
    ),
    (
        "unknown service type",
        {
            "rules": [
                {"name": "a", "priority": 1, "group": "G", "match": {"service_type": "outage"}}
            ]
        },
        "service_type",
    ),
]


@pytest.mark.parametrize(("data", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_rule_tables_are_rejected(data: dict, message: str) -> None:
    """A rule table that cannot mean what its author wants is refused when it is loaded."""
    with pytest.raises(ValidationError) as caught:
        AssignmentConfig.model_validate(data)
    assert message in str(caught.value)
