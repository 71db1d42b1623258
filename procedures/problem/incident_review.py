"""Problem Management, Procedure 1, Incident Request Review.

SMPM: "The problem coordinator uses incident request information to identify problems in the
service(s) he/she is responsible for ... After the identification of a problem, the problem
coordinator registers a new problem investigation ... subsequently links the incident requests
that were caused by the problem to it ... then assigns the new problem investigation to the most
appropriate specialist ... When the problem coordinator finds incident requests that have not
yet been linked to a problem investigation, but which were caused by a previously identified
problem, he/she links these incident requests to the problem investigation."

The machine's version of "caused by one problem": incident requests alike in the sense of
Incident Management P4 (`Similarity`: the same CI, or the same service when there is no CI, and
the same first `category_tiers` operational categorisation tiers) reported within `window_days`.
Scheduled. Of the window's incident requests (of `service_types`) not yet linked to a problem:
1. alike one linked to an open problem investigation, or alike the group an open problem was
   registered for (its summary starts '[incident review] <similarity>:')
                          -> linked to that problem investigation;
2. at least `min_incidents` alike ones -> a new problem investigation, assigned to the rule's
   group (else `specialist_group`, else the service's support group) with the service's problem
   coordinator, and every one of them linked to it;
3. fewer                  -> a finding; no writes.
`[[problem.review.rules]]` (a `Match` from incident routing) change the minimum, the tiers or
the group for the requests they match. A rerun registers nothing new and links nothing twice:
linked requests are no longer candidates, and each link's trigger names its request.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from connector.entities import IncidentRequest, ProblemInvestigation, RecordKind
from connector.enums import Impact, ProblemStatus, RelationType, Urgency
from connector.filters import Field as F
from procedures.directory import Directory
from procedures.incident.resolution import Similarity
from procedures.plan import Action, ActionKind, Plan, Reason, Ref, incident_link
from procedures.problem.config import IncidentReviewConfig, ReviewRule
from procedures.problem.links import by_ids, incidents_of, problems_of
from procedures.registry import Context, Procedure

PROCESS = "Problem Management"
PROCEDURE = "P1 Incident Request Review"
NAME = "problem.incident_review"
TAG = "[incident review]"
OPEN_PROBLEM = [s for s in ProblemStatus if s.is_open]
S = TypeVar("S")


@dataclass(frozen=True)
class KnownProblem:
    """An open problem investigation and the incident requests already linked to it."""

    problem: ProblemInvestigation
    incidents: tuple[IncidentRequest, ...] = ()

    def explains(self, alike: Similarity, tiers: int) -> bool:
        """Caused by this problem: alike a linked request, or the group it was registered for."""
        if (self.problem.summary or "").startswith(prefix(alike)):
            return True
        return any(Similarity.of(i, tiers) == alike for i in self.incidents)


def prefix(alike: Similarity) -> str:
    """'[incident review] CI db-01, Failure:': the identity of a problem P1 registered."""
    return f"{TAG} {alike.label}:"


def reason(rule: str) -> Reason:
    return Reason(process=PROCESS, procedure=PROCEDURE, rule=rule)


# -- gathering ------------------------------------------------------------------------------------
def gather(ctx: Context) -> tuple[list[IncidentRequest], list[KnownProblem]]:
    """The window's requests not linked to a problem, and the open problems with their requests.

    Reads the window's requests, the open problems, the requests linked to those, and whether
    the window's requests that could lead to an action are linked already; ids in chunks.
    """
    config, c = ctx.config.problem.review, ctx.connector
    since = ctx.now - timedelta(days=config.window_days)
    where = (F("reported_at") >= since) & F("service_type").one_of(*config.service_types)
    window = {i.id: i for i in c.find(IncidentRequest, where) if i.id}
    known = known_problems(ctx, window)
    asked = relevant(window.values(), known, config)
    taken = problems_of(c, asked)
    return [i for k, i in window.items() if k not in taken], known


def known_problems(ctx: Context, window: dict[str, IncidentRequest]) -> list[KnownProblem]:
    """Open problem investigations with the incident requests linked to them."""
    c = ctx.connector
    problems = list(c.find(ProblemInvestigation, F("status").one_of(*OPEN_PROBLEM)))
    linked = incidents_of(c, (str(p.id) for p in problems))
    wanted = {i for ids in linked.values() for i in ids}
    incidents = {k: v for k, v in window.items() if k in wanted}
    incidents |= by_ids(c, IncidentRequest, wanted - set(window))
    return [
        KnownProblem(
            p, tuple(incidents[i] for i in sorted(linked.get(str(p.id), ())) if i in incidents)
        )
        for p in problems
    ]


def relevant(
    incidents: Iterable[IncidentRequest],
    known: Sequence[KnownProblem],
    config: IncidentReviewConfig,
) -> list[str]:
    """Ids of requests that a problem explains or whose group is large enough: only for those
    does it matter whether they are linked already (the others lead to no action either way)."""
    groups: dict[Similarity, list[str]] = {}
    minimum: dict[Similarity, int] = {}
    explained: list[str] = []
    for incident in incidents:
        rule = config.rule_for(incident)
        tiers = config.tiers(rule)
        alike = Similarity.of(incident, tiers)
        if alike is None:
            continue
        if any(k.explains(alike, tiers) for k in known):
            explained.append(str(incident.id))
            continue
        groups.setdefault(alike, []).append(str(incident.id))
        minimum[alike] = config.minimum(rule)
    large = [i for alike, ids in groups.items() if len(ids) >= minimum[alike] for i in ids]
    return explained + large


# -- deciding -------------------------------------------------------------------------------------
def decide(
    incidents: Iterable[IncidentRequest],
    known: Sequence[KnownProblem],
    directory: Directory,
    config: IncidentReviewConfig,
    trigger: str,
) -> Plan:
    """Links to open problems, and new problems for large enough groups (pure)."""
    plan = Plan(procedure=NAME, trigger=trigger)
    groups: dict[Similarity, list[IncidentRequest]] = {}
    rules: dict[Similarity, ReviewRule | None] = {}
    for incident in sorted(incidents, key=lambda i: (i.reported_at is None, i.reported_at, i.id)):
        rule = config.rule_for(incident)
        alike = Similarity.of(incident, config.tiers(rule))
        if alike is None:
            plan.note(str(incident.id), "no action", "it names neither a CI nor a service")
            continue
        problem = next((k.problem for k in known if k.explains(alike, config.tiers(rule))), None)
        if problem is not None and problem.id:
            why = (
                f"alike the incident requests of the open problem investigation {problem.id} "
                f"({alike.label}): caused by a previously identified problem"
            )
            plan.add(link(incident, problem.id, why))
            plan.note(str(incident.id), f"linked to {problem.id}", why)
            continue
        groups.setdefault(alike, []).append(incident)
        rules[alike] = rule
    for alike, members in groups.items():
        consider(alike, members, rules[alike], directory, config, plan)
    return plan


def consider(
    alike: Similarity,
    members: list[IncidentRequest],
    rule: ReviewRule | None,
    directory: Directory,
    config: IncidentReviewConfig,
    plan: Plan,
) -> None:
    """One group of alike requests no problem explains: a new problem, or not yet."""
    minimum = config.minimum(rule)
    seen = (
        f"{len(members)} incident request{'s' if len(members) != 1 else ''} on "
        f"{alike.label} in {config.window_days:g} days not linked to a problem"
    )
    if len(members) < minimum:
        plan.note(alike.label, "no problem identified", f"{seen}; {minimum} identify one")
        return
    service = _most_common(i.service for i in members)
    group = (rule.group if rule else None) or config.specialist_group
    group = group or directory.service_group(service)
    coordinator = directory.service_role(service, "problem_coordinator")
    why = (
        f"{seen} (at least {minimum}): a problem is identified; a new problem investigation "
        f"is registered, {'assigned to ' + group if group else 'left for the problem coordinator'}"
        f"{', coordinated by ' + coordinator if coordinator else ''}, and they are linked to it"
    )
    trigger = f"problem-review:{alike.label}:{members[0].id}"
    record = problem_record(alike, members, service, group, coordinator, config, why)
    plan.add(
        Action(
            kind=ActionKind.CREATE,
            step="register-problem",
            trigger=trigger,
            reason=reason(why),
            target_kind=RecordKind.PROBLEM,
            record=record,
        )
    )
    for incident in members:
        plan.add(link(incident, Ref(trigger=trigger, step="register-problem"), why))
    plan.note(alike.label, "problem investigation registered", why)


def problem_record(
    alike: Similarity,
    members: list[IncidentRequest],
    service: str | None,
    group: str | None,
    coordinator: str | None,
    config: IncidentReviewConfig,
    why: str,
) -> ProblemInvestigation:
    ids = ", ".join(str(i.id) for i in members)
    first = members[0]
    return ProblemInvestigation(
        summary=f"{prefix(alike)} {first.summary or ''}"[:100],
        details=f"Registered by {PROCESS} {PROCEDURE}: {why}. Incident requests: {ids}.",
        status=ProblemStatus.ASSIGNED if group else ProblemStatus.UNDER_REVIEW,
        investigation_driver=config.investigation_driver,
        impact=_most_severe([i.impact for i in members], list(Impact)),
        urgency=_most_severe([i.urgency for i in members], list(Urgency)),
        company=first.company,
        service=service,
        ci=alike.name if alike.field == "ci" else None,
        assigned_group=group,
        problem_coordinator=coordinator,
    )


def link(incident: IncidentRequest, problem: str | Ref, why: str) -> Action:
    """'links the incident requests that were caused by the problem to it'."""
    return incident_link(
        str(incident.id),
        to=RecordKind.PROBLEM,
        target=problem,
        relation_type=RelationType.CAUSED_BY,
        step="link-problem",
        trigger=f"incident:{incident.id}:problem-review",
        reason=reason(why),
    )


def _most_common(values: Iterable[str | None]) -> str | None:
    counted = Counter(v for v in values if v)
    return counted.most_common(1)[0][0] if counted else None


def _most_severe(values: list[S | None], order: list[S]) -> S | None:
    known = [v for v in values if v is not None]
    return min(known, key=order.index) if known else None


# -- entry points ---------------------------------------------------------------------------------
def run(ctx: Context) -> Plan:
    incidents, known = gather(ctx)
    return decide(incidents, known, ctx.directory(), ctx.config.problem.review, ctx.trigger)


SPEC = Procedure(
    name=NAME,
    process=PROCESS,
    number=1,
    title="Incident Request Review",
    triggers=("schedule (daily)", "manual"),
    run=run,
)
