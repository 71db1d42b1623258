"""Event Management, Procedure 1, Event Handling: every branch, and the gathering behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from connector.entities import (
    Change,
    ConfigurationItem,
    Event,
    IncidentRequest,
    RecordKind,
    Relation,
    Service,
)
from connector.enums import (
    ChangeStatus,
    EventSeverity,
    Impact,
    IncidentStatus,
    RelationType,
    ServiceType,
)
from connector.testing import FakeConnector, at, incident
from procedures.event.cmdb import CmdbSnapshot
from procedures.event.handling import HandlingConfig, Situation, Window, decide
from procedures.event.situation import gather
from procedures.incident.assignment import AssignmentConfig
from procedures.plan import ActionKind
from tests.procedures.conftest import directory

ASSIGNMENT = AssignmentConfig.model_validate(
    {
        "default_group": "Service Desk",
        "rules": [
            {
                "name": "banking",
                "priority": 10,
                "group": "Application Support",
                "match": {"service": "Online Banking"},
            }
        ],
    }
)
CONFIG = HandlingConfig(customer="monitor")
APP = ConfigurationItem(id="RE-APP", name="app-bank-02", ci_class="BMC_COMPUTERSYSTEM")
DB = ConfigurationItem(id="RE-DB", name="db-cluster-01", ci_class="BMC_CLUSTER")


def event(**fields: Any) -> Event:
    base: dict[str, Any] = {
        "id": "EV1",
        "source": "zabbix",
        "node": "app-bank-02",
        "ci": "app-bank-02",
        "event_type": "cpu",
        "severity": EventSeverity.MAJOR,
        "message_key": "zabbix/app/cpu",
        "message": "CPU at 97%",
        "occurred_at": at("2026-11-25 10:00"),
    }
    return Event(**{**base, **fields})


OPEN = incident(
    id="INC7",
    status=IncidentStatus.IN_PROGRESS,
    ci="app-bank-02",
    event_key="zabbix/app/cpu",
    summary="[cpu] CPU at 97%",
)
DB_OUTAGE = incident(
    id="INC9",
    status=IncidentStatus.IN_PROGRESS,
    ci="db-cluster-01",
    impact=Impact.SIGNIFICANT,
    service_type=ServiceType.INFRASTRUCTURE_RESTORATION,
)
CHANGE = Change(id="CRQ1", summary="Patch app-bank-02", status=ChangeStatus.SCHEDULED)


@dataclass(frozen=True)
class Case:
    id: str
    smpm: str
    event: Event
    situation: dict[str, Any] = field(default_factory=dict)
    kinds: tuple[ActionKind, ...] = ()
    outcome: str = ""
    config: HandlingConfig = CONFIG


CASES = [
    Case(
        "first-outage-opens-restoration",
        "If the event represents the first notification of an unplanned service outage ... the "
        "operator registers a new incident request of the service type 'Infrastructure "
        "Restoration'",
        event(),
        {},
        (ActionKind.CREATE,),
        "new incident request",
    ),
    Case(
        "degradation-also-restoration",
        "... unplanned service outage or degradation ...",
        event(severity=EventSeverity.WARNING),
        {},
        (ActionKind.CREATE,),
        "new incident request",
    ),
    Case(
        "capacity-warning-opens-infrastructure-event",
        "If the event represents the first warning of an impending capacity shortage ... service "
        "type to 'Infrastructure Event' ... assigns the incident request to the capacity manager",
        event(severity=EventSeverity.WARNING, value=97.0, threshold=90.0),
        {},
        (ActionKind.CREATE,),
        "new incident request",
    ),
    Case(
        "reading-within-threshold-is-information",
        "only a threshold exceeded is a warning of a capacity shortage",
        event(severity=EventSeverity.WARNING, value=50.0, threshold=90.0),
        {},
        (),
        "closed: information",
    ),
    Case(
        "repeat-notes-the-count",
        "The operator also closes the event if it was not the first event that was generated for "
        "a current ... incident (i.e. when an incident request had already been registered)",
        event(),
        {"current": OPEN, "occurrence": 4},
        (ActionKind.ADD_NOTE,),
        "repeat of INC7",
    ),
    Case(
        "repeat-between-doublings-is-quiet",
        "not the first event: closed; a note at doublings keeps storms from flooding the record",
        event(),
        {"current": OPEN, "occurrence": 5},
        (),
        "repeat of INC7",
    ),
    Case(
        "planned-change",
        "the operator checks if the event is the result of a planned change ... closes the event "
        "if it represents a service degradation or outage that was planned",
        event(),
        {"change": CHANGE},
        (),
        "closed: planned",
    ),
    Case(
        "planned-maintenance-window",
        "... or planned event",
        event(),
        {
            "window": Window(
                ci="app-bank-02",
                start=at("2026-11-25 09:00"),
                end=at("2026-11-25 11:00"),
                reason="kernel patching",
            )
        },
        (),
        "closed: planned",
    ),
    Case(
        "caused-by-another-ci",
        "the event was not raised because ... the failure of another CI elsewhere in the "
        "infrastructure",
        event(),
        {"cause": DB_OUTAGE, "occurrence": 1},
        (ActionKind.RELATE, ActionKind.ADD_NOTE),
        "linked to INC9",
    ),
    Case(
        "clear-notes-the-incident",
        "resolved/clear events: a work note to the incident",
        event(severity=EventSeverity.CLEAR),
        {"current": OPEN},
        (ActionKind.ADD_NOTE,),
        "noted on INC7",
    ),
    Case(
        "clear-resolves-when-configured",
        "... and, only if configured, resolve it",
        event(severity=EventSeverity.CLEAR),
        {"current": OPEN},
        (ActionKind.ADD_NOTE, ActionKind.UPDATE),
        "noted on INC7",
        HandlingConfig(customer="monitor", resolve_on_clear=True),
    ),
    Case(
        "clear-without-incident",
        "a clear with nothing open is simply closed",
        event(severity=EventSeverity.CLEAR),
        {},
        (),
        "closed",
    ),
    Case(
        "info-is-closed",
        "events that are no outage, degradation or capacity warning are closed",
        event(severity=EventSeverity.INFO),
        {},
        (),
        "closed: information",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_event_handling_decision(case: Case) -> None:
    """Each case quotes the SMPM sentence it checks (see `case.smpm`)."""
    fields = {"occurrence": 1, "ci": APP, "services": ["Online Banking"], **case.situation}
    plan = decide(Situation(event=case.event, **fields), directory(), case.config, ASSIGNMENT)
    assert tuple(a.kind for a in plan.actions) == case.kinds
    assert plan.findings[0].outcome == case.outcome
    for action in plan.actions:
        assert str(action.reason).startswith("Event Management P1 Event Handling: ")


def test_restoration_request_is_linked_and_routed() -> None:
    """'ensures that the incident request is linked to the affected CI and service
    infrastructure' and 'gets assigned to the appropriate group' (the routing rules)."""
    plan = decide(
        Situation(event=event(), occurrence=1, ci=APP, services=["Online Banking"]),
        directory(),
        CONFIG,
        ASSIGNMENT,
    )
    record = plan.actions[0].record
    assert isinstance(record, IncidentRequest)
    assert (record.ci, record.service, record.service_type) == (
        "app-bank-02",
        "Online Banking",
        ServiceType.INFRASTRUCTURE_RESTORATION,
    )
    assert (record.assigned_group, record.status) == (
        "Application Support",
        IncidentStatus.ASSIGNED,
    )
    assert (record.customer, record.event_key, record.impact) == (
        "monitor",
        "zabbix/app/cpu",
        Impact.SIGNIFICANT,
    )
    assert plan.actions[0].trigger == "condition:zabbix/app/cpu:0"


