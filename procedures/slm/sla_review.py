"""Service Level Management, Procedure 5, SLA Review and Request Handling: the review report.

SMPM: "When the SLA(s) of one of the service level manager's customer organizations have
reached the end of their evaluation term ... the service level manager determines the actual
level at which the service(s) have been provided over the past term ... compares the actual
service levels with the service level targets (SLTs) specified in the SLA(s). If one or more
SLTs were violated during the evaluation term, the service level manager contacts the
responsible service owners to find out why ... to compile a detailed report for the customer
representative."

The machine's part, per active SLA of `[[availability.slas]]` and its last complete evaluation
term (`review_term`, on the calendar of the SLA's timezone): the actual level of every SLT
(levels.py: response and resolution SLTs from the ITSM's measurements, availability and
reliability SLTs from Availability Tracking), the violated ones with the service owner to
contact (the ITSM's service record, or `[contacts.services]`), as the detailed report
(`smpm review sla`). It writes nothing to the ITSM: meeting the customer, and registering the
requests made there as incident requests, stay with the service level manager.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from connector.entities import IncidentRequest, ServiceTarget
from connector.filters import Field as F
from connector.filters import Filter
from procedures.availability.config import AvailabilityConfig, SlaDefinition
from procedures.availability.outages import active_within, is_outage, outages_of, read_by_service
from procedures.availability.periods import TrackingPeriod, last_complete, periods_within
from procedures.availability.targets import Check, DangerRule, Verdict, checks
from procedures.availability.timeline import Figures, Interval, figures
from procedures.charts import Chart, ChartedReport, Panel, Point
from procedures.config import ProceduresConfig
from procedures.directory import Directory
from procedures.event.report import Period, ReviewPlan
from procedures.registry import Context, Procedure
from procedures.slm.levels import MISSED, Level, availability_levels, belongs, measured_levels

PROCESS = "Service Level Management"
PROCEDURE = "P5 SLA Review and Request Handling"
NAME = "slm.sla_review"
Tracked = tuple[TrackingPeriod, Figures, list[Check]]


@dataclass
class Review:
    """What the review reads: each SLA's term, its services' requests and the measurements."""

    now: datetime
    terms: dict[str, TrackingPeriod]
    by_service: dict[str, list[IncidentRequest]] = field(default_factory=dict)
    measurements: list[ServiceTarget] = field(default_factory=list)

    def incidents(self) -> dict[str, IncidentRequest]:
        return {i.id: i for found in self.by_service.values() for i in found if i.id}


def tracking_periods(sla: SlaDefinition, term: TrackingPeriod) -> list[TrackingPeriod]:
    return periods_within(sla.period, sla.zone(), term) if sla.tracks_availability else []


def window(slas: Sequence[SlaDefinition], terms: dict[str, TrackingPeriod]) -> Interval:
    spans = [terms[s.name] for s in slas]
    spans += [p for s in slas for p in tracking_periods(s, terms[s.name])]
    return (min(p.start for p in spans), max(p.end for p in spans))


def settled_within(span: Interval) -> Filter:
    """Measurements stopped in the window, or still running and missed with their due date in it."""
    start, end = span
    stopped = (F("stopped_at") >= start) & (F("stopped_at") < end)
    running = F("stopped_at").is_null() & (F("due_at") >= start) & (F("due_at") < end)
    return stopped | (running & F("status").one_of(*MISSED))


def gather(ctx: Context) -> tuple[list[SlaDefinition], Review]:
    slas = [s for s in ctx.config.availability.slas if s.active]
    terms = {s.name: last_complete(s.review_term, s.zone(), ctx.now) for s in slas}
    review = Review(ctx.now, terms)
    if slas:
        span = window(slas, terms)
        services = [s.service for s in slas]
        config = ctx.config.availability
        review.by_service = read_by_service(ctx.connector, active_within(span), services, config)
        review.measurements = list(ctx.connector.find(ServiceTarget, settled_within(span)))
    return slas, review


# -- the actual levels (pure) ---------------------------------------------------------------------
def tracked(sla: SlaDefinition, review: Review, config: AvailabilityConfig) -> list[Tracked]:
    """Availability Tracking's figures and verdicts for the term's tracking periods."""
    term, zone, hours = review.terms[sla.name], sla.zone(), sla.hours()
    found = [i for i in review.by_service.get(sla.service, []) if is_outage(i, config)]
    outages = outages_of(found, review.now)
    rule = DangerRule(config.danger_share, config.min_elapsed_share)
    result = []
    for period in tracking_periods(sla, term):
        fig = figures(outages, period, hours, zone, review.now)
        result.append((period, fig, checks(fig, sla, rule)))
    return result


def levels_of(
    sla: SlaDefinition, review: Review, periods: list[Tracked], config: ProceduresConfig
) -> list[Level]:
    term, incidents = review.terms[sla.name], review.incidents()
    mine = [t for t in review.measurements if belongs(t, incidents.get(t.request_id or ""), sla)]
    verdicts = [(p, found) for p, _, found in periods]
    return [
        *availability_levels(sla, term, verdicts),
        *measured_levels(sla, term, mine, config.slm.sla_review),
    ]


def decide(
    slas: Sequence[SlaDefinition],
    review: Review,
    directory: Directory,
    config: ProceduresConfig,
    trigger: str,
) -> ReviewPlan:
    """The review of every SLA's last term (pure): findings and the report; no writes."""
    plan = ReviewPlan(procedure=NAME, trigger=trigger)
    levels: list[Level] = []
    periods: dict[str, list[Tracked]] = {}
    for sla in slas:
        periods[sla.name] = tracked(sla, review, config.availability)
        found = levels_of(sla, review, periods[sla.name], config)
        levels += found
        for level in (lv for lv in found if lv.violated):
            plan.note(
                f"SLA {sla.name} {level.term.name}", "SLT violated", _contact(level, directory)
            )
    violated = sum(1 for lv in levels if lv.violated)
    plan.note("SLAs", f"{len(slas)} SLAs reviewed", f"{violated} of {len(levels)} SLTs violated")
    plan.report = report(slas, review, levels, periods, directory, config)
    return plan


