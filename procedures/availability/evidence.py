"""Root-cause evidence: which open problem investigation an outage request was caused by.

SMPM (Availability Management P2): "If one or more incident requests appear to have been caused
... by a root cause for which a problem investigation has not yet been registered, the
availability manager registers a new problem investigation." smpm cannot see a root cause, so
it links an outage request to a problem investigation only on evidence of the same one, tried
in this order:
1. the same configuration item: the problem's own CI, or the CI of an outage request already
   linked to it ("same CI db-cluster-01 as PBI5");
2. with `[availability] likeness_tiers` = N, the same operational categorisation in tiers 1
   to N, each set: the problem's own, or that of an outage request already linked to it
   ("same operational categorisation Failure / Database (tiers 1-2) as PBI5");
3. a likeness rule of `[[availability.likeness]]` (config.LikenessRule): a keyword in the
   request's summary and one in the problem's summary or in that of an outage request already
   linked to it ("likeness rule 'login' matched").
The candidates are the open problem investigations of the request's own service: those whose
service is the request's, and those naming no service that an outage request of the service is
already linked to. A problem of another service is never taken, not even on the same CI: the
problem investigation names one service, whose SLAs and specialists it is about. The problem
investigations a run registers are candidates too, so one run decides as daily runs would.
Among several that match, the one with the most linked outage requests wins (then the lowest
number; a problem already in the ITSM before one this run registers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from connector.entities import IncidentRequest, ProblemInvestigation
from procedures.availability.config import LikenessRule
from procedures.availability.outages import problem_prefix
from procedures.availability.records import period_mark
from procedures.plan import Ref


@dataclass
class Candidate:
    """An open problem investigation of a service (or one the run registers: `target` a Ref)
    and the outage requests known to be linked to it, those the run links included."""

    target: str | Ref
    problem: ProblemInvestigation
    linked: list[IncidentRequest] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.target if isinstance(self.target, str) else "the new problem investigation"

    def rank(self) -> tuple[int, bool, str]:
        return (-len(self.linked), isinstance(self.target, Ref), str(self.target))


@dataclass(frozen=True)
class Match:
    candidate: Candidate
    why: str


def candidates(
    service: str,
    problems: Mapping[str, ProblemInvestigation],
    by_problem: Mapping[str, Sequence[IncidentRequest]],
) -> list[Candidate]:
    """The open problem investigations of `service` (see the module docstring)."""
    found = []
    for number, problem in sorted(problems.items()):
        linked = list(by_problem.get(number, ()))
        if problem.status is None or not problem.status.is_open:
            continue
        if problem.service == service or (
            not problem.service and any(i.service == service for i in linked)
        ):
            found.append(Candidate(number, problem, linked))
    return found


def same_ci(incident: IncidentRequest, pool: Sequence[Candidate]) -> Match | None:
    """The candidate whose own CI, or a linked outage request's, is the request's."""
    ci = incident.ci
    if not ci:
        return None
    matches = []
    for c in pool:
        if c.problem.ci == ci:
            matches.append(Match(c, f"same CI {ci} as {c.label}"))
            continue
        via = next((i for i in c.linked if i.ci == ci), None)
        if via is not None:
            matches.append(Match(c, f"same CI {ci} as {via.id}, already linked to {c.label}"))
    return _best(matches)


def same_categorisation(
    incident: IncidentRequest, pool: Sequence[Candidate], tiers: int
) -> Match | None:
    """The candidate whose operational categorisation, or a linked outage request's, is the
    request's in tiers 1 to `tiers` (none with `tiers` 0, or a tier of the request unset)."""
    mine = _tiers(incident, tiers)
    if not tiers or mine is None:
        return None
    shown = " / ".join(getattr(incident, f"operational_category_{n}") for n in range(1, tiers + 1))
    span = f"tiers 1-{tiers}" if tiers > 1 else "tier 1"
    what = f"same operational categorisation {shown} ({span})"
    matches = []
    for c in pool:
        if _tiers(c.problem, tiers) == mine:
            matches.append(Match(c, f"{what} as {c.label}"))
            continue
        via = next((i for i in c.linked if _tiers(i, tiers) == mine), None)
        if via is not None:
            matches.append(Match(c, f"{what} as {via.id}, already linked to {c.label}"))
    return _best(matches)


def _tiers(ticket: IncidentRequest | ProblemInvestigation, tiers: int) -> tuple[str, ...] | None:
    """Tiers 1 to `tiers` of the operational categorisation, any case; None if one is unset."""
    values = [getattr(ticket, f"operational_category_{n}") for n in range(1, tiers + 1)]
    if not all(v and v.strip() for v in values):
        return None
    return tuple(v.strip().casefold() for v in values)


def alike(
    incident: IncidentRequest, pool: Sequence[Candidate], rules: Sequence[LikenessRule]
) -> Match | None:
    """The candidate the first likeness rule that holds for the request matches."""
    for rule in rules:
        mine = rule.keyword_in(incident.summary)
        if mine is None:
            continue
        matches = []
        for c in pool:
            where = _keyword_where(rule, c)
            if where is not None:
                theirs, place = where
                why = (
                    f"likeness rule {rule.name!r} matched: {mine!r} in its summary, "
                    f"{theirs!r} in {place}"
                )
                matches.append(Match(c, why))
        if matches:
            return _best(matches)
    return None


def _keyword_where(rule: LikenessRule, c: Candidate) -> tuple[str, str] | None:
    """(keyword, where it was found) in the problem's summary or a linked request's."""
    found = rule.keyword_in(c.problem.summary)
    if found is not None:
        return found, f"the summary of {c.label}"
    for linked in c.linked:
        found = rule.keyword_in(linked.summary)
        if found is not None:
            return found, f"the summary of {linked.id}, already linked to {c.label}"
    return None


def _best(matches: Sequence[Match]) -> Match | None:
    return min(matches, key=lambda m: m.candidate.rank(), default=None)


def registered_without_ci(service: str, period: str, pool: Sequence[Candidate]) -> Candidate | None:
    """The problem investigation an earlier run registered for the outages of `service` in
    `period` that name no CI (found by its summary and details, so a run on another node, with
    a state store of its own, finds it too)."""
    mark = period_mark(service, period)
    for c in pool:
        p = c.problem
        ours = (p.summary or "").startswith(problem_prefix(service))
        if isinstance(c.target, str) and ours and not p.ci and mark in (p.details or ""):
            return c
    return None
