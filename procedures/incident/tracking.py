"""Incident Management, Procedure 3, Incident Request Tracking.

SMPM: "After an SLA has escalated an incident request, the group coordinator reviews the
notification ... If the incident request concerns a service outage which resolution threshold
... has been exceeded, the group coordinator contacts the service owner of the affected service
and escalates the incident request to him/her." and (P5) "the role of service owner is performed
by the on-duty manager when the service owner of the affected service is not available."

Scheduled. For every open incident request whose service target stands at warning or missed:
- a service outage (restoration service type, impact at least `outage_min_impact`) whose
  *resolution* target is missed -> escalate to the service owner, or to the on-duty manager when
  the owner is away (roster) or unknown;
- anything else -> inform the group coordinator of the assigned group, who decides whether to
  reassign or to press the specialist.
Each (request, target, threshold) escalates once: the action's trigger names exactly that, so a
rerun maps to the same idempotency key and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from connector.base import Connector
from connector.entities import (
    IncidentRequest,
    MeasurementStatus,
    RecordKind,
    ServiceTarget,
)
from connector.enums import IncidentStatus
from connector.filters import Field as F
from procedures.directory import Directory, RosterConfig
from procedures.incident.config import TrackingConfig
from procedures.plan import Plan, Reason, inform_actions
from procedures.registry import Context, Procedure

PROCESS = "Incident Management"
PROCEDURE = "P3 Incident Request Tracking"
NAME = "incident.tracking"

MISSED = (MeasurementStatus.MISSED, MeasurementStatus.MISSED_GOAL)
BREACHING = (MeasurementStatus.WARNING, *MISSED)


def level_of(target: ServiceTarget) -> str:
    return "missed" if target.status in MISSED else "warning"


def trigger_of(target: ServiceTarget) -> str:
    """What one escalation is about: a request, one of its targets, and the threshold crossed."""
    return f"incident:{target.request_id}:target:{target.id}:{level_of(target)}"


@dataclass(frozen=True)
class Breach:
    incident: IncidentRequest
    target: ServiceTarget

    @property
    def level(self) -> str:
        return level_of(self.target)


def reason(rule: str) -> Reason:
    return Reason(process=PROCESS, procedure=PROCEDURE, rule=rule)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def gather_breaches(
    connector: Connector,
    config: TrackingConfig,
    settled: Callable[[Iterable[str]], set[str]] = lambda triggers: set(),
) -> list[Breach]:
    """Targets at warning or missed that still need escalating, joined to their open requests.

    One listing of the breaching targets. Those escalated by earlier runs (`settled`) need no
    more reading. The requests of the others are read by number when they are few, or by one
    scan of the open requests when asking by number would take more calls.
    """
    breaching = list(connector.find(ServiceTarget, F("status").one_of(*BREACHING)))
    done = settled(trigger_of(t) for t in breaching)
    targets = [t for t in breaching if trigger_of(t) not in done]
    ids = sorted({t.request_id for t in targets if t.request_id})
    open_now = F("status").one_of(*(s for s in IncidentStatus if s.is_open))
    incidents: dict[str, IncidentRequest] = {}
    if len(ids) > config.ids_per_query * config.max_id_queries:
        wanted = set(ids)
        incidents = {i.id: i for i in connector.find(IncidentRequest, open_now) if i.id in wanted}
    else:
        for chunk in _chunks(ids, config.ids_per_query):
            found = connector.find(IncidentRequest, F("id").one_of(*chunk) & open_now)
            incidents |= {i.id: i for i in found if i.id}
    return [Breach(incidents[t.request_id], t) for t in targets if t.request_id in incidents]


def decide(
    breaches: Iterable[Breach],
    directory: Directory,
    roster: RosterConfig,
    config: TrackingConfig,
    now: datetime,
    trigger: str,
) -> Plan:
    """Escalations for breaching targets (pure; `now` is the run's time)."""
    plan = Plan(procedure=NAME, trigger=trigger)
    for breach in breaches:
        escalate(breach, directory, roster, config, now, plan)
    return plan


def escalate(
    breach: Breach,
    directory: Directory,
    roster: RosterConfig,
    config: TrackingConfig,
    now: datetime,
    plan: Plan,
) -> None:
    """Who hears of one breach: the service owner (or stand-in) for an outage past its
    resolution threshold, else the coordinator of the group holding the request."""
    incident, target = breach.incident, breach.target
    title = target.title or target.id or "service target"
    outage = config.is_outage(incident) and config.is_resolution_target(target)
    if outage and breach.level == "missed":
        _escalate_outage(breach, title, directory, roster, config, now, plan)
        return
    group = incident.assigned_group or config.unassigned_group
    what = "missed" if breach.level == "missed" else "at warning"
    held = (
        f"{group} holds the request"
        if incident.assigned_group
        else (f"no group holds the request yet, so {group or '(no group configured)'} is asked")
    )
    _inform(
        breach,
        directory.group_coordinator(group),
        f"service target '{title}' is {what}; {held} and its group coordinator decides "
        "whether to reassign",
        plan,
    )


def _escalate_outage(
    breach: Breach,
    title: str,
    directory: Directory,
    roster: RosterConfig,
    config: TrackingConfig,
    now: datetime,
    plan: Plan,
) -> None:
    incident = breach.incident
    threshold = f"service outage past its resolution threshold ('{title}')"
    owner = directory.service_role(incident.service, "owner")
    if owner is not None and roster.is_available(owner, now):
        _inform(
            breach,
            owner,
            f"{threshold} of {incident.service}: escalated to the service owner",
            plan,
        )
        return
    why = (
        f"the service owner {owner} is not available"
        if owner
        else f"no service owner is known for {incident.service or '(no service)'}"
    )
    manager = roster.on_duty_manager(now)
    if manager is not None:
        _inform(
            breach,
            manager,
            f"{threshold}; {why}, so the on-duty manager acts as service owner",
            plan,
        )
        return
    group = incident.assigned_group or config.unassigned_group
    _inform(
        breach,
        directory.group_coordinator(group),
        f"{threshold}; {why} and no on-duty manager is rostered, so the group coordinator is told",
        plan,
    )


def _inform(breach: Breach, person: str | None, why: str, plan: Plan) -> None:
    incident, target = breach.incident, breach.target
    trigger = trigger_of(target)
    if person is None:
        plan.note(str(incident.id), "not escalated", f"{why}; but nobody holds that role")
        return
    rsn = reason(why)
    for action in inform_actions(
        on=RecordKind.INCIDENT,
        record=str(incident.id),
        steps=("escalation-note", "escalation-notify"),
        trigger=trigger,
        reason=rsn,
        recipient=person,
        summary=f"SLA escalation: {person} informed",
        note=f"{rsn}.",
        message=f"{incident.id} ({incident.summary}): {why}.",
    ):
        plan.add(action)
    plan.note(str(incident.id), f"escalated to {person}", why)


def run(ctx: Context) -> Plan:
    config = ctx.config.incident.tracking
    breaches = gather_breaches(ctx.connector, config, ctx.settled)
    directory = ctx.directory()
    return decide(breaches, directory, ctx.config.roster, config, ctx.now, ctx.trigger)


def explain(ctx: Context, record_id: str) -> Plan:
    config = ctx.config.incident.tracking
    incident = ctx.connector.get(IncidentRequest, record_id)
    targets = list(ctx.connector.find(ServiceTarget, F("request_id") == record_id))
    directory = ctx.directory()
    plan = Plan(procedure=NAME, trigger=f"explain:{record_id}")
    if not targets:
        plan.note(record_id, "nothing to track", "no service target is attached to this request")
    for target in targets:
        if target.status not in BREACHING:
            state = target.status.value if target.status else "unknown"
            plan.note(record_id, "no escalation", f"target '{target.title}' is {state}")
            continue
        escalate(Breach(incident, target), directory, ctx.config.roster, config, ctx.now, plan)
    return plan


SPEC = Procedure(
    name=NAME,
    process=PROCESS,
    number=3,
    title="Incident Request Tracking",
    triggers=("schedule (every 5 minutes)", "manual"),
    run=run,
    explain=explain,
)
