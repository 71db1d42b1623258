"""Event Management, Procedure 1, Event Handling.

SMPM: "the operator reviews its information to determine which configuration item (CI) has
failed, or is about to fail, and to find out the apparent cause of the event. Next, the operator
reviews the other recently generated events to ensure that the event was not raised because the
network or system management application could no longer accurately determine the CI's status due
to the failure of another CI elsewhere in the infrastructure. In addition, the operator checks if
the event is the result of a planned change or planned event."

Decisions for one event, in this order:
1. clear            -> a work note on its incident (and, only if configured, resolve it);
2. not the first    -> an open incident has this message key, or this CI and symptom: a work note
                       with the count on that incident (every time, or at doublings); no incident;
3. not the first    -> a capacity reading past its threshold whose earlier warning Capacity
   (capacity)          Management P2 closed into a problem investigation that is still open: a
                       work note with the count on that problem; no incident;
4. planned          -> the CI or a service it supports is in an approved change's window or a
                       planned maintenance window: closed, and the reason recorded. SMPM closes
                       "a service degradation or outage that was planned", so a capacity warning
                       is closed as planned only with `close_planned_capacity_warnings`;
5. another CI       -> a CI this one depends on has an open outage incident: the event is linked
                       to that incident (CI as impacted), no new incident (status events only: a
                       capacity reading measures this CI itself, whatever fails upstream);
6. capacity warning -> a reading past its threshold: a new "Infrastructure Event" request for the
                       CI and its service, assigned to that service's capacity manager;
7. outage           -> a new "Infrastructure Restoration" request for the CI and its service,
                       routed by the Incident Management assignment rules;
8. anything else    -> closed as information.

A CI the CMDB does not hold (neither the snapshot nor, asked once before a request is
registered, the ITSM) cannot be "linked to the incident request", but its first notice is still
registered (6 and 7): without a CI reference, since ServiceNow's cmdb_ci holds only a CMDB
record, with the monitored node named in the summary (after the symptom) and the details, and
the reason saying the CMDB lacks it, so the service desk can have it corrected. Routing still
sees the name the monitor gave. Every platform registers the same request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from connector.entities import Change as ChangeRecord
from connector.entities import (
    ConfigurationItem,
    Event,
    IncidentRequest,
    ProblemInvestigation,
    RecordKind,
)
from connector.enums import (
    EventSeverity,
    Impact,
    IncidentStatus,
    RelationType,
    ReportedSource,
    ServiceType,
    Urgency,
)
from procedures.directory import Directory
from procedures.event.handling_config import HandlingConfig, Window
from procedures.incident.assignment import choose_group
from procedures.incident.config import AssignmentConfig
from procedures.plan import Action, ActionKind, Plan, Reason, incident_link, note_action
from procedures.registry import Procedure

PROCESS = "Event Management"
PROCEDURE = "P1 Event Handling"
NAME = "event.handling"

OUTAGE = (EventSeverity.CRITICAL, EventSeverity.MAJOR)
DEGRADATION = (EventSeverity.MINOR, EventSeverity.WARNING)


@dataclass(frozen=True)
class Situation:
    """Everything Event Handling needs to know about one event, gathered before deciding."""

    event: Event
    occurrence: int
    # The CMDB's record of the CI the event names (`ci`, else `node`); None when neither the
    # snapshot nor the ITSM holds one (`gather` asks the ITSM before a request is registered).
    ci: ConfigurationItem | None
    services: list[str]
    current: IncidentRequest | None = None
    episode: int = 0
    change: ChangeRecord | None = None
    window: Window | None = None
    cause: IncidentRequest | None = None
    # A capacity reading's earlier warning (closed) and the open problem P2 linked it to.
    problem: ProblemInvestigation | None = None
    warning: IncidentRequest | None = None


def reason(rule: str) -> Reason:
    return Reason(process=PROCESS, procedure=PROCEDURE, rule=rule)


def symptom(event: Event) -> str:
    """How requests raised from events start their summary: the event type, bracketed."""
    return f"[{event.event_type}]"


def unlisted_prefix(event: Event, name: str) -> str:
    """How a request for a CI the CMDB lacks starts its summary: the symptom, then the node
    and a colon (so "db-node-9:" is no prefix of "db-node-99:"). The request holds no CI, so
    its summary is what names the node and ties repeats to it."""
    return f"{symptom(event)} {name}:"


def summary_for(event: Event, unlisted: str | None = None) -> str:
    start = unlisted_prefix(event, unlisted) if unlisted else symptom(event)
    return f"{start} {event.message or ''}"[:100]


def is_reading(event: Event) -> bool:
    """A capacity reading: a measured value with the threshold it is compared with."""
    return event.value is not None and event.threshold is not None


def past_threshold(event: Event) -> bool:
    """A reading that warns of a capacity shortage (its value exceeds its threshold)."""
    return is_reading(event) and event.value > event.threshold  # type: ignore[operator]


def decide(
    situation: Situation,
    directory: Directory,
    config: HandlingConfig,
    assignment: AssignmentConfig,
) -> Plan:
    """The plan for one event (pure)."""
    event = situation.event
    plan = Plan(procedure=NAME, trigger=f"event:{event.id}")
    label = f"event {event.id}"
    if event.severity is EventSeverity.CLEAR:
        _clear(situation, config, plan)
    elif _registered_for_this_event(situation):
        _already_registered(situation, plan)
    elif situation.current is not None:
        _repeat(situation, config, plan)
    elif situation.problem is not None:
        _capacity_repeat(situation, config, plan)
    elif _closed_as_planned(situation, config):
        plan.note(label, "closed: planned", _planned_reason(situation))
    elif situation.cause is not None:
        _caused_elsewhere(situation, config, plan)
    elif is_reading(event):
        _capacity(situation, directory, config, plan)
    elif event.severity in (*OUTAGE, *DEGRADATION):
        _restoration(situation, directory, config, assignment, plan)
    else:
        plan.note(label, "closed: information", "no outage, degradation or capacity warning")
    return plan


def _unlisted(situation: Situation) -> str | None:
    """The name of the CI the event gives when the CMDB holds no such CI, else None."""
    event = situation.event
    return None if situation.ci is not None else (event.ci or event.node)


def _cmdb_gap(situation: Situation) -> str:
    """What the reason adds for a CI the CMDB lacks: why the request links none."""
    name = _unlisted(situation)
    if name is None:
        return ""
    return (
        f"; the CMDB has no CI named {name!r}, so the request is registered without a CI "
        "reference, naming the node, for the service desk to have the CMDB corrected"
    )


def _ci_name(situation: Situation) -> str:
    event = situation.event
    return (situation.ci.name if situation.ci else None) or event.ci or event.node or "(unknown CI)"


def _clear(situation: Situation, config: HandlingConfig, plan: Plan) -> None:
    event, incident = situation.event, situation.current
    label = f"event {event.id}"
    if incident is None:
        plan.note(
            label, "closed", "the condition cleared and no open incident request is tied to it"
        )
        return
    when = f"{event.occurred_at:%Y-%m-%d %H:%M} UTC" if event.occurred_at else "now"
    why = f"the condition '{event.message_key}' on {_ci_name(situation)} cleared at {when}"
    trigger = f"event:{event.id}"
    plan.add(
        note_action(
            on=RecordKind.INCIDENT,
            record=incident.id,
            step="clear-note",
            trigger=trigger,
            reason=reason(why),
            summary="Monitoring: condition cleared",
            text=f"{PROCESS} {PROCEDURE}: {why}.",
        )
    )
    if config.resolve_on_clear:
        plan.add(
            Action(
                kind=ActionKind.UPDATE,
                step="resolve",
                trigger=f"incident:{incident.id}:cleared",
                reason=reason(f"{why}; resolve_on_clear is set"),
                target_kind=RecordKind.INCIDENT,
                target_id=incident.id,
                changes={
                    "status": IncidentStatus.RESOLVED,
                    "status_reason": config.clear_status_reason,
                    "resolution": f"Cleared by monitoring: {event.message}",
                },
            )
        )
    plan.note(label, f"noted on {incident.id}", why)


def _registered_for_this_event(situation: Situation) -> bool:
    """The condition's own request exists, yet this is the first event of the condition smpm
    has received: the request was registered for this very event, which is now being worked
    again (a retry, or a worker that stopped before recording the outcome)."""
    request = situation.current or situation.warning
    return (
        situation.occurrence <= 1
        and request is not None
        and request.event_key == situation.event.message_key
    )


def _already_registered(situation: Situation, plan: Plan) -> None:
    """Nothing left to do: no second request, and no "repeated" note, since SMPM's "not the
    first event" does not hold for the first one. Still counted as the new request it was."""
    event, request = situation.event, situation.current or situation.warning
    assert request is not None
    why = (
        f"{request.id} was registered for this event, the first of '{event.message_key}' on "
        f"{_ci_name(situation)}, before it was worked again; nothing more to do"
    )
    plan.note(f"event {event.id}", "new incident request", why)


