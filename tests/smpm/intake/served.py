"""The webhook app served by uvicorn on a loopback port, as `smpm serve` serves it.

TestClient calls the ASGI app in-process: it never sends a body slowly, never aborts an upload,
and sends headers as it likes. The tests of what arrives over the wire use this instead.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import urlsplit

from sqlalchemy import Engine

from smpm.intake.app import HookDispatch, create_app
from smpm.intake.config import HooksSection, ServeSection
from smpm.intake.metrics import IntakeMetrics
from smpm.intake.service import Service, listening
from smpm.intake.store import counts
from smpm.intake.writer import GroupWriter
from smpm.store import utcnow
from tests.smpm.intake.conftest import HOOKS, NOW


@dataclass
class _Served:
    """What `listening` needs of a Service: the app, and the event it waits on."""

    app: HookDispatch
    stop: threading.Event = field(default_factory=threading.Event)


@contextmanager
def serving(
    engine: Engine,
    *,
    hooks: HooksSection = HOOKS,
    max_body_bytes: int = 1024 * 1024,
    writer: GroupWriter | None = None,
) -> Iterator[str]:
    """The base URL of the app on a free loopback port, until the block ends."""
    own = writer is None
    writer = writer or GroupWriter(engine, utcnow)
    metrics = IntakeMetrics(lambda: counts(engine))
    serve = ServeSection(max_body_bytes=max_body_bytes)
    app = create_app(serve, hooks, engine, writer, metrics, now=lambda: NOW)
    try:
        with listening(cast(Service, _Served(app))) as url:
            yield url
    finally:
        if own:
            writer.close()


def raw_request(url: str, head: bytes, body: bytes = b"", *, timeout: float = 10) -> bytes:
    """Send `head` (request line and headers, without the blank line) and `body` as they are,
    and read the answer until the server closes or the answer is complete."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(head + b"\r\n\r\n" + body)
        return read_answer(sock)


def read_answer(sock: socket.socket) -> bytes:
    """One HTTP answer from `sock`: its head and as much of its body as Content-Length says."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head + b"\r\n\r\n" + rest


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])
