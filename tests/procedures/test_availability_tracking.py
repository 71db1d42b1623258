"""Availability Management, Procedure 2, Availability Tracking: decisions, problems and reruns."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

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
from procedures.availability.config import LikenessRule
from procedures.availability.outages import read_plan
from procedures.config import ProceduresConfig
from procedures.event.report import ReviewPlan
from procedures.plan import ActionKind
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
    return ProblemInvestigation(**{"id": id, "summary": f"Problem {id}", "status": status, **f})


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
    """Incident -> the problem it is linked to; for one this plan registers, 'new' and the
    trigger of its registration past the service ('new 2026-11:ci:db-cluster-01')."""
    found = {}
    for a in plan.actions:
        if a.kind is ActionKind.RELATE:
            assert a.relation is not None
            ref = a.relation_target
            where = f"new {ref.trigger.split(':', 2)[2]}" if ref else a.relation.target_id
            found[str(a.target_id)] = where
    return found


def reasons(plan: ReviewPlan) -> dict[str, str]:
    """Incident -> the rule of its link's reason."""
    return {str(a.target_id): a.reason.rule for a in plan.actions if a.kind is ActionKind.RELATE}


def creates(plan: ReviewPlan) -> list[ProblemInvestigation]:
    return [a.record for a in plan.actions if a.kind is ActionKind.CREATE]  # type: ignore[misc]


FOUR_HOURS = outage("INC1", "2026-11-10 10:00", "2026-11-10 14:00", ci="db-cluster-01")
LOGIN = {"name": "login", "keywords": ["login", "sign-in"]}
FAILURE_DB = {"operational_category_1": "Failure", "operational_category_2": "Database"}
# An earlier run's problem for the outages of November that named no CI, as the ITSM holds it.
NO_CI_NOVEMBER = ProblemInvestigation(
    id="PBI7",
    summary="[availability] Online Banking: availability 99.000% (target at least 99.5%): "
    "violated, 2026-11",
    details="Registered by Availability Management P2 Availability Tracking for SLA Gold "
    "(Online Banking), period 2026-11: availability 99.000% ...",
    status=ProblemStatus.ASSIGNED,
    service="Online Banking",
)


def nov(id: str, day: int, **fields: Any) -> IncidentRequest:
    """A half-hour outage of Online Banking on `day` November."""
    return outage(id, f"2026-11-{day:02d} 10:00", f"2026-11-{day:02d} 10:30", **fields)


@dataclass(frozen=True)
class Case:
    id: str
    smpm: str
    records: tuple[Any, ...]
    links: dict[str, str]
    new_problems: int
    now: datetime = NOW
    sla: tuple[tuple[str, Any], ...] = ()
    likeness: tuple[dict[str, Any], ...] = ()
    tiers: int = 0
    why: tuple[tuple[str, str], ...] = ()  # (incident, words its link's reason holds)


