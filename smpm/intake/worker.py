"""Workers: claim stored events under a lease, process them, retry failures, keep the dead.

Processing an event runs its procedure through the executor, whose idempotency keys make a second
run of the same event write nothing new. So a worker killed at any point loses nothing (the event
stays stored; its lease expires and another claim takes it) and duplicates nothing (the replay
finds its earlier writes). A live worker renews the leases of its batch while it works
(`smpm.intake.lease`), so a slow ITSM never lets a second worker take an event the first is
still deciding; a worker that finds a lease lost records nothing for that event.

A failure about the event itself is retried after an exponential, jittered delay; after
`max_attempts` the event is kept as dead with the reason, and `smpm events retry ID` requeues it.
An ITSM that is unavailable is not the event's failure: the process's circuit breaker
(`smpm.intake.breaker`) pauses the queue, the event goes back with its attempt, and the rest of
the batch goes back untried, until a probe finds the ITSM answering again.
"""

from __future__ import annotations

import functools
import logging
import random
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import Engine

from connector.errors import RetryableError
from smpm.intake.breaker import Breaker
from smpm.intake.config import IntakeSection
from smpm.intake.lease import Leases
from smpm.intake.metrics import IntakeMetrics
from smpm.intake.store import Claimed, bury, claim, defer, finish, release, retry_later

log = logging.getLogger("smpm.intake")

Handler = Callable[[Claimed], str]
"""Processes one event and says in one line what was decided (kept on the stored event)."""


class Deferred(Exception):
    """The handler cannot decide yet: an event this one may depend on is still in flight."""

    def __init__(self, reason: str, seconds: float = 0.25) -> None:
        super().__init__(reason)
        self.seconds = seconds


class LeaseLost(Exception):
    """Raised by a handler that finds `Claimed.held()` false: another worker may be deciding
    the event now, so this one stops before its next step and records nothing."""


@dataclass
class Worker:
    engine: Engine
    handler: Handler
    config: IntakeSection
    clock: Callable[[], datetime]
    metrics: IntakeMetrics | None = None
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)
    rng: random.Random = field(default_factory=random.Random)
    breaker: Breaker | None = None

    def run_once(self) -> int:
        """Claim due events and work them; returns how many were claimed (none while the
        breaker is open)."""
        if self.breaker is not None and not self.breaker.wait_or_probe():
            return 0
        now, lease = self.clock(), timedelta(seconds=self.config.lease_seconds)
        events = claim(self.engine, self.owner, now, lease, self.config.claim_batch)
        if not events:
            return 0
        ids = [e.id for e in events]
        every = self.config.heartbeat_seconds
        leases = Leases(
            self.engine, self.owner, ids, now, clock=self.clock, lease=lease, every=every
        )
        leases.on_renewed = self._renewed
        with leases:
            self._work_batch(events, leases)
        return len(events)

    def _work_batch(self, events: Sequence[Claimed], leases: Leases) -> None:
        for n, event in enumerate(events):
            if self.breaker is not None and not self.breaker.closed:
                self._hand_back(events[n:], leases)
                return
            if not leases.held(event.id):
                self._lost(event, "before it was worked")
                continue
            self.work(replace(event, held=functools.partial(leases.held, event.id)), leases)

    def run_until(self, stop: threading.Event, poll: float) -> None:
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # keep the worker alive; the events stay stored
                log.exception("claiming events failed")
                busy = 0
            if not busy:
                stop.wait(poll)

    def work(self, event: Claimed, leases: Leases | None = None) -> None:
        """Process one claimed event and record what became of it."""
        extra = {"event_id": event.id}
        try:
            outcome = self.handler(event)
        except Deferred as wait:
            _settle(leases, event)
            later = self.clock() + timedelta(seconds=wait.seconds)
            defer(self.engine, event.id, self.owner, later)
            log.debug("event %s deferred: %s", event.id, wait, extra=extra)
            self._count("deferred", event)
            return
        except LeaseLost:
            self._lost(event, "while it was worked")
            return
        except Exception as exc:
            self._failed(event, exc, leases)
            return
        _settle(leases, event)
        if finish(self.engine, event.id, self.owner, self.clock(), outcome):
            log.info("event %s processed", event.id, extra=extra)
            self._count("processed", event)
        else:
            self._lost(event, "before it was recorded as done")

    def _failed(self, event: Claimed, exc: Exception, leases: Leases | None) -> None:
        error = f"{type(exc).__name__}: {exc}"
        cause = _retryable(exc)
        # Asked before the lease is let go: the breaker may probe the ITSM first.
        if cause is not None and self.breaker is not None and self.breaker.outage(cause):
            _settle(leases, event)
            why = f"ITSM unavailable: {error}"
            if release(self.engine, event.id, self.owner, self.clock(), why):
                log.warning(
                    "event %s waits for the ITSM, attempt kept: %s",
                    event.id,
                    error,
                    extra={"event_id": event.id},
                )
                self._count("paused", event)
            return
        _settle(leases, event)
        if event.attempts >= self.config.max_attempts:
            self._bury(event, error)
            return
        delay = self.delay(event.attempts)
        later = self.clock() + timedelta(seconds=delay)
        retry_later(self.engine, event.id, self.owner, error, later)
        log.warning(
            "event %s attempt %d failed (%s); retrying in %.1f s",
            event.id,
            event.attempts,
            error,
            delay,
            extra={"event_id": event.id},
        )
        self._count("retried", event)

    def _bury(self, event: Claimed, error: str) -> None:
        bury(self.engine, event.id, self.owner, error, self.clock())
        log.error(
            "event %s is dead after %d attempts: %s",
            event.id,
            event.attempts,
            error,
            extra={"event_id": event.id},
        )
        self._count("dead", event)

    def _hand_back(self, events: Sequence[Claimed], leases: Leases) -> None:
        """The breaker opened while these waited their turn: back untried, attempts kept."""
        assert self.breaker is not None
        why = f"not tried: ITSM unavailable: {self.breaker.reason}"
        for event in events:
            leases.settle(event.id)
            if release(self.engine, event.id, self.owner, self.clock(), why):
                self._count("paused", event)

    def _lost(self, event: Claimed, when: str) -> None:
        extra = {"event_id": event.id}
        log.warning("event %s: lease lost %s; left to its new owner", event.id, when, extra=extra)
        self._count("lease_lost", event)

    def delay(self, attempts: int) -> float:
        """Exponential backoff with jitter: between half and all of base x 2^(attempts-1)."""
        ceiling = min(
            self.config.max_backoff_seconds, self.config.backoff_seconds * 2 ** max(0, attempts - 1)
        )
        return ceiling * (0.5 + self.rng.random() / 2)

    def _count(self, what: str, event: Claimed) -> None:
        if self.metrics is not None:
            getattr(self.metrics, what).labels(event.endpoint).inc()

    def _renewed(self, leases: int) -> None:
        if self.metrics is not None:
            self.metrics.lease_renewals.inc(leases)


def _settle(leases: Leases | None, event: Claimed) -> None:
    if leases is not None:
        leases.settle(event.id)


def _retryable(exc: BaseException) -> RetryableError | None:
    """The connector's retryable error behind a failure: the failure itself, or the error it
    was raised from (the processor raises a failed plan from the outage it met)."""
    for candidate in (exc, exc.__cause__):
        if isinstance(candidate, RetryableError):
            return candidate
    return None
