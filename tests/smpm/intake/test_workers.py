"""Workers: leases, retries with backoff, dead events kept with their reason, requeue."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from random import Random

from sqlalchemy import Engine

from connector.testing import at
from smpm.intake.config import IntakeSection
from smpm.intake.models import GenericEvent, ci_lane, intake_item
from smpm.intake.store import (
    Claimed,
    accept,
    claim,
    counts,
    finish,
    in_flight_before,
    listing,
    occurrence,
    requeue,
)
from smpm.intake.worker import Deferred, Worker
from tests.clocks import TestClock
from tests.smpm.intake.conftest import ON_BOTH_STORES, event_body

pytestmark = ON_BOTH_STORES

CONFIG = IntakeSection(max_attempts=3, backoff_seconds=2, max_backoff_seconds=60, lease_seconds=30)


START = at("2026-11-25 10:00")


class Clock(TestClock):
    """A TestClock at START (test_worker_leases and test_worker_outage start theirs here too)."""

    def __init__(self) -> None:
        super().__init__(START)


def store_events(engine: Engine, clock: Clock, n: int, nodes: int = 1) -> list[str]:
    items = [
        intake_item(
            "events",
            GenericEvent.model_validate(event_body(message=f"m{i}", node=f"node-{i % nodes}")),
            None,
        )
        for i in range(n)
    ]
    return [a.id for a in accept(engine, items, clock())]


def test_claimed_events_are_processed_once(engine: Engine) -> None:
    clock, seen = Clock(), []
    ids = store_events(engine, clock, 3)
    worker = Worker(engine, lambda e: seen.append(e.id) or "ok", CONFIG, clock)
    assert worker.run_once() == 3
    assert worker.run_once() == 0
    assert sorted(seen) == sorted(ids)
    assert counts(engine)["done"] == 3


def test_failures_are_retried_with_backoff_then_kept_dead(engine: Engine) -> None:
    """Attempt 1 and 2 fail and wait longer each time; attempt 3 is the last: dead, reason kept."""
    clock = Clock()
    [event_id] = store_events(engine, clock, 1)

    def fails(event: Claimed) -> str:
        raise RuntimeError("Remedy create: HTTP 503: server busy")

    worker = Worker(engine, fails, CONFIG, clock, rng=Random(7))
    delays = []
    for _ in range(3):
        assert worker.run_once() == 1
        row = listing(engine, ["pending", "dead"], 1)[0]
        if row["status"] == "pending":
            delays.append((row["next_attempt_at"] - clock()).total_seconds())
            assert worker.run_once() == 0  # not due yet
            clock.now = row["next_attempt_at"]
    dead = listing(engine, ["dead"], 1)[0]
    assert dead["id"] == event_id
    assert dead["last_error"] == "RuntimeError: Remedy create: HTTP 503: server busy"
    assert 1 <= delays[0] <= 2 and 2 <= delays[1] <= 4


def test_requeue_gives_a_dead_event_fresh_attempts(engine: Engine) -> None:
    clock = Clock()
    [event_id] = store_events(engine, clock, 1)
    worker = Worker(engine, lambda e: (_ for _ in ()).throw(RuntimeError("down")), CONFIG, clock)
    for _ in range(3):
        worker.run_once()
        clock.now += timedelta(minutes=5)
    assert counts(engine)["dead"] == 1
    assert requeue(engine, event_id, clock())
    healthy = Worker(engine, lambda e: "ok", CONFIG, clock)
    assert healthy.run_once() == 1
    assert counts(engine)["done"] == 1
    assert not requeue(engine, event_id, clock())  # done events stay done


def test_a_dead_worker_s_lease_expires_and_another_takes_over(engine: Engine) -> None:
    """Killed mid-event: nothing is lost; after the lease another worker processes it."""
    clock = Clock()
    [event_id] = store_events(engine, clock, 1)
    lease = timedelta(seconds=CONFIG.lease_seconds)
    assert [c.id for c in claim(engine, "dies", clock(), lease, 10)] == [event_id]
    survivor = Worker(engine, lambda e: "ok", CONFIG, clock)
    assert survivor.run_once() == 0  # still leased
    clock.now += lease + timedelta(seconds=1)
    assert survivor.run_once() == 1
    assert counts(engine) == {"pending": 0, "processing": 0, "done": 1, "dead": 0}


def test_two_workers_never_claim_the_same_event(engine: Engine) -> None:
    clock = Clock()
    store_events(engine, clock, 10, nodes=10)
    lease = timedelta(seconds=30)
    first = {c.id for c in claim(engine, "a", clock(), lease, 6)}
    second = {c.id for c in claim(engine, "b", clock(), lease, 6)}
    assert len(first) == 6 and len(second) == 4 and not first & second


def test_racing_claimers_never_share_an_event_or_a_lane(engine: Engine) -> None:
    """Claims: "two workers never take the same row", and a lane "is worked by one worker at a
    time", also when their claims run at the same moment (on PostgreSQL: sessions of their own)."""
    clock, owners = Clock(), ["a", "b", "c", "d"]
    items = [
        intake_item(
            "events",
            GenericEvent.model_validate(event_body(message=f"m{i}", node=f"node-{i % 6}")),
            None,
        )
        for i in range(36)
    ]
    lane_of = {a.id: i.lane for a, i in zip(accept(engine, items, clock()), items, strict=True)}
    start = threading.Barrier(len(owners), timeout=30)

    def claim_at_once(owner: str) -> list[str]:
        start.wait()
        return [c.id for c in claim(engine, owner, clock(), timedelta(seconds=30), 2)]

    taken: list[str] = []
    with ThreadPoolExecutor(len(owners)) as pool:
        for _ in range(len(items)):  # each round settles at least one event
            claimed = dict(zip(owners, pool.map(claim_at_once, owners), strict=True))
            held = [{lane_of[i] for i in ids} for ids in claimed.values()]
            assert sum(map(len, held)) == len(set().union(*held)), claimed  # no lane twice
            for owner, ids in claimed.items():
                taken += ids
                for event_id in ids:
                    assert finish(engine, event_id, owner, clock())
            if len(taken) == len(items):
                break
    assert sorted(taken) == sorted(lane_of)  # every event, each once
    assert counts(engine)["done"] == len(items)


