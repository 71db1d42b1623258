"""One bad request never fails the others of its group commit (issue 11, item 7).

On PostgreSQL a delivery id over 200 characters, a NaN value or a NUL character made the whole
commit fail: 687 valid events heard 500. The app now refuses those values before the writer
(422); should the database still refuse a row, the writer commits the others without it.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import DataError

from connector.testing import at
from smpm.intake.models import GenericEvent, Intake, intake_item
from smpm.intake.store import Accepted, counts
from smpm.intake.writer import GroupWriter, refused_rows
from tests.smpm.intake.conftest import ON_BOTH_STORES, TOKEN, event_body, stored
from tests.smpm.intake.served import serving

pytestmark = pytest.mark.timeless

NOW = at("2026-11-25 10:00")
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def clock() -> datetime:
    return NOW


def item(n: int) -> Intake:
    event = GenericEvent.model_validate(event_body(message=f"CPU high #{n}", node=f"node-{n}"))
    return intake_item("events", event, None)


# Rows built past the app's validation, as a bug or a gap in it would let through.
PG_REFUSES = [
    ("delivery id over 200 characters", lambda i: replace(i, delivery_id="d" * 201)),
    ("NUL character in the subject", lambda i: replace(i, subject="cpu\x00")),
    ("NaN in the payload", lambda i: replace(i, payload={**i.payload, "value": float("nan")})),
]
BOTH_REFUSE = [
    ("payload the JSON column cannot hold", lambda i: replace(i, payload={"raw": b"\x00"})),
]
CASES = [
    pytest.param("postgresql", spoil, id=f"{name}-postgresql", marks=pytest.mark.postgresql)
    for name, spoil in PG_REFUSES + BOTH_REFUSE
] + [pytest.param("sqlite", spoil, id=f"{name}-sqlite") for name, spoil in BOTH_REFUSE]


@pytest.mark.parametrize(("engine", "spoil"), CASES, indirect=["engine"])
def test_a_row_the_database_refuses_fails_only_its_own_request(engine: Engine, spoil: Any) -> None:
    """Twenty senders in one loop turn, one of them with a row the database refuses: that one
    hears the database's reason, the nineteen others are committed and told so."""
    commits: list[int] = []
    writer = GroupWriter(engine, clock, on_batch=lambda n, _seconds: commits.append(n))
    requests = [[item(n)] for n in range(20)]
    requests[7] = [spoil(item(7))]

    async def senders() -> list[list[Accepted] | BaseException]:
        stores = (writer.store(r) for r in requests)
        return await asyncio.gather(*stores, return_exceptions=True)

    try:
        outcomes = asyncio.run(senders())
    finally:
        writer.close()
    refused = outcomes.pop(7)
    assert isinstance(refused, Exception) and refused_rows(refused), refused
    assert all(isinstance(o, list) and not o[0].duplicate for o in outcomes)
    assert counts(engine)["pending"] == 19
    assert sum(commits) == 19


def test_an_unavailable_store_fails_the_commit_at_once(engine: Engine) -> None:
    """Only a refused row splits a commit: an error of the store itself reaches every sender
    after one try (splitting would make each of them wait for nothing)."""
    calls: list[int] = []

    def broken_clock() -> datetime:
        calls.append(1)
        raise OSError("disk full")

    writer = GroupWriter(engine, broken_clock)

    async def senders() -> list[object]:
        stores = (writer.store([item(n)]) for n in range(8))
        return await asyncio.gather(*stores, return_exceptions=True)

    try:
        outcomes = asyncio.run(senders())
    finally:
        writer.close()
    assert [str(o) for o in outcomes] == ["disk full"] * 8
    assert len(calls) == 1


BAD = [
    ("delivery id of 201 characters", event_body(), {"X-Smpm-Delivery": "d" * 201}),
    ("NaN value", "NaN", {}),
    ("NUL character", event_body(message="CPU\u0000"), {}),
]


@ON_BOTH_STORES
def test_bad_requests_among_many_good_ones_over_http(engine: Engine) -> None:
    """Sent together over HTTP: every valid event is accepted, each bad one alone is 422."""

    def content(n: int, body: Any) -> bytes:
        if body == "NaN":
            raw = json.dumps(event_body(node=f"n-{n}"))
            return raw.replace('"value": 97.0', '"value": NaN').encode()
        return json.dumps(body).encode()

    async def send(url: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            posts = [
                client.post(
                    "/hooks/events",
                    content=json.dumps(event_body(node=f"good-{n}")).encode(),
                    headers=BEARER,
                )
                for n in range(60)
            ]
            for n, (_, body, headers) in enumerate(BAD):
                posts.insert(
                    20 * n + 10,
                    client.post(
                        "/hooks/events",
                        content=content(n, body),
                        headers={**BEARER, **headers},
                    ),
                )
            return await asyncio.gather(*posts)

    with serving(engine) as url:
        answers = asyncio.run(send(url))
    bad = [answers.pop(20 * n + 10 - n) for n in range(len(BAD))]
    assert [a.status_code for a in bad] == [422, 422, 422], [a.text for a in bad]
    assert {a.status_code for a in answers} == {202}
    assert stored(engine) == 60


class _Refusing:
    """A writer whose store refuses every request as PostgreSQL refuses an over-long value."""

    async def store(self, items: list[Intake]) -> list[Accepted]:
        raise DataError(
            "INSERT ...", {}, Exception("value too long for type character varying(200)")
        )

    def close(self) -> None:
        pass


def test_a_row_the_store_refuses_is_422_with_the_reason(engine: Engine) -> None:
    """No 500: the sender hears that the store refused its request and why (not the statement),
    and that sending it again will not help."""
    with serving(engine, writer=_Refusing()) as url:  # type: ignore[arg-type]
        answer = httpx.post(url + "/hooks/events", json=event_body(), headers=BEARER)
    assert answer.status_code == 422
    assert answer.json() == {
        "error": "the event store refused this request: "
        "value too long for type character varying(200)"
    }


def test_an_unavailable_store_is_503(engine: Engine) -> None:
    def broken_clock() -> datetime:
        raise OSError("disk full")

    writer = GroupWriter(engine, broken_clock)
    try:
        with serving(engine, writer=writer) as url:
            answer = httpx.post(url + "/hooks/events", json=event_body(), headers=BEARER)
    finally:
        writer.close()
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert "nothing was stored" in answer.json()["error"]
    assert stored(engine) == 0
