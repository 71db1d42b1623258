"""The circuit breaker: an ITSM that is unavailable pauses the queue instead of spending the
events' attempts; a probe (a cheap read) tells an outage from an error about one event, and
the backlog drains once the ITSM answers again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from random import Random

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from connector.errors import (
    ConnectorError,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    RetryableError,
    Unavailable,
)
from smpm.intake.app import create_app
from smpm.intake.breaker import Breaker
from smpm.intake.config import IntakeSection, ServeSection
from smpm.intake.metrics import IntakeMetrics
from smpm.intake.store import Claimed, counts, listing
from smpm.intake.worker import Worker
from smpm.intake.writer import GroupWriter
from tests.smpm.intake.conftest import HOOKS, ON_BOTH_STORES
from tests.smpm.intake.test_workers import Clock, store_events

pytestmark = ON_BOTH_STORES

CONFIG = IntakeSection(
    max_attempts=2,
    backoff_seconds=2,
    lease_seconds=30,
    breaker_probe_seconds=1,
    breaker_max_probe_seconds=8,
)
DOWN = Unavailable("GET https://itsm.example/api failed: connection refused")


@dataclass
class Itsm:
    """The ITSM as the workers meet it: up or down for reads (the probe) and for the events'
    work, which can also fail with an error of its own."""

    up: bool = True
    error: ConnectorError = DOWN
    reads: bool | None = None  # whether reads are answered; None: as the events' work
    probes: int = 0
    worked: list[str] = field(default_factory=list)

    def probe(self) -> None:
        self.probes += 1
        if not (self.up if self.reads is None else self.reads):
            raise DOWN

    def handler(self, event: Claimed) -> str:
        if not self.up:
            raise self.error
        self.worked.append(event.id)
        return "decided"


def workers(engine: Engine, clock: Clock, itsm: Itsm, n: int = 1) -> list[Worker]:
    breaker = Breaker(itsm.probe, CONFIG, clock, rng=Random(3))
    return [
        Worker(engine, itsm.handler, CONFIG, clock, breaker=breaker, rng=Random(5))
        for _ in range(n)
    ]


def attempts(engine: Engine) -> dict[str, int]:
    return {r["id"]: r["attempts"] for r in listing(engine, ["pending", "done", "dead"], 100)}


OUTAGES = [
    pytest.param(DOWN, id="unreachable"),
    pytest.param(Unavailable("Remedy create: HTTP 503: Service Unavailable"), id="503"),
    pytest.param(OutcomeUnknown("POST https://itsm.example/api: read timed out"), id="timeout"),
]


@pytest.mark.parametrize("error", OUTAGES)
def test_an_unavailable_itsm_pauses_the_queue_and_spends_no_attempt(
    engine: Engine, error: RetryableError
) -> None:
    """An ITSM "unreachable, timing out" says nothing about the event: it goes back with its
    attempt, the others of the batch go back untried, and nothing is claimed until a probe
    answers; then the backlog drains, each event decided once, on its first counted attempt."""
    clock, itsm = Clock(), Itsm(up=False, error=error)
    ids = store_events(engine, clock, 3, nodes=3)
    [worker] = workers(engine, clock, itsm)
    assert worker.run_once() == 3
    assert attempts(engine) == dict.fromkeys(ids, 0)
    errors = [r["last_error"] for r in listing(engine, ["pending"], 10)]
    assert sum(e.startswith("ITSM unavailable: ") for e in errors) == 1
    assert sum(e.startswith("not tried: ITSM unavailable: ") for e in errors) == 2
    assert itsm.probes == 1 and not worker.breaker.closed
    for _ in range(3):  # down for a while: probes fail, backing off; nothing is claimed
        clock.now += timedelta(seconds=CONFIG.breaker_max_probe_seconds)
        assert worker.run_once() == 0
    assert itsm.probes == 4 and counts(engine)["pending"] == 3
    itsm.up = True
    clock.now += timedelta(seconds=CONFIG.breaker_max_probe_seconds)
    assert worker.run_once() == 3
    assert sorted(itsm.worked) == sorted(ids)
    assert attempts(engine) == dict.fromkeys(ids, 1)
    assert counts(engine) == {"pending": 0, "processing": 0, "done": 3, "dead": 0}


def test_a_rate_limit_waits_for_retry_after_without_a_probe(engine: Engine) -> None:
    """A 429 is the ITSM's pace, never the event's fault: no probe is needed to know it, and
    the first one waits for the server's Retry-After (at most breaker_max_probe_seconds)."""
    clock, itsm = Clock(), Itsm(up=False, error=RateLimited("HTTP 429", retry_after=5))
    [event_id] = store_events(engine, clock, 1)
    [worker] = workers(engine, clock, itsm)
    assert worker.run_once() == 1
    assert itsm.probes == 0 and attempts(engine) == {event_id: 0}
    clock.now += timedelta(seconds=4.9)
    assert worker.run_once() == 0 and itsm.probes == 0
    itsm.up = True
    clock.now += timedelta(seconds=0.1)
    assert worker.run_once() == 1
    assert itsm.probes == 1 and attempts(engine) == {event_id: 1}