def _repeat(situation: Situation, config: HandlingConfig, plan: Plan) -> None:
    event, incident, n = situation.event, situation.current, situation.occurrence
    assert incident is not None
    why = (
        f"not the first event for {incident.id}: occurrence {n} of '{event.message_key}' on "
        f"{_ci_name(situation)}; the event is closed without a new incident request"
    )
    if _noted(config, n):
        plan.add(
            note_action(
                on=RecordKind.INCIDENT,
                record=incident.id,
                step="repeat-note",
                trigger=f"event:{event.id}",
                reason=reason(why),
                summary=f"Monitoring: event repeated ({n} so far)",
                text=f"{PROCESS} {PROCEDURE}: {why}. Latest: {event.message}",
            )
        )
    plan.note(f"event {event.id}", f"repeat of {incident.id}", why)


def _capacity_repeat(situation: Situation, config: HandlingConfig, plan: Plan) -> None:
    """The warning was registered and Capacity Management P2 closed it into a problem
    investigation: that problem is where the shortage is worked now, so the count goes there."""
    event, problem, n = situation.event, situation.problem, situation.occurrence
    assert problem is not None and problem.id
    warning = situation.warning.id if situation.warning is not None else "(unknown)"
    why = (
        f"not the first event for this capacity shortage: occurrence {n} of "
        f"'{event.message_key}' on {_ci_name(situation)}; its warning {warning} was closed by "
        f"Capacity Management P2 into the open problem investigation {problem.id}, so an "
        "incident request had already been registered for it; the event is closed without a "
        "new one"
    )
    if _noted(config, n):
        plan.add(
            note_action(
                on=RecordKind.PROBLEM,
                record=problem.id,
                step="repeat-note",
                trigger=f"event:{event.id}",
                reason=reason(why),
                summary=f"Monitoring: capacity warning repeated ({n} so far)",
                text=f"{PROCESS} {PROCEDURE}: {why}. Latest: {event.message}",
            )
        )
    plan.note(f"event {event.id}", f"repeat of {problem.id}", why)