def test_capacity_request_goes_to_the_capacity_manager() -> None:
    plan = decide(
        Situation(
            event=event(value=97.0, threshold=90.0),
            occurrence=1,
            ci=APP,
            services=["Online Banking"],
        ),
        directory(),
        CONFIG,
        ASSIGNMENT,
    )
    record = plan.actions[0].record
    assert isinstance(record, IncidentRequest)
    assert (record.service_type, record.assigned_group, record.assignee) == (
        ServiceType.INFRASTRUCTURE_EVENT,
        "Capacity Management",
        "cathy",
    )
    assert 'smpm-reading {"source": "zabbix"' in (record.details or "")
    assert '"value": 97.0, "threshold": 90.0' in (record.details or "")


def test_a_condition_that_returns_after_closure_gets_a_new_request() -> None:
    """The create key counts the requests the condition already had: a new episode, a new key."""
    situation = Situation(event=event(), occurrence=9, ci=APP, services=[], episode=2)
    plan = decide(situation, directory(), CONFIG, ASSIGNMENT)
    assert plan.actions[0].trigger == "condition:zabbix/app/cpu:2"


# -- gathering -----------------------------------------------------------------------------------
def cmdb() -> CmdbSnapshot:
    web = ConfigurationItem(id="RE-WEB", name="web-bank-01")
    bank = ConfigurationItem(id="RE-SVC", name="Online Banking")
    relations = [
        Relation(
            source_kind=RecordKind.CI,
            source_id=a,
            target_kind=RecordKind.CI,
            target_id=b,
            relation_type=RelationType.DEPENDS_ON,
        )
        for a, b in [("RE-SVC", "RE-WEB"), ("RE-WEB", "RE-APP"), ("RE-APP", "RE-DB")]
    ]
    return CmdbSnapshot.of([APP, DB, web, bank], relations, ["Online Banking"])


