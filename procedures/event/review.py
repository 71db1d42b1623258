"""Event Management, Procedure 2, Event Review, and Procedure 3, Outage Review, as reports.

P2, SMPM: "The operations manager regularly reviews all events that have been handled by the
operators ... in order to identify: monitoring jobs that generate unnecessary events. missing or
ineffective automated event correlation rules. missing or inadequate event handling instructions
for the operators." The machine's part: per monitoring job (source, type, metric) of the events
handled in the period, how many there were and how Event Handling ended them (new incident
request, repeat, attributed to another CI's outage, planned, information, clear), and which jobs
look noisy: more events per incident request than `max_events_per_incident`, or a share of
information and planned closes of at least `max_quiet_share`.

P3, SMPM: "The operations manager periodically reviews all high-impact incident requests (i.e.
all service outages that affected multiple users). For each of these incident requests, the
operations manager first determines whether or not an event was generated". The machine's part:
the restoration requests of at least `min_impact` resolved in the period, each with the event
that raised it (its event key) or that was attributed to it (a stored event whose outcome names
it); those with none are flagged for review.

Both return a `ReviewPlan` (findings and a `ReportTable`); opening improvement requests stays
with the operations manager. The runtime writes the report (`smpm review events|outages`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from connector.entities import IncidentRequest
from connector.enums import Impact
from connector.filters import Field as F
from connector.filters import Filter
from procedures.event.config import EventReviewConfig, OutageReviewConfig
from procedures.event.report import (
    Period,
    ReportTable,
    ReviewPlan,
    StoredEvent,
    review_context,
)
from procedures.registry import Context, Procedure

PROCESS = "Event Management"
EVENT_REVIEW = "event.review"
OUTAGE_REVIEW = "event.outage_review"
CODES = ("new_incident", "repeat", "attributed", "planned", "information", "clear")
IMPACTS = [Impact.EXTENSIVE, Impact.SIGNIFICANT, Impact.MODERATE, Impact.MINOR]


# -- Event Review ---------------------------------------------------------------------------------
@dataclass
class JobStats:
    """One monitoring job's events in the period, counted by how they ended."""

    job: tuple[str, str, str]
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def label(self) -> str:
        return " / ".join(p or "-" for p in self.job)

    @property
    def events(self) -> int:
        return sum(self.counts.values())

    @property
    def per_incident(self) -> float | None:
        incidents = self.counts["new_incident"]
        return self.events / incidents if incidents else None

    def noisy(self, config: EventReviewConfig) -> list[str]:
        """Why this job looks like one that 'generates unnecessary events' (empty: it doesn't)."""
        if self.events < config.min_events:
            return []
        why = []
        ratio = self.per_incident
        if ratio is None:
            why.append(f"{self.events} events and no new incident request")
        elif ratio > config.max_events_per_incident:
            why.append(
                f"{ratio:.1f} events per incident request "
                f"(more than {config.max_events_per_incident:g})"
            )
        quiet = self.counts["information"] + self.counts["planned"]
        if quiet / self.events >= config.max_quiet_share:
            why.append(
                f"{quiet} of {self.events} events closed as information or planned "
                f"(at least {config.max_quiet_share:.0%})"
            )
        return why


def tally(events: Iterable[StoredEvent], period: Period) -> list[JobStats]:
    """Per job, the events received in the period; busiest first."""
    jobs: dict[tuple[str, str, str], JobStats] = {}
    for event in events:
        if period.contains(event.received_at):
            stats = jobs.setdefault(event.job, JobStats(event.job))
            code = event.code
            stats.counts[code if code in CODES else "other"] += 1
    return sorted(jobs.values(), key=lambda s: (-s.events, s.job))


def event_review(
    events: Iterable[StoredEvent], period: Period, config: EventReviewConfig, trigger: str
) -> ReviewPlan:
    """Event Review for the period (pure)."""
    jobs = tally(events, period)
    plan = ReviewPlan(procedure=EVENT_REVIEW, trigger=trigger)
    rows, flagged = [], []
    for stats in jobs:
        why = stats.noisy(config)
        ratio = stats.per_incident
        rows.append(
            (
                *stats.job,
                stats.events,
                *(stats.counts[c] for c in CODES),
                stats.counts["other"],
                "" if ratio is None else round(ratio, 1),
                "yes" if why else "",
                "; ".join(why),
            )
        )
        flagged.append(bool(why))
        if why:
            plan.note(
                f"job {stats.label}",
                "noisy monitoring job",
                f"{PROCESS} P2 Event Review: {'; '.join(why)}: it may generate unnecessary "
                "events (adjust the job or add a correlation rule)",
            )
    total = sum(s.events for s in jobs)
    plan.note(
        "events",
        f"{total} events from {len(jobs)} monitoring jobs",
        f"{sum(flagged)} jobs flagged as noisy, {period}",
    )
    plan.report = _event_table(jobs, rows, flagged, period, total)
    return plan


def _event_table(
    jobs: list[JobStats], rows: list[tuple], flagged: list[bool], period: Period, total: int
) -> ReportTable:
    by_code = Counter[str]()
    for stats in jobs:
        by_code.update(stats.counts)
    return ReportTable(
        name="event-review",
        title="Event Review",
        period=period,
        intro=(
            "Event Management, Procedure 2: every monitoring event handled in the period, per "
            "monitoring job, by how Event Handling ended it. Flagged jobs may generate "
            "unnecessary events."
        ),
        columns=(
            "source",
            "type",
            "metric",
            "events",
            *CODES,
            "other",
            "events_per_incident",
            "noisy",
            "why",
        ),
        rows=tuple(rows),
        flagged=tuple(flagged),
        figures=(
            ("events", total),
            ("monitoring jobs", len(jobs)),
            ("noisy jobs", sum(flagged)),
            *((code.replace("_", " "), by_code[code]) for code in CODES),
        ),
        chart_title="Events per monitoring job",
        chart=tuple((s.label, float(s.events)) for s in jobs[:15]),
    )