def _noted(config: HandlingConfig, occurrence: int) -> bool:
    """Whether the `occurrence`-th event of a condition gets a work note: every one, or the
    doublings (1, 2, 4, 8, ...), so a flapping monitor cannot bury its incident in notes."""
    return config.repeat_notes == "every" or occurrence & (occurrence - 1) == 0


def _closed_as_planned(situation: Situation, config: HandlingConfig) -> bool:
    """SMPM: "closes the event if ... the event represents a service degradation or outage
    that was planned". A capacity warning is neither, unless the site says it counts."""
    planned = situation.change is not None or situation.window is not None
    return planned and (not is_reading(situation.event) or config.close_planned_capacity_warnings)


def _planned_reason(situation: Situation) -> str:
    name = _ci_name(situation)
    if situation.change is not None:
        change = situation.change
        return (
            f"{name} is in the window of approved change {change.id} "
            f"({change.summary}): the event is expected and closed"
        )
    assert situation.window is not None
    return f"{name} is in a planned maintenance window ({situation.window.reason}): closed"


def _caused_elsewhere(situation: Situation, config: HandlingConfig, plan: Plan) -> None:
    event, outage = situation.event, situation.cause
    assert outage is not None
    ci = situation.ci
    why = (
        f"{_ci_name(situation)} depends on {outage.ci}, whose outage {outage.id} is open: the "
        "event is attributed to it instead of opening a new incident request"
    )
    if ci is not None and ci.id:
        plan.add(
            incident_link(
                str(outage.id),
                to=RecordKind.CI,
                target=ci.id,
                relation_type=RelationType.IMPACTS,
                step="impacted-ci",
                trigger=f"outage:{outage.id}:ci:{ci.id}",
                reason=reason(why),
                optional=True,
            )
        )
    if _noted(config, situation.occurrence):
        plan.add(
            note_action(
                on=RecordKind.INCIDENT,
                record=outage.id,
                step="dependent-event",
                trigger=f"event:{event.id}",
                reason=reason(why),
                summary=f"Monitoring: dependent CI {_ci_name(situation)} affected",
                text=f"{PROCESS} {PROCEDURE}: {why}. Event: {event.message}",
            )
        )
    plan.note(f"event {event.id}", f"linked to {outage.id}", why)


