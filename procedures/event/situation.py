"""Gathering what Event Handling decides on: as few ITSM reads as the decision needs.

Reads happen in the order of the decisions, and stop as soon as one settles the event: most
events in a storm repeat a condition that already has an incident request, and those cost one
read. The CMDB's shape comes from the cached snapshot, not from the ITSM per event.
"""

from __future__ import annotations

from connector.base import Connector
from connector.entities import Change, Event, IncidentRequest
from connector.enums import ChangeStatus, EventSeverity, IncidentStatus, ServiceType
from connector.filters import Field as F
from connector.filters import Filter, any_of
from procedures.event.cmdb import CmdbSnapshot
from procedures.event.handling import HandlingConfig, Situation, symptom

OPEN = [s for s in IncidentStatus if s.is_open]
APPROVED = [ChangeStatus.SCHEDULED, ChangeStatus.IMPLEMENTATION_IN_PROGRESS]


def gather(
    connector: Connector,
    event: Event,
    occurrence: int,
    cmdb: CmdbSnapshot,
    config: HandlingConfig,
) -> Situation:
    ci = cmdb.find(event.ci) or cmdb.find(event.node)
    services = cmdb.supported_services(ci) if ci is not None else []
    base = {"event": event, "occurrence": occurrence, "ci": ci, "services": services}
    same_key = list(connector.find(IncidentRequest, F("event_key") == str(event.message_key)))
    episode = len(same_key)
    current = next((i for i in same_key if i.status in OPEN), None)
    name = ci.name if ci is not None else (event.ci or event.node)
    if current is None and name:
        where = (
            (F("ci") == name) & F("summary").startswith(symptom(event)) & F("status").one_of(*OPEN)
        )
        current = next(iter(connector.find(IncidentRequest, where, limit=1)), None)
    if event.severity is EventSeverity.CLEAR or current is not None:
        return Situation(**base, current=current, episode=episode)
    when = event.occurred_at
    window = next((w for w in config.maintenance if when and w.covers(name, services, when)), None)
    change = _change_in_window(connector, name, services, event) if when else None
    if change is not None or window is not None:
        return Situation(**base, episode=episode, change=change, window=window)
    deps = cmdb.dependencies(ci, config.dependency_depth) if ci is not None else []
    cause = _open_outage_on(connector, deps) if deps else None
    return Situation(**base, episode=episode, cause=cause)


def _change_in_window(
    connector: Connector, ci: str | None, services: list[str], event: Event
) -> Change | None:
    assert event.occurred_at is not None
    targets: list[Filter] = [F("ci") == ci] if ci else []
    if services:
        targets.append(F("service").one_of(*services))
    if not targets:
        return None
    where = (
        F("status").one_of(*APPROVED)
        & (F("scheduled_start") <= event.occurred_at)
        & (F("scheduled_end") >= event.occurred_at)
        & any_of(*targets)
    )
    return next(iter(connector.find(Change, where, limit=1)), None)


def _open_outage_on(connector: Connector, cis: list[str]) -> IncidentRequest | None:
    where = (
        F("ci").one_of(*cis[:50])
        & F("status").one_of(*OPEN)
        & (F("service_type") == ServiceType.INFRASTRUCTURE_RESTORATION)
    )
    found = {i.ci: i for i in connector.find(IncidentRequest, where)}
    return next((found[c] for c in cis if c in found), None)