def _contact(level: Level, directory: Directory) -> str:
    owner = directory.service_role(level.sla.service, "owner")
    who = (
        f"the service owner {owner}"
        if owner
        else f"the service owner of {level.sla.service} (none known: set [contacts.services])"
    )
    return (
        f"{PROCESS} {PROCEDURE}: {level.slt} {level.actual} against {level.target}: the service "
        f"level manager asks {who} why it was violated and how it will not be again"
    )


# -- the report -----------------------------------------------------------------------------------
COLUMNS = (
    "sla",
    "customer",
    "service",
    "term",
    "slt",
    "kind",
    "target",
    "met",
    "missed",
    "attainment_pct",
    "actual",
    "verdict",
    "service_owner",
    "why",
)


def _row(level: Level, directory: Directory) -> tuple:
    sla, attainment = level.sla, level.attainment
    return (
        sla.name,
        sla.customer or "",
        sla.service,
        level.term.name,
        level.slt,
        level.kind,
        level.target,
        level.met,
        level.missed,
        "" if attainment is None else round(attainment, 1),
        level.actual,
        "violated" if level.violated else "met",
        directory.service_role(sla.service, "owner") or "",
        level.why,
    )


def report(
    slas: Sequence[SlaDefinition],
    review: Review,
    levels: Sequence[Level],
    periods: dict[str, list[Tracked]],
    directory: Directory,
    config: ProceduresConfig,
) -> ChartedReport:
    terms = list(review.terms.values()) or [TrackingPeriod(review.now, review.now, "")]
    start, end = min(t.start for t in terms), max(t.end for t in terms)
    span = Period(start=start, end=end) if end > start else Period.ending(review.now, 1)
    violated = [lv for lv in levels if lv.violated]
    owners = {directory.service_role(lv.sla.service, "owner") or lv.sla.service for lv in violated}
    return ChartedReport(
        name="sla-review",
        title="SLA Review",
        period=span,
        intro=(
            "Service Level Management, Procedure 5: the actual service levels of every active "
            "SLA over its last evaluation term against each of its service level targets. "
            "Flagged SLTs were violated: their service owners are asked why, and how they will "
            "not be violated again, before the review with the customer representative."
        ),
        columns=COLUMNS,
        rows=tuple(_row(lv, directory) for lv in levels),
        flagged=tuple(lv.violated for lv in levels),
        figures=(
            ("SLAs reviewed", len(slas)),
            ("SLTs", len(levels)),
            ("SLTs violated", len(violated)),
            ("service owners to contact", len(owners)),
        ),
        charts=_charts(slas, levels, periods, config.availability.chart_slas),
    )


def _charts(
    slas: Sequence[SlaDefinition],
    levels: Sequence[Level],
    periods: dict[str, list[Tracked]],
    count: int,
) -> tuple[Chart, ...]:
    bad = {lv.sla.name for lv in levels if lv.violated}
    ordered = sorted(slas, key=lambda s: s.name not in bad)[:count]
    attainment = [
        Panel(
            title=f"{sla.name} ({sla.service})",
            points=tuple(
                Point(label=lv.slt, value=lv.attainment, target=lv.share, missed=lv.violated)
                for lv in levels
                if lv.sla.name == sla.name
            ),
        )
        for sla in ordered
    ]
    availability = [
        Panel(
            title=f"{sla.name} ({sla.service})",
            points=tuple(
                Point(
                    label=p.name,
                    value=None if fig.availability is None else round(fig.availability, 3),
                    target=sla.availability_target,
                    missed=_violated(found, "availability"),
                )
                for p, fig, found in periods[sla.name]
            ),
        )
        for sla in ordered
        if sla.availability_target is not None and periods[sla.name]
    ]
    return (
        Chart(
            title="SLT attainment over the term",
            kind="bars",
            note="share of requests (or tracking periods) meeting each SLT; red: violated",
            panels=tuple(p for p in attainment if p.points),
        ),
        Chart(
            title="Availability per tracking period against the target",
            kind="columns",
            note="a red column missed its target",
            panels=tuple(availability),
        ),
    )


def _violated(found: list[Check], target: str) -> bool:
    return any(c.target == target and c.verdict is Verdict.VIOLATED for c in found)


# -- entry points ---------------------------------------------------------------------------------
def run(ctx: Context) -> ReviewPlan:
    """Every active SLA's last complete term, as of `ctx.now` (`smpm review sla`)."""
    slas, review = gather(ctx)
    return decide(slas, review, ctx.directory(), ctx.config, ctx.trigger)


SPEC = Procedure(
    name=NAME,
    process=PROCESS,
    number=5,
    title="SLA Review and Request Handling",
    triggers=("schedule (at the end of each evaluation term)", "smpm review sla"),
    run=run,
)