NO_CAUSE = (
    "If one or more incident requests appear to have been caused ... by a root cause for which "
    "a problem investigation has not yet been registered, the availability manager registers "
    "a new problem investigation"
)
LINKED = (
    "If this is the case, the availability manager ensures that the incident requests that have "
    "been caused by this problem during the past availability tracking period are linked to "
    "the problem investigation"
)
CASES = [
    Case(
        "targets-met-nothing-to-do",
        "only a target violated or in danger leads to problem investigations",
        (outage("INC1", "2026-11-10 10:00", "2026-11-10 11:00"),),
        {}, 0,
    ),
    Case(
        "same-ci-as-the-problem",
        LINKED + ": the problem's own CI is the evidence of its root cause",
        (FOUR_HOURS, problem("PBI5", service="Online Banking", ci="db-cluster-01")),
        {"INC1": "PBI5"}, 0,
        why=(("INC1", "linked to PBI5: same CI db-cluster-01 as PBI5"),),
    ),
    Case(
        "same-ci-as-a-request-linked-to-the-problem",
        LINKED + ": the CI of an outage request already linked to it is evidence too",
        (
            FOUR_HOURS,
            nov("INC2", 20, ci="db-cluster-01"),
            problem("PBI5"),
            caused_by("INC1", "PBI5"),
        ),
        {"INC2": "PBI5"}, 0,
        why=(("INC2", "same CI db-cluster-01 as INC1, already linked to PBI5"),),
    ),
    Case(
        "likeness-rule-matches-the-problems-summary",
        LINKED + ": a configured likeness ties a request without CI to the problem",
        (
            FOUR_HOURS,
            nov("INC2", 20, summary="Online Banking login page times out"),
            problem("PBI5", service="Online Banking", summary="Sign-in sessions dropped"),
        ),
        {"INC1": "new 2026-11:ci:db-cluster-01", "INC2": "PBI5"}, 1,
        likeness=(LOGIN,),
        why=(("INC2", "likeness rule 'login' matched: 'login' in its summary, 'sign-in' in "
              "the summary of PBI5"),),
    ),
    Case(
        "likeness-rule-matches-a-linked-requests-summary",
        LINKED + ": a likeness with an outage request already linked to the problem",
        (
            FOUR_HOURS.model_copy(update={"summary": "Sign-in fails after a failover"}),
            nov("INC2", 20, summary="Login fails for every customer"),
            problem("PBI5"),
            caused_by("INC1", "PBI5"),
        ),
        {"INC2": "PBI5"}, 0,
        likeness=(LOGIN,),
        why=(("INC2", "'login' in its summary, 'sign-in' in the summary of INC1, already "
              "linked to PBI5"),),
    ),
    Case(
        "without-a-likeness-rule-summaries-are-no-evidence",
        NO_CAUSE + ": the same word in two summaries ties them only where a rule says so",
        (
            FOUR_HOURS.model_copy(update={"summary": "Login fails after a failover"}),
            nov("INC2", 20, summary="Login fails for every customer"),
            problem("PBI5"),
            caused_by("INC1", "PBI5"),
        ),
        {"INC2": "new 2026-11"}, 1,
        why=(("INC2", "INC2 names no CI and no likeness rule matched: a new problem for the "
              "outages of Online Banking in 2026-11 that name no CI"),),
    ),
    Case(
        "same-operational-categorisation-as-the-problem",
        LINKED + ": with likeness_tiers = 2, the same categorisation in tiers 1-2 ties them",
        (
            nov("INC2", 20, **FAILURE_DB, operational_category_3="Replication"),
            problem("PBI5", service="Online Banking", operational_category_1="failure",
                    operational_category_2="Database "),
        ),
        {"INC2": "PBI5"}, 0,
        sla=(("max_outages", 0),), tiers=2,
        why=(("INC2", "same operational categorisation Failure / Database (tiers 1-2) as "
              "PBI5"),),
    ),
    Case(
        "same-operational-categorisation-as-a-linked-request",
        LINKED + ": the categorisation of an outage request already linked to the problem",
        (
            FOUR_HOURS.model_copy(update={"ci": None, **FAILURE_DB}),
            nov("INC2", 20, operational_category_1="Failure"),
            problem("PBI5"),
            caused_by("INC1", "PBI5"),
        ),
        {"INC2": "PBI5"}, 0,
        tiers=1,
        why=(("INC2", "same operational categorisation Failure (tier 1) as INC1, already "
              "linked to PBI5"),),
    ),
    Case(
        "categorisation-is-no-evidence-unless-configured",
        NO_CAUSE + ": likeness_tiers 0 (the default) leaves categorisation out",
        (nov("INC2", 20, **FAILURE_DB), problem("PBI5", service="Online Banking", **FAILURE_DB)),
        {"INC2": "new 2026-11"}, 1,
        sla=(("max_outages", 0),),
    ),
    Case(
        "an-unset-tier-matches-nothing",
        NO_CAUSE + ": a request categorised in tier 1 only is not like a problem of tiers 1-2",
        (
            nov("INC3", 21, operational_category_1="Failure"),
            problem("PBI5", service="Online Banking", **FAILURE_DB),
        ),
        {"INC3": "new 2026-11"}, 1,
        sla=(("max_outages", 0),), tiers=2,
    ),
    Case(
        "a-keyword-matches-whole-words-only",
        NO_CAUSE + ": 'login' is not in 'logins'",
        (
            FOUR_HOURS,
            nov("INC2", 20, summary="Logins are slow"),
            problem("PBI5", service="Online Banking", summary="Login sessions dropped"),
        ),
        {"INC1": "new 2026-11:ci:db-cluster-01", "INC2": "new 2026-11"}, 2,
        likeness=(LOGIN,),
    ),
    Case(
        "no-evidence-registers-a-new-problem",
        NO_CAUSE + " (an outage without CI is not the db-cluster-01 problem's)",
        (
            FOUR_HOURS,
            nov("INC2", 20, summary="Online Banking login page times out"),
            problem("PBI5", service="Online Banking", ci="db-cluster-01",
                    summary="Recurring failovers on db-cluster-01"),
        ),
        {"INC1": "PBI5", "INC2": "new 2026-11"}, 1,
        why=(("INC2", "INC2 names no CI and no likeness rule matched"),),
    ),
    Case(
        "requests-without-evidence-share-one-new-problem-per-service-and-period",
        NO_CAUSE + ". He/she links the related incident request(s)",
        (
            outage("INC1", "2026-11-10 10:00", "2026-11-10 14:00"),
            nov("INC2", 20),
            nov("INC3", 24),
        ),
        {"INC1": "new 2026-11", "INC2": "new 2026-11", "INC3": "new 2026-11"}, 1,
    ),
    Case(
        "one-new-problem-per-ci",
        NO_CAUSE + ": each CI is the evidence of a root cause of its own",
        (
            FOUR_HOURS,
            nov("INC2", 11, ci="lb-bank-01"),
            nov("INC3", 12, ci="db-cluster-01"),
            nov("INC4", 13),
        ),
        {
            "INC1": "new 2026-11:ci:db-cluster-01",
            "INC2": "new 2026-11:ci:lb-bank-01",
            "INC3": "new 2026-11:ci:db-cluster-01",
            "INC4": "new 2026-11",
        },
        3,
        why=(("INC3", "linked to the new problem investigation: same CI db-cluster-01 as "
              "the new problem investigation"),),
    ),
    Case(
        "a-problem-of-another-service-is-never-taken",
        NO_CAUSE + ": a problem investigation of Payroll is not one of Online Banking's, even "
        "on the same CI, even linked from one of its outages, even alike",
        (
            FOUR_HOURS,
            nov("INC2", 20, summary="Login page times out"),
            nov("INC3", 21, ci="db-cluster-01"),
            problem("PBI5", service="Payroll", ci="db-cluster-01", summary="Login failures"),
            caused_by("INC3", "PBI5"),
        ),
        {"INC1": "new 2026-11:ci:db-cluster-01", "INC2": "new 2026-11"}, 2,
        likeness=(LOGIN,),
    ),
    Case(
        "a-closed-problem-is-no-registered-root-cause",
        "a problem investigation already closed is not one registered for this violation",
        (
            FOUR_HOURS,
            nov("INC2", 20, ci="db-cluster-01"),
            problem("PBI5", ProblemStatus.CLOSED, ci="db-cluster-01"),
            caused_by("INC1", "PBI5"),
        ),
        {"INC2": "new 2026-11:ci:db-cluster-01"}, 1,
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
        {"INC4": "PBI5", "INC5": "new 2026-11"}, 1,
    ),
    Case(
        "ci-evidence-comes-before-a-likeness",
        LINKED + ": the same CI outweighs a likeness with a problem of more outages",
        (
            FOUR_HOURS,
            nov("INC2", 20, ci="db-cluster-01", summary="Login page down"),
            nov("INC3", 21),
            nov("INC4", 22),
            problem("PBI5", service="Online Banking", ci="db-cluster-01"),
            problem("PBI6", service="Online Banking", summary="Login failures"),
            caused_by("INC1", "PBI5"),
            caused_by("INC3", "PBI6"),
            caused_by("INC4", "PBI6"),
        ),
        {"INC2": "PBI5"}, 0,
        likeness=(LOGIN,),
    ),
    Case(
        "the-no-ci-problem-an-earlier-run-registered-is-found-by-its-details",
        "checks to find out if a problem investigation has already been registered for this "
        "(a run on another node, with a state store of its own)",
        (nov("INC2", 20), nov("INC3", 21, ci="db-cluster-01"), FOUR_HOURS, NO_CI_NOVEMBER),
        {
            "INC1": "new 2026-11:ci:db-cluster-01",
            "INC2": "PBI7",
            "INC3": "new 2026-11:ci:db-cluster-01",
        },
        1,
        why=(("INC2", "linked to PBI7, registered for the outages of Online Banking in 2026-11 "
              "that name no CI"),),
    ),
    Case(
        "the-no-ci-problem-of-another-period-is-not-taken",
        NO_CAUSE + ": nothing ties December's outages without CI to November's",
        (
            FOUR_HOURS,
            outage("INC9", "2026-12-05 10:00", "2026-12-05 12:00"),
            NO_CI_NOVEMBER,
        ),
        {"INC1": "new 2026-11:ci:db-cluster-01", "INC9": "new 2026-12"}, 2,
        at("2026-12-11 00:00"),
    ),
    Case(
        "a-ci-s-new-problem-takes-its-outages-of-the-next-period",
        LINKED + ": December's outage on db-cluster-01 joins November's new problem for it",
        (FOUR_HOURS, outage("INC9", "2026-12-05 10:00", "2026-12-05 12:00", ci="db-cluster-01")),
        {"INC1": "new 2026-11:ci:db-cluster-01", "INC9": "new 2026-11:ci:db-cluster-01"}, 1,
        at("2026-12-11 00:00"),
    ),
    Case(
        "in-danger-in-the-period-under-way",
        "is in danger of being violated: 2 h in the first 10 days, 6.2 h at that rate by the "
        "end of December, over the 3.72 h allowed",
        (outage("INC9", "2026-12-05 10:00", "2026-12-05 12:00"),),
        {"INC9": "new 2026-12"}, 1, at("2026-12-11 00:00"),
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
        {"INC1": "new 2026-11"}, 1,
        sla=(("service_hours", {d: "08:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")}),),
    ),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_decisions(case: Case) -> None:
    """Each case quotes the SMPM sentence (or rule) it checks."""
    fake = itsm(*case.records)
    cfg = config(
        {**GOLD, **dict(case.sla)}, likeness=list(case.likeness), likeness_tiers=case.tiers
    )
    plan = run(fake, cfg, case.now)
    assert links(plan) == case.links, case.smpm
    assert len(creates(plan)) == case.new_problems, case.smpm
    for number, words in case.why:
        assert words in reasons(plan)[number], case.smpm
    assert fake.writes == []  # procedures only plan


