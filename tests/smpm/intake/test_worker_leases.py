"""Leases: a worker renews them while it works, so nobody else takes an event it is deciding;
one that is lost stops it from recording anything.

A handler here is a gate the test opens, so "the ITSM create is slower than the lease" is a
worker held inside its handler while the test moves the clock on past the lease.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from smpm.intake.config import IntakeSection
from smpm.intake.metrics import IntakeMetrics
from smpm.intake.store import Claimed, counts, intake, listing
from smpm.intake.worker import LeaseLost, Worker
from tests.smpm.intake.conftest import ON_BOTH_STORES
from tests.smpm.intake.test_workers import Clock, store_events

pytestmark = ON_BOTH_STORES

# A short lease, so the heartbeat (every third of it) beats many times within a test.
SHORT = IntakeSection(lease_seconds=0.6, claim_batch=10)
# A long one: its heartbeat does not beat within a test.
LONG = IntakeSection(lease_seconds=30, claim_batch=10)


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 20) -> None:
    """Wait on a condition another thread brings about, with a deadline."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        threading.Event().wait(0.01)


@dataclass
class Gate:
    """A handler that holds the first event until the test opens the gate."""

    name: str
    seen: list[str] = field(default_factory=list)
    inside: threading.Event = field(default_factory=threading.Event)
    open: threading.Event = field(default_factory=threading.Event)
    held_after: list[bool] = field(default_factory=list)

    def __call__(self, event: Claimed) -> str:
        self.seen.append(event.id)
        if len(self.seen) == 1:
            self.inside.set()
            assert self.open.wait(30)
            self.held_after.append(event.held())
        return self.name


def lease_until(engine: Engine, event_id: str) -> datetime:
    with engine.connect() as conn:
        return conn.execute(
            select(intake.c.lease_until).where(intake.c.id == event_id)
        ).scalar_one()


def in_thread(worker: Worker) -> threading.Thread:
    thread = threading.Thread(target=worker.run_once, daemon=True)
    thread.start()
    return thread


def test_a_worker_slower_than_its_lease_keeps_it_and_nobody_else_takes_the_batch(
    engine: Engine,
) -> None:
    """A lane's due events "all go to the same claimer, which works them in order": while the
    first one takes three leases' time, the heartbeat keeps all three leased, so a second
    worker takes none of them and each is decided once, by the first."""
    clock = Clock()
    ids = store_events(engine, clock, 3)  # one node: one lane
    gate, other = Gate("a"), Gate("b")
    metrics = IntakeMetrics(lambda: counts(engine))
    a = Worker(engine, gate, SHORT, clock, metrics)
    b = Worker(engine, other, SHORT, clock)
    thread = in_thread(a)
    assert gate.inside.wait(30)
    for _ in range(3):  # 3 x 0.4 s: twice the lease, renewed each time
        clock.now += timedelta(seconds=0.4)
        moved = clock.now
        wait_for(
            lambda at=moved: all(
                lease_until(engine, i) >= at + timedelta(seconds=0.5) for i in ids
            ),
            "the heartbeat renewed every lease of the batch",
        )
        assert b.run_once() == 0
    gate.open.set()
    thread.join(30)
    assert gate.seen == ids and other.seen == []
    assert gate.held_after == [True]
    assert [r["outcome"] for r in listing(engine, ["done"], 10)] == ["a", "a", "a"]
    renewed = metrics.registry.get_sample_value("smpm_event_lease_renewals_total")
    assert renewed is not None and renewed >= 9  # 3 leases, 3 times at least


def test_a_lost_lease_records_nothing_and_the_rest_of_the_batch_is_left(engine: Engine) -> None:
    """Once the lease has run out unrenewed (a stalled process), another worker takes the lane;
    the first one, waking up, sees `held()` false, records nothing and works none of the
    events left in its batch."""
    clock = Clock()
    first, second = store_events(engine, clock, 2)
    gate, other = Gate("a"), Gate("b")
    other.open.set()
    metrics = IntakeMetrics(lambda: counts(engine))
    a = Worker(engine, gate, LONG, clock, metrics)
    b = Worker(engine, other, LONG, clock)
    thread = in_thread(a)
    assert gate.inside.wait(30)
    clock.now += timedelta(seconds=31)  # a's heartbeat (every 10 s) has not beaten
    assert b.run_once() == 2
    gate.open.set()
    thread.join(30)
    assert gate.seen == [first] and other.seen == [first, second]
    assert gate.held_after == [False]
    assert {r["id"]: r["outcome"] for r in listing(engine, ["done"], 10)} == {
        first: "b",
        second: "b",
    }
    lost = {"endpoint": "events"}
    assert metrics.registry.get_sample_value("smpm_events_lease_lost_total", lost) == 2


def test_a_handler_that_finds_its_lease_lost_stops_and_records_nothing(engine: Engine) -> None:
    """LeaseLost from the handler (the processor checks before each ITSM call): no outcome,
    no failure counted; the event stays with whoever holds it now."""
    clock = Clock()
    [event_id] = store_events(engine, clock, 1)

    def loses(event: Claimed) -> str:
        raise LeaseLost("lease lost before an ITSM call")

    worker = Worker(engine, loses, LONG, clock)
    assert worker.run_once() == 1
    [row] = listing(engine, ["processing"], 1)
    assert (row["id"], row["attempts"], row["last_error"]) == (event_id, 1, None)


@pytest.mark.parametrize(
    ("lease", "held"),
    [pytest.param(0.6, True, id="renewed-in-time"), pytest.param(30, False, id="run-out")],
)
def test_held_says_whether_the_lease_still_runs(engine: Engine, lease: float, held: bool) -> None:
    """`held()` is what the handler asks before each step: true while renewed in time, false
    once the clock has passed the last renewal's end. (A gate ignores the answer; nobody took
    the event, so its outcome is still recorded.)"""
    clock = Clock()
    store_events(engine, clock, 1)
    gate = Gate("a")
    worker = Worker(engine, gate, IntakeSection(lease_seconds=lease), clock)
    thread = in_thread(worker)
    assert gate.inside.wait(30)
    if held:
        clock.now += timedelta(seconds=0.4)
        moved = clock.now
        wait_for(
            lambda: lease_until(engine, gate.seen[0]) >= moved + timedelta(seconds=0.5),
            "a renewal",
        )
    else:
        clock.now += timedelta(seconds=31)
    gate.open.set()
    thread.join(30)
    assert gate.held_after == [held]
    assert counts(engine)["done"] == 1
