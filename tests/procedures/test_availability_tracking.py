"""Availability Management, Procedure 2, Availability Tracking: decisions, problems and reruns."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from connector.entities import (
    IncidentRequest,
    ProblemInvestigation,
    RecordKind,
    Relation,
    Service,
    SupportGroup,
)
from connector.enums import Impact, IncidentStatus, ProblemStatus, RelationType, ServiceType
from connector.testing import FakeConnector, at, incident
from procedures.availability import tracking as p2
from procedures.availability.outages import read_plan
from procedures.config import ProceduresConfig
from procedures.event.report import ReviewPlan
from procedures.plan import ActionKind, Ref
from procedures.registry import Context
from smpm.executor import Executor
from smpm.store import open_engine

NOW = at("2026-12-02 10:00")  # November has ended; December is under way
GOLD: dict[str, Any] = {
    "name": "Gold",
    "service": "Online Banking",
    "availability_target": 99.5,
    "specialist_group": "Database Administration",
}


def config(*slas: dict[str, Any], **section: Any) -> ProceduresConfig:
    body = {"slas": list(slas) or [GOLD], "history_periods": 3, **section}
    return ProceduresConfig.model_validate({"availability": body})


def outage(id: str, start: str, end: str | None, **fields: Any) -> IncidentRequest:
    base: dict[str, Any] = {
        "id": id,
        "service": "Online Banking",
        "service_type": ServiceType.USER_SERVICE_RESTORATION,
        "impact": Impact.SIGNIFICANT,
        "status": IncidentStatus.CLOSED if end else IncidentStatus.IN_PROGRESS,
        "reported_at": at(start),
        "resolved_at": at(end) if end else None,
    }
    return incident(**{**base, **fields})


def problem(id: str, status: ProblemStatus = ProblemStatus.UNDER_INVESTIGATION, **f: Any) -> Any:
    return ProblemInvestigation(id=id, summary=f"Problem {id}", status=status, **f)


def caused_by(incident_id: str, problem_id: str) -> Relation:
    return Relation(
        source_kind=RecordKind.INCIDENT,
        source_id=incident_id,
        target_kind=RecordKind.PROBLEM,
        target_id=problem_id,
        relation_type=RelationType.CAUSED_BY,
    )


def itsm(*records: Any) -> FakeConnector:
    """The ITSM with the services and groups a run reads, plus `records`."""
    return FakeConnector().add(
        Service(
            name="Online Banking",
            owner="sam",
            problem_coordinator="bob",
            support_group="Application Support",
        ),
        Service(name="Payroll", owner="peter"),
        SupportGroup(name="Database Administration"),
        *records,
    )


def run(fake: FakeConnector, cfg: ProceduresConfig, now: datetime = NOW) -> ReviewPlan:
    return p2.run(Context(fake, cfg, now, "test"))


def links(plan: ReviewPlan) -> dict[str, str]:
    """Incident -> the problem it is linked to ('new' for one this plan registers)."""
    return {
        str(a.target_id): "new" if isinstance(a.relation_target, Ref) else str(a.relation.target_id)  # type: ignore[union-attr]
        for a in plan.actions
        if a.kind is ActionKind.RELATE
    }


def creates(plan: ReviewPlan) -> list[ProblemInvestigation]:
    return [a.record for a in plan.actions if a.kind is ActionKind.CREATE]  # type: ignore[misc]


FOUR_HOURS = outage("INC1", "2026-11-10 10:00", "2026-11-10 14:00", ci="db-cluster-01")


@dataclass(frozen=True)
class Case:
    id: str
    smpm: str
    records: tuple[Any, ...]
    links: dict[str, str]
    new_problems: int
    now: datetime = NOW
    sla: tuple[tuple[str, Any], ...] = ()


CASES = [
    Case(
        "targets-met-nothing-to-do",
        "only a target violated or in danger leads to problem investigations",
        (outage("INC1", "2026-11-10 10:00", "2026-11-10 11:00"),),
        {}, 0,
    ),
    Case(
        "violated-without-a-problem-registers-one",
        "If one or more incident requests appear to have been caused ... by a root cause for "
        "which a problem investigation has not yet been registered, the availability manager "
        "registers a new problem investigation. He/she links the related incident request(s)",
        (FOUR_HOURS, outage("INC2", "2026-11-20 10:00", "2026-11-20 10:30")),
        {"INC1": "new", "INC2": "new"}, 1,
    ),
    Case(
        "violated-with-a-registered-problem-links-to-it",
        "If this is the case, the availability manager ensures that the incident requests that "
        "have been caused by this problem during the past availability tracking period are "
        "linked to the problem investigation",
        (
            FOUR_HOURS,
            outage("INC2", "2026-11-20 10:00", "2026-11-20 10:30"),
            problem("PBI5"),
            caused_by("INC1", "PBI5"),
        ),
        {"INC2": "PBI5"}, 0,
    ),
    Case(
        "a-closed-problem-is-no-registered-root-cause",
        "a problem investigation already closed is not one registered for this violation",
        (
            FOUR_HOURS,
            outage("INC2", "2026-11-20 10:00", "2026-11-20 10:30"),
            problem("PBI5", ProblemStatus.CLOSED),
            caused_by("INC1", "PBI5"),
        ),
        {"INC2": "new"}, 1,
    ),
    Case(
        "several-root-causes-link-by-configuration-item",
        "If multiple problem investigations have already been registered ... the availability "
        "manager links the incident requests ... to the appropriate problem investigation",
        (
            FOUR_HOURS,
            outage("INC2", "2026-11-11 10:00", "2026-11-11 11:00", ci="lb-bank-01"),
            outage("INC3", "2026-11-12 10:00", "2026-11-12 11:00", ci="lb-bank-01"),
            outage("INC4", "2026-11-13 10:00", "2026-11-13 11:00", ci="db-cluster-01"),
            outage("INC5", "2026-11-14 10:00", "2026-11-14 11:00"),
            problem("PBI5"),
            problem("PBI6"),
            caused_by("INC1", "PBI5"),
            caused_by("INC2", "PBI6"),
            caused_by("INC3", "PBI6"),
        ),
        {"INC4": "PBI5", "INC5": "PBI6"}, 0,
    ),
    Case(
        "the-problem-an-earlier-run-registered-is-found-by-its-summary",
        "checks to find out if a problem investigation has already been registered for this",
        (
            FOUR_HOURS,
            ProblemInvestigation(
                id="PBI7",
                summary="[availability] Online Banking: availability 99.000%, 2026-10",
                status=ProblemStatus.ASSIGNED,
            ),
        ),
        {"INC1": "PBI7"}, 0,
    ),
    Case(
        "in-danger-in-the-period-under-way",
        "is in danger of being violated: 2 h in the first 10 days, 6.2 h at that rate by the "
        "end of December, over the 3.72 h allowed",
        (outage("INC9", "2026-12-05 10:00", "2026-12-05 12:00"),),
        {"INC9": "new"}, 1, at("2026-12-11 00:00"),
    ),
    Case(
        "older-periods-are-reported-not-decided",
        "At the end of an availability tracking period: October was decided when it ended",
        (outage("INC8", "2026-10-10 10:00", "2026-10-10 18:00"),),
        {}, 0,
    ),
    Case(
        "outages-outside-service-hours-are-not-linked",
        "the Saturday outage did not count against the SLA; the weekday ones did",
        (
            outage("INC1", "2026-11-10 10:00", "2026-11-10 12:00"),
            outage("INC2", "2026-11-14 10:00", "2026-11-14 18:00"),
        ),
        {"INC1": "new"}, 1,
        sla=(("service_hours", {d: "08:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")}),),
    ),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_decisions(case: Case) -> None:
    """Each case quotes the SMPM sentence (or rule) it checks."""
    fake = itsm(*case.records)
    plan = run(fake, config({**GOLD, **dict(case.sla)}), case.now)
    assert links(plan) == case.links, case.smpm
    assert len(creates(plan)) == case.new_problems, case.smpm
    assert fake.writes == []  # procedures only plan


def test_the_new_problem_is_assigned_to_the_specialist_group_and_names_the_violation() -> None:
    plan = run(itsm(FOUR_HOURS), config())
    [new] = creates(plan)
    assert new.summary is not None
    assert new.summary.startswith("[availability] Online Banking: availability 99.444%")
    assert new.summary.endswith("violated, 2026-11")
    assert (new.assigned_group, new.status, new.problem_coordinator) == (
        "Database Administration",
        ProblemStatus.ASSIGNED,
        "bob",
    )
    assert (new.service, new.ci, new.impact) == (
        "Online Banking",
        "db-cluster-01",
        Impact.SIGNIFICANT,
    )
    assert new.details is not None and "SLA Gold (Online Banking), period 2026-11" in new.details
    [create] = [a for a in plan.actions if a.kind is ActionKind.CREATE]
    assert create.trigger == "availability:Online Banking:2026-11"
    assert "Availability Management P2 Availability Tracking" in str(create.reason)


@pytest.mark.parametrize(
    ("sla_group", "section_group", "service", "group", "status"),
    [
        ("Database Administration", "Problem Management", "Online Banking",
         "Database Administration", ProblemStatus.ASSIGNED),
        (None, "Problem Management", "Online Banking",
         "Problem Management", ProblemStatus.ASSIGNED),
        (None, None, "Online Banking", "Application Support", ProblemStatus.ASSIGNED),
        (None, None, "Payroll", None, ProblemStatus.UNDER_REVIEW),
    ],
)  # fmt: skip
def test_the_most_appropriate_specialist_group(
    sla_group: str | None,
    section_group: str | None,
    service: str,
    group: str | None,
    status: ProblemStatus,
) -> None:
    """The SLA's group, else [availability] specialist_group, else the service's support group;
    with none, the problem coordinator assigns it (Under Review)."""
    sla = {**GOLD, "service": service, "specialist_group": sla_group}
    plan = run(
        itsm(FOUR_HOURS.model_copy(update={"service": service})),
        config(sla, specialist_group=section_group),
    )
    [new] = creates(plan)
    assert (new.assigned_group, new.status) == (group, status)


def test_two_violated_slas_of_one_service_register_one_problem() -> None:
    silver = {"name": "Silver", "service": "Online Banking", "availability_target": 99.9}
    plan = run(itsm(FOUR_HOURS), config(GOLD, silver))
    assert len(creates(plan)) == 1 and links(plan) == {"INC1": "new"}


def apply(fake: FakeConnector, cfg: ProceduresConfig, state: Path) -> list[Any]:
    engine = open_engine(f"sqlite:///{state}")
    try:
        return Executor(fake, engine).apply(run(fake, cfg)).outcomes
    finally:
        engine.dispose()


def test_a_rerun_registers_no_second_problem(tmp_path: Path) -> None:
    """The first run registers one problem and links both outages; a rerun (same state, or a
    fresh state database on another node) finds them linked and writes nothing."""
    fake = itsm(FOUR_HOURS, outage("INC2", "2026-11-20 10:00", "2026-11-20 10:30"))
    first = apply(fake, config(), tmp_path / "state.db")
    assert [o.outcome for o in first] == ["applied"] * 3
    assert [w.operation for w in fake.writes] == ["create", "relate", "relate"]
    [new] = fake.records[RecordKind.PROBLEM].values()
    assert {(r.source_id, r.target_id) for r in fake.relations} == {
        ("INC1", new.id),
        ("INC2", new.id),
    }
    fake.writes.clear()
    assert [o.outcome for o in apply(fake, config(), tmp_path / "state.db")] == []
    assert apply(fake, config(), tmp_path / "other.db") == [] and fake.writes == []


def test_a_later_outage_joins_the_problem_an_earlier_run_registered(tmp_path: Path) -> None:
    fake = itsm(FOUR_HOURS)
    apply(fake, config(), tmp_path / "state.db")
    fake.add(outage("INC3", "2026-11-25 10:00", "2026-11-25 10:10"))
    plan = run(fake, config())
    [new] = fake.records[RecordKind.PROBLEM].values()
    assert links(plan) == {"INC3": str(new.id)} and creates(plan) == []


def test_requests_an_earlier_run_linked_are_not_read_again() -> None:
    """The executor's record says INC1's link is done: no relation or problem is read."""
    fake = itsm(FOUR_HOURS)
    plan = p2.run(Context(fake, config(), NOW, "test", settled=set))
    assert plan.actions == []
    assert fake.reads == 3  # the outages, then the directory's services and groups


def test_only_outages_are_counted() -> None:
    """Restoration requests of at least the configured impact on the SLA's service, not
    cancelled, active within the window; nothing else."""
    others = [
        outage("INC2", "2026-11-11 10:00", "2026-11-11 20:00", impact=Impact.MINOR),
        outage("INC3", "2026-11-12 10:00", "2026-11-12 20:00", status=IncidentStatus.CANCELLED),
        outage("INC4", "2026-11-13 10:00", "2026-11-13 20:00",
               service_type=ServiceType.USER_SERVICE_REQUEST),
        outage("INC5", "2026-11-14 10:00", "2026-11-14 20:00", service="Payroll"),
        outage("INC6", "2026-08-14 10:00", "2026-08-14 20:00"),
    ]  # fmt: skip
    plan = run(itsm(FOUR_HOURS, *others), config())
    assert plan.report is not None
    november = [r for r in plan.report.rows if r[2] == "2026-11"]
    assert [(r[5], r[8], r[16]) for r in november] == [(4.0, 1, "INC1")]


def test_the_overview_shows_every_period_and_flags_the_violated() -> None:
    plan = run(itsm(FOUR_HOURS), config())
    report = plan.report
    assert report is not None and report.name == "availability-tracking"
    assert [(r[2], r[3], r[14]) for r in report.rows] == [
        ("2026-10", "ended", "met"),
        ("2026-11", "ended", "violated"),
        ("2026-12", "so far", "met"),
    ]
    assert report.flagged == (False, True, False)
    assert report.rows[1][6:8] == (99.444, 99.5) and report.rows[1][17] == "new"
    assert dict(report.figures)["new problem investigations"] == 1
    availability, outages = report.charts  # type: ignore[attr-defined]
    [panel] = availability.panels
    assert [(p.label, p.value, p.missed) for p in panel.points] == [
        ("2026-10", 100.0, False),
        ("2026-11", 99.444, True),
        ("2026-12*", 100.0, False),
    ]
    assert outages.panels == ()  # Gold sets no maximum number of outages


def test_an_sla_on_a_service_the_itsm_does_not_know_is_reported() -> None:
    plan = run(itsm(), config({**GOLD, "service": "Online Bankng"}))
    assert any(f.outcome == "unknown service" for f in plan.findings)


def names_read(fake: FakeConnector, services: Iterable[str], per_query: int, queries: int) -> int:
    slas = [{"name": s, "service": s, "availability_target": 99} for s in services]
    before = fake.reads
    run(fake, config(*slas, services_per_query=per_query, max_service_queries=queries))
    return fake.reads - before - 2  # less the directory


def test_many_services_are_read_in_one_listing() -> None:
    """Named in the query while they fit in max_service_queries; else one listing of all."""
    assert names_read(itsm(), ["Online Banking", "Payroll", "Email"], 2, 2) == 2
    assert names_read(itsm(), ["Online Banking", "Payroll", "Email"], 1, 2) == 1


@pytest.mark.parametrize(("span_factor", "relation_reads"), [(5.0, 1), (0.0, 3)])
def test_links_of_outages_numbered_close_together_are_read_as_one_range(
    span_factor: float, relation_reads: int
) -> None:
    """Three outage requests, one number per query: three queries, or one range INC1..INC3
    (whose other requests' links are dropped)."""
    records = [
        outage("INC1", "2026-11-10 10:00", "2026-11-10 12:00"),
        incident(id="INC2", service="Email"),
        outage("INC3", "2026-11-11 10:00", "2026-11-11 12:00"),
        outage("INC4", "2026-11-12 10:00", "2026-11-12 12:00"),
        problem("PBI5"),
        caused_by("INC1", "PBI5"),
        caused_by("INC2", "PBI9"),
    ]
    fake = itsm(*records)
    cfg = config(ids_per_query=1, range_span_factor=span_factor)
    calls: list[str] = []
    find = fake.find

    def counting(model: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(model.kind.value)
        return find(model, *args, **kwargs)

    fake.find = counting  # type: ignore[method-assign]
    plan = run(fake, cfg)
    assert links(plan) == {"INC3": "PBI5", "INC4": "PBI5"}
    assert calls.count("relation") == relation_reads


def test_a_far_away_number_does_not_spoil_the_range() -> None:
    """An outage open since January sits far from November's: it is asked by number, the
    dense run as a range; sparse numbers are asked by number."""
    cfg = config(ids_per_query=3).availability
    dense = [f"INC{n:012d}" for n in (1000, 1002, 1005, 1007, 1010)]
    assert read_plan(["INC000000000007", *dense, "PBI1"], cfg) == (
        [("INC000000001000", "INC000000001010")],
        ["INC000000000007", "PBI1"],
    )
    sparse = [f"INC{n:012d}" for n in (1000, 1010, 1020, 1030)]
    assert read_plan(sparse, cfg) == ([], sparse)
