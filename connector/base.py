"""The one seam between procedures and an ITSM: a small interface that speaks SMPM entities.

Procedures read through `get` and `find`; only the executor calls the writing methods. Every
method returns entities, never platform JSON. Implementations: `connector.remedy.RemedyConnector`,
`connector.servicenow.ServiceNowConnector`, and `connector.testing.FakeConnector` for tests.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

from connector.entities import Entity, RecordKind, Relation, WorkNote
from connector.filters import Filter

E = TypeVar("E", bound=Entity)


@runtime_checkable
class Connector(Protocol):
    platform: str

    def get(self, model: type[E], id: str) -> E:
        """The record people call `id` (INC..., PBI...); NotFound when it does not exist."""
        ...

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
        """Lazily every record matching `where`, page by page, in a stable order.

        `within` names the parent kind for work notes and the source kind for relations, whose
        platform storage differs per kind.
        """
        ...

    def create(self, entity: E) -> E:
        """Create the record and return it as the platform stored it (with its real ids).

        Set `entity.correlation_id` to the idempotency key so a replay can find the record.
        """
        ...

    def update(self, model: type[E], record: E | str, changes: Mapping[str, Any]) -> None:
        """Change SMPM fields of one record, given as an entity or by its id."""
        ...

    def relate(self, relation: Relation) -> Relation:
        """Link two records (incident to problem, CI to CI...)."""
        ...

    def add_note(self, note: WorkNote) -> WorkNote:
        """Add a work note to a record; SMPM's 'informs X' steps end up here."""
        ...

    def maps(self, kind: RecordKind, field: str) -> bool:
        """Whether the platform keeps `field` for `kind` (optional extras are written only then)."""
        ...

    def close(self) -> None:
        """End the session (log out) and release connections."""
        ...


@dataclass(frozen=True)
class RecordUpdate:
    """One `Connector.update`, to be sent with others in one round trip."""

    model: type[Entity]
    record: Entity | str
    changes: Mapping[str, Any]


BatchWrite = RecordUpdate | WorkNote


@runtime_checkable
class BatchWriter(Protocol):
    """A connector that sends many small writes in few round trips (ServiceNow's Batch API)."""

    @property
    def batching(self) -> bool:
        """Whether callers should batch (False: configured off, write one at a time)."""
        ...

    def apply_batch(self, writes: Sequence[BatchWrite]) -> list[Exception | None]:
        """Every write, in as few calls as the platform allows; one result per write, in
        order: None when it was applied, else the error it met (nothing raised for one)."""
        ...
