"""Capacity Management, Procedure 3, Capacity Tracking.

SMPM: "At the end of a capacity tracking period, the capacity manager determines the capacity
utilization value for each capacity level that is to be tracked ... The capacity manager then
updates the capacity tracking overview(s) ... If one or more capacity utilization thresholds
have been exceeded, the capacity manager checks for each threshold violation whether or not a
problem investigation has already been registered for it. The capacity manager registers a new
problem investigation for every threshold violation for which a problem investigation has not
yet been registered. Each new problem investigation is then assigned to the most appropriate
specialist".

Scheduled at the end of each capacity tracking period (`[capacity.tracking]`). Each row of the
capacity tracking overview gets its value at the last `history_periods` period ends from the
source (`procedures.capacity.sources`); then, at the latest period end:
1. no value                  -> a finding saying why; no writes;
2. within every threshold    -> a finding;
3. above a threshold, and an open problem investigation's summary starts with the row's prefix
   '[capacity] <infrastructure> / <level>:' (`problem_prefix`, the one Capacity Warning Handling
   links warnings to)        -> a finding naming it; P2 and P3 share one problem per level;
4. above a threshold, none   -> a new problem investigation, assigned to the row's specialist
   group (else `[capacity] specialist_group`; else Under Review for the problem coordinator).
The overview with its trend is the plan's report; the runner writes it as CSV and HTML.
Idempotent: a rerun in the same period finds the problem by its prefix, and the problem's
trigger names the row and the period end, so the executor would skip it anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from connector.base import Connector
from connector.entities import ConfigurationItem, ProblemInvestigation, RecordKind
from connector.errors import ConfigurationError
from connector.filters import Field as F
from procedures.capacity.config import CapacityConfig, TrackingConfig
from procedures.capacity.overview import OverviewRow
from procedures.capacity.records import tracking_problem
from procedures.capacity.sources import (
    CsvSource,
    PrometheusSource,
    UtilisationSource,
)
from procedures.capacity.trend import LevelTrend, tracking_report
from procedures.capacity.warning_handling import open_problem
from procedures.directory import Directory
from procedures.event.report import Period, ReviewPlan
from procedures.plan import Action, ActionKind, Reason
from procedures.registry import Context, Procedure

PROCESS = "Capacity Management"
PROCEDURE = "P3 Capacity Tracking"
NAME = "capacity.tracking"


@dataclass(frozen=True)
class Tracking:
    """What the capacity manager has at hand at the period end."""

    ends: tuple[datetime, ...]
    trends: tuple[LevelTrend, ...]
    problems: dict[str, ProblemInvestigation] = field(default_factory=dict)
    cis: dict[str, ConfigurationItem] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()
    source: str = ""


def reason(rule: str) -> Reason:
    return Reason(process=PROCESS, procedure=PROCEDURE, rule=rule)


def open_source(config: TrackingConfig) -> UtilisationSource:
    """The configured source; ConfigurationError when there is none."""
    if config.readings_csv is not None:
        return CsvSource(config.readings_csv)
    if config.prometheus is not None:
        return PrometheusSource(config.prometheus)
    raise ConfigurationError(
        "capacity.tracking: no source of utilisation values: set readings_csv, or url and "
        "queries under [capacity.tracking.prometheus]"
    )


# -- gathering ------------------------------------------------------------------------------------
def gather(ctx: Context, source: UtilisationSource | None = None) -> Tracking:
    """Values per level from the source; the open problem and the CI of each violated level."""
    config = ctx.config.capacity
    rows = config.table().rows
    ends = tuple(config.tracking.period_ends(ctx.now))
    source = source or open_source(config.tracking)
    readings = source.read(rows, ends, config.tracking.period)
    absent = f"{source.name} has no value for it"
    trends = tuple(
        LevelTrend(
            row,
            ends,
            readings.values.get(row.label, (None,) * len(ends)),
            readings.missing.get(row.label, None if row.label in readings.values else absent),
        )
        for row in rows
    )
    violated = [t.row for t in trends if t.current is not None and t.row.exceeded(t.current)]
    problems = {row.label: p for row in violated if (p := open_problem(ctx.connector, row))}
    unregistered = [r for r in violated if r.label not in problems]
    cis = known_cis(ctx.connector, (r.infrastructure for r in unregistered))
    return Tracking(ends, trends, problems, cis, readings.ignored, source.name)


def known_cis(connector: Connector, names: Iterable[str]) -> dict[str, ConfigurationItem]:
    """The CIs the ITSM knows by these names (casefolded keys); one query."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    found = connector.find(ConfigurationItem, F("name").one_of(*wanted))
    return {ci.name.casefold(): ci for ci in found if ci.name}