def test_every_link_names_its_sla_period_and_the_evidence() -> None:
    """'Availability Management P2 Availability Tracking: SLA Gold 2026-11: availability ...:
    violated; linked to PBI5: same CI db-cluster-01 as PBI5'."""
    plan = run(itsm(FOUR_HOURS, problem("PBI5", service="Online Banking", ci="db-cluster-01")),
               config())  # fmt: skip
    [link] = [a for a in plan.actions if a.kind is ActionKind.RELATE]
    assert str(link.reason) == (
        "Availability Management P2 Availability Tracking: SLA Gold 2026-11: availability "
        "99.444% (target at least 99.5%): violated; linked to PBI5: same CI db-cluster-01 as PBI5"
    )


def test_the_settled_requests_links_are_evidence_for_the_others() -> None:
    """INC1's link is done (the executor says so) and is not written again; its CI still ties
    INC2 to the problem it is linked to."""
    fake = itsm(FOUR_HOURS, nov("INC2", 20, ci="db-cluster-01"), problem("PBI5"),
                caused_by("INC1", "PBI5"))  # fmt: skip

    def settled(triggers: Iterable[str]) -> set[str]:
        return {t for t in triggers if t == p2.link_trigger("INC1")}

    plan = p2.run(Context(fake, config(), NOW, "test", settled=settled))
    assert links(plan) == {"INC2": "PBI5"} and creates(plan) == []


