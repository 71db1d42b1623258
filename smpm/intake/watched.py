"""A connector as an event worker uses it: each call first checks the worker still holds the
event, and an ITSM that was unavailable is remembered even where the executor records it as
one failed action among others.

The executor turns a write's error into a failed outcome with its message (a plan goes on after
one failed action), so by the time the processor sees a failed plan the error's type is gone.
Whether the ITSM was unreachable, timing out or rate limiting is what decides if the event
spends an attempt, so this wrapper notes every error of the connector's retryable branch the
calls of the current attempt meet (`Attempt.outage`), and the processor raises the failed plan
from it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from connector.base import BatchWrite, Connector
from connector.entities import Entity, RecordKind, Relation, WorkNote
from connector.errors import RetryableError
from connector.filters import Filter
from smpm.intake.worker import LeaseLost

E = TypeVar("E", bound=Entity)
R = TypeVar("R")


@dataclass
class Attempt:
    """One attempt at one event, in one worker thread."""

    held: Callable[[], bool]
    outage: RetryableError | None = None


class Watched:
    """Wraps one thread's connector; `local.attempt` is the attempt under way, if any."""

    def __init__(self, inner: Connector, local: threading.local) -> None:
        self._inner = inner
        self._local = local
        self.platform = inner.platform

    def _call(self, call: Callable[[], R]) -> R:
        attempt: Attempt | None = getattr(self._local, "attempt", None)
        if attempt is not None and not attempt.held():
            raise LeaseLost("lease lost before an ITSM call")
        try:
            return call()
        except RetryableError as exc:
            if attempt is not None:
                attempt.outage = exc
            raise

    def get(self, model: type[E], id: str) -> E:
        return self._call(lambda: self._inner.get(model, id))

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
        """Lazily, like the connector: every page is a call, checked and watched."""
        pages = self._call(
            lambda: iter(
                self._inner.find(
                    model,
                    where,
                    order_by=order_by,
                    descending=descending,
                    limit=limit,
                    within=within,
                )
            )
        )
        done = object()
        while True:
            item = self._call(lambda: next(pages, done))
            if item is done:
                return
            yield item  # type: ignore[misc]

    def create(self, entity: E) -> E:
        return self._call(lambda: self._inner.create(entity))

    def update(self, model: type[E], record: E | str, changes: Mapping[str, Any]) -> None:
        self._call(lambda: self._inner.update(model, record, changes))

    def relate(self, relation: Relation) -> Relation:
        return self._call(lambda: self._inner.relate(relation))

    def add_note(self, note: WorkNote) -> WorkNote:
        return self._call(lambda: self._inner.add_note(note))

    def maps(self, kind: RecordKind, field: str) -> bool:
        return self._inner.maps(kind, field)

    def close(self) -> None:
        self._inner.close()

    def __getattr__(self, name: str) -> Any:
        """Anything else the connector has (ServiceNow's Batch API: `batching`,
        `apply_batch`); a batch reports each write's error instead of raising it."""
        value = getattr(self._inner, name)
        if name != "apply_batch":
            return value

        def apply_batch(writes: Sequence[BatchWrite]) -> list[Exception | None]:
            errors: list[Exception | None] = self._call(lambda: value(writes))
            attempt: Attempt | None = getattr(self._local, "attempt", None)
            for error in errors:
                if attempt is not None and isinstance(error, RetryableError):
                    attempt.outage = error
            return errors

        return apply_batch
