"""What the service does with a request as it arrives on the socket (issue 11, items 9 and 10).

1,000 slow unauthenticated uploads took the process from 78 to 961 MB: every body was read
before its credentials were looked at. Now the headers are judged first: a request whose
headers cannot pass is answered before a byte of its body is sent, and nothing is buffered
for it. A client that hangs up mid-upload is counted, not logged with a traceback.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import Engine

from smpm.intake.app import create_app
from smpm.intake.auth import sign
from smpm.intake.config import ServeSection
from smpm.intake.metrics import IntakeMetrics
from smpm.intake.store import counts
from smpm.intake.writer import GroupWriter
from smpm.store import utcnow
from tests.smpm.intake.conftest import HOOKS, NOW, SECRET, TOKEN, event_body, stored
from tests.smpm.intake.served import raw_request, serving, status_of

pytestmark = pytest.mark.timeless

DECLARED = 500_000  # a body the sender announces and never sends


@pytest.fixture
def url(engine: Engine) -> Iterator[str]:
    with serving(engine) as base:
        yield base


def head(path: str, *headers: str, length: int = DECLARED) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: smpm",
        "Content-Type: application/json",
        f"Content-Length: {length}",
        *headers,
    ]
    return "\r\n".join(lines).encode("latin-1")


BASIC_WRONG = "Authorization: Basic " + base64.b64encode(b"remedy-hook:guess").decode()
# (id, path, headers, status, words in the answer)
ANSWERED_FROM_THE_HEADERS = [
    ("no credentials", "/hooks/events", (), 401, "no X-Smpm-Signature"),
    ("wrong bearer token", "/hooks/events", ("Authorization: Bearer nope",), 401, "bearer token"),
    (
        "stale signature",
        "/hooks/events",
        (f"X-Smpm-Signature: {sign(SECRET, NOW - 3600, b'{}')}",),
        401,
        "more than 300 s",
    ),
    ("malformed signature", "/hooks/events", ("X-Smpm-Signature: t=x",), 401, "must read"),
    ("wrong basic credentials", "/hooks/remedy", (BASIC_WRONG,), 401, "not valid"),
    ("endpoint not enabled", "/hooks/servicenow", (f"Authorization: Bearer {TOKEN}",), 401, "not"),
    (
        "declared length over max_body_bytes",
        "/hooks/events",
        (f"Authorization: Bearer {TOKEN}",),
        413,
        "larger than",
    ),
]


@pytest.mark.parametrize(
    ("path", "headers", "status", "words"),
    [a[1:] for a in ANSWERED_FROM_THE_HEADERS],
    ids=[a[0] for a in ANSWERED_FROM_THE_HEADERS],
)
def test_a_request_refused_by_its_headers_is_answered_before_its_body(
    url: str, engine: Engine, path: str, headers: tuple[str, ...], status: int, words: str
) -> None:
    """The sender announces 500 kB (2 MB for the 413) and sends none of it: the answer comes
    all the same (the socket would time out if the service waited for the body)."""
    length = 2 * 1024 * 1024 if status == 413 else DECLARED
    answer = raw_request(url, head(path, *headers, length=length), timeout=10)
    assert status_of(answer) == status, answer[:300]
    assert words.encode() in answer
    assert stored(engine) == 0


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logged() -> Iterator[list[logging.LogRecord]]:
    """Every record of smpm's and uvicorn's loggers (uvicorn's do not reach the root)."""
    handler = _Records()
    loggers = [logging.getLogger(n) for n in ("", "smpm", "uvicorn", "uvicorn.error")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler.records
    for logger in loggers:
        logger.removeHandler(handler)


def _aborted(url: str) -> float:
    text = httpx.get(url + "/metrics").text
    line = 'smpm_events_rejected_total{endpoint="events",reason="aborted"} '
    found = [row for row in text.splitlines() if row.startswith(line)]
    return float(found[0].rsplit(" ", 1)[1]) if found else 0.0


def test_an_aborted_upload_is_counted_not_logged_as_a_traceback(
    url: str, engine: Engine, logged: list[logging.LogRecord]
) -> None:
    """An authenticated sender announces 1,000 bytes, sends 100 and hangs up: the service
    counts it (`aborted`), logs no traceback, stores nothing, and goes on answering."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head("/hooks/events", f"Authorization: Bearer {TOKEN}", length=1000))
        sock.sendall(b"\r\n\r\n" + b'{"source": "zabbix", ' * 5)
    for _ in range(500):  # each look is a request; the count follows the hang-up closely
        if _aborted(url) == 1:
            break
    assert _aborted(url) == 1
    assert [r.getMessage() for r in logged if r.exc_info or r.levelno >= logging.ERROR] == []
    assert stored(engine) == 0
    assert httpx.get(url + "/healthz").status_code == 200


# -- bodies read before their signature is verified share a budget --------------------------------
def test_unverified_bodies_share_a_budget(engine: Engine) -> None:
    """A well-formed, fresh X-Smpm-Signature takes no secret to write, so bodies read for a
    signature check share a budget (64 bodies of max_body_bytes, 1 KiB here): with 64 such
    uploads stalled, the next is 503 before a byte of it is read; once they are gone, a real
    signed event is accepted.

    Run on the ASGI app itself: only there can the test know that the 64 stalled uploads
    are being read before it sends the next (over sockets the order is the scheduler's)."""
    writer = GroupWriter(engine, utcnow)
    metrics = IntakeMetrics(lambda: counts(engine))
    app = create_app(
        ServeSection(max_body_bytes=1024), HOOKS, engine, writer, metrics, now=lambda: NOW
    )
    forged = f"t={NOW},v1={'0' * 64}".encode()

    def scope(signature: bytes, length: int) -> dict[str, Any]:
        headers = [(b"content-length", str(length).encode()), (b"x-smpm-signature", signature)]
        return {
            "type": "http",
            "method": "POST",
            "path": "/hooks/events",
            "headers": headers,
            "query_string": b"",
        }

    async def scenario() -> tuple[int, int]:
        reading, gone = asyncio.Event(), asyncio.Event()
        stalled: list[int] = []

        async def never_sent() -> dict[str, Any]:
            stalled.append(1)
            if len(stalled) == 64:
                reading.set()
            await gone.wait()
            return {"type": "http.disconnect"}

        async def must_not_read() -> dict[str, Any]:
            raise AssertionError("the body was read before the budget was checked")

        async def ignore(message: dict[str, Any]) -> None:
            pass

        statuses: list[int] = []

        async def collect(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        uploads = [
            asyncio.create_task(app(scope(forged, 1024), never_sent, ignore)) for _ in range(64)
        ]
        await reading.wait()
        await app(scope(forged, 1024), must_not_read, collect)
        gone.set()
        await asyncio.gather(*uploads)
        body = json.dumps(event_body()).encode()
        chunks = [{"type": "http.request", "body": body, "more_body": False}]

        async def real_body() -> dict[str, Any]:
            return chunks.pop(0)

        await app(scope(sign(SECRET, NOW, body).encode(), len(body)), real_body, collect)
        return statuses[0], statuses[1]

    try:
        assert asyncio.run(scenario()) == (503, 202)
    finally:
        writer.close()
    assert stored(engine) == 1