def test_only_the_services_with_requests_to_link_have_their_links_and_problems_read() -> None:
    """Payroll's outage was linked by an earlier run: neither its links nor its problems are
    read; Online Banking's are, its settled request's link included."""
    payroll = {"name": "Pay", "service": "Payroll", "availability_target": 99.5}
    fake = itsm(
        FOUR_HOURS,
        nov("INC2", 20, ci="db-cluster-01"),
        outage("INC5", "2026-11-10 10:00", "2026-11-10 18:00", service="Payroll"),
        problem("PBI5"),
        problem("PBI9", service="Payroll"),
        caused_by("INC1", "PBI5"),
        caused_by("INC5", "PBI9"),
    )
    done = {p2.link_trigger("INC1"), p2.link_trigger("INC5")}
    ctx = Context(fake, config(GOLD, payroll), NOW, "test", settled=lambda t: done & set(t))
    tracking = p2.gather(ctx)
    assert (tracking.settled, tracking.links) == ({"INC1", "INC5"}, {"INC1": {"PBI5"}})
    assert set(tracking.problems) == {"PBI5"}


@pytest.mark.parametrize(
    ("ci", "summary", "trigger", "which"),
    [
        ("db-cluster-01",
         "[availability] Online Banking: db-cluster-01, availability 99.444%: violated, 2026-11",
         "availability:Online Banking:2026-11:ci:db-cluster-01", "on configuration item "
         "db-cluster-01"),
        (None, "[availability] Online Banking: availability 99.444%: violated, 2026-11",
         "availability:Online Banking:2026-11", "that name no configuration item"),
    ],
    ids=["for-a-ci", "for-the-outages-without-ci"],
)  # fmt: skip
def test_the_new_problem_is_assigned_to_the_specialist_group_and_names_the_violation(
    ci: str | None, summary: str, trigger: str, which: str
) -> None:
    """'registers a new problem investigation ... and assigns it to the most appropriate
    specialist': its CI (or none), the violation and the period; the trigger without a CI is
    the one every new problem had before CIs told them apart."""
    plan = run(itsm(FOUR_HOURS.model_copy(update={"ci": ci})), config())
    [new] = creates(plan)
    assert new.summary == summary
    assert (new.assigned_group, new.status, new.problem_coordinator) == (
        "Database Administration",
        ProblemStatus.ASSIGNED,
        "bob",
    )
    assert (new.service, new.ci, new.impact) == ("Online Banking", ci, Impact.SIGNIFICANT)
    assert new.details is not None and "SLA Gold (Online Banking), period 2026-11:" in new.details
    assert f"outages {which} that no open problem investigation" in new.details
    [create] = [a for a in plan.actions if a.kind is ActionKind.CREATE]
    assert create.trigger == trigger
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
    assert len(creates(plan)) == 1 and links(plan) == {"INC1": "new 2026-11:ci:db-cluster-01"}


