"""Incident Management, Procedure 3, Incident Request Tracking: who hears about an SLA breach."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from connector.entities import MeasurementStatus, ServiceTarget
from connector.enums import Impact, IncidentStatus, ServiceType
from connector.testing import FakeConnector, at, incident
from procedures.config import ProceduresConfig
from procedures.directory import RosterConfig
from procedures.incident.tracking import Breach, TrackingConfig, decide, gather_breaches, run
from procedures.plan import ActionKind
from procedures.registry import Context
from tests.procedures.conftest import NOW, directory

OUTAGE = {
    "service": "Online Banking",
    "service_type": ServiceType.USER_SERVICE_RESTORATION,
    "impact": Impact.EXTENSIVE,
    "assigned_group": "Application Support",
    "status": IncidentStatus.IN_PROGRESS,
}
ROSTER_OWNER_AWAY = RosterConfig.model_validate(
    {
        "on_duty": [
            {"login": "mike", "start": "2026-11-25T08:00:00Z", "end": "2026-11-25T20:00:00Z"}
        ],
        "absences": [
            {"login": "olivia", "start": "2026-11-20T00:00:00Z", "end": "2026-11-30T00:00:00Z"}
        ],
    }
)
ROSTER_DUTY_ONLY = RosterConfig.model_validate(
    {"on_duty": [{"login": "mike", "start": "2026-11-25T08:00:00Z", "end": "2026-11-25T20:00:00Z"}]}
)


def target(status: MeasurementStatus, title: str = "Resolution Time - Gold") -> ServiceTarget:
    return ServiceTarget(id="SLM001", title=title, request_id="INC1", status=status)


@dataclass(frozen=True)
class Case:
    id: str
    smpm: str
    incident_fields: dict
    target: ServiceTarget
    roster: RosterConfig
    informed: str | None
    reason_has: str


CASES = [
    Case(
        "outage-missed-owner",
        "If the incident request concerns a service outage which resolution threshold ... has "
        "been exceeded, the group coordinator contacts the service owner ... and escalates",
        OUTAGE,
        target(MeasurementStatus.MISSED),
        RosterConfig(),
        "olivia",
        "escalated to the service owner",
    ),
    Case(
        "outage-missed-owner-away",
        "the role of service owner is performed by the on-duty manager when the service owner "
        "of the affected service is not available",
        OUTAGE,
        target(MeasurementStatus.MISSED),
        ROSTER_OWNER_AWAY,
        "mike",
        "the service owner olivia is not available",
    ),
    Case(
        "outage-missed-no-owner",
        "the on-duty manager acts when the service owner is not available (none is known)",
        {**OUTAGE, "service": "Email"},
        target(MeasurementStatus.MISSED),
        ROSTER_DUTY_ONLY,
        "mike",
        "no service owner is known for Email",
    ),
    Case(
        "outage-missed-nobody-on-duty",
        "not available and nobody on duty: the group coordinator still hears of it",
        {**OUTAGE, "service": "Email"},
        target(MeasurementStatus.MISSED),
        RosterConfig(),
        "alice",
        "no on-duty manager is rostered",
    ),
    Case(
        "outage-warning",
        "If the notification was not sent because the resolution threshold of a service outage "
        "has been exceeded, the group coordinator determines who had best continue",
        OUTAGE,
        target(MeasurementStatus.WARNING),
        RosterConfig(),
        "alice",
        "is at warning",
    ),
    Case(
        "outage-response-missed",
        "only the resolution threshold of an outage goes to the service owner",
        OUTAGE,
        target(MeasurementStatus.MISSED, "Response Time - Gold"),
        RosterConfig(),
        "alice",
        "'Response Time - Gold' is missed",
    ),
    Case(
        "not-an-outage",
        "a request that is not a service outage stays with the group coordinator",
        {**OUTAGE, "impact": Impact.MINOR},
        target(MeasurementStatus.MISSED),
        RosterConfig(),
        "alice",
        "decides whether to reassign",
    ),
    Case(
        "unassigned-goes-to-the-service-desk",
        "a breach on a request no group holds yet reaches the service desk's coordinator",
        {**OUTAGE, "impact": Impact.MINOR, "assigned_group": None},
        target(MeasurementStatus.WARNING),
        RosterConfig(),
        "sam",
        "no group holds the request yet, so Service Desk is asked",
    ),
    Case(
        "no-coordinator",
        "nobody in the role: no action, a finding instead",
        {**OUTAGE, "impact": Impact.MINOR, "assigned_group": "Unknown"},
        target(MeasurementStatus.MISSED),
        RosterConfig(),
        None,
        "",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_escalation_decision(case: Case) -> None:
    """Each case quotes the SMPM sentence it checks (see `case.smpm`)."""
    breach = Breach(incident(id="INC1", **case.incident_fields), case.target)
    plan = decide([breach], directory(), case.roster, TrackingConfig(), NOW, "test")
    if case.informed is None:
        assert plan.actions == []
        assert plan.findings[0].outcome == "not escalated"
        return
    kinds = [a.kind for a in plan.actions]
    assert kinds == [ActionKind.ADD_NOTE, ActionKind.NOTIFY]
    notify = plan.actions[1]
    assert notify.recipient == case.informed
    assert case.reason_has in str(notify.reason)
    assert str(notify.reason).startswith("Incident Management P3 Incident Request Tracking: ")


def test_one_escalation_per_request_target_and_threshold() -> None:
    """The trigger names request, target and threshold only, so reruns map to the same keys."""
    breach = Breach(incident(id="INC1", **OUTAGE), target(MeasurementStatus.MISSED))
    first = decide([breach], directory(), RosterConfig(), TrackingConfig(), NOW, "run-1")
    later = decide(
        [breach], directory(), RosterConfig(), TrackingConfig(), at("2026-11-26 10:00"), "run-2"
    )
    assert [(a.trigger, a.step) for a in first.actions] == [
        (a.trigger, a.step) for a in later.actions
    ]
    warning = Breach(breach.incident, target(MeasurementStatus.WARNING))
    earlier = decide([warning], directory(), RosterConfig(), TrackingConfig(), NOW, "run-0")
    assert earlier.actions[0].trigger != first.actions[0].trigger


def test_gather_joins_breaching_targets_to_open_requests_only() -> None:
    """Closed requests and met targets are not tracked."""
    fake = FakeConnector().add(
        incident(id="INC1", **OUTAGE),
        incident(id="INC2", **{**OUTAGE, "status": IncidentStatus.CLOSED}),
        incident(id="INC3", **OUTAGE),
        ServiceTarget(
            id="S1", request_id="INC1", status=MeasurementStatus.MISSED, title="Resolution"
        ),
        ServiceTarget(
            id="S2", request_id="INC2", status=MeasurementStatus.MISSED, title="Resolution"
        ),
        ServiceTarget(id="S3", request_id="INC3", status=MeasurementStatus.MET, title="Resolution"),
    )
    breaches = gather_breaches(fake, TrackingConfig())
    assert [(b.incident.id, b.target.id) for b in breaches] == [("INC1", "S1")]


def test_run_plans_without_writing() -> None:
    """A procedure only plans; the executor is the one that writes."""
    org = directory()
    fake = FakeConnector().add(*org.services.values(), *org.groups.values())
    fake.add(
        incident(id="INC1", **OUTAGE),
        ServiceTarget(
            id="S1", request_id="INC1", status=MeasurementStatus.MISSED, title="Resolution"
        ),
    )
    plan = run(Context(fake, ProceduresConfig(), NOW))
    assert len(plan.actions) == 2
    assert fake.writes == []


@pytest.mark.parametrize(
    ("per_query", "max_queries", "reads"),
    [(1, 5, 1 + 3), (1, 2, 1 + 1)],
    ids=["few breaches: by number", "many breaches: one scan"],
)
def test_gather_asks_by_number_or_scans_whichever_needs_fewer_calls(
    per_query: int, max_queries: int, reads: int
) -> None:
    """Breaching requests are fetched by number while that is cheaper than one scan."""
    fake = FakeConnector().add(
        *(incident(id=f"INC{n}", **OUTAGE) for n in range(1, 4)),
        *(
            ServiceTarget(id=f"S{n}", request_id=f"INC{n}", status=MeasurementStatus.MISSED)
            for n in range(1, 4)
        ),
    )
    config = TrackingConfig(ids_per_query=per_query, max_id_queries=max_queries)
    breaches = gather_breaches(fake, config)
    assert sorted(b.incident.id for b in breaches) == ["INC1", "INC2", "INC3"]
    assert fake.reads == reads


def test_settled_escalations_are_not_read_again() -> None:
    """Targets escalated by an earlier run need no incident read: only the new one is fetched."""
    fake = FakeConnector().add(
        incident(id="INC1", **OUTAGE),
        incident(id="INC2", **OUTAGE),
        ServiceTarget(id="S1", request_id="INC1", status=MeasurementStatus.MISSED),
        ServiceTarget(id="S2", request_id="INC2", status=MeasurementStatus.MISSED),
    )
    settled = {"incident:INC1:target:S1:missed"}
    breaches = gather_breaches(fake, TrackingConfig(), lambda triggers: settled & set(triggers))
    assert [b.incident.id for b in breaches] == ["INC2"]
