"""Gathering what Event Handling decides on: as few ITSM reads as the decision needs.

Reads happen in the order of the decisions, and stop as soon as one settles the event: most
events in a storm repeat a condition that already has an incident request, and those cost one
read. The CMDB's shape comes from the cached snapshot, not from the ITSM per event.
"""

from __future__ import annotations

from connector.base import Connector
from connector.entities import (
    Change,
    ConfigurationItem,
    Event,
    IncidentRequest,
    RecordKind,
    Relation,
)
from connector.enums import ChangeStatus, EventSeverity, Impact, IncidentStatus, ServiceType
from connector.filters import Field as F
from connector.filters import Filter
from procedures.event.cmdb import CmdbSnapshot
from procedures.event.handling import HandlingConfig, Situation, symptom

OPEN = [s for s in IncidentStatus if s.is_open]
IMPACTS = [Impact.EXTENSIVE, Impact.SIGNIFICANT, Impact.MODERATE, Impact.MINOR]
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
    name = ci.name if ci is not None else (event.ci or event.node)
    key = str(event.message_key)
    where: Filter = F("event_key") == key
    if name:  # one query for both: this condition's requests, and open ones on CI and symptom
        same_symptom = F("ci") == name
        same_symptom &= F("summary").startswith(symptom(event)) & F("status").one_of(*OPEN)
        where |= same_symptom
    found = list(connector.find(IncidentRequest, where))
    same_key = [i for i in found if i.event_key == key]
    episode = len(same_key)
    current = next((i for i in same_key if i.status in OPEN), None)
    if current is None:
        current = next((i for i in found if i.event_key != key and i.status in OPEN), None)
    if event.severity is EventSeverity.CLEAR or current is not None:
        return Situation(**base, current=current, episode=episode)
    when = event.occurred_at
    window = next((w for w in config.maintenance if when and w.covers(name, services, when)), None)
    change = _change_in_window(connector, ci, services, event) if when else None
    if change is not None or window is not None:
        return Situation(**base, episode=episode, change=change, window=window)
    reading = event.value is not None and event.threshold is not None
    deps = cmdb.dependencies(ci, config.dependency_depth) if ci is not None and not reading else []
    cause = _open_outage_on(connector, deps, config) if deps else None
    return Situation(**base, episode=episode, cause=cause)


def _change_in_window(
    connector: Connector, ci: ConfigurationItem | None, services: list[str], event: Event
) -> Change | None:
    """An approved change whose window covers the event and that touches the CI or a service
    it supports. Changes name their CIs in different places per platform (a field, or
    association rows), so the few changes in their window are listed first, then checked."""
    assert event.occurred_at is not None
    where = (
        F("status").one_of(*APPROVED)
        & (F("scheduled_start") <= event.occurred_at)
        & (F("scheduled_end") >= event.occurred_at)
    )
    in_window = list(connector.find(Change, where, limit=50))
    names = {n.casefold() for n in [ci.name if ci else None, *services] if n}
    for change in in_window:
        if {(change.ci or "").casefold(), (change.service or "").casefold()} & names:
            return change
    if ci is None or not ci.id:
        return None
    for change in in_window:
        links = connector.find(Relation, F("source_id") == str(change.id), within=RecordKind.CHANGE)
        if any(link.target_id == ci.id for link in links):
            return change
    return None


def _open_outage_on(
    connector: Connector, cis: list[str], config: HandlingConfig
) -> IncidentRequest | None:
    """The nearest of `cis` with an outage being worked on, by the order `cis` come in."""
    severe = IMPACTS[: IMPACTS.index(config.cause_min_impact) + 1]
    where = (
        F("ci").one_of(*cis[:50])
        & F("status").one_of(*(s for s in OPEN if s is not IncidentStatus.PENDING))
        & (F("service_type") == ServiceType.INFRASTRUCTURE_RESTORATION)
        & F("impact").one_of(*severe)
    )
    found = {i.ci: i for i in connector.find(IncidentRequest, where)}
    return next((found[c] for c in cis if c in found), None)
