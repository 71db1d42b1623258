"""How many connections `smpm serve` may hold, and what happens when there are more.

Every connection costs a file descriptor, and descriptors run out long before memory or CPU:
with systemd's default of 1,024 and 1,100 idle connections, accept() failed with EMFILE and
asyncio's accept loop (`selector_events._accept_connection`) turned each failure into a
traceback through the loop's exception handler, then called accept() again, up to `backlog`
(2,048) times in the same tick, scheduling one more retry each time: 610,303 tracebacks in
10 s and a loop too busy to answer anyone (issue 11, item 8). uvicorn's `limit_concurrency`
does not help: it answers 503 to requests, but never refuses a connection, and it counts the
idle ones too.

So the listening socket is a `Listener` that counts the sockets it accepted and not yet closed.
At `max_connections` it closes the connection that has waited longest for its next request
(idle, or still sending its headers) and takes the new one on the next tick; when every
connection is busy it tells asyncio it is out of resources, once, and asyncio stops accepting
for a second while new connections wait in the kernel's listen queue. A real EMFILE (the
reserve was too small) is handled the same way, and lowers the limit below it. Each condition
is logged once per interval with a count, never as a traceback.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
from dataclasses import dataclass
from typing import Any, Protocol

from connector.errors import ConfigurationError
from smpm.intake.config import ServeSection
from smpm.logs import Throttle

try:
    import resource
except ImportError:  # Windows: no RLIMIT_NOFILE, and its loop accepts without the Gate
    resource = None  # type: ignore[assignment]

log = logging.getLogger("smpm.serve")
OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
ACCEPT_OUT_OF_RESOURCES = "socket.accept() out of system resource"  # asyncio's message
DEFAULT_CEILING = 4096  # connections a webhook receiver needs, when descriptors allow more
MIN_CONNECTIONS = 8


@dataclass(frozen=True)
class Descriptors:
    """RLIMIT_NOFILE at start, after raising the soft limit to the hard one where allowed."""

    soft: int
    hard: int
    raised_from: int | None
    in_use: int
    reserved: int

    @property
    def available(self) -> int:
        return self.soft - self.in_use - self.reserved


def descriptors(reserved: int, *, raise_soft: bool = True) -> Descriptors:
    """The process's descriptor figures; the soft limit is raised to the hard limit first
    (systemd's LimitNOFILE= sets both; a login shell's ulimit often leaves soft at 1,024)."""
    if resource is None:
        return Descriptors(1 << 16, 1 << 16, None, _in_use(), reserved)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    raised_from = None
    if raise_soft and soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            raised_from, soft = soft, hard
        except (ValueError, OSError):  # an unlimited hard limit above the kernel's nr_open
            pass
    return Descriptors(_finite(soft), _finite(hard), raised_from, _in_use(), reserved)


def _finite(limit: int) -> int:
    return 1 << 20 if resource is not None and limit == resource.RLIM_INFINITY else limit


def _in_use() -> int:
    for folder in ("/proc/self/fd", "/dev/fd"):
        try:
            return len(os.listdir(folder)) - 1  # less the descriptor listdir itself held
        except OSError:
            continue
    return 64  # no way to count here: assume a busy start


def connection_limit(serve: ServeSection, fds: Descriptors) -> int:
    """max_connections as configured, or the descriptors left after the reserve (at most
    DEFAULT_CEILING); never more than those: a connection past them is an EMFILE."""
    available = fds.available
    if available < MIN_CONNECTIONS:
        raise ConfigurationError(
            f"RLIMIT_NOFILE {fds.soft} leaves {max(available, 0)} file descriptors for "
            f"connections ({fds.in_use} in use at start, [serve] reserved_descriptors = "
            f"{fds.reserved}); raise LimitNOFILE= in the systemd unit (or ulimit -n), e.g. to "
            f"65536, or lower [serve] reserved_descriptors"
        )
    if serve.max_connections is None:
        return min(available, DEFAULT_CEILING)
    if serve.max_connections > available:
        log.warning(
            "[serve] max_connections = %d is more than the %d file descriptors left "
            "(RLIMIT_NOFILE %d, %d in use, %d reserved): using %d; raise LimitNOFILE=",
            serve.max_connections,
            available,
            fds.soft,
            fds.in_use,
            fds.reserved,
            available,
        )
        return available
    return serve.max_connections


class Waiting(Protocol):
    """A connection that may be closed to make room: it is waiting for a request."""

    def make_room(self) -> None: ...


class Paused(OSError):
    """Told to asyncio's accept loop so that it stops accepting for a second; already logged."""


