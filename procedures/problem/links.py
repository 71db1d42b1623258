"""How problem investigations are linked to incident requests and changes, read in few queries.

Incident requests: both platforms keep an incident's link to its problem where it can be found
from the incident's side: Remedy as `HPD:Associations` rows (`Request ID02` the incident,
`Request ID01` the problem), ServiceNow as `incident.problem_id`. So relations `within` incident
with `target_id` among problem ids are a problem's incidents on both, and with `source_id` among
incident ids, an incident's problem.

The change that implements a structural solution: Remedy keeps problem <-> change associations
on `PBM:Investigation Associations` (the row the ITSM writes on the problem's side when the
change is related to the problem, from either side); ServiceNow keeps it in the problem's `rfc`
reference ("Change request"), mapped as `[kinds.relation.sources.problem]` in
mappings/servicenow.toml. Both read as relations `within` problem whose target is a change. Only
a relation of a `SOLUTION` type names the structural solution: a Remedy association saying the
problem investigation was "Caused By" the change (or "Caused" it) names the change that brought
the problem, not the one that fixes it. (ServiceNow's `rfc` reads as related_to; the change an
incident was caused by, `incident.caused_by`, is not a problem's relation at all.) A change
related only to a known error (Remedy) is not seen: relate it to the problem investigation too.

Ids are asked `IDS_PER_QUERY` at a time (an OR-query per chunk), never one query per record.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from connector.base import Connector, E
from connector.entities import RecordKind, Relation
from connector.enums import ChangeStatus, RelationType
from connector.filters import Field as F
from connector.filters import Filter

IDS_PER_QUERY = 100
PROBLEM = RecordKind.PROBLEM
# How a change ends: implemented (its structural solution is in place) or not.
IMPLEMENTED = (ChangeStatus.COMPLETED, ChangeStatus.CLOSED)
NOT_IMPLEMENTED = (ChangeStatus.CANCELLED, ChangeStatus.REJECTED)
ENDED = (*IMPLEMENTED, *NOT_IMPLEMENTED)
# How a problem investigation is related to the change implementing its structural solution.
SOLUTION = frozenset({RelationType.RELATED_TO})


def chunks(ids: Iterable[str], size: int = IDS_PER_QUERY) -> Iterator[list[str]]:
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), size):
        yield wanted[start : start + size]


def _relations(
    connector: Connector, field: str, ids: Iterable[str], within: RecordKind, to: RecordKind
) -> Iterator[Relation]:
    """Links from `within` records to `to` records whose `field` is one of `ids`."""
    for chunk in chunks(ids):
        where = F(field).one_of(*chunk) & (F("target_kind") == to)
        yield from connector.find(Relation, where, within=within)


def problems_of(connector: Connector, incident_ids: Iterable[str]) -> dict[str, str]:
    """Incident id -> the problem investigation it is linked to (the first, when several)."""
    found: dict[str, str] = {}
    for rel in _relations(connector, "source_id", incident_ids, RecordKind.INCIDENT, PROBLEM):
        found.setdefault(rel.source_id, rel.target_id)
    return found


def incidents_of(connector: Connector, problem_ids: Iterable[str]) -> dict[str, set[str]]:
    """Problem id -> the incident requests linked to it."""
    found: dict[str, set[str]] = {}
    for rel in _relations(connector, "target_id", problem_ids, RecordKind.INCIDENT, PROBLEM):
        found.setdefault(rel.target_id, set()).add(rel.source_id)
    return found


def changes_of(connector: Connector, problem_ids: Iterable[str]) -> dict[str, set[str]]:
    """Problem id -> the changes related to it as its structural solution."""
    found: dict[str, set[str]] = {}
    for rel in _relations(connector, "source_id", problem_ids, PROBLEM, RecordKind.CHANGE):
        if rel.relation_type in SOLUTION:
            found.setdefault(rel.source_id, set()).add(rel.target_id)
    return found


def problems_naming(connector: Connector, change_ids: Iterable[str]) -> set[str]:
    """Ids of the problems (or, on Remedy, known errors) these changes are a solution of."""
    links = _relations(connector, "target_id", change_ids, PROBLEM, RecordKind.CHANGE)
    return {rel.source_id for rel in links if rel.relation_type in SOLUTION}


def by_ids(
    connector: Connector, model: type[E], ids: Iterable[str], where: Filter | None = None
) -> dict[str, E]:
    """The records with these ids (and matching `where`), by id."""
    found: dict[str, E] = {}
    for chunk in chunks(ids):
        condition = F("id").one_of(*chunk)
        if where is not None:
            condition = condition & where
        found |= {r.id: r for r in connector.find(model, condition) if r.id}
    return found
