"""Availability Management, Procedure 2, Availability Tracking.

SMPM: "At the end of an availability tracking period, the availability manager finds out what
the availability and reliability has been over the past period. He/she does this for every SLA
that has been signed, and is still active ... then updates and publishes the availability
tracking overview(s)." "If ... the availability or reliability target of one or more SLAs is in
danger of being violated, or if it has already been violated, he/she checks to find out if a
problem investigation has already been registered for this. If this is the case, the
availability manager ensures that the incident requests that have been caused by this problem
during the past availability tracking period are linked to the problem investigation." "If one
or more incident requests appear to have been caused ... by a root cause for which a problem
investigation has not yet been registered, the availability manager registers a new problem
investigation ... and assigns it to the most appropriate specialist".

Scheduled (daily) and by `smpm review availability`. For every active SLA of
`[[availability.slas]]` (config.py says why SLAs are defined there): availability and
reliability per tracking period (timeline.py) and the verdict per target (targets.py) for the
last `history_periods` periods. Decisions are taken for the period just ended and the one under
way (so a target in danger is caught before its period ends). For each of those that is
violated or in danger, each outage request of the period with time in service hours and no
problem investigation yet is linked ("caused by") to:
1. the open problem investigation already registered for its root cause. smpm cannot see root
   causes; it takes the configuration item as the sign: a problem of the service whose CI, or
   one of whose linked outage requests' CI, is the request's; else the service's problem with
   the most linked outage requests. The service's problems are those linked from its outage
   requests and those this procedure registered (summary '[availability] <service>:');
2. else a new problem investigation for the service, one per service and period, assigned to
   the SLA's `specialist_group`, else `[availability] specialist_group`, else the service's
   support group.
Then the availability tracking overview: every SLA and period with its figures (overview.py).

Reruns: a request is linked once (trigger `incident:<number>:availability`); the problem of a
service and period once (trigger `availability:<service>:<period>`), and a later run finds it
by its summary and links to it. Requests an earlier run linked are not read again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from connector.entities import IncidentRequest, ProblemInvestigation, RecordKind
from connector.enums import RelationType
from procedures.availability.config import AvailabilityConfig, SlaDefinition
from procedures.availability.outages import (
    outage_filter,
    outages_of,
    problem_links,
    problem_prefix,
    read_by_service,
    read_problems,
    registered_problems,
)
from procedures.availability.overview import Linked, overview
from procedures.availability.periods import periods_back
from procedures.availability.records import availability_problem, headline, missed
from procedures.availability.targets import Check, DangerRule, Verdict, checks, worst
from procedures.availability.timeline import Figures, Interval, figures
from procedures.directory import Directory
from procedures.event.report import ReviewPlan
from procedures.plan import Action, ActionKind, Reason, Ref, incident_link
from procedures.registry import Context, Procedure

PROCESS = "Availability Management"
PROCEDURE = "P2 Availability Tracking"
NAME = "availability.tracking"


def reason(rule: str) -> Reason:
    return Reason(process=PROCESS, procedure=PROCEDURE, rule=rule)


def link_trigger(incident: str) -> str:
    return f"incident:{incident}:availability"


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


@dataclass
class Tracking:
    """What a run read and worked out; `links` and `problems` only where decisions need them."""

    periods: list[SlaPeriod]
    now: datetime
    incidents: dict[str, IncidentRequest] = field(default_factory=dict)
    links: dict[str, set[str]] = field(default_factory=dict)
    settled: set[str] = field(default_factory=set)
    problems: dict[str, ProblemInvestigation] = field(default_factory=dict)

    def needing_links(self) -> list[str]:
        """Outage requests of the decided periods that are violated or in danger."""
        at_risk = [p for p in self.periods if p.decided and p.verdict is not Verdict.MET]
        return sorted({i for p in at_risk for i in p.figures.incidents})


# -- computing (pure) -----------------------------------------------------------------------------
def track(
    slas: Sequence[SlaDefinition],
    by_service: dict[str, list[IncidentRequest]],
    config: AvailabilityConfig,
    now: datetime,
) -> list[SlaPeriod]:
    """Every SLA's last `history_periods` periods; the last two are decided on."""
    rule = DangerRule(config.danger_share, config.min_elapsed_share)
    found = []
    for sla in slas:
        zone, hours = sla.zone(), sla.hours()
        outages = outages_of(by_service.get(sla.service, []), now)
        periods = periods_back(sla.period, zone, now, config.history_periods)
        for n, period in enumerate(periods):
            fig = figures(outages, period, hours, zone, now)
            decided = n >= len(periods) - 2
            found.append(SlaPeriod(sla, fig, tuple(checks(fig, sla, rule)), decided))
    return found


