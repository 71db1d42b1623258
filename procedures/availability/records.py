"""What Availability Tracking registers: the problem investigation for an SLA's outages."""

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


def problem_summary(service: str, checks: Sequence[Check], period: str) -> str:
    """'[availability] Online Banking: availability 98.210% (target at least 99.5%): violated,
    2026-11' (clipped to the 100 characters Remedy keeps)."""
    first = missed(checks)[0] if missed(checks) else None
    what = headline(first) if first else "targets in danger"
    return f"{problem_prefix(service)} {what}, {period}"[:100]


def availability_problem(
    sla: SlaDefinition,
    figures: Figures,
    checks: Sequence[Check],
    incidents: Sequence[IncidentRequest],
    group: str | None,
    coordinator: str | None,
    config: AvailabilityConfig,
) -> ProblemInvestigation:
    """A problem investigation for the root cause of an SLA's outages in one period, assigned to
    the specialist group (the problem coordinator assigns it when no group is known)."""
    cis = {i.ci for i in incidents}
    companies = [i.company for i in incidents if i.company]
    reasons = "; ".join(c.why for c in missed(checks))
    return ProblemInvestigation(
        summary=problem_summary(sla.service, checks, figures.period.name),
        details=(
            f"Registered by {BY} for SLA {sla.name} ({sla.service}), period "
            f"{figures.period.name}: {reasons}. The linked incident requests are the outages "
            "of the period with no problem investigation for their root cause yet. Find the "
            "root cause and how such outages are best avoided."
        ),
        status=ProblemStatus.ASSIGNED if group else ProblemStatus.UNDER_REVIEW,
        investigation_driver=config.investigation_driver,
        impact=config.problem_impact,
        urgency=config.problem_urgency,
        company=companies[0] if companies else None,
        service=sla.service,
        ci=cis.pop() if len(cis) == 1 else None,
        assigned_group=group,
        problem_coordinator=coordinator,
    )