READING_TAG = "smpm-reading "


def reading_line(event: Event) -> str:
    """The event's facts as one JSON line in the request's details, for later procedures
    (Capacity Warning Handling reads the utilisation level that raised the request from it)."""
    facts = {
        "source": event.source,
        "node": event.node,
        "ci": event.ci,
        "type": event.event_type,
        "resource": event.resource,
        "metric": event.metric,
        "value": event.value,
        "threshold": event.threshold,
        "message_key": event.message_key,
    }
    return READING_TAG + json.dumps({k: v for k, v in facts.items() if v is not None})


def _new_request(
    situation: Situation, config: HandlingConfig, service_type: ServiceType
) -> IncidentRequest:
    event = situation.event
    severity = event.severity or EventSeverity.WARNING
    unlisted = _unlisted(situation)
    missing = f"{unlisted} is not in the CMDB: no CI is linked.\n\n" if unlisted else ""
    return IncidentRequest(
        summary=summary_for(event, unlisted),
        details=f"{event.message}\n\n{missing}{reading_line(event)}",
        status=IncidentStatus.NEW,
        impact=config.impact.get(severity, Impact.MINOR),
        urgency=config.urgency.get(severity, Urgency.LOW),
        service_type=service_type,
        reported_source=ReportedSource.SYSTEMS_MANAGEMENT,
        customer=config.customer,
        ci=situation.ci.name if situation.ci else None,
        ci_id=situation.ci.id if situation.ci else None,
        service=situation.services[0] if situation.services else None,
        event_key=event.message_key,
    )


def _create(situation: Situation, record: IncidentRequest, why: str, plan: Plan) -> None:
    event = situation.event
    plan.add(
        Action(
            kind=ActionKind.CREATE,
            step="register",
            trigger=f"condition:{event.message_key}:{situation.episode}",
            reason=reason(why),
            target_kind=RecordKind.INCIDENT,
            record=record,
        )
    )
    plan.note(f"event {event.id}", "new incident request", why)


