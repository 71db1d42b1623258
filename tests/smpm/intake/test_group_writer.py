"""The group-commit writer: one transaction for many senders, each told only of its own events."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from sqlalchemy import Engine

from connector.testing import at
from smpm.intake.models import GenericEvent, Intake, intake_item
from smpm.intake.store import Accepted, accept, counts
from smpm.intake.writer import GroupWriter
from tests.smpm.intake.conftest import ON_BOTH_STORES, event_body

pytestmark = ON_BOTH_STORES

NOW = at("2026-11-25 10:00")


def item(n: int) -> Intake:
    event = GenericEvent.model_validate(event_body(message=f"CPU high #{n}", node=f"node-{n}"))
    return intake_item("events", event, None)


def clock() -> datetime:
    return NOW


def test_a_key_repeated_inside_one_commit_is_stored_once(engine: Engine) -> None:
    first, again = accept(engine, [item(1), item(1)], NOW)
    assert first == Accepted(first.id, duplicate=False)
    assert again == Accepted(first.id, duplicate=True)
    assert counts(engine)["pending"] == 1


def test_a_commit_mixing_new_and_known_keys_tells_each_item_which_it_is(engine: Engine) -> None:
    """accept: "a known dedup key returns the stored row's id"; the new items in the same commit
    are stored as new, whatever their order."""
    [known] = accept(engine, [item(2)], NOW)
    answers = accept(engine, [item(1), item(2), item(3), item(1)], NOW)
    assert [a.duplicate for a in answers] == [False, True, False, True]
    assert answers[1].id == known.id and answers[3].id == answers[0].id
    assert len({answers[0].id, known.id, answers[2].id}) == 3
    assert counts(engine)["pending"] == 3


def test_senders_in_one_event_loop_turn_share_a_commit(engine: Engine) -> None:
    commits: list[int] = []
    writer = GroupWriter(engine, clock, on_batch=lambda n, _seconds: commits.append(n))

    async def senders() -> list[list[Accepted]]:
        return await asyncio.gather(*(writer.store([item(n)]) for n in range(20)))

    try:
        answers = asyncio.run(senders())
    finally:
        writer.close()
    assert commits == [20]
    assert len({a[0].id for a in answers}) == 20
    assert counts(engine)["pending"] == 20


def test_a_failed_commit_reaches_every_sender_and_stores_nothing(engine: Engine) -> None:
    def broken_clock() -> datetime:
        raise OSError("disk full")

    writer = GroupWriter(engine, broken_clock)

    async def senders() -> list[object]:
        stores = (writer.store([item(n)]) for n in range(3))
        return await asyncio.gather(*stores, return_exceptions=True)

    try:
        outcomes = asyncio.run(senders())
    finally:
        writer.close()
    assert [str(o) for o in outcomes] == ["disk full"] * 3
    assert counts(engine).get("pending", 0) == 0


def test_a_plain_thread_can_store_and_wait(engine: Engine) -> None:
    writer = GroupWriter(engine, clock)
    try:
        (accepted,) = writer.submit([item(7)]).result(timeout=10)
    finally:
        writer.close()
    assert not accepted.duplicate


@pytest.mark.parametrize("repeats", [2, 5])
def test_redeliveries_across_commits_get_the_first_id(engine: Engine, repeats: int) -> None:
    ids = {accept(engine, [item(3)], NOW)[0].id for _ in range(repeats)}
    assert len(ids) == 1
