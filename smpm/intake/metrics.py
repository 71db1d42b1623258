"""Prometheus metrics of the webhook service, in a registry of its own (one per app).

`smpm_itsm_call_seconds` is the exception: ITSM calls are made by every part of the process (the
event workers, scheduled runs, `smpm run`), through connectors opened by `smpm.platforms`, which
report each HTTP attempt here (`HttpOptions.on_call`). So the histogram is one per process, and
every app's registry shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from smpm.intake.breaker import Breaker

ITSM_CALLS = Histogram(
    "smpm_itsm_call_seconds",
    "ITSM API calls (each HTTP attempt) by platform, method, form or table, and status",
    ["platform", "method", "resource", "status"],
    registry=None,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def observe_itsm_call(
    platform: str, method: str, resource: str, status: str, seconds: float
) -> None:
    """One ITSM call: `resource` is the form or table ('HPD:Help Desk', 'incident') or the
    endpoint ('jwt/login'); `status` the HTTP status, or 'error' when nothing answered."""
    ITSM_CALLS.labels(platform, method, resource, status).observe(seconds)


class IntakeMetrics:
    def __init__(self, queue_depth: Callable[[], dict[str, int]]) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.received = Counter(
            "smpm_events_received", "Events accepted (202) by endpoint", ["endpoint"], registry=r
        )
        self.duplicates = Counter(
            "smpm_events_duplicate",
            "Redeliveries answered with the stored id",
            ["endpoint"],
            registry=r,
        )
        self.rejected = Counter(
            "smpm_events_rejected",
            "Requests refused, by endpoint and reason",
            ["endpoint", "reason"],
            registry=r,
        )
        self.processed = Counter(
            "smpm_events_processed", "Events processed to the end", ["endpoint"], registry=r
        )
        self.retried = Counter(
            "smpm_events_retried",
            "Processing attempts that failed and will be retried",
            ["endpoint"],
            registry=r,
        )
        self.deferred = Counter(
            "smpm_events_deferred",
            "Events put back for a moment: an event about a CI they depend on was in flight",
            ["endpoint"],
            registry=r,
        )
        self.dead = Counter(
            "smpm_events_dead",
            "Events kept as dead after their last attempt",
            ["endpoint"],
            registry=r,
        )
        self.paused = Counter(
            "smpm_events_paused",
            "Events handed back with their attempt (or untried) because the ITSM was unavailable",
            ["endpoint"],
            registry=r,
        )
        self.lease_lost = Counter(
            "smpm_events_lease_lost",
            "Events a worker let go without recording an outcome: its lease had run out",
            ["endpoint"],
            registry=r,
        )
        self.lease_renewals = Counter(
            "smpm_event_lease_renewals", "Leases renewed by working workers", registry=r
        )
        self.breaker_open = Gauge(
            "smpm_itsm_breaker_open",
            "1 while the event workers pause because the ITSM is unavailable, else 0",
            registry=r,
        )
        self.breaker_trips = Gauge(
            "smpm_itsm_breaker_trips", "Times the ITSM was found unavailable", registry=r
        )
        self.probes = Counter(
            "smpm_itsm_probes", "ITSM probes by result (ok, failed)", ["result"], registry=r
        )
        self._breaker: Breaker | None = None
        r.register(ITSM_CALLS)
        self.itsm_latency = ITSM_CALLS
        self.commit_size = Histogram(
            "smpm_intake_commit_events",
            "Events stored per group commit",
            registry=r,
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
        )
        self.commit_latency = Histogram(
            "smpm_intake_commit_seconds",
            "Time to store one group commit, fsync included",
            registry=r,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
        )
        depth = Gauge("smpm_intake_events", "Stored events by status", ["status"], registry=r)
        for status in ("pending", "processing", "done", "dead"):
            depth.labels(status).set_function(_status_reader(queue_depth, status))

    def track(self, breaker: Breaker) -> None:
        """Show the workers' circuit breaker in the gauges, its probes in the counter and its
        state in GET /healthz."""
        self._breaker = breaker
        self.breaker_open.set_function(lambda: 0.0 if breaker.closed else 1.0)
        self.breaker_trips.set_function(lambda: float(breaker.trips))
        breaker.on_probe = lambda result: self.probes.labels(result).inc()

    def health(self) -> dict[str, Any]:
        """What GET /healthz adds to the queue depth: the ITSM's breaker, when there is one."""
        return {} if self._breaker is None else {"itsm": self._breaker.snapshot()}

    def observe_commit(self, events: int, seconds: float) -> None:
        self.commit_size.observe(events)
        self.commit_latency.observe(seconds)


def _status_reader(counts: Callable[[], dict[str, int]], status: str) -> Callable[[], float]:
    return lambda: float(counts().get(status, 0))
