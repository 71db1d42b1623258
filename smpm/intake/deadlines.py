"""Deadlines for every phase of a connection, so that a slow client cannot hold one for ever.

uvicorn enforces one timeout, keep-alive, and only between requests: its timer starts after a
response and any byte received cancels it. A connection that never sends a byte, one that
sends its headers a byte at a time (slowloris), and one that trickles its body were all held
open for ever. This protocol is uvicorn's h11 protocol with a deadline for each phase:

  waiting for a first request   keep_alive_seconds from the connection (uvicorn's own timer
                                covers the wait between requests)
  receiving a request's headers header_timeout_seconds from its first byte
  receiving its body            body_timeout_seconds from the end of its headers

The connection is closed when a deadline passes. The request handling itself has none (the
store's group commit answers in milliseconds; shutdown has its own grace period).

It also limits the requests being read or handled at once (`max_concurrent_requests`): one
more is answered 503 at once, with `Retry-After`, and its connection is closed. uvicorn's own
`limit_concurrency` would count idle connections too (see smpm.intake.limits).
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import h11
from starlette.requests import ClientDisconnect
from starlette.types import Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from smpm.intake.limits import Gate

BUSY = b'{"error": "too many requests under way; retry shortly"}'


class Deadlines:
    def __init__(self, keep_alive: float, header: float, body: float) -> None:
        self.keep_alive, self.header, self.body = keep_alive, header, body


class GuardedProtocol(H11Protocol):
    """uvicorn's h11 protocol with the deadlines of the module docstring.

    Subclassed per server by `protocol_for`, which sets the class attributes.
    """

    gate: ClassVar[Gate]
    deadlines: ClassVar[Deadlines]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._app, self.app = self.app, self._serve  # every request passes through _serve
        self._timer: asyncio.TimerHandle | None = None
        self._phase = ""  # the phase whose deadline is armed: "idle", "header" or none
        self._requests = 0  # of this connection, under way (more than one when pipelined)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline(self.deadlines.keep_alive, "idle")
        self.gate.waiting[self] = None

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # Still waiting for the rest of a request's head after this data: its deadline runs
        # from now (the first byte). A head that arrived whole, the common case, costs no timer.
        if self._phase != "header" and not self._requests and self.conn.their_state is h11.IDLE:
            self._deadline(self.deadlines.header, "header")

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        self.gate.waiting.pop(self, None)
        super().connection_lost(exc)

    def make_room(self) -> None:
        """Closed by the Gate: the connection limit is reached and this one waited longest."""
        self._cancel()
        self.transport.close()

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._cancel()
        self._requests += 1
        gate = self.gate
        gate.waiting.pop(self, None)
        if gate.requests >= gate.max_requests:
            await self._busy(send)
            self._requests -= 1
            return
        timer = None
        if self.conn.their_state is not h11.DONE:  # the body is still to come
            timer = self.loop.call_later(self.deadlines.body, self._expire, "body")
            receive = _until_body_read(receive, timer)
        gate.requests += 1
        try:
            await self._app(scope, receive, send)
        except ClientDisconnect:  # the client left, or a deadline closed the connection
            if not self.transport.is_closing():
                raise
        finally:
            gate.requests -= 1
            if timer is not None:
                timer.cancel()
            self._requests -= 1
            if not self._requests and not self.transport.is_closing():
                gate.waiting[self] = None

    async def _busy(self, send: Send) -> None:
        self.gate.throttle.note(
            "requests",
            "%d requests under way ([serve] max_concurrent_requests): answered 503",
            self.gate.max_requests,
        )
        headers = [
            (b"content-type", b"application/json"),
            (b"retry-after", b"1"),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": BUSY})

    def _deadline(self, seconds: float, phase: str) -> None:
        self._cancel()
        self._timer = self.loop.call_later(seconds, self._expire, phase)
        self._phase = phase

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer, self._phase = None, ""

    def _expire(self, phase: str) -> None:
        if phase != "body":
            self._timer, self._phase = None, ""
        if phase != "idle":
            seconds = self.deadlines.header if phase == "header" else self.deadlines.body
            self.gate.throttle.note(
                phase,
                "closed a connection whose request %s took over %g s ([serve] %s_timeout_seconds)",
                "headers" if phase == "header" else "body",
                seconds,
                phase,
            )
        self.gate.waiting.pop(self, None)
        self.transport.close()


def _until_body_read(receive: Receive, timer: asyncio.TimerHandle) -> Receive:
    """`receive`, cancelling the body's deadline once the body's last part has arrived."""

    async def receive_body() -> Message:
        message = await receive()
        if not message.get("more_body", False):
            timer.cancel()
        return message

    return receive_body


def protocol_for(gate: Gate, deadlines: Deadlines) -> type[GuardedProtocol]:
    """The protocol class for one server: uvicorn builds one instance per connection."""
    return type("Guarded", (GuardedProtocol,), {"gate": gate, "deadlines": deadlines})
