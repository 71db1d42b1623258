"""`smpm serve`: the webhook app, its group-commit writer and its event workers, together.

The parts start in the order that keeps the promise "nothing accepted is lost": the store first,
then the writer, then the workers, then the HTTP listener; they stop in the reverse order, and an
event still being processed when the process dies is simply taken again on the next start.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import uvicorn
from sqlalchemy import Engine

from connector.base import Connector
from smpm.intake.app import HookDispatch, create_app
from smpm.intake.breaker import Breaker, Probe
from smpm.intake.checkpoint import Checkpointer
from smpm.intake.config import ServeSection
from smpm.intake.deadlines import Deadlines, protocol_for
from smpm.intake.limits import (
    Descriptors,
    Gate,
    Listener,
    connection_limit,
    descriptors,
    exception_handler,
)
from smpm.intake.metrics import IntakeMetrics
from smpm.intake.processor import Processor
from smpm.intake.store import counts
from smpm.intake.worker import Handler, Worker
from smpm.intake.writer import GroupWriter
from smpm.logs import Throttle, ThrottleFilter
from smpm.platforms import open_connector
from smpm.schedule.service import scheduling
from smpm.settings import Settings
from smpm.store import open_engine, utcnow

log = logging.getLogger("smpm.serve")


@dataclass
class Service:
    app: HookDispatch
    engine: Engine
    writer: GroupWriter
    metrics: IntakeMetrics
    worker: Worker
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def drain(self, rounds: int = 100) -> int:
        """Work every due event in this thread until none is left; returns how many were taken.

        For tests and one-shot runs: the same worker logic as the threads, without them.
        """
        taken = 0
        for _ in range(rounds):
            claimed = self.worker.run_once()
            if not claimed:
                break
            taken += claimed
        return taken


@contextmanager
def running(
    settings: Settings,
    *,
    handler: Handler | None = None,
    connector_factory: Callable[[Settings], Connector] = open_connector,
    clock: Callable[[], datetime] = utcnow,
    workers: int | None = None,
    probe: Probe | None = None,
) -> Iterator[Service]:
    """The service's parts, started; stopped in reverse order on exit. `probe` is the circuit
    breaker's cheap read of the ITSM (default: the processor's; none with another handler)."""
    sqlite = settings.database.url.startswith("sqlite")
    engine = open_engine(settings.database.url, autocheckpoint=not sqlite)
    checkpointer = Checkpointer(engine) if sqlite else None
    metrics = IntakeMetrics(lambda: counts(engine))
    writer = GroupWriter(engine, clock, on_batch=metrics.observe_commit)
    app = create_app(
        settings.serve, settings.hooks, engine, writer, metrics, now=lambda: clock().timestamp()
    )
    processor = None
    if handler is None:
        processor = Processor(settings, engine, connector_factory, clock)
        handler, probe = processor, probe or processor.probe
    # One breaker for the process's workers: when the ITSM is out, all of them wait.
    breaker = Breaker(probe or (lambda: None), settings.intake, clock)
    metrics.track(breaker)

    def worker() -> Worker:
        return Worker(engine, handler, settings.intake, clock, metrics, breaker=breaker)

    service = Service(app, engine, writer, metrics, worker())
    count = settings.serve.workers if workers is None else workers
    for n in range(count):
        thread = threading.Thread(
            target=worker().run_until,
            args=(service.stop, settings.serve.poll_seconds),
            name=f"smpm-event-worker-{n}",
            daemon=True,
        )
        service.threads.append(thread)
        thread.start()
    try:
        yield service
    finally:
        service.stop.set()
        for thread in service.threads:
            thread.join(timeout=30)
        writer.close()
        if processor is not None:
            processor.close()
        if checkpointer is not None:
            checkpointer.close()
        engine.dispose()


def serve(settings: Settings, ready: Callable[[str], None] | None = None) -> None:
    """Run until interrupted: HTTP on [serve] host:port, workers in threads, and the scheduler
    when `[schedule] enabled = true` (started before the socket is bound, so a scheduler that
    may not start stops the service before it accepts anything).

    The socket is bound first (port 0 picks a free one) and `ready` hears the real URL, so a
    supervisor or a test knows where to post without polling. The descriptor figures are read
    once everything else has started, so that they count what the store and workers hold.
    """
    serve_section = settings.serve
    with running(settings) as service, scheduling(settings):
        fds = descriptors(serve_section.reserved_descriptors)
        server = _server(service.app, serve_section, fds)
        sock, url = _bind(
            serve_section.host, serve_section.port, server.gate, serve_section.backlog
        )
        log.info("webhooks on %s/hooks/...", url)
        _log_limits(serve_section, fds, server.gate)
        # Everything loaded so far lives as long as the process: keep it out of the cyclic
        # collector's full passes, which otherwise stall every open request now and then.
        gc.collect()
        gc.freeze()
        if ready is not None:
            ready(url)
        server.run(sockets=[sock])


@contextmanager
def listening(
    service: Service, host: str = "127.0.0.1", serve: ServeSection | None = None
) -> Iterator[str]:
    """The service's HTTP side on a free port, in a thread, until the block ends (the demo).

    In-process, the descriptors are the host process's (a test run, the demo): none reserved.
    """
    section = serve or ServeSection(reserved_descriptors=0)
    server = _server(
        service.app, section, descriptors(section.reserved_descriptors, raise_soft=False)
    )
    sock, url = _bind(host, 0, server.gate, section.backlog)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started and thread.is_alive():
            service.stop.wait(0.01)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _bind(host: str, port: int, gate: Gate, backlog: int) -> tuple[Listener, str]:
    # Protocol given explicitly: asyncio turns on TCP_NODELAY only for sockets whose proto is
    # IPPROTO_TCP, and without it Nagle holds each response body back ~40 ms.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = Listener(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.gate = gate
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    bound_host, bound_port = sock.getsockname()[:2]
    return sock, f"http://{bound_host}:{bound_port}"


class GuardedServer(uvicorn.Server):
    """uvicorn's server with the Gate's exception handler on its loop, and uvicorn's
    per-request warnings throttled (see smpm.intake.limits)."""

    FLOODS = ("Invalid HTTP request received.",)  # one per malformed request

    def __init__(self, config: uvicorn.Config, gate: Gate) -> None:
        super().__init__(config)
        self.gate = gate
        self._filter = ThrottleFilter(gate.throttle, self.FLOODS)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        asyncio.get_running_loop().set_exception_handler(exception_handler(self.gate.throttle))
        logging.getLogger("uvicorn.error").addFilter(self._filter)
        await super().startup(sockets=sockets)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().shutdown(sockets=sockets)
        finally:
            logging.getLogger("uvicorn.error").removeFilter(self._filter)
            self.gate.throttle.close()


def _server(app: HookDispatch, serve: ServeSection, fds: Descriptors) -> GuardedServer:
    throttle = Throttle(logging.getLogger("smpm.serve.limits"), serve.resource_log_seconds)
    gate = Gate(connection_limit(serve, fds), serve.max_concurrent_requests, throttle)
    deadlines = Deadlines(
        serve.keep_alive_seconds, serve.header_timeout_seconds, serve.body_timeout_seconds
    )
    # The asyncio loop and h11, named rather than "auto": the Gate relies on asyncio's accept
    # loop calling the listener's accept() (uvloop accepts in C), and the deadlines extend
    # uvicorn's h11 protocol. uvicorn's limit_concurrency stays off: it counts idle
    # connections and refuses none (the Gate and max_concurrent_requests do its work).
    config = uvicorn.Config(
        app,
        http=protocol_for(gate, deadlines),
        loop="asyncio",
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
        timeout_keep_alive=serve.keep_alive_seconds,  # type: ignore[arg-type]  (a float works)
        h11_max_incomplete_event_size=serve.max_header_bytes,
        backlog=serve.backlog,
    )
    return GuardedServer(config, gate)


def _log_limits(serve: ServeSection, fds: Descriptors, gate: Gate) -> None:
    raised = f" (soft limit raised from {fds.raised_from})" if fds.raised_from else ""
    log.info(
        "file descriptors: RLIMIT_NOFILE %d%s, %d in use, %d reserved: up to %d connections, "
        "%d requests at once; deadlines: headers %g s, body %g s, keep-alive %g s",
        fds.soft,
        raised,
        fds.in_use,
        fds.reserved,
        gate.limit,
        gate.max_requests,
        serve.header_timeout_seconds,
        serve.body_timeout_seconds,
        serve.keep_alive_seconds,
    )
