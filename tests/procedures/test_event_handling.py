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
    ProblemInvestigation,
    RecordKind,
    Relation,
    Service,
)
from connector.enums import (
    ChangeStatus,
    EventSeverity,
    Impact,
    IncidentStatus,
    ProblemStatus,
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
READING = {"severity": EventSeverity.WARNING, "value": 97.0, "threshold": 90.0}
CAPACITY_PROBLEM = ProblemInvestigation(
    id="PBI3",
    summary="[capacity] app-bank-02 / cpu: cpu.utilisation above critical 95%",
    status=ProblemStatus.ASSIGNED,
)
CLOSED_WARNING = incident(
    id="INC5",
    status=IncidentStatus.CLOSED,
    service_type=ServiceType.INFRASTRUCTURE_EVENT,
    assigned_group="Capacity Management",
    ci="app-bank-02",
    event_key="zabbix/app/cpu",
    summary="[cpu] CPU at 97%",
)
CLOSE_PLANNED_READINGS = HandlingConfig(customer="monitor", close_planned_capacity_warnings=True)


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
        "first-event-worked-again-writes-nothing",
        "not the first event ... (i.e. when an incident request had already been registered for "
        "this): the condition's own request, but this is its first event, worked again after a "
        "crash; the request was registered for it",
        event(),
        {"current": OPEN, "occurrence": 1},
        (),
        "new incident request",
    ),
    Case(
        "first-reading-worked-again-writes-nothing",
        "... already been registered for this: P2 closed the warning registered for this very "
        "reading, which is worked again",
        event(**READING),
        {"problem": CAPACITY_PROBLEM, "warning": CLOSED_WARNING, "occurrence": 1},
        (),
        "new incident request",
    ),
    Case(
        "first-event-of-a-key-on-a-ci-s-open-request-is-noted",
        "not the first event for a current incident (the same CI and symptom): its first event "
        "still tells that incident",
        event(),
        {"current": OPEN.model_copy(update={"event_key": "nagios/app/cpu"}), "occurrence": 1},
        (ActionKind.ADD_NOTE,),
        "repeat of INC7",
    ),
    Case(
        "capacity-repeat-notes-the-open-problem",
        "The operator also closes the event if it was not the first event that was generated for "
        "a current or future incident (i.e. when an incident request had already been "
        "registered for this): its warning was closed by Capacity Management P2 into PBI3",
        event(**READING),
        {"problem": CAPACITY_PROBLEM, "warning": CLOSED_WARNING, "occurrence": 2},
        (ActionKind.ADD_NOTE,),
        "repeat of PBI3",
    ),
    Case(
        "capacity-repeat-between-doublings-is-quiet",
        "... when an incident request had already been registered for this: closed, no note "
        "between doublings",
        event(**READING),
        {"problem": CAPACITY_PROBLEM, "warning": CLOSED_WARNING, "occurrence": 3},
        (),
        "repeat of PBI3",
    ),
    Case(
        "capacity-warning-in-a-change-window-is-registered",
        "closes the event if the event represents a service degradation or outage that was "
        "planned: a capacity warning is neither, so the first one is registered (default)",
        event(**READING),
        {"change": CHANGE},
        (ActionKind.CREATE,),
        "new incident request",
    ),
    Case(
        "capacity-warning-in-a-maintenance-window-is-registered",
        "... a service degradation or outage that was planned (a planned event): a capacity "
        "warning is neither (default)",
        event(**READING),
        {
            "window": Window(
                ci="app-bank-02",
                start=at("2026-11-25 09:00"),
                end=at("2026-11-25 11:00"),
                reason="kernel patching",
            )
        },
        (ActionKind.CREATE,),
        "new incident request",
    ),
    Case(
        "capacity-warning-in-a-change-window-closed-when-configured",
        "close_planned_capacity_warnings = true: a site that counts a planned load as planned "
        "closes the warning as it closes a planned outage",
        event(**READING),
        {"change": CHANGE},
        (),
        "closed: planned",
        CLOSE_PLANNED_READINGS,
    ),
    Case(
        "planned-outage-closed-either-way",
        "closes the event if it represents a service degradation or outage that was planned",
        event(),
        {"change": CHANGE},
        (),
        "closed: planned",
        CLOSE_PLANNED_READINGS,
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


# -- planned changes: every approved change of the CI and its services, whatever else is open ----
WINDOW = {"scheduled_start": at("2026-11-25 09:00"), "scheduled_end": at("2026-11-25 11:00")}


def busy(*relevant: Change | Relation) -> list[Change | Relation]:
    """60 approved changes in the event's window on other CIs and services, then `relevant`:
    the one that matters comes last in every order the connector might use (by id)."""
    others = [
        Change(
            id=f"CRQ{n:03d}",
            summary=f"Patch payroll host {n}",
            status=ChangeStatus.IMPLEMENTATION_IN_PROGRESS,
            ci=f"payroll-{n:02d}",
            service="Payroll",
            **WINDOW,
        )
        for n in range(1, 61)
    ]
    return [*others, *relevant]


class RemedyLikeFake(FakeConnector):
    """Remedy names a change's CIs in association rows (CHG:Associations), not in a field."""

    def maps(self, kind: RecordKind, field: str) -> bool:
        return not (kind is RecordKind.CHANGE and field == "ci")


@pytest.mark.parametrize(
    ("fake", "relevant"),
    [
        (
            FakeConnector(),
            [Change(id="CRQ999", summary="Patch", status=ChangeStatus.SCHEDULED,
                    ci="app-bank-02", **WINDOW)],
        ),
        (
            FakeConnector(),
            [Change(id="CRQ999", summary="Bank release", status=ChangeStatus.SCHEDULED,
                    service="Online Banking", **WINDOW)],
        ),
        (
            RemedyLikeFake(),
            [
                Change(id="CRQ999", summary="Patch", status=ChangeStatus.SCHEDULED, **WINDOW),
                Relation(source_kind=RecordKind.CHANGE, source_id="CRQ999",
                         target_kind=RecordKind.CI, target_id="RE-APP"),
            ],
        ),
    ],
    ids=["ci-field", "supported-service", "association-row"],
)  # fmt: skip
def test_the_planned_change_is_found_among_sixty_others_open(
    fake: FakeConnector, relevant: list[Change | Relation]
) -> None:
    """'the operator checks if the event is the result of a planned change': the changes of the
    event's CI and the services it supports are asked for, whole, so 60 other approved changes
    in the window do not hide the one that covers this CI."""
    fake.add(*busy(*relevant))
    situation = gather(fake, event(message_key="other"), 1, cmdb(), CONFIG)
    assert situation.change is not None and situation.change.id == "CRQ999"
    plan = decide(situation, directory(), CONFIG, ASSIGNMENT)
    assert plan.actions == [] and plan.findings[0].outcome == "closed: planned"
    assert "CRQ999" in plan.findings[0].because


class UnfilteredChanges(FakeConnector):
    """An ITSM that ignores the change query's conditions and answers every change."""

    def find(self, model: Any, where: Any = None, **options: Any) -> Any:
        return super().find(model, None if model is Change else where, **options)


def test_a_change_the_itsm_should_not_have_answered_does_not_make_an_event_planned() -> None:
    """The window, the approval and the CI are checked again on what the ITSM answers."""
    draft = Change(
        id="CRQ2", summary="Draft", status=ChangeStatus.DRAFT, ci="app-bank-02", **WINDOW
    )
    later = Change(
        id="CRQ3",
        summary="Later",
        status=ChangeStatus.SCHEDULED,
        ci="app-bank-02",
        scheduled_start=at("2026-11-26 09:00"),
        scheduled_end=at("2026-11-26 11:00"),
    )
    fake = UnfilteredChanges().add(*busy(draft, later))
    assert gather(fake, event(message_key="other"), 1, cmdb(), CONFIG).change is None


def test_a_capacity_warning_in_a_change_window_names_the_change_it_was_not_closed_for() -> None:
    """SMPM closes 'a service degradation or outage that was planned'; a capacity warning
    inside a change window is registered, and its reason says why it was not closed."""
    change = Change(
        id="CRQ7", summary="Batch load", status=ChangeStatus.SCHEDULED, ci="app-bank-02", **WINDOW
    )
    situation = gather(FakeConnector().add(change), event(**READING), 1, cmdb(), CONFIG)
    assert situation.change is not None and situation.change.id == "CRQ7"
    plan = decide(situation, directory(), CONFIG, ASSIGNMENT)
    [create] = plan.actions
    assert create.kind is ActionKind.CREATE
    assert "CRQ7" in str(create.reason) and "close_planned_capacity_warnings" in str(create.reason)


@pytest.mark.parametrize(
    ("value", "accepted"),
    [(True, True), (False, True), ("true", True), ("maybe", False), (3, False)],
    ids=["true", "false", "env-string", "not-a-bool", "a-number"],
)
def test_close_planned_capacity_warnings_is_a_validated_setting(
    value: object, accepted: bool
) -> None:
    """`[event.handling] close_planned_capacity_warnings`: a boolean, off unless set."""
    from pydantic import ValidationError

    from procedures.event.config import EventConfig

    assert HandlingConfig().close_planned_capacity_warnings is False
    data = {"handling": {"close_planned_capacity_warnings": value}}
    if accepted:
        assert EventConfig.model_validate(data).handling.close_planned_capacity_warnings in (
            True,
            False,
        )
    else:
        with pytest.raises(ValidationError, match="close_planned_capacity_warnings"):
            EventConfig.model_validate(data)


# -- a capacity warning closed by Capacity Management P2 into a problem that is still open -------
def problem_link(incident_id: str = "INC5", problem_id: str = "PBI3") -> Relation:
    return Relation(
        source_kind=RecordKind.INCIDENT,
        source_id=incident_id,
        target_kind=RecordKind.PROBLEM,
        target_id=problem_id,
    )


ADJUSTMENT = incident(id="INC6", summary="Adjust monitoring job zabbix app cpu")


@pytest.mark.parametrize(
    ("records", "reading", "repeat"),
    [
        ((CLOSED_WARNING, problem_link(), CAPACITY_PROBLEM), READING, True),
        (
            (CLOSED_WARNING, problem_link(),
             CAPACITY_PROBLEM.model_copy(update={"status": ProblemStatus.CLOSED})),
            READING,
            False,
        ),
        (
            (CLOSED_WARNING, ADJUSTMENT, Relation(source_kind=RecordKind.INCIDENT,
             source_id="INC5", target_kind=RecordKind.INCIDENT, target_id="INC6")),
            READING,
            False,
        ),
        (
            (CLOSED_WARNING.model_copy(update={"event_key": "zabbix/app/cpu/core-3"}),
             problem_link(), CAPACITY_PROBLEM),
            READING,
            False,
        ),
        (
            (CLOSED_WARNING, problem_link(), CAPACITY_PROBLEM),
            {**READING, "value": 50.0},
            False,
        ),
    ],
    ids=[
        "closed-into-an-open-problem-is-a-repeat",
        "its-problem-closed-a-new-warning",
        "closed-for-a-monitoring-adjustment-a-new-warning",
        "another-condition-on-the-ci-its-own-warning",
        "a-reading-within-its-threshold-is-information",
    ],
)  # fmt: skip
def test_a_capacity_reading_after_its_warning_went_to_a_problem(
    records: tuple[Any, ...], reading: dict[str, Any], repeat: bool
) -> None:
    """'closes the event if it was not the first event that was generated for a current or
    future incident (i.e. when an incident request had already been registered for this)':
    P2 closed the first warning and linked it to a problem investigation; while that problem is
    open, further readings of the condition are repeats, noted on the problem. Another condition
    (another message key) gets its own warning, which P2 links: 'If a problem investigation has
    already been registered, the capacity manager simply links the incident request'."""
    fake = FakeConnector().add(*records)
    situation = gather(fake, event(**reading), 2, cmdb(), CONFIG)
    assert (situation.problem is not None) is repeat
    plan = decide(situation, directory(), CONFIG, ASSIGNMENT)
    kinds = [a.kind for a in plan.actions]
    if repeat:
        assert situation.warning is not None and situation.warning.id == "INC5"
        assert kinds == [ActionKind.ADD_NOTE]
        note = plan.actions[0]
        assert (note.target_kind, note.target_id) == (RecordKind.PROBLEM, "PBI3")
        assert "INC5" in str(note.reason) and "Capacity Management P2" in str(note.reason)
        assert plan.findings[0].outcome == "repeat of PBI3"
    else:
        assert ActionKind.ADD_NOTE not in kinds


def test_a_capacity_repeat_costs_three_reads() -> None:
    """The condition's requests, the closed warning's links, the linked problems."""
    fake = FakeConnector().add(CLOSED_WARNING, problem_link(), CAPACITY_PROBLEM)
    gather(fake, event(**READING), 5, cmdb(), CONFIG)
    assert fake.reads == 3
