"""Group commit: many webhook requests, one durable transaction.

A commit that survives a power cut costs an fsync; doing one per request caps the intake at the
disk's fsync rate. Requests validated in the same event-loop turn are handed to the writer thread
together, and the writer stores everything handed over while its previous commit ran in one
transaction, then wakes the event loop once to release all their 202 answers. Each sender still
hears 202 only after its own event is on disk; under load the fsync cost is shared.

One request never fails the others of its commit. The app validates every value before it
reaches the writer; should the database still refuse a row (a value too long, a character it
cannot hold), the commit is split in halves and each half tried again, down to the request at
fault, which alone hears of it. A store that is unavailable (no connection, locked) fails the
whole commit at once: splitting would only make every sender wait longer.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, StatementError

from smpm.intake.models import Intake
from smpm.intake.store import Accepted, accept

log = logging.getLogger("smpm.intake")

_STOP = object()


@dataclass
class _Handover:
    """Requests handed over together, and how to reach the thread that waits for them."""

    requests: list[tuple[list[Intake], Any]]  # (items, asyncio or concurrent future)
    deliver: Callable[[Callable[[], None]], object]


class GroupWriter:
    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime],
        *,
        max_batch: int = 512,
        on_batch: Callable[[int, float], None] | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.max_batch = max_batch
        self.on_batch = on_batch
        self._queue: queue.Queue[object] = queue.Queue()
        self._turn: list[tuple[list[Intake], asyncio.Future[list[Accepted]]]] = []
        self._thread = threading.Thread(target=self._run, name="smpm-intake-writer", daemon=True)
        self._thread.start()

    async def store(self, items: list[Intake]) -> list[Accepted]:
        """Store `items` durably; returns once they are committed (or raises the error)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Accepted]] = loop.create_future()
        if not self._turn:
            loop.call_soon(self._hand_over, loop)  # after the requests already ready this turn
        self._turn.append((items, future))
        return await future

    def submit(self, items: list[Intake]) -> Future[list[Accepted]]:
        """Store `items` from a plain thread; the future resolves once they are committed."""
        future: Future[list[Accepted]] = Future()
        self._queue.put(_Handover([(items, future)], lambda resolve: resolve()))
        return future

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=10)

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        turn, self._turn = self._turn, []
        self._queue.put(_Handover(list(turn), loop.call_soon_threadsafe))

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch: list[_Handover] = [first]  # type: ignore[list-item]
            size = len(first.requests)  # type: ignore[attr-defined]
            while size < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    self._commit(batch)
                    return
                batch.append(more)  # type: ignore[arg-type]
                size += len(more.requests)  # type: ignore[attr-defined]
            self._commit(batch)

    def _commit(self, batch: list[_Handover]) -> None:
        outcomes = iter(self._store([items for h in batch for items, _ in h.requests]))
        for handover in batch:
            results = [(future, next(outcomes)) for _, future in handover.requests]
            handover.deliver(_resolver(results))

    def _store(self, groups: list[list[Intake]]) -> list[list[Accepted] | BaseException]:
        """Each request's accepted items, or the error that kept it from being stored: all in
        one transaction, or, when the database refuses a row, in halves until the request at
        fault is alone."""
        items = [i for group in groups for i in group]
        started = time.perf_counter()
        try:
            accepted = accept(self.engine, items, self.clock())
        except Exception as exc:  # the senders must hear of it; nothing of theirs was stored
            if len(groups) > 1 and refused_rows(exc):
                half = len(groups) // 2
                return self._store(groups[:half]) + self._store(groups[half:])
            if refused_rows(exc):
                log.error("the store refused a request of %d item(s): %s", len(items), why(exc))
            else:
                log.exception("intake commit failed for %d item(s)", len(items))
            return [exc] * len(groups)
        if self.on_batch is not None:
            self.on_batch(len(items), time.perf_counter() - started)
        outcomes: list[list[Accepted] | BaseException] = []
        start = 0
        for group in groups:
            outcomes.append(accepted[start : start + len(group)])
            start += len(group)
        return outcomes


def refused_rows(exc: BaseException) -> bool:
    """Whether the statement failed for what it held (the database's DataError or integrity
    error, or a value its driver could not send: psycopg raises the JSON encoder's TypeError
    as it is, SQLite's path wraps it), as opposed to the store being unavailable: only then
    can a retry without the request at fault succeed."""
    if isinstance(exc, OperationalError | InterfaceError):
        return False
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return False
    return isinstance(exc, StatementError | TypeError | ValueError)


def why(exc: BaseException) -> str:
    """The database's own first line about `exc`, without the statement or its parameters."""
    cause = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
    lines = str(cause).strip().splitlines()
    return (lines[0] if lines else type(cause).__name__)[:200]


def _resolver(results: list[tuple[Any, list[Accepted] | BaseException]]) -> Callable[[], None]:
    def resolve() -> None:
        for future, outcome in results:
            if future.cancelled():  # the sender hung up; its events are stored all the same
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    return resolve
