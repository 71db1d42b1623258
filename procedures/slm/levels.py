"""The actual service levels of an SLA over its evaluation term, SLT by SLT (pure).

SMPM (Service Level Management P5): "the service level manager determines the actual level at
which the service(s) have been provided over the past term to the customer of the SLA(s) ...
compares the actual service levels with the service level targets (SLTs) specified in the
SLA(s)."

- Response and resolution SLTs: the ITSM's measurements (ServiceTarget) on the SLA's incident
  requests (its service; its customer's company when the SLA names one) that ended in the term:
  stopped in it, or still running and missed with their due date in it. Each measurement
  title is one SLT; it is met by `attainment_target` percent of its measurements or violated.
- Availability and reliability SLTs: Availability Tracking's verdicts for each tracking period
  that starts in the term; an SLT is violated when it was violated in any of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from connector.entities import IncidentRequest, MeasurementStatus, ServiceTarget, TargetKind
from procedures.availability.config import SlaDefinition
from procedures.availability.periods import TrackingPeriod
from procedures.availability.targets import Check, Verdict
from procedures.slm.config import SlaReviewConfig

MISSED = (MeasurementStatus.MISSED, MeasurementStatus.MISSED_GOAL)
TARGETS = ("availability", "outages", "MTBF", "MTTR")


@dataclass(frozen=True)
class Level:
    """The actual service level of one SLT over one term, against what the SLA asks."""

    sla: SlaDefinition
    term: TrackingPeriod
    slt: str
    kind: str
    target: str
    share: float  # percent of requests (or of tracking periods) that must meet it
    met: int
    missed: int
    actual: str
    violated: bool
    why: str

    @property
    def attainment(self) -> float | None:
        total = self.met + self.missed
        return 100 * self.met / total if total else None


def ended_at(target: ServiceTarget) -> datetime | None:
    """When a measurement was settled: stopped, or (still running) missed at its due date."""
    if target.stopped_at is not None:
        return target.stopped_at
    return target.due_at if target.status in MISSED else None


def outcome(target: ServiceTarget) -> bool | None:
    """True: met; False: missed; None: not settled (running, pending, detached)."""
    if target.status is MeasurementStatus.MET:
        return True
    if target.status in MISSED:
        return False
    return None


def kind_of(target: ServiceTarget, config: SlaReviewConfig) -> str:
    if target.target_kind is not None:
        return target.target_kind.value
    title = target.title or ""
    if re.search(config.resolution_pattern, title):
        return TargetKind.RESOLUTION.value
    if re.search(config.response_pattern, title):
        return TargetKind.RESPONSE.value
    return "other"


def belongs(target: ServiceTarget, incident: IncidentRequest | None, sla: SlaDefinition) -> bool:
    """A measurement on one of the SLA's requests, with one of its SLT titles."""
    if incident is None or incident.service != sla.service:
        return False
    if sla.customer and incident.company != sla.customer:
        return False
    title = target.title or ""
    return not sla.slt_titles or any(re.search(p, title) for p in sla.slt_titles)


def _goal(targets: Sequence[ServiceTarget]) -> str:
    goals = sorted({t.goal_seconds for t in targets if t.goal_seconds})
    shown = ", ".join(f"{g / 3600:g} h" for g in goals) or "its goal"
    return f"within {shown}"


def measured_levels(
    sla: SlaDefinition,
    term: TrackingPeriod,
    targets: Iterable[ServiceTarget],
    config: SlaReviewConfig,
) -> list[Level]:
    """One level per measurement title, for the measurements settled in the term."""
    by_title: dict[str, list[ServiceTarget]] = {}
    for target in targets:
        when, result = ended_at(target), outcome(target)
        if when is not None and result is not None and term.contains(when):
            by_title.setdefault(target.title or "(untitled)", []).append(target)
    share = sla.attainment_target or config.attainment_target
    levels = []
    for title in sorted(by_title):
        found = by_title[title]
        met = sum(1 for t in found if outcome(t))
        missed = len(found) - met
        attained = 100 * met / len(found)
        violated = attained < share
        word = "below" if violated else "at least"
        levels.append(
            Level(
                sla=sla,
                term=term,
                slt=title,
                kind=kind_of(found[0], config),
                target=f"{_goal(found)} for {share:g}% of requests",
                share=share,
                met=met,
                missed=missed,
                actual=f"{attained:.1f}% within goal",
                violated=violated,
                why=f"{met} of {len(found)} requests within goal: {attained:.1f}%, {word} "
                f"{share:g}%",
            )
        )
    return levels


def availability_levels(
    sla: SlaDefinition,
    term: TrackingPeriod,
    periods: Sequence[tuple[TrackingPeriod, Sequence[Check]]],
) -> list[Level]:
    """One level per availability or reliability target, over the term's tracking periods."""
    levels = []
    for name in TARGETS:
        results = [(p, c) for p, found in periods for c in found if c.target == name]
        if not results:
            continue
        bad = [(p, c) for p, c in results if c.verdict is Verdict.VIOLATED]
        met = len(results) - len(bad)
        actual = (
            ", ".join(f"{p.name}: {c.actual}" for p, c in bad)
            if bad
            else f"met in all {len(results)} periods"
        )
        why = "; ".join(f"{p.name}: {c.why}" for p, c in bad) or f"met in every {sla.period}"
        levels.append(
            Level(
                sla=sla,
                term=term,
                slt=name,
                kind="availability" if name == "availability" else "reliability",
                target=f"{results[0][1].goal} per {sla.period}",
                share=100.0,
                met=met,
                missed=len(bad),
                actual=actual,
                violated=bool(bad),
                why=why,
            )
        )
    return levels
