"""Prometheus metrics of the webhook service, in a registry of its own (one per app).

`smpm_itsm_call_seconds` is the exception: ITSM calls are made by every part of the process (the
event workers, scheduled runs, `smpm run`), through connectors opened by `smpm.platforms`, which
report each HTTP attempt here (`HttpOptions.on_call`). So the histogram is one per process, and
every app's registry shows it.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

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

    def observe_commit(self, events: int, seconds: float) -> None:
        self.commit_size.observe(events)
        self.commit_latency.observe(seconds)


def _status_reader(counts: Callable[[], dict[str, int]], status: str) -> Callable[[], float]:
    return lambda: float(counts().get(status, 0))
