"""Test helpers for smpm and for users checking their own rules: a fake connector and builders.

`FakeConnector` keeps entities in memory, evaluates filter expressions itself and records every
write, so a routing rule or a tracking threshold can be tested without any server:

    fake = FakeConnector()
    fake.add(incident(id="INC1", service="Payroll", status=IncidentStatus.NEW))
    plan = assignment.run(Context(fake, settings, now))
    assert fake.writes == []          # procedures only plan; the executor writes
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from connector.base import E
from connector.entities import Entity, IncidentRequest, RecordKind, Relation, WorkNote
from connector.errors import NotFound
from connector.filters import (
    And,
    Comparison,
    Filter,
    In,
    IsNull,
    Like,
    LikeMode,
    Not,
    Op,
    Or,
)

PREFIX = {
    RecordKind.INCIDENT: "INC",
    RecordKind.PROBLEM: "PBI",
    RecordKind.KNOWN_ERROR: "PKE",
    RecordKind.CHANGE: "CRQ",
    RecordKind.TASK: "TAS",
    RecordKind.WORK_NOTE: "WLG",
}


@dataclass
class Write:
    """One write the fake received, for assertions."""

    operation: str
    kind: RecordKind
    target: str | None
    values: dict[str, Any]


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _compare(left: Any, op: Op, right: Any) -> bool:
    left, right = _plain(left), _plain(right)
    if left is None:
        return op is Op.NE
    if op is Op.EQ:
        return bool(left == right)
    if op is Op.NE:
        return bool(left != right)
    try:
        return {
            Op.LT: left < right,
            Op.LE: left <= right,
            Op.GT: left > right,
            Op.GE: left >= right,
        }[op]
    except TypeError:
        return False


def matches(values: Mapping[str, Any], expr: Filter | None) -> bool:
    """Evaluate an SMPM-level filter expression against an entity's fields."""
    if expr is None:
        return True
    if isinstance(expr, Comparison):
        return _compare(values.get(expr.field), expr.op, expr.value)
    if isinstance(expr, Like):
        text = values.get(expr.field)
        if text is None:
            return False
        text = str(_plain(text))
        if expr.mode is LikeMode.CONTAINS:
            return expr.text in text
        return (
            text.startswith(expr.text)
            if expr.mode is LikeMode.STARTS_WITH
            else text.endswith(expr.text)
        )
    if isinstance(expr, IsNull):
        empty = values.get(expr.field) in (None, "")
        return not empty if expr.negated else empty
    if isinstance(expr, In):
        return any(_compare(values.get(expr.field), Op.EQ, v) for v in expr.values)
    if isinstance(expr, And):
        return all(matches(values, p) for p in expr.parts)
    if isinstance(expr, Or):
        return any(matches(values, p) for p in expr.parts)
    if isinstance(expr, Not):
        return not matches(values, expr.part)
    raise TypeError(f"cannot evaluate {type(expr).__name__}")


@dataclass
class FakeConnector:
    """An in-memory `Connector`; ids are assigned like the platform's (INC000000000001...)."""

    platform: str = "fake"
    records: dict[RecordKind, dict[str, Entity]] = field(default_factory=dict)
    notes: list[WorkNote] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    reads: int = 0
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def add(self, *entities: Entity) -> FakeConnector:
        """Seed records without counting them as writes."""
        for entity in entities:
            if isinstance(entity, Relation):
                self.relations.append(entity)
            elif isinstance(entity, WorkNote):
                self.notes.append(entity)
            else:
                ident = entity.id or self._new_id(entity.kind)
                stored = entity.model_copy(
                    update={"id": ident, "platform_id": entity.platform_id or ident}
                )
                self.records.setdefault(entity.kind, {})[ident] = stored
        return self

    def _new_id(self, kind: RecordKind) -> str:
        return f"{PREFIX.get(kind, kind.value.upper()[:3])}{next(self._ids):012d}"

    def maps(self, kind: RecordKind, field: str) -> bool:
        """Every entity field exists here."""
        return True

    def get(self, model: type[E], id: str) -> E:
        self.reads += 1
        found = self.records.get(model.kind, {}).get(id)
        if found is None:
            raise NotFound(f"fake: no {model.kind.value} {id!r}")
        return found  # type: ignore[return-value]

    def find(
        self,
        model: type[E],
        where: Filter | None = None,
        *,
        order_by: str | None = None,
        descending: bool = False,
        limit: int | None = None,
        within: RecordKind | None = None,
    ) -> Iterator[E]:
        self.reads += 1
        rows: list[Any]
        if model.kind is RecordKind.WORK_NOTE:
            rows = [n for n in self.notes if within is None or n.parent_kind is within]
        elif model.kind is RecordKind.RELATION:
            rows = [r for r in self.relations if within is None or r.source_kind is within]
        else:
            rows = list(self.records.get(model.kind, {}).values())
        rows = [r for r in rows if matches(dict(r), where)]
        key = order_by or "id"
        rows.sort(
            key=lambda r: (getattr(r, key, None) is None, str(_plain(getattr(r, key, "")))),
            reverse=descending,
        )
        return iter(rows[:limit] if limit is not None else rows)

    def create(self, entity: E) -> E:
        ident = self._new_id(entity.kind)
        stored = entity.model_copy(update={"id": ident, "platform_id": ident})
        self.records.setdefault(entity.kind, {})[ident] = stored
        self.writes.append(
            Write("create", entity.kind, ident, entity.model_dump(exclude_none=True))
        )
        return stored

    def update(self, model: type[E], record: E | str, changes: Mapping[str, Any]) -> None:
        ident = record.id if isinstance(record, Entity) else record
        current = self.get(model, str(ident))
        self.records[model.kind][str(ident)] = current.model_copy(update=dict(changes))
        self.writes.append(Write("update", model.kind, str(ident), dict(changes)))

    def relate(self, relation: Relation) -> Relation:
        self.relations.append(relation)
        self.writes.append(
            Write("relate", relation.source_kind, relation.source_id, relation.model_dump())
        )
        return relation

    def add_note(self, note: WorkNote) -> WorkNote:
        self.notes.append(note)
        self.writes.append(Write("add_note", note.parent_kind, note.parent_id, note.model_dump()))
        return note

    def close(self) -> None:
        return None


def incident(**fields: Any) -> IncidentRequest:
    """An incident request with sensible defaults; override any field."""
    base: dict[str, Any] = {"summary": "Something is broken", "company": "Calbro Services"}
    return IncidentRequest(**{**base, **fields})


def at(text: str) -> datetime:
    """`at("2026-11-25 10:00")` -> an aware UTC datetime, for readable test timelines."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
