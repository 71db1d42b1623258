"""Event Management P1 for an event whose CI the CMDB does not hold.

SMPM: "If the event represents the first notification of an unplanned service outage or
degradation, the operator registers a new incident request of the service type "Infrastructure
Restoration" for it. The operator ensures that the incident request is linked to the affected CI
and service infrastructure." A monitored node missing from the CMDB cannot be linked, but the
first notice is still registered: without a CI reference (a platform whose CI field is a
reference, ServiceNow's cmdb_ci, can hold only a CMDB record), the node named in the summary and
the details, and the reason saying that the CMDB lacks it so the service desk can have it
corrected. Before deciding so, the ITSM is asked once: the snapshot may predate the CI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from connector.entities import ConfigurationItem, Event, IncidentRequest
from connector.enums import EventSeverity, IncidentStatus, ServiceType
from connector.testing import FakeConnector, incident
from procedures.event.handling import Situation, decide
from procedures.event.situation import gather
from procedures.incident.assignment import AssignmentConfig
from procedures.plan import ActionKind, Plan
from tests.procedures.conftest import directory
from tests.procedures.test_event_handling import ASSIGNMENT, CONFIG, READING, cmdb, event

NODE = "db-node-99"


def unlisted(**fields: Any) -> Event:
    """An event about db-node-99, which the test CMDB does not hold."""
    base = {"node": NODE, "ci": NODE, "message_key": f"zabbix/{NODE}/availability"}
    return event(**{**base, "event_type": "availability", "message": "host unreachable", **fields})


@dataclass(frozen=True)
class Case:
    id: str
    smpm: str
    event: Event
    situation: dict[str, Any] = field(default_factory=dict)
    kinds: tuple[ActionKind, ...] = ()
    outcome: str = ""
    service_type: ServiceType | None = None


CASES = [
    Case(
        "first-outage-of-a-ci-missing-from-the-cmdb-is-registered",
        "If the event represents the first notification of an unplanned service outage or "
        "degradation, the operator registers a new incident request of the service type "
        "'Infrastructure Restoration' for it",
        unlisted(),
        kinds=(ActionKind.CREATE,),
        outcome="new incident request",
        service_type=ServiceType.INFRASTRUCTURE_RESTORATION,
    ),
    Case(
        "first-degradation-named-by-node-only-is-registered",
        "... unplanned service outage or degradation ... (the monitor names the node, no CI)",
        unlisted(ci=None, severity=EventSeverity.WARNING),
        kinds=(ActionKind.CREATE,),
        outcome="new incident request",
        service_type=ServiceType.INFRASTRUCTURE_RESTORATION,
    ),
    Case(
        "first-capacity-warning-of-a-ci-missing-from-the-cmdb-is-registered",
        "If the event represents the first warning of an impending capacity shortage ... the "
        "operator registers a new incident request to prevent this imminent incident. The "
        "operator sets the service type to 'Infrastructure Event'",
        unlisted(event_type="cpu", **READING),
        kinds=(ActionKind.CREATE,),
        outcome="new incident request",
        service_type=ServiceType.INFRASTRUCTURE_EVENT,
    ),
    Case(
        "its-repeat-is-noted-on-the-request-registered-without-a-ci",
        "The operator also closes the event if it was not the first event that was generated "
        "for a current ... incident (i.e. when an incident request had already been registered "
        "for this)",
        unlisted(),
        {"current": incident(id="INC8", status=IncidentStatus.ASSIGNED), "occurrence": 2},
        kinds=(ActionKind.ADD_NOTE,),
        outcome="repeat of INC8",
    ),
    Case(
        "its-first-event-worked-again-writes-nothing",
        "... when an incident request had already been registered for this: the request was "
        "registered for this very event, now worked again after a crash",
        unlisted(),
        {
            "current": incident(
                id="INC8", status=IncidentStatus.ASSIGNED, event_key=f"zabbix/{NODE}/availability"
            ),
            "occurrence": 1,
        },
        outcome="new incident request",
    ),
]


def decided(case_event: Event, **situation: Any) -> Plan:
    fields = {"occurrence": 1, "ci": None, "services": [], **situation}
    return decide(Situation(event=case_event, **fields), directory(), CONFIG, ASSIGNMENT)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_event_handling_for_a_ci_missing_from_the_cmdb(case: Case) -> None:
    """Each case quotes the SMPM sentence it checks (see `case.smpm`); a CI missing from the
    CMDB never stops the decision, and a create carries no CI reference."""
    plan = decided(case.event, **case.situation)
    assert tuple(a.kind for a in plan.actions) == case.kinds
    assert plan.findings[0].outcome == case.outcome
    for action in plan.actions:
        assert str(action.reason).startswith("Event Management P1 Event Handling: ")
        if action.kind is ActionKind.CREATE:
            record = action.record
            assert isinstance(record, IncidentRequest)
            assert (record.ci, record.ci_id, record.service_type) == (
                None,
                None,
                case.service_type,
            )
            assert f"the CMDB has no CI named '{NODE}'" in str(action.reason)


def test_the_request_names_the_node_and_keeps_its_key() -> None:
    """The node is in the summary (after the symptom, so the summary still starts with it) and
    the details say the CMDB lacks it; the create's key is the condition's, as for any CI."""
    [create] = decided(unlisted()).actions
    record = create.record
    assert isinstance(record, IncidentRequest)
    assert record.summary == f"[availability] {NODE}: host unreachable"
    assert f"{NODE} is not in the CMDB" in (record.details or "")
    assert 'smpm-reading {"source": "zabbix", "node": "db-node-99"' in (record.details or "")
    assert (record.event_key, create.trigger, create.step) == (
        f"zabbix/{NODE}/availability",
        f"condition:zabbix/{NODE}/availability:0",
        "register",
    )
    assert "registered without a CI reference" in str(create.reason)


def test_a_routing_rule_on_the_node_name_still_routes_it() -> None:
    """Routing rules test the request as the monitor named it: a rule on the CI name fires even
    though the record written cannot hold that CI."""
    rules = AssignmentConfig.model_validate(
        {
            "default_group": "Service Desk",
            "rules": [
                {"name": "dba", "priority": 5, "group": "Database Support", "match": {"ci": NODE}}
            ],
        }
    )
    situation = Situation(event=unlisted(), occurrence=1, ci=None, services=[])
    [create] = decide(situation, directory(), CONFIG, rules).actions
    assert isinstance(create.record, IncidentRequest)
    assert (create.record.assigned_group, create.record.ci) == ("Database Support", None)
    assert "routing rule 'dba'" in str(create.reason)


def test_a_known_ci_is_unchanged() -> None:
    """Only a CI the CMDB lacks changes the request: a known one is referenced as before."""
    app = ConfigurationItem(id="RE-APP", name="app-bank-02")
    [create] = decided(event(), ci=app, services=["Online Banking"]).actions
    assert isinstance(create.record, IncidentRequest)
    assert (create.record.ci, create.record.ci_id, create.record.summary) == (
        "app-bank-02",
        "RE-APP",
        "[cpu] CPU at 97%",
    )
    assert "CMDB" not in str(create.reason)


# -- gathering: the ITSM is asked once before a request is registered without its CI ---------------
def test_gather_asks_the_itsm_once_for_a_ci_the_snapshot_lacks() -> None:
    """The condition's requests, then the CI by name (not in the ITSM either): two reads (with
    no CI and no service, there is no change to ask for), and the situation holds no CI."""
    fake = FakeConnector()
    situation = gather(fake, unlisted(), 1, cmdb(), CONFIG)
    assert situation.ci is None and situation.services == []
    assert fake.reads == 2


def test_gather_takes_a_ci_added_since_the_snapshot() -> None:
    """The snapshot predates the CI; the ITSM holds it: the request references it."""
    added = ConfigurationItem(id="RE-99", name=NODE)
    situation = gather(FakeConnector().add(added), unlisted(), 1, cmdb(), CONFIG)
    assert situation.ci is not None and (situation.ci.id, situation.ci.name) == ("RE-99", NODE)
    [create] = decide(situation, directory(), CONFIG, ASSIGNMENT).actions
    assert isinstance(create.record, IncidentRequest)
    assert (create.record.ci, create.record.ci_id) == (NODE, "RE-99")


def test_a_repeat_of_a_ci_missing_from_the_cmdb_costs_one_read() -> None:
    """Its request has no CI to be found by: it is found by the condition's key, in the one
    query every event makes, and the CI is not asked for."""
    registered = incident(
        id="INC8",
        status=IncidentStatus.ASSIGNED,
        event_key=f"zabbix/{NODE}/availability",
        summary=f"[availability] {NODE}: host unreachable",
    )
    fake = FakeConnector().add(registered)
    situation = gather(fake, unlisted(), 3, cmdb(), CONFIG)
    assert situation.current is not None and situation.current.id == "INC8"
    assert fake.reads == 1


def test_another_key_on_the_same_missing_ci_and_symptom_is_a_repeat() -> None:
    """'not the first event for a current incident (... the same CI and symptom)': without a
    CI on the request, the node after the symptom in its summary is what ties them."""
    registered = incident(
        id="INC8",
        status=IncidentStatus.ASSIGNED,
        event_key="nagios/db-node-99/ping",
        summary=f"[availability] {NODE}: host unreachable",
    )
    other = incident(
        id="INC9",
        status=IncidentStatus.ASSIGNED,
        event_key="nagios/db-node-98/ping",
        summary="[availability] db-node-98: host unreachable",
    )
    fake = FakeConnector().add(other, registered)
    situation = gather(fake, unlisted(), 1, cmdb(), CONFIG)
    assert situation.current is not None and situation.current.id == "INC8"
    assert situation.episode == 0
    plan = decide(situation, directory(), CONFIG, ASSIGNMENT)
    assert plan.findings[0].outcome == "repeat of INC8"
