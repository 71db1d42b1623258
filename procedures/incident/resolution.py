"""Incident Management, Procedure 4, Incident Request Resolution by Specialist.

SMPM: "if the incident request was resolved using a workaround, and the specialist believes that
the incident for which the workaround was provided is likely to recur, he/she informs the problem
coordinator of the affected service to ensure that action is taken to prevent future
occurrences."

The machine's version of "likely to recur": the request was resolved with a workaround (its status
reason is one of `workaround_reasons`) and its CI, or its service when it has no CI, had at least
`min_similar` other incident requests within `window_days` (same operational category tier 1
when `same_category` is on). Then the problem coordinator is informed through a work note on the
open problem investigation *related* to the request (linking the request to it), or on a new one
registered for the purpose:
1. the request is linked to a problem investigation already -> nothing: action is being taken,
                                         and a second link would replace the first (ServiceNow
                                         keeps one problem per incident);
2. an open problem investigation on its CI (or service) is about its symptom (`related`: its
   categorisation is the request's, a request linked to it is alike, or P4 registered it for
   such requests)                  -> linked to it, with a work note;
3. none (a capacity problem on the same CI is about another symptom)
                                      -> a new one, named and categorised for the symptom,
                                         linked, with a work note.
A rerun writes nothing: the request is linked by then (1), and each write's trigger names it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from connector.base import Connector
from connector.entities import IncidentRequest, ProblemInvestigation, RecordKind
from connector.enums import IncidentStatus, ProblemStatus, RelationType
from connector.filters import Field as F
from connector.filters import Filter
from procedures.directory import Directory
from procedures.incident.config import ResolutionConfig
from procedures.plan import Action, ActionKind, Plan, Reason, Ref, incident_link, note_action
from procedures.problem.links import by_ids, incidents_of, problems_of
from procedures.registry import Context, Procedure

PROCESS = "Incident Management"
PROCEDURE = "P4 Incident Request Resolution by Specialist"
NAME = "incident.resolution"
OPEN_PROBLEM = [s for s in ProblemStatus if s.is_open]
Subject = tuple[str | None, str | None]  # (service, CI) of a request


def reason(rule: str) -> Reason:
    return Reason(process=PROCESS, procedure=PROCEDURE, rule=rule)


@dataclass(frozen=True)
class Similarity:
    """What makes incident requests alike: the same CI (or the same service when there is no CI)
    and the same first `tiers` operational categorisation tiers.

    P4 asks it to judge 'likely to recur'; Problem Management asks it to find incident requests
    caused by one problem (P1) and recurrences after a structural solution (P4).
    """

    field: str
    name: str
    categories: tuple[str | None, ...] = ()

    @classmethod
    def of(cls, record: IncidentRequest | ProblemInvestigation, tiers: int) -> Similarity | None:
        """What requests alike this one (or like this problem's symptom) share; None when it
        names neither a CI nor a service."""
        cats = tuple(getattr(record, f"operational_category_{n}") for n in range(1, tiers + 1))
        if record.ci:
            return cls("ci", record.ci, cats)
        if record.service:
            return cls("service", record.service, cats)
        return None

    @property
    def names_a_symptom(self) -> bool:
        """Whether it says which requests on its CI or service are alike: its first compared
        tier is set, or no tier is compared (the settings say the CI or service is enough)."""
        return not self.categories or bool(self.categories[0])

    def filter(self) -> Filter:
        """Requests alike this one; a tier the model request left empty is not compared."""
        where: Filter = F(self.field) == self.name
        for n, category in enumerate(self.categories, start=1):
            if category:
                where = where & (F(f"operational_category_{n}") == category)
        return where

    @property
    def label(self) -> str:
        """'CI db-01, Failure/Database' or 'service Payroll'."""
        what = f"{'CI' if self.field == 'ci' else 'service'} {self.name}"
        cats = "/".join(c or "-" for c in self.categories)
        return f"{what}, {cats}" if any(self.categories) else what


def similar_filter(
    incident: IncidentRequest, since: datetime, config: ResolutionConfig
) -> Filter | None:
    """Other requests on the same CI (or service) since `since`; None when it has neither."""
    alike = Similarity.of(incident, 1 if config.same_category else 0)
    if alike is None:
        return None
    return alike.filter() & (F("reported_at") >= since) & (F("id") != str(incident.id))


@dataclass(frozen=True)
class Candidate:
    """An open problem investigation on the request's CI (or service), with the requests linked
    to it: what tells whether it is the problem causing the request."""

    problem: ProblemInvestigation
    linked: tuple[IncidentRequest, ...] = ()


@dataclass(frozen=True)
class Recurrence:
    """A request resolved with a workaround: how many alike ones came before, the problem
    investigation it is linked to already (if any), and the open ones on its CI or service."""

    incident: IncidentRequest
    similar: int
    linked_to: str | None = None
    candidates: tuple[Candidate, ...] = ()


def gather(ctx: Context) -> list[Recurrence]:
    """Recently resolved workaround requests, with their history and candidate problems."""
    config = ctx.config.incident.resolution
    since = ctx.now - timedelta(hours=config.lookback_hours)
    resolved = (F("status") == IncidentStatus.RESOLVED) & (F("resolved_at") >= since)
    resolved = resolved & F("status_reason").one_of(*config.workaround_reasons)
    return recurrences(ctx, list(ctx.connector.find(IncidentRequest, resolved)))


def recurrences(ctx: Context, incidents: list[IncidentRequest]) -> list[Recurrence]:
    """Each request's similar count; for those likely to recur, the problem it is linked to and
    the candidates (one query per CI or service, the links read in a few more)."""
    config, c = ctx.config.incident.resolution, ctx.connector
    since = ctx.now - timedelta(days=config.window_days)
    counted = [(i, _similar(c, i, since, config)) for i in incidents]
    likely = [i for i, n in counted if n >= config.min_similar and i.id]
    linked = problems_of(c, [str(i.id) for i in likely])
    subjects = {_subject(i) for i in likely if str(i.id) not in linked}
    candidates = _candidates(c, {s for s in subjects if s[0]})
    return [
        Recurrence(i, n, linked.get(str(i.id)), candidates.get(_subject(i), ())) for i, n in counted
    ]


def _similar(
    c: Connector, incident: IncidentRequest, since: datetime, config: ResolutionConfig
) -> int:
    window = similar_filter(incident, since, config)
    return 0 if window is None else sum(1 for _ in c.find(IncidentRequest, window))


def _subject(incident: IncidentRequest) -> Subject:
    return incident.service, incident.ci


def _candidates(c: Connector, subjects: set[Subject]) -> dict[Subject, tuple[Candidate, ...]]:
    """(service, CI) -> the open problem investigations of the service (on the CI, when the
    request names one), each with the requests linked to it."""
    problems = {subject: _open_problems(c, *subject) for subject in sorted(subjects, key=str)}
    links = incidents_of(c, {str(p.id) for ps in problems.values() for p in ps})
    incidents = by_ids(c, IncidentRequest, {i for ids in links.values() for i in ids})

    def candidate(p: ProblemInvestigation) -> Candidate:
        mine = sorted(links.get(str(p.id), ()))
        return Candidate(p, tuple(incidents[i] for i in mine if i in incidents))

    return {subject: tuple(candidate(p) for p in ps) for subject, ps in problems.items()}


def _open_problems(c: Connector, service: str | None, ci: str | None) -> list[ProblemInvestigation]:
    where = (F("service") == service) & F("status").one_of(*OPEN_PROBLEM)
    if ci:
        where = where & (F("ci") == ci)
    found = [
        p
        for p in c.find(ProblemInvestigation, where)
        if p.id and p.status in OPEN_PROBLEM and p.service == service and (not ci or p.ci == ci)
    ]
    return sorted(found, key=lambda p: str(p.id))


def for_record(ctx: Context, record_id: str) -> Plan:
    """P4 for one request, when the ITSM says it changed (webhook)."""
    config = ctx.config.incident.resolution
    incident = ctx.connector.get(IncidentRequest, record_id)
    plan = Plan(procedure=NAME, trigger=ctx.trigger)
    if incident.status is not IncidentStatus.RESOLVED:
        return plan
    if incident.status_reason not in config.workaround_reasons:
        plan.note(record_id, "no action", "resolved without a workaround")
        return plan
    return decide(recurrences(ctx, [incident]), ctx.directory(), config, ctx.trigger)


# -- deciding -------------------------------------------------------------------------------------
def related(candidate: Candidate, alike: Similarity, config: ResolutionConfig) -> str | None:
    """Why this open problem investigation is the one causing requests `alike`, or None.

    SMPM's problem coordinator is informed "to ensure that action is taken to prevent future
    occurrences" of *this* incident: the problem must be about its symptom, not merely on its
    CI. Evidence, in order: its own operational categorisation is the request's; a request
    linked to it (as caused by it) is alike; this procedure registered it for such requests.
    An empty categorisation is no evidence; with `same_category` off the CI (or service) alone
    makes requests alike, so any open problem on it is related.
    """
    p = candidate.problem
    subject = alike.name
    if not config.same_category:
        return f"{p.id} is related: it is open on {subject} and same_category is off"
    if (p.summary or "").startswith(registered_prefix(alike)):
        return f"{p.id} is related: it was registered for requests alike this one ({alike.label})"
    if not alike.names_a_symptom:
        return None
    if p.operational_category_1 == alike.categories[0]:
        return f"{p.id} is related: its categorisation ({alike.categories[0]}) is the request's"
    for linked in candidate.linked:
        if Similarity.of(linked, 1) == alike:
            return f"{p.id} is related: {linked.id} linked to it is alike ({alike.label})"
    return None


def registered_prefix(alike: Similarity) -> str:
    """'Recurring on CI web-01, Failure:': the summary of the problem P4 registers for them."""
    return f"Recurring on {alike.label}:"


def decide(
    items: list[Recurrence], directory: Directory, config: ResolutionConfig, trigger: str
) -> Plan:
    plan = Plan(procedure=NAME, trigger=trigger)
    registered: dict[Similarity, Ref] = {}
    for item in items:
        consider(item, directory, config, plan, registered)
    return plan


def consider(
    item: Recurrence,
    directory: Directory,
    config: ResolutionConfig,
    plan: Plan,
    registered: dict[Similarity, Ref],
) -> None:
    """Plan 'inform the problem coordinator'; `registered` shares new problems per symptom."""
    incident = item.incident
    subject = incident.ci or incident.service or "(no CI or service)"
    alike = Similarity.of(incident, 1 if config.same_category else 0)
    if item.similar < config.min_similar or alike is None:
        plan.note(
            str(incident.id),
            "no action",
            f"{item.similar} similar requests on {subject} in "
            f"{config.window_days:g} days; {config.min_similar} make it likely to recur",
        )
        return
    if item.linked_to:
        plan.note(
            str(incident.id),
            "no action",
            f"likely to recur, but already linked to problem investigation {item.linked_to}, "
            "whose problem coordinator acts on it: not linked again",
        )
        return
    coordinator = directory.service_role(incident.service, "problem_coordinator")
    why = (
        f"resolved with a workaround ({incident.status_reason}) and {subject} had "
        f"{item.similar} similar requests in {config.window_days:g} days: likely to recur; the "
        f"problem coordinator{' ' + coordinator if coordinator else ''} of {incident.service} "
        "is informed"
    )
    trigger = f"incident:{incident.id}:recurrence"
    target: str | Ref
    evidence = [(c, related(c, alike, config)) for c in item.candidates]
    found = next(((c, e) for c, e in evidence if e), None)
    if found is not None:
        target, why = str(found[0].problem.id), f"{why}; {found[1]}"
    else:
        why = f"{why}; {_none_related(subject, alike, item.candidates)}"
        if alike in registered:
            target = registered[alike]
        else:
            target = registered[alike] = Ref(trigger=trigger, step="register-problem")
            plan.add(_register(incident, alike, coordinator, trigger, why))
    _inform(incident, target, trigger, why, plan)


def _none_related(subject: str, alike: Similarity, candidates: tuple[Candidate, ...]) -> str:
    unrelated = ", ".join(f"{c.problem.id} ({c.problem.summary})" for c in candidates)
    return (
        f"no open problem investigation on {subject} has its symptom ({alike.label})"
        + (f"; not related: {unrelated}" if unrelated else "")
        + ": a new one is registered"
    )


def _register(
    incident: IncidentRequest, alike: Similarity, coordinator: str | None, trigger: str, why: str
) -> Action:
    return Action(
        kind=ActionKind.CREATE,
        step="register-problem",
        trigger=trigger,
        reason=reason(why),
        target_kind=RecordKind.PROBLEM,
        record=ProblemInvestigation(
            summary=f"{registered_prefix(alike)} {incident.summary or ''}"[:100],
            status=ProblemStatus.UNDER_REVIEW,
            investigation_driver="Re-Occurring Incidents",
            impact=incident.impact,
            urgency=incident.urgency,
            company=incident.company,
            service=incident.service,
            ci=incident.ci,
            operational_category_1=incident.operational_category_1,
            operational_category_2=incident.operational_category_2,
            operational_category_3=incident.operational_category_3,
            problem_coordinator=coordinator,
        ),
    )


def _inform(
    incident: IncidentRequest, target: str | Ref, trigger: str, why: str, plan: Plan
) -> None:
    plan.add(
        incident_link(
            str(incident.id),
            to=RecordKind.PROBLEM,
            target=target,
            relation_type=RelationType.RELATED_TO,
            step="link-incident",
            trigger=trigger,
            reason=reason(why),
        )
    )
    plan.add(
        note_action(
            on=RecordKind.PROBLEM,
            record=target,
            step="inform-problem-coordinator",
            trigger=trigger,
            reason=reason(why),
            summary=f"Recurring incident {incident.id}",
            text=f"{PROCESS} {PROCEDURE}: {incident.id} '{incident.summary}' {why}.",
        )
    )
    plan.note(str(incident.id), "problem coordinator informed", why)


def run(ctx: Context) -> Plan:
    directory = ctx.directory()
    return decide(gather(ctx), directory, ctx.config.incident.resolution, ctx.trigger)


SPEC = Procedure(
    name=NAME,
    process=PROCESS,
    number=4,
    title="Incident Request Resolution by Specialist",
    triggers=("schedule (hourly)", "webhook: incident request resolved", "manual"),
    run=run,
)