def test_cmdb_walks_up_to_services_and_down_to_dependencies() -> None:
    snap = cmdb()
    assert snap.supported_services(APP) == ["Online Banking"]
    assert snap.dependencies(APP) == ["db-cluster-01"]
    assert snap.find("APP-BANK-02") is APP


def test_a_repeat_costs_one_read() -> None:
    """Most storm events repeat a known condition: one query settles them."""
    fake = FakeConnector().add(OPEN)
    situation = gather(fake, event(), 3, cmdb(), CONFIG)
    assert situation.current is not None and situation.current.id == "INC7"
    assert fake.reads == 1


def test_gather_finds_the_failing_dependency() -> None:
    fake = FakeConnector().add(DB_OUTAGE)
    situation = gather(fake, event(message_key="other"), 1, cmdb(), CONFIG)
    assert situation.cause is not None and situation.cause.id == "INC9"
    assert situation.services == ["Online Banking"]


def test_gather_finds_an_approved_change_covering_the_event() -> None:
    change = Change(
        id="CRQ1",
        summary="Patch",
        status=ChangeStatus.SCHEDULED,
        ci="app-bank-02",
        scheduled_start=at("2026-11-25 09:00"),
        scheduled_end=at("2026-11-25 11:00"),
    )
    draft = change.model_copy(update={"id": "CRQ2", "status": ChangeStatus.DRAFT})
    fake = FakeConnector().add(change, draft, DB_OUTAGE)
    situation = gather(fake, event(message_key="other"), 1, cmdb(), CONFIG)
    assert situation.change is not None and situation.change.id == "CRQ1"
    assert situation.cause is None  # planned wins: no dependency lookup


def test_same_ci_and_symptom_counts_as_current() -> None:
    """'not the first event for a current incident (... or the same CI and symptom)'."""
    other_key = OPEN.model_copy(update={"event_key": "nagios/app/cpu"})
    fake = FakeConnector().add(other_key)
    situation = gather(fake, event(), 1, cmdb(), CONFIG)
    assert situation.current is not None and situation.current.id == "INC7"
    assert situation.episode == 0  # no request of this condition's own yet
    assert fake.reads == 1  # one query asks for both: same key, or same CI and symptom
    assert Service.kind is RecordKind.SERVICE


@pytest.mark.parametrize(
    ("upstream", "attributed"),
    [
        ({}, True),
        ({"impact": Impact.MINOR}, False),
        ({"status": IncidentStatus.PENDING}, False),
    ],
    ids=["significant outage explains it", "minor issue does not", "pending one does not"],
)
def test_only_an_outage_being_worked_on_explains_a_dependent_event(
    upstream: dict, attributed: bool
) -> None:
    fake = FakeConnector().add(DB_OUTAGE.model_copy(update=upstream))
    situation = gather(fake, event(message_key="other"), 1, cmdb(), CONFIG)
    assert (situation.cause is not None) is attributed


def test_a_capacity_reading_is_not_blamed_on_upstream_failures() -> None:
    """CPU 97% measures this CI; a database outage upstream does not explain it."""
    fake = FakeConnector().add(DB_OUTAGE)
    reading = event(message_key="other", value=97.0, threshold=90.0)
    situation = gather(fake, reading, 1, cmdb(), CONFIG)
    assert situation.cause is None
