"""What Availability Tracking registers: the problem investigation for an SLA's outages that
share a configuration item, or for those of a period that name none."""

from __future__ import annotations

from collections.abc import Sequence

from connector.entities import IncidentRequest, ProblemInvestigation
from connector.enums import ProblemStatus
from procedures.availability.config import AvailabilityConfig, SlaDefinition
from procedures.availability.outages import problem_prefix
from procedures.availability.targets import Check, Verdict
from procedures.availability.timeline import Figures

BY = "Availability Management P2 Availability Tracking"


def missed(checks: Sequence[Check]) -> list[Check]:
    """The checks that are violated or in danger, violated first."""
    return sorted(
        (c for c in checks if c.verdict is not Verdict.MET), key=lambda c: -c.verdict.rank
    )


def headline(check: Check) -> str:
    """'availability 98.210% (target at least 99.5%): violated'."""
    return f"{check.target} {check.actual} (target {check.goal}): {check.verdict.value}"


def problem_summary(service: str, checks: Sequence[Check], period: str, ci: str | None) -> str:
    """'[availability] Online Banking: db-cluster-01, availability 98.210%: violated, 2026-11',
    without the CI for outages that name none (the targets are in the details; clipped to the
    100 characters Remedy keeps)."""
    first = missed(checks)[0] if missed(checks) else None
    what = f"{first.target} {first.actual}: {first.verdict.value}" if first else "in danger"
    on = f" {ci}," if ci else ""
    return f"{problem_prefix(service)}{on} {what}, {period}"[:100]


def period_mark(service: str, period: str) -> str:
    """'(Online Banking), period 2026-11:', in the details of every problem investigation this
    procedure registers (and registered before CIs told them apart)."""
    return f"({service}), period {period}:"


def availability_problem(
    sla: SlaDefinition,
    figures: Figures,
    checks: Sequence[Check],
    incidents: Sequence[IncidentRequest],
    group: str | None,
    coordinator: str | None,
    config: AvailabilityConfig,
    ci: str | None,
) -> ProblemInvestigation:
    """A problem investigation for the root cause of an SLA's outages on configuration item
    `ci` (or, with None, of its outages in one period that name no CI), assigned to the
    specialist group (the problem coordinator assigns it when no group is known)."""
    companies = [i.company for i in incidents if i.company]
    reasons = "; ".join(c.why for c in missed(checks))
    which = f"on configuration item {ci}" if ci else "that name no configuration item"
    return ProblemInvestigation(
        summary=problem_summary(sla.service, checks, figures.period.name, ci),
        details=(
            f"Registered by {BY} for SLA {sla.name} {period_mark(sla.service, figures.period.name)}"
            f" {reasons}. The linked incident requests are outages {which} that no open problem "
            "investigation of the service was registered for. Find the root cause and how such "
            "outages are best avoided."
        ),
        status=ProblemStatus.ASSIGNED if group else ProblemStatus.UNDER_REVIEW,
        investigation_driver=config.investigation_driver,
        impact=config.problem_impact,
        urgency=config.problem_urgency,
        company=companies[0] if companies else None,
        service=sla.service,
        ci=ci,
        assigned_group=group,
        problem_coordinator=coordinator,
    )