def run_event_review(ctx: Context) -> ReviewPlan:
    review = review_context(ctx, EVENT_REVIEW)
    config = ctx.config.event.review
    period = review.period or Period.ending(ctx.now, config.period_days)
    return event_review(review.events, period, config, ctx.trigger)


# -- Outage Review --------------------------------------------------------------------------------
def outages(period: Period, config: OutageReviewConfig) -> Filter:
    """High-impact restoration requests resolved in the period."""
    severe = IMPACTS[: IMPACTS.index(config.min_impact) + 1]
    return (
        F("impact").one_of(*severe)
        & F("service_type").one_of(*config.service_types)
        & (F("resolved_at") >= period.start)
        & (F("resolved_at") < period.end)
    )


def event_window(period: Period, config: OutageReviewConfig) -> Period:
    """The events that may belong to the period's outages: from `event_lookback_days` before."""
    return Period.ending(period.end, config.event_lookback_days + _days(period))


def _days(period: Period) -> float:
    return (period.end - period.start).total_seconds() / 86400


def outage_review(
    incidents: Iterable[IncidentRequest],
    events: Iterable[StoredEvent],
    period: Period,
    trigger: str,
) -> ReviewPlan:
    """Outage Review for the period (pure): which high-impact outages had no event."""
    found = sorted(incidents, key=lambda i: (i.resolved_at is None, i.resolved_at, str(i.id)))
    attributed = _attributed({str(i.id) for i in found}, events)
    plan = ReviewPlan(procedure=OUTAGE_REVIEW, trigger=trigger)
    rows, flagged = [], []
    for incident in found:
        event = _event_of(incident, attributed)
        rows.append(_outage_row(incident, event))
        flagged.append(not event)
        if not event:
            plan.note(
                str(incident.id),
                "no event",
                f"{PROCESS} P3 Outage Review: a {_value(incident.impact)} outage of "
                f"{incident.service or incident.ci or '(no service)'} with no monitoring event: "
                "should one have been generated (monitoring job or correlation rule)?",
            )
    missing = sum(flagged)
    plan.note("outages", f"{len(found)} high-impact outages", f"{missing} without an event")
    plan.report = _outage_table(found, rows, flagged, period)
    return plan


def _attributed(ids: set[str], events: Iterable[StoredEvent]) -> dict[str, str]:
    """Incident id -> the first stored event whose outcome names it."""
    found: dict[str, str] = {}
    for event in events:
        for record in event.mentions() & ids:
            found.setdefault(record, event.id)
    return found


def _event_of(incident: IncidentRequest, attributed: dict[str, str]) -> str:
    if incident.event_key:
        return f"raised by event {incident.event_key}"
    if str(incident.id) in attributed:
        return f"event {attributed[str(incident.id)]} attributed to it"
    return ""


def _value(value: object) -> str:
    return str(getattr(value, "value", value or ""))


def _when(incident: IncidentRequest, name: str) -> str:
    value = getattr(incident, name)
    return f"{value:%Y-%m-%d %H:%M}" if value else ""


OUTAGE_COLUMNS = (
    "incident",
    "reported",
    "resolved",
    "impact",
    "service_type",
    "service",
    "ci",
    "assigned_group",
    "summary",
    "event",
    "needs_review",
)


def _outage_row(incident: IncidentRequest, event: str) -> tuple[str, ...]:
    return (
        str(incident.id),
        _when(incident, "reported_at"),
        _when(incident, "resolved_at"),
        _value(incident.impact),
        _value(incident.service_type),
        incident.service or "",
        incident.ci or "",
        incident.assigned_group or "",
        incident.summary or "",
        event,
        "" if event else "yes",
    )


def _outage_table(
    found: Sequence[IncidentRequest], rows: list[tuple], flagged: list[bool], period: Period
) -> ReportTable:
    without = Counter(i.service or "(no service)" for i, f in zip(found, flagged, strict=True) if f)
    return ReportTable(
        name="outage-review",
        title="Outage Review",
        period=period,
        intro=(
            "Event Management, Procedure 3: the high-impact incident requests resolved in the "
            "period, and whether a monitoring event notified the organisation. Flagged rows "
            "had no event: should a monitoring job or a correlation rule be corrected?"
        ),
        columns=OUTAGE_COLUMNS,
        rows=tuple(rows),
        flagged=tuple(flagged),
        figures=(
            ("high-impact outages", len(found)),
            ("with an event", len(found) - sum(flagged)),
            ("without an event", sum(flagged)),
        ),
        chart_title="Outages without an event, per service",
        chart=tuple((name, float(n)) for name, n in without.most_common(15)),
    )


def run_outage_review(ctx: Context) -> ReviewPlan:
    review = review_context(ctx, OUTAGE_REVIEW)
    config = ctx.config.event.outage_review
    period = review.period or Period.ending(ctx.now, config.period_days)
    incidents = ctx.connector.find(IncidentRequest, outages(period, config))
    return outage_review(incidents, review.events, period, ctx.trigger)


EVENT_REVIEW_SPEC = Procedure(
    name=EVENT_REVIEW,
    process=PROCESS,
    number=2,
    title="Event Review",
    triggers=("schedule (weekly)", "smpm review events"),
    run=run_event_review,
)

OUTAGE_REVIEW_SPEC = Procedure(
    name=OUTAGE_REVIEW,
    process=PROCESS,
    number=3,
    title="Outage Review",
    triggers=("schedule (weekly)", "smpm review outages"),
    run=run_outage_review,
)
