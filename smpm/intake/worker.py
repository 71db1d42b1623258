"""Workers: claim stored events under a lease, process them, retry failures, keep the dead.

Processing an event runs its procedure through the executor, whose idempotency keys make a second
run of the same event write nothing new. So a worker killed at any point loses nothing (the event
stays stored; its lease expires and another claim takes it) and duplicates nothing (the replay
finds its earlier writes). A failure is retried after an exponential, jittered delay; after
`max_attempts` the event is kept as dead with the reason, and `smpm events retry ID` requeues it.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from smpm.intake.config import IntakeSection
from smpm.intake.metrics import IntakeMetrics
from smpm.intake.store import Claimed, bury, claim, defer, finish, retry_later

log = logging.getLogger("smpm.intake")

Handler = Callable[[Claimed], str]
"""Processes one event and says in one line what was decided (kept on the stored event)."""


class Deferred(Exception):
    """The handler cannot decide yet: an event this one may depend on is still in flight."""

    def __init__(self, reason: str, seconds: float = 0.25) -> None:
        super().__init__(reason)
        self.seconds = seconds


@dataclass
class Worker:
    engine: Engine
    handler: Handler
    config: IntakeSection
    clock: Callable[[], datetime]
    metrics: IntakeMetrics | None = None
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)
    rng: random.Random = field(default_factory=random.Random)

    def run_once(self) -> int:
        """Claim due events and work them; returns how many were claimed."""
        lease = timedelta(seconds=self.config.lease_seconds)
        events = claim(self.engine, self.owner, self.clock(), lease, self.config.claim_batch)
        for event in events:
            self.work(event)
        return len(events)

    def run_until(self, stop: threading.Event, poll: float) -> None:
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # keep the worker alive; the events stay stored
                log.exception("claiming events failed")
                busy = 0
            if not busy:
                stop.wait(poll)

    def work(self, event: Claimed) -> None:
        """Process one claimed event and record what became of it."""
        extra = {"event_id": event.id}
        try:
            outcome = self.handler(event)
        except Deferred as wait:
            later = self.clock() + timedelta(seconds=wait.seconds)
            defer(self.engine, event.id, self.owner, later)
            log.debug("event %s deferred: %s", event.id, wait, extra=extra)
            self._count("deferred", event)
            return
        except Exception as exc:
            self._failed(event, f"{type(exc).__name__}: {exc}")
            return
        if finish(self.engine, event.id, self.owner, self.clock(), outcome):
            log.info("event %s processed", event.id, extra=extra)
            self._count("processed", event)
        else:
            log.warning(
                "event %s: lease lost before it was recorded as done", event.id, extra=extra
            )

    def _failed(self, event: Claimed, error: str) -> None:
        extra = {"event_id": event.id}
        now = self.clock()
        if event.attempts >= self.config.max_attempts:
            bury(self.engine, event.id, self.owner, error, now)
            log.error(
                "event %s is dead after %d attempts: %s",
                event.id,
                event.attempts,
                error,
                extra=extra,
            )
            self._count("dead", event)
            return
        delay = self.delay(event.attempts)
        retry_later(self.engine, event.id, self.owner, error, now + timedelta(seconds=delay))
        log.warning(
            "event %s attempt %d failed (%s); retrying in %.1f s",
            event.id,
            event.attempts,
            error,
            delay,
            extra=extra,
        )
        self._count("retried", event)

    def delay(self, attempts: int) -> float:
        """Exponential backoff with jitter: between half and all of base x 2^(attempts-1)."""
        ceiling = min(
            self.config.max_backoff_seconds, self.config.backoff_seconds * 2 ** max(0, attempts - 1)
        )
        return ceiling * (0.5 + self.rng.random() / 2)

    def _count(self, what: str, event: Claimed) -> None:
        if self.metrics is not None:
            getattr(self.metrics, what).labels(event.endpoint).inc()