def window(slas: Sequence[SlaDefinition], config: AvailabilityConfig, now: datetime) -> Interval:
    starts = [periods_back(s.period, s.zone(), now, config.history_periods)[0].start for s in slas]
    return (min(starts, default=now), now)


# -- gathering ------------------------------------------------------------------------------------
def gather(ctx: Context) -> Tracking:
    config = ctx.config.availability
    slas = config.tracked()
    if not slas:
        return Tracking([], ctx.now)
    where = outage_filter(config, window(slas, config, ctx.now))
    by_service = read_by_service(ctx.connector, where, [s.service for s in slas], config)
    tracking = Tracking(track(slas, by_service, config, ctx.now), ctx.now)
    tracking.incidents = {i.id: i for found in by_service.values() for i in found if i.id}
    need = tracking.needing_links()
    done = ctx.settled(link_trigger(i) for i in need)
    tracking.settled = {i for i in need if link_trigger(i) in done}
    todo = [i for i in need if i not in tracking.settled]
    if todo:
        tracking.links = problem_links(ctx.connector, todo, config)
        linked = {p for ids in tracking.links.values() for p in ids}
        tracking.problems = read_problems(ctx.connector, linked, config.ids_per_query)
        tracking.problems |= {p.id: p for p in registered_problems(ctx.connector) if p.id}
    return tracking


# -- deciding -------------------------------------------------------------------------------------
@dataclass
class _Run:
    """One decision pass: which problem each request goes to, and the problems registered."""

    tracking: Tracking
    directory: Directory
    config: AvailabilityConfig
    plan: ReviewPlan
    registered: dict[str, Ref] = field(default_factory=dict)
    linked: dict[str, Linked] = field(default_factory=dict)
    by_problem: dict[str, list[IncidentRequest]] = field(default_factory=lambda: defaultdict(list))

    def __post_init__(self) -> None:
        for incident, problems in self.tracking.links.items():
            for problem in problems:
                if incident in self.tracking.incidents:
                    self.by_problem[problem].append(self.tracking.incidents[incident])

    def candidates(self, service: str) -> list[ProblemInvestigation]:
        """The service's open problem investigations: linked from its outages, or ours."""
        t, prefix = self.tracking, problem_prefix(service)
        ids = {
            p for p, found in self.by_problem.items() if any(i.service == service for i in found)
        }
        ids |= {
            p for p, problem in t.problems.items() if (problem.summary or "").startswith(prefix)
        }
        found = (t.problems.get(i) for i in sorted(ids))
        return [p for p in found if p is not None and p.status is not None and p.status.is_open]

    def root_cause(
        self, incident: IncidentRequest, candidates: list[ProblemInvestigation]
    ) -> tuple[ProblemInvestigation | None, str]:
        def same_ci(p: ProblemInvestigation) -> bool:
            cis = {p.ci, *(i.ci for i in self.by_problem.get(str(p.id), []))}
            return incident.ci is not None and incident.ci in cis

        pool = [p for p in candidates if same_ci(p)]
        why = f"registered for its configuration item {incident.ci}"
        if not pool:
            pool, why = candidates, f"the open problem investigation of {incident.service}"
        if not pool:
            return None, ""
        best = min(pool, key=lambda p: (-len(self.by_problem.get(str(p.id), [])), str(p.id)))
        return best, why

    def link_outages(self, sp: SlaPeriod) -> None:
        t = self.tracking
        candidates = self.candidates(sp.sla.service)
        fired = "; ".join(headline(c) for c in missed(sp.checks))
        for number in sp.figures.incidents:
            if number in self.linked or t.links.get(number) or number in t.settled:
                continue
            incident = t.incidents[number]
            problem, why = self.root_cause(incident, candidates)
            if problem is not None and problem.id:
                target: str | Ref = problem.id
                rule = f"{sp.label}: {fired}; linked to {problem.id}, {why}"
            else:
                target = self.register(sp, fired)
                rule = f"{sp.label}: {fired}; no problem investigation is registered for it"
            self.linked[number] = Linked(sp.sla.name, sp.figures.period.name, target)
            self.plan.add(_link(number, target, rule))
            self.plan.note(number, "link to a problem investigation", rule)

    def register(self, sp: SlaPeriod, fired: str) -> Ref:
        """The new problem investigation of the service (one per service in a run)."""
        service = sp.sla.service
        if service in self.registered:
            return self.registered[service]
        trigger = f"availability:{service}:{sp.figures.period.name}"
        group = (
            sp.sla.specialist_group
            or self.config.specialist_group
            or self.directory.service_group(service)
        )
        outages = [self.tracking.incidents[i] for i in sp.figures.incidents]
        coordinator = self.directory.service_role(service, "problem_coordinator")
        problem = availability_problem(
            sp.sla, sp.figures, sp.checks, outages, group, coordinator, self.config
        )
        assigned = f"assigned to {group}" if group else "left for the problem coordinator"
        self.plan.add(
            Action(
                kind=ActionKind.CREATE,
                step="register-problem",
                trigger=trigger,
                reason=reason(f"{sp.label}: {fired}; a new problem investigation, {assigned}"),
                target_kind=RecordKind.PROBLEM,
                record=problem,
            )
        )
        self.registered[service] = Ref(trigger=trigger, step="register-problem")
        return self.registered[service]


