"""Whether an SLA's availability and reliability targets were met, are in danger or violated.

SMPM (Availability Management P2): "If the availability manager found out that the availability
or reliability target of one or more SLAs is in danger of being violated, or if it has already
been violated ...". The rule, the same for every target:

- violated: the target is missed even if no further outage happens in the period (for a period
  that has ended: it was missed). Availability: the outage time exceeds the allowance, the
  agreed service time x (100% - target). Outages: more than the maximum. MTBF: below the minimum
  with the period's remaining service time counted as up time. MTTR: above the maximum at the
  end of the period (while under way, shorter outages may still bring it down);
- in danger: at the current rate the period ends with more than `danger_share` of the target's
  allowance used (outage time and outages scale with the agreed service time still to come;
  MTTR and MTBF are means and stay as they are). With the default share 1.0 that is "projected
  to be violated"; 0.8 warns at 80% of the allowance, and then also a period that ended within
  its allowance but above 80% of it is in danger. No projection is made before `min_elapsed`
  of the period's agreed service time has passed: one outage on the first morning of a month
  says little about the month.

`SlaPeriod` is one SLA in one period with its figures and checks: what the tracking decides on
and the overview shows (it lives here, below both).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from functools import cached_property

from procedures.availability.config import SlaDefinition
from procedures.availability.timeline import Figures, hours_text


class Verdict(StrEnum):
    MET = "met"
    IN_DANGER = "in danger"
    VIOLATED = "violated"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {verdict: n for n, verdict in enumerate(Verdict)}


@dataclass(frozen=True)
class DangerRule:
    share: float = 1.0
    min_elapsed: float = 0.2


@dataclass(frozen=True)
class Check:
    """One target of one SLA in one period: what it asks, what was measured, and the verdict."""

    target: str  # "availability", "outages", "MTBF", "MTTR"
    goal: str
    actual: str
    verdict: Verdict
    why: str


def factor(fig: Figures, rule: DangerRule) -> float | None:
    """Agreed service time of the period / the part of it that has passed; None: too early."""
    if fig.complete or fig.elapsed == fig.agreed:
        return 1.0
    if not fig.elapsed or fig.elapsed < fig.agreed * rule.min_elapsed:
        return None
    return fig.agreed / fig.elapsed


def checks(fig: Figures, sla: SlaDefinition, rule: DangerRule) -> list[Check]:
    """Every target the SLA sets, checked; an SLA period with no agreed service time has none."""
    if not fig.agreed:
        return []
    found = []
    if sla.availability_target is not None:
        found.append(availability(fig, sla.availability_target, rule))
    if sla.max_outages is not None:
        found.append(outages(fig, sla.max_outages, rule))
    if sla.mtbf_hours is not None:
        found.append(mtbf(fig, timedelta(hours=sla.mtbf_hours), rule))
    if sla.mttr_hours is not None:
        found.append(mttr(fig, timedelta(hours=sla.mttr_hours), rule))
    return found


def worst(found: list[Check]) -> Verdict:
    return max((c.verdict for c in found), key=lambda v: v.rank, default=Verdict.MET)


def _seconds(value: timedelta) -> float:
    return round(value.total_seconds(), 3)


def availability(fig: Figures, target: float, rule: DangerRule) -> Check:
    allowed = round(_seconds(fig.agreed) * (100 - target) / 100, 3)
    down = _seconds(fig.downtime)
    shown = "-" if fig.availability is None else f"{fig.availability:.3f}%"
    goal = f"at least {target:g}%"
    budget = f"the {allowed / 3600:.2f} h of outage the {target:g}% target allows"
    ahead = factor(fig, rule)
    if down > allowed:
        why = f"{down / 3600:.2f} h of outage exceed {budget}"
        return Check("availability", goal, shown, Verdict.VIOLATED, why)
    if ahead is not None and down * ahead > rule.share * allowed:
        why = (
            f"at the current rate {down * ahead / 3600:.2f} h of outage by the period's end, "
            f"more than {rule.share:.0%} of {budget}"
        )
        return Check("availability", goal, shown, Verdict.IN_DANGER, why)
    why = f"{down / 3600:.2f} h of outage within {budget}"
    return Check("availability", goal, shown, Verdict.MET, why)


def outages(fig: Figures, most: int, rule: DangerRule) -> Check:
    goal, shown, ahead = f"at most {most}", str(fig.outages), factor(fig, rule)
    if fig.outages > most:
        why = f"{fig.outages} outages, more than the {most} allowed"
        return Check("outages", goal, shown, Verdict.VIOLATED, why)
    if ahead is not None and fig.outages * ahead > rule.share * most:
        why = (
            f"at the current rate {fig.outages * ahead:.1f} outages by the period's end, more "
            f"than {rule.share:.0%} of the {most} allowed"
        )
        return Check("outages", goal, shown, Verdict.IN_DANGER, why)
    return Check("outages", goal, shown, Verdict.MET, f"{fig.outages} of the {most} allowed")


def mtbf(fig: Figures, least: timedelta, rule: DangerRule) -> Check:
    goal = f"at least {hours_text(least)}"
    if not fig.outages:
        return Check("MTBF", goal, "no outage", Verdict.MET, "no outage")
    best = (fig.agreed - fig.downtime) / fig.outages
    now = fig.mtbf or timedelta()
    shown = hours_text(now)
    if best < least:
        why = f"{hours_text(best)} between failures even if no other outage follows"
        return Check("MTBF", goal, shown, Verdict.VIOLATED, why)
    if factor(fig, rule) is not None and _seconds(now) * rule.share < _seconds(least):
        why = f"{shown} between failures so far, short of the {hours_text(least)} asked"
        return Check("MTBF", goal, shown, Verdict.IN_DANGER, why)
    return Check("MTBF", goal, shown, Verdict.MET, f"{shown} between failures")


def mttr(fig: Figures, most: timedelta, rule: DangerRule) -> Check:
    goal = f"at most {hours_text(most)}"
    if not fig.outages:
        return Check("MTTR", goal, "no outage", Verdict.MET, "no outage")
    now = fig.mttr or timedelta()
    shown = hours_text(now)
    if fig.complete and now > most:
        why = f"{shown} to restore service on average, more than {hours_text(most)}"
        return Check("MTTR", goal, shown, Verdict.VIOLATED, why)
    if factor(fig, rule) is not None and _seconds(now) > rule.share * _seconds(most):
        why = f"{shown} to restore service on average so far, over {rule.share:.0%} of the maximum"
        return Check("MTTR", goal, shown, Verdict.IN_DANGER, why)
    return Check("MTTR", goal, shown, Verdict.MET, f"{shown} to restore service on average")


@dataclass(frozen=True)
class SlaPeriod:
    """One SLA in one tracking period: figures, verdicts, and whether this run decides on it."""

    sla: SlaDefinition
    figures: Figures
    checks: tuple[Check, ...]
    decided: bool

    @cached_property
    def verdict(self) -> Verdict:
        return worst(list(self.checks))

    @property
    def label(self) -> str:
        return f"SLA {self.sla.name} {self.figures.period.name}"
