"""The leases of one claimed batch, renewed in a thread of their own while the worker works.

A claim leases a whole batch at once (a lane's due events go to one worker), and the worker
decides them one after the other; one ITSM create slowed by latency or a Retry-After can take
longer than the lease. Unrenewed, the leases of the events still waiting their turn would run
out, and another worker would take them and register the same conditions again. So while the
batch is worked, a heartbeat renews every unsettled lease each `heartbeat_seconds` (a third of
the lease), in its own thread, so a request that blocks the worker does not block the renewal.

An event is held while its last renewal has not run out: a renewal that finds the event taken,
or that did not happen in time (the store was unreachable), ends the hold for good. The worker
asks `held()` before each event and the handler before each ITSM call; a settle that finds
the lease gone records nothing (`store._settle` checks the owner).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from types import TracebackType

from sqlalchemy import Engine

from smpm.intake.store import renew

log = logging.getLogger("smpm.intake")


class Leases:
    def __init__(
        self,
        engine: Engine,
        owner: str,
        ids: Iterable[str],
        claimed_at: datetime,
        *,
        clock: Callable[[], datetime],
        lease: timedelta,
        every: float,
    ) -> None:
        self._engine, self._owner, self._clock = engine, owner, clock
        self._lease, self._every = lease, every
        self.on_renewed: Callable[[int], None] | None = None  # told how many, for the metric
        until = claimed_at + lease  # what the claim wrote
        self._until = {event_id: until for event_id in ids}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="smpm-lease", daemon=True)

    def __enter__(self) -> Leases:
        if self._until:
            self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def held(self, event_id: str) -> bool:
        """Whether the event is still this worker's: not settled, not lost, not run out."""
        with self._lock:
            until = self._until.get(event_id)
        return until is not None and self._clock() <= until

    def settle(self, event_id: str) -> None:
        """The worker is about to record what became of the event: renew it no more."""
        with self._lock:
            self._until.pop(event_id, None)

    def renew_now(self) -> None:
        """One heartbeat: every unsettled lease still held runs on from now."""
        now = self._clock()
        with self._lock:
            ids = [i for i, until in self._until.items() if now <= until]
        try:
            renewed = renew(self._engine, self._owner, ids, now, self._lease)
        except Exception:  # the store is unreachable: the leases run out unless it comes back
            log.exception("renewing the leases of %d event(s) failed", len(ids))
            return
        with self._lock:
            for event_id in ids:
                if event_id not in self._until:
                    continue  # settled meanwhile
                if event_id in renewed:
                    self._until[event_id] = now + self._lease
                else:
                    del self._until[event_id]
                    log.warning("event %s: lease lost", event_id, extra={"event_id": event_id})
        if self.on_renewed is not None and renewed:
            self.on_renewed(len(renewed))

    def _beat(self) -> None:
        while not self._stop.wait(self._every):
            self.renew_now()