def test_a_server_error_only_this_event_meets_spends_its_attempts(engine: Engine) -> None:
    """Attempts are kept "for errors about the event itself": a 500 on its create while the
    probe's read is answered is the event's; it is retried with backoff, then kept as dead,
    and the queue never pauses."""
    clock = Clock()
    error = Unavailable("ServiceNow create incident: HTTP 500: script error")
    itsm = Itsm(up=False, error=error, reads=True)
    [event_id] = store_events(engine, clock, 1)
    [worker] = workers(engine, clock, itsm)
    for _ in range(CONFIG.max_attempts):
        assert worker.run_once() == 1
        assert worker.breaker.closed
        clock.now += timedelta(minutes=5)
    [dead] = listing(engine, ["dead"], 1)
    assert (dead["id"], dead["attempts"]) == (event_id, CONFIG.max_attempts)
    assert "HTTP 500: script error" in dead["last_error"]


def test_a_final_error_spends_attempts_as_before(engine: Engine) -> None:
    """The final branch (here Rejected) is about the event: no probe, no pause."""
    clock, itsm = Clock(), Itsm(up=False, error=Rejected("ERROR (326): required field"))
    store_events(engine, clock, 1)
    [worker] = workers(engine, clock, itsm)
    for _ in range(CONFIG.max_attempts):
        worker.run_once()
        clock.now += timedelta(minutes=5)
    assert itsm.probes == 0 and counts(engine)["dead"] == 1


def test_the_workers_of_a_process_share_the_pause(engine: Engine) -> None:
    """One worker meets the outage; the other claims nothing until the probe answers."""
    clock, itsm = Clock(), Itsm(up=False)
    store_events(engine, clock, 4, nodes=4)
    first, second = workers(engine, clock, itsm, n=2)
    first.config = second.config = CONFIG.model_copy(update={"claim_batch": 1})
    assert first.run_once() == 1
    assert second.run_once() == 0
    itsm.up = True
    clock.now += timedelta(seconds=CONFIG.breaker_probe_seconds)
    assert second.run_once() == 1 and first.run_once() == 1


def test_probes_back_off_doubling_up_to_the_maximum(engine: Engine) -> None:
    """Between half and all of probe_seconds x 2^n, never past breaker_max_probe_seconds."""
    clock, itsm = Clock(), Itsm(up=False)
    breaker = Breaker(itsm.probe, CONFIG, clock, rng=Random(11))
    assert breaker.outage(DOWN)
    waits = []
    for _ in range(6):
        assert breaker.next_probe is not None
        waits.append((breaker.next_probe - clock.now).total_seconds())
        clock.now = breaker.next_probe
        assert not breaker.wait_or_probe()
    ceilings = [1, 2, 4, 8, 8, 8]
    assert all(c / 2 <= w <= c for w, c in zip(waits, ceilings, strict=True)), waits


def test_health_and_metrics_show_the_breaker(engine: Engine) -> None:
    """GET /healthz says the ITSM is unavailable, since when and why; /metrics has the gauge
    and the failed probes."""
    clock, itsm = Clock(), Itsm(up=False)
    metrics = IntakeMetrics(lambda: counts(engine))
    breaker = Breaker(itsm.probe, CONFIG, clock, rng=Random(3))
    metrics.track(breaker)
    writer = GroupWriter(engine, clock)
    app = create_app(ServeSection(), HOOKS, engine, writer, metrics, now=lambda: 0)
    try:
        with TestClient(app) as client:
            assert client.get("/healthz").json()["itsm"] == {"state": "closed", "trips": 0}
            assert breaker.outage(DOWN)
            health = client.get("/healthz").json()["itsm"]
            text = client.get("/metrics").text
    finally:
        writer.close()
    assert health["state"] == "open" and health["since"] == clock.now.isoformat()
    assert health["reason"] == f"Unavailable: {DOWN}" and health["failed_probes"] == 0
    assert 0.5 <= health["next_probe_in_seconds"] <= 1
    assert "smpm_itsm_breaker_open 1.0" in text
    assert 'smpm_itsm_probes_total{result="failed"} 1.0' in text
