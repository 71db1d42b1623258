"""Service Level Management, Procedure 5, SLA Review and Request Handling: the review report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from connector.entities import MeasurementStatus, Service, ServiceTarget, TargetKind
from connector.enums import Impact, IncidentStatus, ServiceType
from connector.testing import FakeConnector, at, incident
from procedures.config import ProceduresConfig
from procedures.event.report import ReviewPlan
from procedures.registry import Context
from procedures.slm import sla_review as p5
from procedures.slm.config import SlaReviewConfig
from procedures.slm.levels import ended_at, kind_of, outcome

NOW = at("2027-01-05 09:00")  # the fourth quarter of 2026 has ended
RESOLVE = "Gold: resolve Critical within 4 hours"
RESPOND = "Gold: respond to Critical and High within 15 minutes"
LATE = "2026-11-02 12:00"
GOLD: dict[str, Any] = {
    "name": "Gold",
    "service": "Online Banking",
    "customer": "Calbro Services",
    "availability_target": 99.5,
    "review_term": "quarter",
}
S = MeasurementStatus


def config(**sla: Any) -> ProceduresConfig:
    return ProceduresConfig.model_validate({"availability": {"slas": [{**GOLD, **sla}]}})


def request(id: str, day: str = "2026-11-02", **fields: Any) -> Any:
    base: dict[str, Any] = {
        "id": id,
        "service": "Online Banking",
        "company": "Calbro Services",
        "service_type": ServiceType.USER_SERVICE_REQUEST,
        "impact": Impact.MODERATE,
        "status": IncidentStatus.CLOSED,
        "reported_at": at(f"{day} 08:00"),
        "resolved_at": at(f"{day} 11:00"),
    }
    return incident(**{**base, **fields})


def measure(
    request_id: str, title: str, status: MeasurementStatus, stopped: str | None, **f: Any
) -> ServiceTarget:
    return ServiceTarget(
        id=f"SLM-{request_id}-{title[:12]}-{status.value}",
        title=title,
        request_id=request_id,
        status=status,
        goal_seconds=4 * 3600 if "resolve" in title else 900,
        stopped_at=at(stopped) if stopped else None,
        **f,
    )


def quarter_of_measurements() -> list[Any]:
    """20 resolutions (18 within 4 hours) and 10 responses (all within 15 minutes)."""
    records: list[Any] = []
    for n in range(20):
        records.append(request(f"INC{n}"))
        status = S.MISSED if n < 2 else S.MET
        records.append(measure(f"INC{n}", RESOLVE, status, "2026-11-02 11:00"))
        if n < 10:
            records.append(measure(f"INC{n}", RESPOND, S.MET, "2026-11-02 08:10"))
    return records


def itsm(*records: Any) -> FakeConnector:
    return FakeConnector().add(Service(name="Online Banking", owner="sam"), *records)


def review(fake: FakeConnector, cfg: ProceduresConfig, now: datetime = NOW) -> ReviewPlan:
    return p5.run(Context(fake, cfg, now, "test"))


def rows(plan: ReviewPlan) -> dict[str, dict[str, Any]]:
    assert plan.report is not None
    return {r[4]: dict(zip(plan.report.columns, r, strict=True)) for r in plan.report.rows}


def test_each_slt_is_compared_with_its_target() -> None:
    """'compares the actual service levels with the service level targets (SLTs) specified in
    the SLA(s)': 18 of 20 resolutions within goal is 90%, below the 95% attainment target."""
    found = rows(review(itsm(*quarter_of_measurements()), config()))
    resolve, respond = found[RESOLVE], found[RESPOND]
    assert (resolve["met"], resolve["missed"], resolve["attainment_pct"]) == (18, 2, 90.0)
    assert (resolve["kind"], resolve["verdict"], resolve["term"]) == (
        "resolution",
        "violated",
        "2026-Q4",
    )
    assert resolve["target"] == "within 4 h for 95% of requests"
    assert (respond["met"], respond["missed"], respond["verdict"]) == (10, 0, "met")
    assert respond["kind"] == "response" and respond["service_owner"] == "sam"


def test_violated_slts_name_the_service_owner_to_contact() -> None:
    """'If one or more SLTs were violated during the evaluation term, the service level manager
    contacts the responsible service owners to find out why'."""
    plan = review(itsm(*quarter_of_measurements()), config())
    [finding] = [f for f in plan.findings if f.outcome == "SLT violated"]
    assert finding.record == "SLA Gold 2026-Q4"
    assert "asks the service owner sam why" in finding.because and RESOLVE in finding.because
    assert plan.actions == []  # the review writes nothing to the ITSM


def test_an_sla_s_own_attainment_target_wins() -> None:
    found = rows(review(itsm(*quarter_of_measurements()), config(attainment_target=90)))
    assert found[RESOLVE]["verdict"] == "met"