class Gate:
    """The connections of one server: how many are open, which wait, how many requests run.

    Touched only from the event loop's thread (accept, protocol callbacks, timers).
    """

    def __init__(self, limit: int, max_requests: int, throttle: Throttle) -> None:
        self.limit, self.max_requests, self.throttle = limit, max_requests, throttle
        self.open = 0
        self.requests = 0
        self.waiting: dict[Waiting, None] = {}  # insertion order: the longest waiting first
        self._pausing = False

    def admit(self, listener: Listener) -> tuple[socket.socket, Any]:
        """accept() for the listener, within the limit; see the module docstring."""
        if self._pausing:  # the rest of asyncio's accept loop, in the tick that paused it
            self._pausing = False
            raise BlockingIOError
        if self.open >= self.limit:
            return self._at_limit()
        try:
            fd, address = listener._accept()  # type: ignore[attr-defined]
        except OSError as exc:
            if exc.errno not in OUT_OF_RESOURCES:
                raise
            return self._exhausted(exc)
        sock = Accepted(listener.family, listener.type, listener.proto, fileno=fd)
        sock.gate = self
        self.open += 1
        return sock, address

    def released(self) -> None:
        self.open -= 1

    def _at_limit(self) -> tuple[socket.socket, Any]:
        if self._close_longest_waiting():
            self.throttle.note(
                "limit",
                "connection limit %d reached: closed the connection waiting longest for a "
                "request to make room for a new one",
                self.limit,
            )
            raise BlockingIOError  # its descriptor is free on the next tick: accept then
        self.throttle.note(
            "busy",
            "connection limit %d reached and every connection is busy: new connections wait "
            "in the listen queue",
            self.limit,
        )
        raise self._pause(errno.EMFILE, "connection limit reached")

    def _exhausted(self, exc: OSError) -> tuple[socket.socket, Any]:
        lowered = max(MIN_CONNECTIONS, self.open - max(MIN_CONNECTIONS, self.open // 16))
        self.limit = min(self.limit, lowered)
        self.throttle.note(
            "exhausted",
            "out of file descriptors (%s) with %d connections open: connection limit lowered "
            "to %d; raise LimitNOFILE= or [serve] reserved_descriptors",
            exc.strerror,
            self.open,
            self.limit,
        )
        if self._close_longest_waiting():
            raise BlockingIOError from None
        raise self._pause(exc.errno or errno.EMFILE, exc.strerror or "out of descriptors")

    def _close_longest_waiting(self) -> bool:
        if not self.waiting:
            return False
        victim = next(iter(self.waiting))
        del self.waiting[victim]
        victim.make_room()
        return True

    def _pause(self, code: int, reason: str) -> Paused:
        self._pausing = True
        return Paused(code, reason)


class Listener(socket.socket):
    """The listening socket, accepting through its Gate (asyncio calls `sock.accept()`)."""

    gate: Gate

    def accept(self) -> tuple[socket.socket, Any]:
        return self.gate.admit(self)


class Accepted(socket.socket):
    """An accepted connection that tells its Gate when its descriptor is closed."""

    __slots__ = ("gate",)
    gate: Gate | None

    def close(self) -> None:
        gate, self.gate = getattr(self, "gate", None), None
        if gate is not None:
            gate.released()
        super().close()


def exception_handler(throttle: Throttle) -> Any:
    """The loop's exception handler: accept() out of resources is logged once per interval
    (Paused ones not at all: the Gate logged them), everything else as asyncio would."""

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") != ACCEPT_OUT_OF_RESOURCES:
            loop.default_exception_handler(context)
            return
        exc = context.get("exception")
        if isinstance(exc, Paused):
            return
        throttle.note("accept", "accept() failed, out of resources: %s", exc)

    return handle
