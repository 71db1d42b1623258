"""The circuit breaker of a process's event workers: an unavailable ITSM pauses the queue.

An ITSM that is down, timing out or rate limiting says nothing about the events waiting for
it, so it must not spend their attempts: five minutes of outage would otherwise bury every
event of the burst. When an attempt fails with an error of the connector's retryable branch
(`Unavailable`, `RateLimited`), the worker asks `outage()`. A rate limit is always the ITSM's
pace; for the rest, a cheap read (`probe`) tells an outage from an error about this event
alone (a server error only its record meets): the read fails too, or it does not. On an
outage the breaker opens: workers hand their events back untried, with their attempts, and
claim nothing. A worker probes again after `breaker_probe_seconds` (or the server's
Retry-After), doubling up to `breaker_max_probe_seconds`, jittered so nodes do not probe in
step; the first probe that gets an answer closes the breaker and the backlog drains.

The state is kept in memory, one breaker per process, shared by its workers: each node sees
the ITSM from where it is (one may be cut off while the others reach it), finding out costs a
node one failed request and no attempt, and no stale "open" outlives a restart. Times come
from the workers' clock, so tests move them; a clock that jumps back cannot postpone a probe
past `breaker_max_probe_seconds`.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from connector.errors import RateLimited, RetryableError
from smpm.intake.config import IntakeSection

log = logging.getLogger("smpm.intake")

Probe = Callable[[], None]
"""A cheap read from the ITSM; raises `RetryableError` when the ITSM cannot answer."""

CLOSED, OPEN = "closed", "open"


@dataclass
class Breaker:
    probe: Probe
    config: IntakeSection
    clock: Callable[[], datetime]
    rng: random.Random = field(default_factory=random.Random)
    state: str = CLOSED
    since: datetime | None = None
    reason: str = ""
    probes: int = 0  # failed probes since the breaker opened
    trips: int = 0  # times it opened, for the metric
    next_probe: datetime | None = None
    on_probe: Callable[[str], None] | None = None  # told "ok" or "failed", for the metric
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _probing: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def closed(self) -> bool:
        return self.state == CLOSED

    def outage(self, error: RetryableError) -> bool:
        """Whether `error` shows the ITSM unavailable (the breaker is then open): always for a
        rate limit or while already open, else when a probe fails too."""
        with self._lock:
            if self.state == OPEN:
                return True
        if not isinstance(error, RateLimited) and self._answers():
            return False
        self._open(error)
        return True

    def wait_or_probe(self) -> bool:
        """Called by an idle worker: probe when one is due (one worker at a time); whether the
        breaker is closed afterwards."""
        with self._lock:
            if self.state == CLOSED:
                return True
            now = self.clock()
            assert self.next_probe is not None
            ceiling = now + timedelta(seconds=self.config.breaker_max_probe_seconds)
            if now < self.next_probe <= ceiling:
                return False
        if not self._probing.acquire(blocking=False):
            return False  # another worker is probing
        try:
            answered = self._answers()
        finally:
            self._probing.release()
        with self._lock:
            if answered:
                self._close()
            else:
                self.probes += 1
                self.next_probe = self.clock() + timedelta(seconds=self._delay(self.probes))
            return self.state == CLOSED

    def snapshot(self) -> dict[str, Any]:
        """For GET /healthz: the state and, while open, since when, why and the next probe."""
        with self._lock:
            if self.state == CLOSED:
                return {"state": CLOSED, "trips": self.trips}
            assert self.since is not None and self.next_probe is not None
            wait = max(0.0, (self.next_probe - self.clock()).total_seconds())
            return {
                "state": OPEN,
                "since": self.since.isoformat(),
                "reason": self.reason,
                "failed_probes": self.probes,
                "next_probe_in_seconds": round(wait, 3),
                "trips": self.trips,
            }

    def _answers(self) -> bool:
        """Whether the ITSM answers a cheap read. An answer that is an error of the final
        branch (a refused login, say) is still an answer: events meeting it spend attempts."""
        try:
            self.probe()
        except RetryableError as exc:
            log.info("ITSM probe failed: %s", exc)
            self._told("failed")
            return False
        except Exception as exc:  # the ITSM answered, or the probe itself is broken
            log.warning("ITSM probe answered with an error: %s", exc)
        self._told("ok")
        return True

    def _open(self, error: RetryableError) -> None:
        with self._lock:
            if self.state == OPEN:
                return
            now = self.clock()
            wait = self._delay(0)
            if isinstance(error, RateLimited) and error.retry_after is not None:
                wait = min(max(wait, error.retry_after), self.config.breaker_max_probe_seconds)
            self.state, self.since, self.reason = OPEN, now, f"{type(error).__name__}: {error}"
            self.probes, self.trips = 0, self.trips + 1
            self.next_probe = now + timedelta(seconds=wait)
        log.warning("ITSM unavailable (%s): events wait, next probe in %.1f s", error, wait)

    def _close(self) -> None:
        log.warning("ITSM answers again after %d failed probe(s): events resume", self.probes)
        self.state, self.since, self.reason, self.next_probe = CLOSED, None, "", None
        self.probes = 0

    def _delay(self, failed: int) -> float:
        """Between half and all of probe_seconds x 2^failed, at most max_probe_seconds."""
        c = self.config
        ceiling = min(c.breaker_max_probe_seconds, c.breaker_probe_seconds * 2**failed)
        return ceiling * (0.5 + self.rng.random() / 2)

    def _told(self, result: str) -> None:
        if self.on_probe is not None:
            self.on_probe(result)
