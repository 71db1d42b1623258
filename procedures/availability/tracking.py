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
1. the open problem investigation of its service with evidence of the same root cause: the
   same CI (the problem's own, or that of an outage request already linked to it), else the
   same operational categorisation (`likeness_tiers`), else a likeness rule of
   `[[availability.likeness]]` (evidence.py: the candidates and the order);
2. else a new problem investigation, assigned to the SLA's `specialist_group`, else
   `[availability] specialist_group`, else the service's support group. One per service, CI
   and period: a CI is the only root-cause evidence smpm has, and while that problem is open
   the CI's outages of later periods join it (by that evidence, not as new ones). Requests
   that name no CI and match no likeness rule share one per service and period: nothing ties
   them to one cause, so the specialist gets the outages that together put this period's
   target at risk, rather than one problem per request (too many to investigate) or one per
   service for ever (unrelated causes piling up).
Then the availability tracking overview: every SLA and period with its figures (overview.py).
Each link's reason names the evidence that matched ("same CI db-cluster-01 as PBI5",
"likeness rule 'login' matched: ...") or that none did.

Reruns: a request is linked once (trigger `incident:<number>:availability`); a new problem is
registered once: trigger `availability:<service>:<period>` for the requests without CI (the
trigger every new problem had before CIs told them apart, so such a problem of the period
under way keeps its requests), `availability:<service>:<period>:ci:<CI>` for a CI. A later run
finds a CI's problem by its CI, and the no-CI one of a period by its details (records.py
`period_mark`), also on another node with a state store of its own. Reads: the outage requests
of every SLA; then, for the services with requests still to link (the executor says which were
linked by an earlier run: settled), the problem links of all their requests to decide on (the
settled ones' CIs and summaries are evidence too), the problems linked and the services' open
problem investigations. When every request is settled, no relation or problem is read.
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
from procedures.availability.evidence import (
    Candidate,
    alike,
    candidates,
    registered_without_ci,
    same_categorisation,
    same_ci,
)
from procedures.availability.outages import (
    open_problems,
    outage_filter,
    outages_of,
    problem_links,
    read_by_service,
    read_problems,
)
from procedures.availability.overview import Linked, overview
from procedures.availability.periods import periods_back
from procedures.availability.records import availability_problem, headline, missed
from procedures.availability.targets import DangerRule, SlaPeriod, Verdict, checks
from procedures.availability.timeline import Interval, figures
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


@dataclass
class Tracking:
    """What a run read and worked out; `links` and `problems` only where decisions need them."""

    periods: list[SlaPeriod]
    now: datetime
    incidents: dict[str, IncidentRequest] = field(default_factory=dict)
    links: dict[str, set[str]] = field(default_factory=dict)
    settled: set[str] = field(default_factory=set)
    problems: dict[str, ProblemInvestigation] = field(default_factory=dict)

    def at_risk(self) -> list[SlaPeriod]:
        """The decided SLA periods that are violated or in danger."""
        return [p for p in self.periods if p.decided and p.verdict is not Verdict.MET]

    def needing_links(self) -> list[str]:
        """Outage requests of the decided periods that are violated or in danger."""
        return sorted({i for p in self.at_risk() for i in p.figures.incidents})


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
    services = {str(tracking.incidents[i].service) for i in need if i not in tracking.settled}
    if services:
        # The links of the settled requests of these services too: their CIs, categorisation
        # and summaries are evidence for the others.
        evidence = [i for i in need if tracking.incidents[i].service in services]
        tracking.links = problem_links(ctx.connector, evidence, config)
        linked = {p for ids in tracking.links.values() for p in ids}
        tracking.problems = read_problems(ctx.connector, linked, config.ids_per_query)
        tracking.problems |= open_problems(ctx.connector, sorted(services), config)
    return tracking


# -- deciding -------------------------------------------------------------------------------------
@dataclass
class _Run:
    """One decision pass: the problem each request goes to, and the problems registered."""

    tracking: Tracking
    directory: Directory
    config: AvailabilityConfig
    plan: ReviewPlan
    registered: dict[str, Ref] = field(default_factory=dict)
    linked: dict[str, Linked] = field(default_factory=dict)
    pools: dict[str, list[Candidate]] = field(default_factory=dict)

    @cached_property
    def by_problem(self) -> dict[str, list[IncidentRequest]]:
        """Problem number -> the outage requests read that are linked to it."""
        t = self.tracking
        found: dict[str, list[IncidentRequest]] = defaultdict(list)
        for number, problems in sorted(t.links.items()):
            for problem in problems:
                if number in t.incidents:
                    found[problem].append(t.incidents[number])
        return found

    def pool(self, service: str) -> list[Candidate]:
        """The service's candidates (evidence.py), those this run registers added as it goes."""
        if service not in self.pools:
            self.pools[service] = candidates(service, self.tracking.problems, self.by_problem)
        return self.pools[service]

    def link_outages(self, sp: SlaPeriod) -> None:
        t = self.tracking
        fired = "; ".join(headline(c) for c in missed(sp.checks))
        for number in sp.figures.incidents:
            if number in self.linked or t.links.get(number) or number in t.settled:
                continue
            incident = t.incidents[number]
            chosen, why = self.cause(incident, sp, fired)
            chosen.linked.append(incident)
            rule = f"{sp.label}: {fired}; {why}"
            self.linked[number] = Linked(sp.sla.name, sp.figures.period.name, chosen.target)
            self.plan.add(_link(number, chosen.target, rule))
            self.plan.note(number, "link to a problem investigation", rule)

    def cause(self, incident: IncidentRequest, sp: SlaPeriod, fired: str) -> tuple[Candidate, str]:
        """The candidate with evidence of the request's root cause, else the new problem of
        its CI, or of its service and period; and the evidence (or its absence) in words."""
        service, period = sp.sla.service, sp.figures.period.name
        pool = self.pool(service)
        found = (
            same_ci(incident, pool)
            or same_categorisation(incident, pool, self.config.likeness_tiers)
            or alike(incident, pool, self.config.likeness)
        )
        if found is not None:
            return found.candidate, f"linked to {found.candidate.label}: {found.why}"
        if incident.ci:
            why = f"no open problem investigation of {service} has CI {incident.ci} or a likeness"
            return self.register(sp, fired, incident), f"{why}: a new one for {incident.ci}"
        none = f"{incident.id} names no CI and no likeness rule matched"
        which = f"the outages of {service} in {period} that name no CI"
        earlier = registered_without_ci(service, period, pool)
        if earlier is not None:
            return earlier, f"{none}: linked to {earlier.label}, registered for {which}"
        trigger = new_problem_trigger(service, period, None)
        if trigger in self.registered:
            return self.pool_entry(service, trigger), f"{none}: the new problem for {which}"
        return self.register(sp, fired, incident), f"{none}: a new problem for {which}"

    def pool_entry(self, service: str, trigger: str) -> Candidate:
        ref = self.registered[trigger]
        return next(c for c in self.pool(service) if c.target == ref)

    def register(self, sp: SlaPeriod, fired: str, first: IncidentRequest) -> Candidate:
        """The new problem investigation for `first`'s CI (or, without one, for the service's
        outages of the period that name none), added to the service's candidates."""
        service, period = sp.sla.service, sp.figures.period.name
        trigger = new_problem_trigger(service, period, first.ci)
        group = (
            sp.sla.specialist_group
            or self.config.specialist_group
            or self.directory.service_group(service)
        )
        coordinator = self.directory.service_role(service, "problem_coordinator")
        problem = availability_problem(
            sp.sla, sp.figures, sp.checks, [first], group, coordinator, self.config, first.ci
        )
        assigned = f"assigned to {group}" if group else "left for the problem coordinator"
        which = f"CI {first.ci}" if first.ci else "the outages that name no CI"
        self.plan.add(
            Action(
                kind=ActionKind.CREATE,
                step="register-problem",
                trigger=trigger,
                reason=reason(
                    f"{sp.label}: {fired}; a new problem investigation for {which}, {assigned}"
                ),
                target_kind=RecordKind.PROBLEM,
                record=problem,
            )
        )
        self.registered[trigger] = Ref(trigger=trigger, step="register-problem")
        candidate = Candidate(self.registered[trigger], problem)
        self.pool(service).append(candidate)
        return candidate


def new_problem_trigger(service: str, period: str, ci: str | None) -> str:
    """`availability:<service>:<period>`, with `:ci:<CI>` for the problem of a CI."""
    base = f"availability:{service}:{period}"
    return f"{base}:ci:{ci}" if ci else base


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
    at_risk = tracking.at_risk()
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
