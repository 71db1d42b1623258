"""Incident Management, Procedure 2, Incident Request Assignment.

SMPM: "Having filled out a new incident request, the service desk analyst saves it to ensure that
the service management application applies the automatic routing rules to automatically assign it
to the most appropriate group. If the service desk analyst reopened an existing incident request,
he/she manually selects the most appropriate assignment group." and "The group coordinator assigns
incident requests that require Change Management to the change coordinator of the concerned
service."

Decisions, for each new, unassigned incident request, in this order:
1. reopened              -> no routing; a work note asks the analyst to choose the group;
2. Change Management     -> the change coordinator of the service (criteria from config);
3. first routing rule    -> its group (rules ordered by priority; first match wins);
4. no rule               -> the default group, if one is configured; else left alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from connector.entities import IncidentRequest, RecordKind
from connector.enums import IncidentStatus
from connector.filters import Field as F
from connector.filters import Filter
from procedures.directory import Directory
from procedures.incident.config import AssignmentConfig
from procedures.plan import Action, ActionKind, Plan, Reason, note_action
from procedures.registry import Context, Procedure

PROCESS = "Incident Management"
PROCEDURE = "P2 Incident Request Assignment"
NAME = "incident.assignment"


def reason(rule: str) -> Reason:
    return Reason(process=PROCESS, procedure=PROCEDURE, rule=rule)


def candidates_filter() -> Filter:
    return (F("status") == IncidentStatus.NEW) & F("assigned_group").is_null()


def gather(ctx: Context) -> tuple[list[IncidentRequest], Directory]:
    incidents = list(ctx.connector.find(IncidentRequest, candidates_filter()))
    return incidents, ctx.directory()


def decide(
    incidents: Iterable[IncidentRequest],
    directory: Directory,
    config: AssignmentConfig,
    trigger: str,
) -> Plan:
    """The routing plan for new, unassigned incident requests (pure)."""
    plan = Plan(procedure=NAME, trigger=trigger)
    for incident in incidents:
        route(incident, directory, config, plan)
    return plan


def route(
    incident: IncidentRequest, directory: Directory, config: AssignmentConfig, plan: Plan
) -> None:
    """Add the routing decision for one incident request to `plan`."""
    label = incident.id or "(new)"
    if incident.reopened_at is not None:
        _flag_reopened(incident, plan)
        return
    for criterion in config.change_criteria:
        held = criterion.test(incident)
        if held is not None:
            _to_change_coordinator(incident, directory, config, held, plan)
            return
    routing = choose_group(incident, config)
    if routing is None:
        plan.note(
            label, "left unassigned", "no routing rule matched and no default group is configured"
        )
        return
    _assign(incident, directory, routing.group, routing.assignee, routing.why, plan)


@dataclass(frozen=True)
class Routing:
    group: str
    assignee: str | None
    why: str


def choose_group(incident: IncidentRequest, config: AssignmentConfig) -> Routing | None:
    """The routing rule table's answer for a request: first matching rule, else the default."""
    for rule in config.ordered():
        held = rule.match.test(incident)
        if held is not None:
            why = (
                f"routing rule {rule.name!r} (priority {rule.priority}) matched: {'; '.join(held)}"
            )
            return Routing(rule.group, rule.assignee, why)
    if config.default_group:
        return Routing(config.default_group, None, "no routing rule matched; default group")
    return None


def _assign(
    incident: IncidentRequest,
    directory: Directory,
    group: str,
    assignee: str | None,
    why: str,
    plan: Plan,
) -> None:
    changes: dict[str, object] = {"assigned_group": group, "status": IncidentStatus.ASSIGNED}
    if assignee:
        changes["assignee"] = assignee
    record = directory.group(group)
    extras: dict[str, object] = {}
    if record is not None:
        extras = {"assigned_company": record.company, "assigned_organization": record.organization}
    extras = {k: v for k, v in extras.items() if v is not None}
    plan.add(
        Action(
            kind=ActionKind.ASSIGN,
            step="route",
            trigger=f"incident:{incident.id}",
            reason=reason(why),
            target_kind=RecordKind.INCIDENT,
            target_id=incident.id,
            changes=changes,
            extras=extras,
        )
    )
    plan.note(str(incident.id), f"assign to {group}" + (f" / {assignee}" if assignee else ""), why)


def _to_change_coordinator(
    incident: IncidentRequest,
    directory: Directory,
    config: AssignmentConfig,
    held: list[str],
    plan: Plan,
) -> None:
    criteria = "; ".join(held)
    coordinator = directory.service_role(incident.service, "change_coordinator")
    if coordinator is None:
        why = (
            f"needs Change Management ({criteria}) but no change coordinator is known for "
            f"service {incident.service or '(none)'}; the service desk must assign it"
        )
        _note(
            incident,
            "Change Management needed: no change coordinator known",
            why,
            "needs-change",
            plan,
        )
        plan.note(str(incident.id), "flagged", why)
        return
    why = (
        f"resolution requires Change Management ({criteria}); assigned to the change coordinator "
        f"of {incident.service} instead of a specialist group"
    )
    _assign(incident, directory, config.change_group, coordinator, why, plan)


def _flag_reopened(incident: IncidentRequest, plan: Plan) -> None:
    why = (
        "the request was reopened; SMPM has the service desk analyst select the assignment "
        "group manually, so it is not routed automatically"
    )
    _note(incident, "Reopened: select the assignment group manually", why, "reopened", plan)
    plan.note(str(incident.id), "flagged for manual assignment", why)


def _note(incident: IncidentRequest, summary: str, why: str, step: str, plan: Plan) -> None:
    plan.add(
        note_action(
            on=RecordKind.INCIDENT,
            record=incident.id,
            step=step,
            trigger=f"incident:{incident.id}",
            reason=reason(why),
            summary=summary,
            text=f"{PROCESS} {PROCEDURE}: {why}.",
        )
    )


def run(ctx: Context) -> Plan:
    incidents, directory = gather(ctx)
    return decide(incidents, directory, ctx.config.incident.assignment, ctx.trigger)


def for_record(ctx: Context, record_id: str) -> Plan:
    """P2 for one request, when the ITSM says it was created or changed (webhook)."""
    incident = ctx.connector.get(IncidentRequest, record_id)
    plan = Plan(procedure=NAME, trigger=ctx.trigger)
    if incident.status is IncidentStatus.NEW and not incident.assigned_group:
        route(incident, ctx.directory(), ctx.config.incident.assignment, plan)
    return plan


def explain(ctx: Context, record_id: str) -> Plan:
    incident = ctx.connector.get(IncidentRequest, record_id)
    directory = ctx.directory()
    plan = Plan(procedure=NAME, trigger=f"explain:{record_id}")
    if incident.status is not IncidentStatus.NEW or incident.assigned_group:
        plan.note(
            record_id,
            "not a candidate",
            f"only new, unassigned requests are routed; this one is "
            f"{incident.status.value if incident.status else 'without status'}"
            f"{' and assigned to ' + incident.assigned_group if incident.assigned_group else ''}",
        )
    route(incident, directory, ctx.config.incident.assignment, plan)
    return plan


SPEC = Procedure(
    name=NAME,
    process=PROCESS,
    number=2,
    title="Incident Request Assignment",
    triggers=("schedule (every few minutes)", "webhook: incident request created", "manual"),
    run=run,
    explain=explain,
)
