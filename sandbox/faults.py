"""Latency, injected faults and request statistics, as ASGI middleware around the AR API.

Tests use these to prove retries, timeouts and backoff against real HTTP:
- latency: every API request waits `latency_ms` first (an async sleep, so requests overlap);
- a *status* fault answers the next N matching requests with an HTTP status and an error body
  in the shape of the API the path belongs to (an AR error array by default; the ServiceNow
  face registers its envelope for `/api/now` and `/oauth_token.do`), and `Retry-After` when
  asked, without reaching the server;
- a *reset* fault drops the connection of the next N matching requests without an answer;
- a *delay* fault serves the next N matching requests at once and holds each answer for D
  seconds: the server has acted (a create is committed) by the time a client with a shorter
  read timeout gives up, as on a slow instance whose answer comes too late. (Holding the
  request instead would make the server drop it: a request whose client has gone is read as a
  disconnect, and nothing would be created.)
A fault matches on an optional method and path prefix. Rules are consumed first come, first
served, under a lock. The `/__sandbox/` control routes are never delayed, faulted or counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from http import HTTPStatus
from typing import Any, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTROL_PREFIX = "/__sandbox"
RECENT = 1000  # requests kept in `stats()["recent"]`


@dataclass
class FaultRule:
    kind: Literal["status", "reset", "delay"]
    count: int = 1
    method: str | None = None
    path_prefix: str | None = None
    status: int = 503
    retry_after: str | None = None
    message: str | None = None
    seconds: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method) and (
            self.path_prefix is None or path.startswith(self.path_prefix)
        )


def route_key(method: str, path: str) -> str:
    """`GET /api/arsys/v1/entry/HPD:IncidentInterface` for any call on that form;
    `GET /api/now/table/incident` (or `/api/now/v2/table/incident`) for any call on that table."""
    segments = [s for s in path.split("/") if s]
    keep = 5
    if segments[:2] == ["api", "now"]:
        keep = 5 if len(segments) > 2 and segments[2] in ("v1", "v2") else 4
    return f"{method} /" + "/".join(segments[:keep])


FaultAnswer = Callable[[FaultRule], tuple[int, bytes, list[tuple[bytes, bytes]]]]


class Faults:
    """Thread-safe fault rules, latency and counters, shared by the API and the Python API."""

    def __init__(self, latency_ms: float = 0) -> None:
        self.latency_ms = latency_ms
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._routes: Counter[str] = Counter()
        self._statuses: Counter[str] = Counter()
        self._recent: deque[dict[str, Any]] = deque(maxlen=RECENT)

    def add(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(rule) for rule in self._rules]

    def take(self, method: str, path: str) -> FaultRule | None:
        """The first rule matching this request, with one use consumed."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    rule.count -= 1
                    if rule.count <= 0:
                        self._rules.remove(rule)
                    return rule
        return None

    def record(self, method: str, path: str, query: str, outcome: int | str) -> None:
        with self._lock:
            self._routes[route_key(method, path)] += 1
            self._statuses[str(outcome)] += 1
            self._recent.append({"method": method, "path": path, "query": query, "status": outcome})

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": sum(self._routes.values()),
                "by_route": dict(self._routes),
                "by_status": dict(self._statuses),
                "recent": list(self._recent),
            }

    def reset_stats(self) -> None:
        with self._lock:
            self._routes.clear()
            self._statuses.clear()
            self._recent.clear()


class FaultMiddleware:
    """Applies `Faults` to every non-control HTTP request. `closer(scope)` drops a connection."""

    def __init__(
        self, app: ASGIApp, faults: Faults, answers: Sequence[tuple[str, FaultAnswer]] = ()
    ) -> None:
        self.app = app
        self.faults = faults
        self.answers = list(answers)  # (path prefix, answer) for APIs that are not AR
        self.closer: Callable[[Scope], bool] | None = None
        self._stopping: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def shutdown(self) -> None:
        """Cut injected delays short, from any thread, so the server can stop at once."""
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)

    async def _delay(self, seconds: float) -> None:
        if self._stopping is None:
            self._loop, self._stopping = asyncio.get_running_loop(), asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        query = scope.get("query_string", b"").decode("latin-1")
        if self.faults.latency_ms > 0:
            await asyncio.sleep(self.faults.latency_ms / 1000)
        rule = self.faults.take(method, path)
        held = rule.seconds if rule is not None and rule.kind == "delay" else 0.0
        if rule is not None and rule.kind == "reset":
            self.faults.record(method, path, query, "reset")
            await self._reset(scope, receive)
            return
        if rule is not None and rule.kind == "status":
            self.faults.record(method, path, query, rule.status)
            answer = next((a for p, a in self.answers if path.startswith(p)), ar_answer)
            await _send(send, *answer(rule))
            return
        started = False

        async def send_and_note(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True  # counted before the client can see the answer
                self.faults.record(method, path, query, message["status"])
                if held:  # the request was served; only its answer waits
                    await self._delay(held)
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            if not started:
                self.faults.record(method, path, query, 500)

    async def _reset(self, scope: Scope, receive: Receive) -> None:
        if self.closer is None or not self.closer(scope):
            raise ConnectionResetError("sandbox fault: could not find the connection to reset")
        while (await receive())["type"] != "http.disconnect":
            pass


def ar_answer(rule: FaultRule) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    """An AR error array (and `Retry-After` when the rule has one)."""
    known = rule.status in HTTPStatus._value2member_map_
    text = rule.message or (HTTPStatus(rule.status).phrase if known else "Injected fault")
    body = json.dumps(
        [
            {
                "messageType": "ERROR",
                "messageText": text,
                "messageAppendedText": "injected by the smpm sandbox",
                "messageNumber": rule.status,
            }
        ]
    ).encode()
    headers = [(b"content-type", b"application/json")]
    if rule.retry_after is not None:
        headers.append((b"retry-after", rule.retry_after.encode()))
    return rule.status, body, headers


async def _send(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