def test_availability_slts_come_from_availability_tracking() -> None:
    """Availability over the term's tracking periods: November missed 99.5% (4 h down)."""
    down = request(
        "INC99",
        "2026-11-10",
        service_type=ServiceType.USER_SERVICE_RESTORATION,
        impact=Impact.SIGNIFICANT,
        reported_at=at("2026-11-10 10:00"),
        resolved_at=at("2026-11-10 14:00"),
    )
    availability = rows(review(itsm(down), config()))["availability"]
    assert (availability["met"], availability["missed"], availability["verdict"]) == (
        2,
        1,
        "violated",
    )
    assert availability["actual"] == "2026-11: 99.444%"
    assert availability["target"] == "at least 99.5% per month"


@dataclass(frozen=True)
class Counted:
    id: str
    rule: str
    extra: tuple[Any, ...]
    resolve: tuple[int, int]


COUNTED = [
    Counted(
        "settled-before-the-term",
        "a measurement settled in the previous term belongs to that term's review",
        (request("INC50", "2026-09-30"), measure("INC50", RESOLVE, S.MISSED, "2026-09-30 12:00")),
        (18, 2),
    ),
    Counted(
        "running-and-missed-in-the-term",
        "a request still open whose target passed its due date in the term: missed",
        (
            request("INC51", "2026-12-20", status=IncidentStatus.IN_PROGRESS, resolved_at=None),
            measure("INC51", RESOLVE, S.MISSED, None, due_at=at("2026-12-20 12:00")),
        ),
        (18, 3),
    ),
    Counted(
        "running-and-not-due",
        "a target still running within its goal has no outcome yet",
        (
            request("INC52", "2026-12-31", status=IncidentStatus.IN_PROGRESS, resolved_at=None),
            measure("INC52", RESOLVE, S.IN_PROCESS, None, due_at=at("2027-01-06 12:00")),
        ),
        (18, 2),
    ),
    Counted(
        "detached",
        "a detached measurement is no longer an SLT of the request",
        (request("INC53"), measure("INC53", RESOLVE, S.DETACHED, "2026-11-02 09:00")),
        (18, 2),
    ),
    Counted(
        "another-customer",
        "the SLA's customer is Calbro Services: other companies' requests are not its own",
        (request("INC54", company="Other Co"), measure("INC54", RESOLVE, S.MISSED, LATE)),
        (18, 2),
    ),
    Counted(
        "another-service",
        "a request on another service is not under this SLA",
        (request("INC55", service="Payroll"), measure("INC55", RESOLVE, S.MISSED, LATE)),
        (18, 2),
    ),
]  # fmt: skip


@pytest.mark.parametrize("case", COUNTED, ids=lambda c: c.id)
def test_which_measurements_count_in_the_term(case: Counted) -> None:
    found = rows(review(itsm(*quarter_of_measurements(), *case.extra), config()))
    assert (found[RESOLVE]["met"], found[RESOLVE]["missed"]) == case.resolve, case.rule


def test_slt_titles_pick_the_sla_s_measurements() -> None:
    found = rows(review(itsm(*quarter_of_measurements()), config(slt_titles=["(?i)respond"])))
    assert set(found) == {"availability", RESPOND}


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({"target_kind": TargetKind.RESPONSE, "title": "Gold: resolve"}, "response"),
        ({"title": "Silver: resolve High within 5 days"}, "resolution"),
        ({"title": "Gold: respond within 15 minutes"}, "response"),
        ({"title": "Gold: keep the customer informed"}, "other"),
    ],
)
def test_the_kind_of_an_slt(fields: dict[str, Any], kind: str) -> None:
    """The ITSM's target kind where it has one (ServiceNow), else the title (Remedy)."""
    assert kind_of(ServiceTarget(**fields), SlaReviewConfig()) == kind


def test_when_and_how_a_measurement_was_settled() -> None:
    due = at("2026-11-02 12:00")
    stopped = ServiceTarget(status=S.MET, stopped_at=due - timedelta(hours=1), due_at=due)
    running_missed = ServiceTarget(status=S.MISSED, due_at=due)
    running = ServiceTarget(status=S.WARNING, due_at=due)
    assert [ended_at(t) for t in (stopped, running_missed, running)] == [
        due - timedelta(hours=1),
        due,
        None,
    ]
    assert [outcome(t) for t in (stopped, running_missed, running)] == [True, False, None]


def test_the_report_carries_attainment_and_availability_charts() -> None:
    plan = review(itsm(*quarter_of_measurements()), config())
    report = plan.report
    assert report is not None and report.name == "sla-review"
    assert (report.period.start, report.period.end) == (
        at("2026-10-01 00:00"),
        at("2027-01-01 00:00"),
    )
    attainment, availability = report.charts  # type: ignore[attr-defined]
    [panel] = attainment.panels
    assert [(p.label, p.value, p.target, p.missed) for p in panel.points] == [
        ("availability", 100.0, 100.0, False),
        (RESOLVE, 90.0, 95.0, True),
        (RESPOND, 100.0, 95.0, False),
    ]
    assert [p.label for p in availability.panels[0].points] == ["2026-10", "2026-11", "2026-12"]
    assert dict(report.figures)["SLTs violated"] == 1
