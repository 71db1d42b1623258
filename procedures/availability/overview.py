"""The availability tracking overview: every tracked SLA per period, as the report SMPM publishes.

One row per SLA and tracking period (the last `history_periods`, oldest first; the one under way
counted up to now), flagged when a target is violated or in danger; the outage requests that
counted and the problem investigations they are (or are about to be) linked to. Charts:
availability per period against the target, and outages per period against the maximum, for
the `chart_slas` SLAs closest to (or furthest below) their targets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from procedures.availability.config import AvailabilityConfig
from procedures.availability.targets import SlaPeriod, Verdict
from procedures.charts import Chart, ChartedReport, Panel, Point
from procedures.event.report import Cell, Period
from procedures.plan import Ref

COLUMNS = (
    "sla",
    "service",
    "period",
    "state",
    "agreed_hours",
    "outage_hours",
    "availability_pct",
    "availability_target_pct",
    "outages",
    "max_outages",
    "mtbf_hours",
    "mtbf_target_hours",
    "mttr_hours",
    "mttr_target_hours",
    "verdict",
    "why",
    "outage_requests",
    "problem_investigations",
)


@dataclass(frozen=True)
class Linked:
    """A request this run links: in which SLA period, to which problem (a Ref: a new one)."""

    sla: str
    period: str
    target: str | Ref


def _hours(value: timedelta | None) -> Cell:
    return "" if value is None else round(value.total_seconds() / 3600, 2)


def _number(value: float | None, digits: int = 3) -> Cell:
    return "" if value is None else round(value, digits)


def _problems(sp: SlaPeriod, linked: Mapping[str, Linked], links: Mapping[str, set[str]]) -> str:
    found: set[str] = set()
    for number in sp.figures.incidents:
        found |= links.get(number, set())
        planned = linked.get(number)
        if planned is not None and planned.period == sp.figures.period.name:
            target = planned.target
            found.add("new" if isinstance(target, Ref) else target)
    return " ".join(sorted(found))


def row(sp: SlaPeriod, linked: Mapping[str, Linked], links: Mapping[str, set[str]]) -> tuple:
    fig, sla = sp.figures, sp.sla
    flagged = [c for c in sp.checks if c.verdict is not Verdict.MET]
    return (
        sla.name,
        sla.service,
        fig.period.name,
        "ended" if fig.complete else "so far",
        _hours(fig.agreed),
        _hours(fig.downtime),
        _number(fig.availability),
        _number(sla.availability_target),
        fig.outages,
        "" if sla.max_outages is None else sla.max_outages,
        _hours(fig.mtbf),
        _number(sla.mtbf_hours, 2),
        _hours(fig.mttr),
        _number(sla.mttr_hours, 2),
        sp.verdict.value,
        "; ".join(c.why for c in flagged),
        " ".join(fig.incidents),
        _problems(sp, linked, links),
    )


def report_period(periods: Sequence[SlaPeriod], now: datetime) -> Period:
    if not periods:
        return Period.ending(now, 1)
    start = min(p.figures.period.start for p in periods)
    return Period(start=start, end=max(p.figures.period.end for p in periods))


def overview(
    periods: Sequence[SlaPeriod],
    linked: Mapping[str, Linked],
    links: Mapping[str, set[str]],
    config: AvailabilityConfig,
    now: datetime,
) -> ChartedReport:
    decided = [p for p in periods if p.decided]
    ended = [p for p in decided if p.figures.complete]
    running = [p for p in decided if not p.figures.complete]
    return ChartedReport(
        name="availability-tracking",
        title="Availability Tracking Overview",
        period=report_period(periods, now),
        intro=(
            "Availability Management, Procedure 2: availability and reliability of every "
            "active SLA per tracking period, against its targets. The period under way is "
            "counted up to now. Flagged rows are violated or in danger; their outage requests "
            "are linked to the problem investigation of their root cause, or to a new one."
        ),
        columns=COLUMNS,
        rows=tuple(row(p, linked, links) for p in periods),
        flagged=tuple(p.verdict is not Verdict.MET for p in periods),
        figures=(
            ("SLAs tracked", len({p.sla.name for p in periods})),
            ("violated, period just ended", _count(ended, Verdict.VIOLATED)),
            ("violated or in danger, period under way", len(running) - _count(running)),
            ("outage requests to link", len(linked)),
            ("new problem investigations", len(_new(linked))),
        ),
        charts=_charts(periods, config),
    )


def _new(linked: Mapping[str, Linked]) -> set[str]:
    return {str(x.target) for x in linked.values() if isinstance(x.target, Ref)}


def _count(periods: Iterable[SlaPeriod], verdict: Verdict = Verdict.MET) -> int:
    return sum(1 for p in periods if p.verdict is verdict)


def _charts(periods: Sequence[SlaPeriod], config: AvailabilityConfig) -> tuple[Chart, ...]:
    by_sla: dict[str, list[SlaPeriod]] = {}
    for sp in periods:
        by_sla.setdefault(sp.sla.name, []).append(sp)
    note = "* the period under way, up to now; a red column missed its target"
    return (
        Chart(
            title="Availability per period against the target",
            kind="columns",
            unit="%",
            note=note,
            panels=_panels(by_sla, "availability", config.chart_slas, _availability),
        ),
        Chart(
            title="Outages per period against the maximum",
            kind="columns",
            unit="outages",
            note=note,
            panels=_panels(by_sla, "outages", config.chart_slas, _outages),
        ),
    )


def _panels(
    by_sla: dict[str, list[SlaPeriod]],
    target: str,
    count: int,
    point: Callable[[SlaPeriod], Point],
) -> tuple[Panel, ...]:
    """Panels for the SLAs with this target, those whose verdicts are worst first."""
    with_target = [ps for ps in by_sla.values() if any(c.target == target for c in ps[0].checks)]

    def badness(ps: list[SlaPeriod]) -> tuple[int, int]:
        ranks = [c.verdict.rank for p in ps for c in p.checks if c.target == target]
        return (-max(ranks, default=0), -sum(ranks))

    chosen = sorted(with_target, key=badness)[:count]
    return tuple(
        Panel(title=f"{ps[0].sla.name} ({ps[0].sla.service})", points=tuple(map(point, ps)))
        for ps in chosen
    )


def _label(sp: SlaPeriod) -> str:
    return sp.figures.period.name + ("" if sp.figures.complete else "*")


def _missed(sp: SlaPeriod, target: str) -> bool:
    return any(c.target == target and c.verdict is Verdict.VIOLATED for c in sp.checks)


def _availability(sp: SlaPeriod) -> Point:
    value = sp.figures.availability
    return Point(
        label=_label(sp),
        value=None if value is None else round(value, 3),
        target=sp.sla.availability_target,
        missed=_missed(sp, "availability"),
    )


def _outages(sp: SlaPeriod) -> Point:
    most = sp.sla.max_outages
    return Point(
        label=_label(sp),
        value=float(sp.figures.outages),
        target=None if most is None else float(most),
        missed=_missed(sp, "outages"),
    )