def apply(fake: FakeConnector, cfg: ProceduresConfig, state: Path) -> list[Any]:
    engine = open_engine(f"sqlite:///{state}")
    try:
        return Executor(fake, engine).apply(run(fake, cfg)).outcomes
    finally:
        engine.dispose()


def test_a_rerun_registers_no_second_problem(tmp_path: Path) -> None:
    """The first run registers a problem for db-cluster-01 and one for the outage without CI,
    and links the three outages; a rerun (same state, or a fresh state database on another
    node) finds them linked and writes nothing."""
    fake = itsm(FOUR_HOURS, nov("INC2", 20, ci="db-cluster-01"), nov("INC3", 21))
    first = apply(fake, config(), tmp_path / "state.db")
    assert [o.outcome for o in first] == ["applied"] * 5
    assert [w.operation for w in fake.writes] == ["create", "relate", "relate", "create", "relate"]
    by_ci = {p.ci: p.id for p in fake.records[RecordKind.PROBLEM].values()}
    assert {(r.source_id, r.target_id) for r in fake.relations} == {
        ("INC1", by_ci["db-cluster-01"]),
        ("INC2", by_ci["db-cluster-01"]),
        ("INC3", by_ci[None]),
    }
    fake.writes.clear()
    assert [o.outcome for o in apply(fake, config(), tmp_path / "state.db")] == []
    assert apply(fake, config(), tmp_path / "other.db") == [] and fake.writes == []


