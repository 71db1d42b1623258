"""Group commit: many webhook requests, one durable transaction.

A commit that survives a power cut costs an fsync; doing one per request caps the intake at the
disk's fsync rate. The writer thread instead takes every request that arrived while the previous
commit ran, stores them in one transaction, and only then releases their 202 answers. Each sender
still hears 202 only after its own event is on disk; under load the fsync cost is shared.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime

from sqlalchemy import Engine

from smpm.intake.models import Intake
from smpm.intake.store import Accepted, accept

log = logging.getLogger("smpm.intake")

_STOP = object()


class GroupWriter:
    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime],
        *,
        max_batch: int = 256,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.max_batch = max_batch
        self.on_batch = on_batch
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="smpm-intake-writer", daemon=True)
        self._thread.start()

    def submit(self, items: list[Intake]) -> Future[list[Accepted]]:
        """Store `items`; the future resolves once they are committed (or with the error)."""
        future: Future[list[Accepted]] = Future()
        self._queue.put((items, future))
        return future

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    self._commit(batch)
                    return
                batch.append(item)
            self._commit(batch)

    def _commit(self, batch: list[object]) -> None:
        requests = [b for b in batch if isinstance(b, tuple)]
        items = [i for items, _ in requests for i in items]
        try:
            accepted = accept(self.engine, items, self.clock())
        except Exception as exc:  # the senders must hear of it; nothing was stored
            log.exception("intake commit failed for %d item(s)", len(items))
            for _, future in requests:
                future.set_exception(exc)
            return
        if self.on_batch is not None:
            self.on_batch(len(items))
        start = 0
        for request_items, future in requests:
            future.set_result(accepted[start : start + len(request_items)])
            start += len(request_items)