def test_one_ci_is_worked_by_one_worker_at_a_time(engine: Engine) -> None:
    """Two workers deciding about one CI at once could each open an incident for the same
    condition; a CI's events go to whoever holds its lane, in order."""
    clock = Clock()
    ids = store_events(engine, clock, 4, nodes=2)  # node-0, node-1, node-0, node-1
    lease = timedelta(seconds=30)
    first = [c.id for c in claim(engine, "a", clock(), lease, 1)]
    assert first == ids[:1]
    second = [c.id for c in claim(engine, "b", clock(), lease, 10)]
    assert second == [ids[1], ids[3]]  # node-0 is held by a: its second event waits
    finish(engine, ids[0], "a", clock())
    assert [c.id for c in claim(engine, "b", clock(), lease, 10)] == [ids[2]]


def test_an_expired_lease_frees_the_lane(engine: Engine) -> None:
    clock = Clock()
    ids = store_events(engine, clock, 2)
    claim(engine, "dies", clock(), timedelta(seconds=30), 1)
    clock.now += timedelta(seconds=31)
    taken = [c.id for c in claim(engine, "b", clock(), timedelta(seconds=30), 10)]
    assert taken == ids


def test_a_deferred_event_waits_without_spending_an_attempt(engine: Engine) -> None:
    clock = Clock()
    [event_id] = store_events(engine, clock, 1)

    def not_yet(event: Claimed) -> str:
        raise Deferred("upstream in flight", seconds=1)

    worker = Worker(engine, not_yet, CONFIG, clock)
    assert worker.run_once() == 1
    assert worker.run_once() == 0  # not due for another second
    clock.now += timedelta(seconds=1)
    [again] = claim(engine, "b", clock(), timedelta(seconds=30), 10)
    assert (again.id, again.attempts) == (event_id, 1)


def test_in_flight_before_sees_only_earlier_unsettled_events(engine: Engine) -> None:
    clock = Clock()
    ids = store_events(engine, clock, 3, nodes=3)  # node-0, node-1, node-2
    assert in_flight_before(engine, [ci_lane("NODE-0")], ids[2])
    assert not in_flight_before(engine, [ci_lane("node-2")], ids[1])  # later, not before
    claim(engine, "a", clock(), timedelta(seconds=30), 1)
    finish(engine, ids[0], "a", clock())
    assert not in_flight_before(engine, [ci_lane("node-0")], ids[2])


def test_repeats_are_counted_per_condition(engine: Engine) -> None:
    """The n-th event about one condition knows it is the n-th (for the repeat note)."""
    clock = Clock()
    ids = [
        accept(
            engine,
            [
                intake_item(
                    "events",
                    GenericEvent.model_validate(event_body(time=f"2026-11-25T10:0{i}:00Z")),
                    None,
                )
            ],
            clock(),
        )[0].id
        for i in range(3)
    ]
    subject = listing(engine, ["pending"], 1)[0]["subject"]
    assert [occurrence(engine, subject, i) for i in ids] == [1, 2, 3]


def test_a_repeat_of_a_decided_condition_holds_nobody_up(engine: Engine) -> None:
    """Only the first undecided event of an upstream condition can open the outage a
    dependent event should be related to; its repeats cannot, so dependents need not wait."""
    clock = Clock()

    def store(**fields: str) -> str:
        event = GenericEvent.model_validate(event_body(**{"node": "node-0", **fields}))
        return accept(engine, [intake_item("events", event, None)], clock())[0].id

    first, repeat = store(message="down"), store(message="still down")
    dependent = store(node="node-9", message="unreachable")
    claim(engine, "a", clock(), timedelta(seconds=30), 1)
    finish(engine, first, "a", clock())
    assert repeat < dependent
    assert not in_flight_before(engine, [ci_lane("node-0")], dependent)
    store(type="disk", message="disk failed")  # a new condition upstream
    newest = store(node="node-9", message="unreachable again")
    assert in_flight_before(engine, [ci_lane("node-0")], newest)