@pytest.mark.parametrize("state", ["state.db", "other.db"], ids=["same-state", "another-node"])
def test_later_outages_join_the_problems_an_earlier_run_registered(
    tmp_path: Path, state: str
) -> None:
    """A later outage on db-cluster-01 joins the problem of that CI (by its CI), one without CI
    the problem of its period's outages without CI (by its details): nothing registered twice,
    whether the run has the first run's state store or one of its own."""
    fake = itsm(FOUR_HOURS, nov("INC2", 20))
    apply(fake, config(), tmp_path / "state.db")
    fake.add(nov("INC3", 25, ci="db-cluster-01"), nov("INC4", 26))
    fake.writes.clear()
    outcomes = apply(fake, config(), tmp_path / state)
    by_ci = {p.ci: p.id for p in fake.records[RecordKind.PROBLEM].values()}
    assert len(by_ci) == 2 and [w.operation for w in fake.writes] == ["relate", "relate"]
    assert {(o.action.target_id, o.action.relation.target_id) for o in outcomes} == {
        ("INC3", by_ci["db-cluster-01"]),
        ("INC4", by_ci[None]),
    }


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
        outage("INC1", "2026-11-10 10:00", "2026-11-10 12:00", ci="db-cluster-01"),
        incident(id="INC2", service="Email"),
        outage("INC3", "2026-11-11 10:00", "2026-11-11 12:00", ci="db-cluster-01"),
        outage("INC4", "2026-11-12 10:00", "2026-11-12 12:00", ci="db-cluster-01"),
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


@pytest.mark.parametrize(
    ("keywords", "text", "found"),
    [
        (["login"], "Online Banking Login page times out", "login"),
        (["login"], "Logins are slow", None),
        (["sign in"], "Cannot sign   in since 9:00", "sign in"),
        (["sign in"], "Signing in is slow", None),
        (["sign-in", "login"], "sign-in fails", "sign-in"),
        (["login"], None, None),
    ],
    ids=["any-case", "whole-words", "spacing", "not-a-prefix", "punctuation", "no-summary"],
)
def test_a_likeness_keyword_matches_whole_words(
    keywords: list[str], text: str | None, found: str | None
) -> None:
    """A configured likeness: keywords found as whole words, in any case and spacing."""
    rule = LikenessRule(name="login", keywords=keywords)
    assert rule.keyword_in(text) == found


@pytest.mark.parametrize(
    ("likeness", "message"),
    [
        ([{"name": "login", "keywords": []}], "at least 1 item"),
        ([{"name": "login", "keywords": ["login", " - "]}], "keyword ' - ' holds no letter"),
        ([{"name": "", "keywords": ["login"]}], "at least 1 character"),
        ([{"name": "login", "keywords": ["login"], "fields": ["summary"]}], "Extra inputs"),
        ([LOGIN, LOGIN], "two likeness rules are named 'login'"),
        (4, "less than or equal to 3"),
        (-1, "greater than or equal to 0"),
    ],
    ids=["no-keywords", "blank-keyword", "no-name", "unknown-setting", "same-name-twice",
         "four-tiers", "negative-tiers"],
)  # fmt: skip
def test_a_bad_likeness_setting_is_refused_with_the_reason(
    likeness: list[dict[str, Any]] | int, message: str
) -> None:
    """[[availability.likeness]]: a rule that could match nothing, or everything, or two rules
    of one name, and likeness_tiers beyond the three tiers, are refused at load with what is
    wrong."""
    setting = "likeness_tiers" if isinstance(likeness, int) else "likeness"
    with pytest.raises(ValidationError) as error:
        config(**{setting: likeness})
    assert message in str(error.value) and setting in str(error.value)