# -- deciding -------------------------------------------------------------------------------------
def decide(
    tracking: Tracking, directory: Directory, config: CapacityConfig, trigger: str
) -> ReviewPlan:
    """The plan and the published overview for one period end (pure)."""
    plan = ReviewPlan(procedure=NAME, trigger=trigger)
    problems: dict[str, str] = {}
    for trend in tracking.trends:
        track(trend, tracking, directory, config, plan, problems)
    for label in tracking.ignored:
        plan.note(
            label,
            "not tracked",
            f"{tracking.source} has values for '{label}', which the capacity tracking overview "
            "does not track",
        )
    start = tracking.ends[0] - config.tracking.period
    period = Period(start=start, end=tracking.ends[-1])
    plan.report = tracking_report(
        tracking.trends, problems, period, config.tracking.horizon_periods
    )
    return plan


def track(
    trend: LevelTrend,
    tracking: Tracking,
    directory: Directory,
    config: CapacityConfig,
    plan: ReviewPlan,
    problems: dict[str, str],
) -> None:
    """One capacity level at the period end; `problems` collects each violation's problem."""
    row, value, end = trend.row, trend.current, trend.ends[-1]
    if value is None:
        plan.note(
            row.label,
            "no value",
            f"{trend.missing}: the capacity manager determines the capacity utilization value",
        )
        return
    exceeded = row.exceeded(value)
    at = f"at the end of the period {end:%Y-%m-%d %H:%M} UTC"
    if exceeded is None:
        plan.note(
            row.label,
            "within thresholds",
            f"{row.metric} {row.show(value)} {at}: within {row.describe_thresholds()}",
        )
        return
    name, threshold = exceeded
    fired = (
        f"{row.metric} {row.show(value)} {at} exceeds the {name} threshold "
        f"{row.show(threshold)} for '{row.label}'"
    )
    problem = tracking.problems.get(row.label)
    if problem is not None and problem.id:
        problems[row.label] = problem.id
        plan.note(
            row.label,
            "problem already registered",
            f"{fired}; problem investigation {problem.id} is registered for it",
        )
        return
    problems[row.label] = "new"
    register(row, fired, end, tracking, directory, config, plan)


def register(
    row: OverviewRow,
    fired: str,
    end: datetime,
    tracking: Tracking,
    directory: Directory,
    config: CapacityConfig,
    plan: ReviewPlan,
) -> None:
    where = located(row, directory, tracking.cis)
    coordinator = directory.service_role(where.service, "problem_coordinator")
    record = tracking_problem(row, fired, where, coordinator, config)
    group = record.assigned_group
    why = (
        f"{fired}; no problem investigation is registered for it: a new one is, "
        f"{'assigned to ' + group if group else 'left for the problem coordinator to assign'}"
    )
    plan.add(
        Action(
            kind=ActionKind.CREATE,
            step="register-problem",
            trigger=f"capacity:{row.label}:period:{end.isoformat()}",
            reason=reason(why),
            target_kind=RecordKind.PROBLEM,
            record=record,
        )
    )
    plan.note(row.label, "register a problem investigation", why)


def located(
    row: OverviewRow, directory: Directory, cis: dict[str, ConfigurationItem]
) -> ProblemInvestigation:
    """The infrastructure as the ITSM knows it: a service (and its company), or a CI."""
    name = row.infrastructure.casefold()
    service = next((s for n, s in directory.services.items() if n.casefold() == name), None)
    if service is not None:
        return ProblemInvestigation(service=service.name, company=service.company)
    ci = cis.get(name)
    if ci is not None:
        return ProblemInvestigation(ci=ci.name, company=ci.company)
    return ProblemInvestigation()


# -- entry points ---------------------------------------------------------------------------------
def run(ctx: Context, source: UtilisationSource | None = None) -> ReviewPlan:
    """The period that ended last before `ctx.now` (scheduled at each period end)."""
    tracking = gather(ctx, source)
    return decide(tracking, ctx.directory(), ctx.config.capacity, ctx.trigger)


SPEC = Procedure(
    name=NAME,
    process=PROCESS,
    number=3,
    title="Capacity Tracking",
    triggers=("schedule (at the end of each capacity tracking period)", "smpm review capacity"),
    run=run,
)
