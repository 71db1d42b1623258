"""Incident Management, Procedure 4, Incident Request Resolution by Specialist.

SMPM: "if the incident request was resolved using a workaround, and the specialist believes that
the incident for which the workaround was provided is likely to recur, he/she informs the problem
coordinator of the affected service to ensure that action is taken to prevent future
occurrences."

The machine's version of "likely to recur": the request was resolved with a workaround (its status
reason is one of `workaround_reasons`) and its CI, or its service when it has no CI, had at least
`min_similar` other incident requests within `window_days` (same operational category tier 1
when `same_category` is on). Then the problem coordinator is informed through a work note on the
open candidate problem investigation of that service (linking the request to it), or on a new one
registered for the purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from connector.base import Connector
from connector.entities import IncidentRequest, ProblemInvestigation, RecordKind
from connector.enums import IncidentStatus, ProblemStatus, RelationType
from connector.filters import Field as F
from connector.filters import Filter
from procedures.directory import Directory
from procedures.plan import Action, ActionKind, Plan, Reason, Ref, incident_link, note_action
from procedures.registry import Context, Procedure

PROCESS = "Incident Management"
PROCEDURE = "P4 Incident Request Resolution by Specialist"
NAME = "incident.resolution"
OPEN_PROBLEM = [s for s in ProblemStatus if s.is_open]


class ResolutionConfig(BaseModel):
    """`[incident.resolution]`: what a workaround looks like and what counts as recurring."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workaround_reasons: list[str] = Field(default_factory=lambda: ["Temporary Corrective Action"])
    window_days: float = Field(default=30, gt=0)
    min_similar: int = Field(default=2, ge=1)
    same_category: bool = True
    lookback_hours: float = Field(default=24, gt=0, description="resolved requests considered")


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


def gather(ctx: Context) -> list[tuple[IncidentRequest, int, ProblemInvestigation | None]]:
    """Recently resolved workaround requests, their similar count and candidate problem."""
    config = ctx.config.incident.resolution
    c = ctx.connector
    since = ctx.now - timedelta(hours=config.lookback_hours)
    resolved = (F("status") == IncidentStatus.RESOLVED) & (F("resolved_at") >= since)
    resolved = resolved & F("status_reason").one_of(*config.workaround_reasons)
    return [_with_history(ctx, incident) for incident in c.find(IncidentRequest, resolved)]


def _with_history(
    ctx: Context, incident: IncidentRequest
) -> tuple[IncidentRequest, int, ProblemInvestigation | None]:
    config, c = ctx.config.incident.resolution, ctx.connector
    window = similar_filter(incident, ctx.now - timedelta(days=config.window_days), config)
    similar = 0 if window is None else sum(1 for _ in c.find(IncidentRequest, window))
    return incident, similar, _candidate_problem(c, incident) if similar else None


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
    item = _with_history(ctx, incident)
    return decide([item], ctx.directory(), config, ctx.trigger)


def _candidate_problem(c: Connector, incident: IncidentRequest) -> ProblemInvestigation | None:
    if not incident.service:
        return None
    where = (F("service") == incident.service) & F("status").one_of(*OPEN_PROBLEM)
    if incident.ci:
        where = where & (F("ci") == incident.ci)
    return next(iter(c.find(ProblemInvestigation, where, limit=1)), None)


def decide(
    items: list[tuple[IncidentRequest, int, ProblemInvestigation | None]],
    directory: Directory,
    config: ResolutionConfig,
    trigger: str,
) -> Plan:
    plan = Plan(procedure=NAME, trigger=trigger)
    registered: dict[str, Ref] = {}
    for incident, similar, problem in items:
        consider(incident, similar, problem, directory, config, plan, registered)
    return plan


def consider(
    incident: IncidentRequest,
    similar: int,
    problem: ProblemInvestigation | None,
    directory: Directory,
    config: ResolutionConfig,
    plan: Plan,
    registered: dict[str, Ref],
) -> None:
    """Plan 'inform the problem coordinator'; `registered` shares new problems per subject."""
    subject = incident.ci or incident.service or "(no CI or service)"
    if similar < config.min_similar:
        plan.note(
            str(incident.id),
            "no action",
            f"{similar} similar requests on {subject} in "
            f"{config.window_days:g} days; {config.min_similar} make it likely to recur",
        )
        return
    coordinator = directory.service_role(incident.service, "problem_coordinator")
    why = (
        f"resolved with a workaround ({incident.status_reason}) and {subject} had {similar} "
        f"similar requests in {config.window_days:g} days: likely to recur; the problem "
        f"coordinator{' ' + coordinator if coordinator else ''} of {incident.service} is informed"
    )
    trigger = f"incident:{incident.id}:recurrence"
    target: str | Ref
    if problem is not None and problem.id:
        target = problem.id
    elif subject in registered:
        target = registered[subject]
    else:
        target = registered[subject] = Ref(trigger=trigger, step="register-problem")
        plan.add(
            Action(
                kind=ActionKind.CREATE,
                step="register-problem",
                trigger=trigger,
                reason=reason(why),
                target_kind=RecordKind.PROBLEM,
                record=ProblemInvestigation(
                    summary=f"Recurring on {subject}: {incident.summary}",
                    status=ProblemStatus.UNDER_REVIEW,
                    investigation_driver="Re-Occurring Incidents",
                    impact=incident.impact,
                    urgency=incident.urgency,
                    company=incident.company,
                    service=incident.service,
                    ci=incident.ci,
                    problem_coordinator=coordinator,
                ),
            )
        )
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