def _capacity(
    situation: Situation, directory: Directory, config: HandlingConfig, plan: Plan
) -> None:
    event = situation.event
    assert event.value is not None and event.threshold is not None
    if not past_threshold(event):
        plan.note(
            f"event {event.id}",
            "closed: information",
            f"{event.metric or 'reading'} {event.value:g} is within its threshold "
            f"{event.threshold:g}",
        )
        return
    service = situation.services[0] if situation.services else None
    manager = directory.service_role(service, "capacity_manager")
    record = _new_request(situation, config, ServiceType.INFRASTRUCTURE_EVENT)
    record = record.model_copy(
        update={
            "assigned_group": config.capacity_group,
            "assignee": manager,
            "status": IncidentStatus.ASSIGNED,
        }
    )
    unknown = f"no capacity manager is known for {service or 'its service'}"
    who = f"the capacity manager {manager}" if manager else f"{config.capacity_group} ({unknown})"
    why = (
        f"first warning of a capacity shortage: {event.metric or event.resource or 'utilisation'} "
        f"{event.value:g} exceeds threshold {event.threshold:g} on {_ci_name(situation)}"
        f"{' (service ' + service + ')' if service else ''}{_cmdb_gap(situation)}; assigned to "
        f"{who}{_planned_anyway(situation)}"
    )
    _create(situation, record, why, plan)


def _planned_anyway(situation: Situation) -> str:
    """Why a warning inside a change or maintenance window was registered all the same."""
    change, window = situation.change, situation.window
    if change is not None:
        inside = f"in the window of approved change {change.id} ({change.summary})"
    elif window is not None:
        inside = f"in a planned maintenance window ({window.reason})"
    else:
        return ""
    return (
        f"; {_ci_name(situation)} is {inside}, but SMPM closes only a planned "
        "service degradation or outage and a capacity shortage outlasts the window "
        "([event.handling] close_planned_capacity_warnings is off)"
    )


def _restoration(
    situation: Situation,
    directory: Directory,
    config: HandlingConfig,
    assignment: AssignmentConfig,
    plan: Plan,
) -> None:
    event = situation.event
    kind = "outage" if event.severity in OUTAGE else "degradation"
    record = _new_request(situation, config, ServiceType.INFRASTRUCTURE_RESTORATION)
    routing = choose_group(_as_named(situation, record), assignment)
    route = "left for the service desk to assign (no routing rule matched)"
    if routing is not None:
        group = directory.group(routing.group)
        record = record.model_copy(
            update={
                "assigned_group": routing.group,
                "assignee": routing.assignee,
                "assigned_company": group.company if group else None,
                "assigned_organization": group.organization if group else None,
                "status": IncidentStatus.ASSIGNED,
            }
        )
        route = f"routed to {routing.group} ({routing.why})"
    why = (
        f"first notice of an unplanned {kind} of {_ci_name(situation)}"
        f"{' (service ' + situation.services[0] + ')' if situation.services else ''}"
        f"{_cmdb_gap(situation)}; {route}"
    )
    _create(situation, record, why, plan)


def _as_named(situation: Situation, record: IncidentRequest) -> IncidentRequest:
    """The request as routing rules see it: with the CI the monitor named, even one the CMDB
    lacks (a rule on "db-node-99" routes its outage whether or not the CMDB has it yet)."""
    name = _unlisted(situation)
    if name is None:
        return record
    return record.model_copy(update={"ci": name, "summary": summary_for(situation.event)})


# How an event ended, as a short stable code, by the outcome of its finding (first match wins).
# The webhook processor stores the code with the event; Event Review (P2) counts by it.
OUTCOME_CODES = (
    ("new incident request", "new_incident"),
    ("repeat of ", "repeat"),
    ("linked to ", "attributed"),
    ("closed: planned", "planned"),
    ("closed: information", "information"),
    ("noted on ", "clear"),
    ("closed", "clear"),
)


def outcome_code(outcome: str) -> str:
    """'repeat of INC7' -> 'repeat'; 'unknown' for an outcome this procedure does not write."""
    return next((code for start, code in OUTCOME_CODES if outcome.startswith(start)), "unknown")


SPEC = Procedure(
    name=NAME,
    process=PROCESS,
    number=1,
    title="Event Handling",
    triggers=("webhook: POST /hooks/events", "webhook: POST /hooks/alertmanager"),
    run=None,
)