def _link(incident: str, target: str | Ref, rule: str) -> Action:
    return incident_link(
        incident,
        to=RecordKind.PROBLEM,
        target=target,
        relation_type=RelationType.CAUSED_BY,
        step="link-problem",
        trigger=link_trigger(incident),
        reason=reason(rule),
    )


def decide(
    tracking: Tracking, directory: Directory, config: AvailabilityConfig, trigger: str
) -> ReviewPlan:
    """The plan and the availability tracking overview for what `gather` found (pure)."""
    plan = ReviewPlan(procedure=NAME, trigger=trigger)
    run = _Run(tracking, directory, config, plan)
    at_risk = [p for p in tracking.periods if p.decided and p.verdict is not Verdict.MET]
    for sp in at_risk:
        plan.note(sp.label, sp.verdict.value, "; ".join(c.why for c in missed(sp.checks)))
        run.link_outages(sp)
    _note_unknown_services(tracking, directory, plan)
    slas = len({p.sla.name for p in tracking.periods})
    plan.note(
        "availability",
        f"{slas} SLAs tracked",
        f"{len(at_risk)} SLA periods violated or in danger; {len(run.linked)} outage requests "
        f"to link; {len(run.registered)} problem investigations to register",
    )
    plan.report = overview(tracking.periods, run.linked, tracking.links, config, tracking.now)
    return plan


def _note_unknown_services(tracking: Tracking, directory: Directory, plan: ReviewPlan) -> None:
    """A misspelt service would show 100% availability: say so (when the ITSM lists services)."""
    if not directory.services:
        return
    for sla in _unique(p.sla for p in tracking.periods):
        if sla.service not in directory.services:
            plan.note(
                f"SLA {sla.name}",
                "unknown service",
                f"{sla.service!r} is not a service in the ITSM: no outage can be counted for it",
            )


def _unique(slas: Iterable[SlaDefinition]) -> list[SlaDefinition]:
    return list({s.name: s for s in slas}.values())


# -- entry points ---------------------------------------------------------------------------------
def run(ctx: Context) -> ReviewPlan:
    """Every active SLA, as of `ctx.now` (scheduled, or `smpm review availability`)."""
    return decide(gather(ctx), ctx.directory(), ctx.config.availability, ctx.trigger)


SPEC = Procedure(
    name=NAME,
    process=PROCESS,
    number=2,
    title="Availability Tracking",
    triggers=("schedule (daily)", "smpm review availability", "manual"),
    run=run,
)
