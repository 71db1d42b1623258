"""Run the sandbox: `Sandbox.start(...)` in a background thread, or `serve(...)` blocking.

    with Sandbox.start(port=0, seed="demo") as sb:
        requests.post(sb.base_url + "/api/jwt/login", data={"username": "Allen", ...})

The listening socket is bound before uvicorn starts, so `base_url` is usable at once: early
connections wait in the socket's backlog, and no caller needs to poll for readiness.
The database is a temporary file unless `db_path` is given; a seed ("demo", a file, a parsed
`Seed`, or None / "empty" for none) is applied only to a new, empty database. The same server
and port also serve the ServiceNow face (`servicenow/`), whose tables live in the same file and
get their own copy of the seeded organisation.
"""

from __future__ import annotations

import socket
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import uvicorn
from starlette.types import Scope

from sandbox.api import ARApi, create_app
from sandbox.auth import DEFAULT_LIFETIME, Tokens
from sandbox.control import Control
from sandbox.engine import Engine
from sandbox.faults import FaultMiddleware, FaultRule, Faults
from sandbox.forms import ALL_FORMS
from sandbox.generate import generate_incidents
from sandbox.generate_slm import attach_measurements
from sandbox.seed import load_seed
from sandbox.seed_format import Seed
from sandbox.seeding import Seeder
from sandbox.servicenow import ServiceNowFace, ServiceNowSettings
from sandbox.servicenow.generate import attach_task_slas
from sandbox.servicenow.generate import generate_incidents as generate_sn_incidents
from sandbox.store import Store
from sandbox.workflow import itsm_workflow

DEMO_USER, DEMO_PASSWORD = "Allen", "password"  # the demo's support-staff user
DEFAULT_USERS = {DEMO_USER: DEMO_PASSWORD, "Demo": "demo"}
SeedSource = Seed | Path | str | None


class Sandbox:
    """An emulated AR System server and ServiceNow instance over one SQLite file, with latency
    and fault controls."""

    def __init__(
        self,
        *,
        seed: SeedSource = "demo",
        db_path: Path | str | None = None,
        latency_ms: float = 0,
        token_lifetime: float = DEFAULT_LIFETIME,
        users: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        servicenow: ServiceNowSettings | Mapping[str, Any] | None = None,
        tls: tuple[Path | str, Path | str] | None = None,
    ) -> None:
        self.tls = tls  # (certificate file, key file): serve HTTPS, as real instances do
        self._tmp = None if db_path else tempfile.TemporaryDirectory(prefix="smpm-sandbox-")
        if self._tmp is not None:
            db_path = Path(self._tmp.name) / "sandbox.sqlite3"
        self.clock = clock
        self.store = Store(Path(db_path or ""), ALL_FORMS)
        self.engine = Engine(self.store, itsm_workflow(), clock)
        try:
            parsed = self._seed(seed)
            known = {**DEFAULT_USERS, **self.store.get_meta("users", {}), **(users or {})}
            self.servicenow = ServiceNowFace(self.store, known, clock, servicenow)
            if parsed is not None and not self.servicenow.is_seeded():
                self.servicenow.seed(parsed)
            self.servicenow.ensure_users()
        except BaseException:
            self.close()
            raise
        self.tokens = Tokens(known, lifetime=token_lifetime, clock=clock)
        self.faults = Faults(latency_ms)
        control = Control(self.faults, self.tokens, self.generate_incidents, self.expire_tokens)
        routes = [*self.servicenow.routes(), *control.routes(), *self.servicenow.control_routes()]
        self.middleware = FaultMiddleware(
            create_app(ARApi(self.engine, self.tokens), routes),
            self.faults,
            self.servicenow.fault_answers(),
        )
        self.base_url = ""
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def _seed(self, seed: SeedSource) -> Seed | None:
        """Apply the seed to a new database; an existing one keeps its data. Returns the seed
        when the ServiceNow face may still need it: a new database, or one seeded before that
        face existed (its AR side has the seed's users)."""
        if seed is None or seed == "empty":
            return None
        fresh = self.store.is_empty()
        if not fresh and self.store.get_meta("users") is None:
            return None
        parsed = seed if isinstance(seed, Seed) else load_seed(seed)
        if fresh:
            self.store.set_meta("users", Seeder(self.store, int(self.clock())).apply(parsed))
        return parsed

    # -- running ------------------------------------------------------------------------------
    @classmethod
    def start(cls, port: int = 0, host: str = "127.0.0.1", **options: Any) -> Sandbox:
        """A running sandbox on `host:port` (port 0: the OS picks one), served by a thread."""
        sandbox = cls(**options)
        try:
            sock = sandbox._bind(host, port)
        except OSError:
            sandbox.close()
            raise
        thread = threading.Thread(
            target=sandbox._server_for().run,
            kwargs={"sockets": [sock]},
            name=f"smpm-sandbox-{sandbox.port}",
            daemon=True,
        )
        sandbox._thread = thread
        thread.start()
        return sandbox

    def serve_forever(
        self,
        host: str = "127.0.0.1",
        port: int = 8008,
        ready: Callable[[Sandbox], None] | None = None,
    ) -> None:
        """Serve in this thread until interrupted (Ctrl+C); `ready` runs once listening."""
        sock = self._bind(host, port)
        if ready is not None:
            ready(self)
        try:
            self._server_for(log_level="info").run(sockets=[sock])
        finally:
            self.close()

    def _bind(self, host: str, port: int) -> socket.socket:
        # Protocol given explicitly: asyncio turns on TCP_NODELAY only for sockets whose proto
        # is IPPROTO_TCP, and without it Nagle holds each response body back ~40 ms.
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit TCP_NODELAY: without it a response's headers and body,
        # written apart, wait out the client's delayed ACK (about 40 ms per request on Linux).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(128)
        self.port = sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        self.base_url = f"{'https' if self.tls else 'http'}://{shown}:{self.port}"
        return sock

    def _server_for(self, log_level: str = "warning") -> uvicorn.Server:
        config = uvicorn.Config(
            self.middleware,
            log_level=log_level,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
            ssl_certfile=self.tls[0] if self.tls else None,
            ssl_keyfile=self.tls[1] if self.tls else None,
        )
        self._server = uvicorn.Server(config)
        self.middleware.closer = _connection_closer(self._server)
        return self._server

    def stop(self) -> None:
        """Stop serving and remove the temporary database."""
        if self._server is not None:
            self._server.should_exit = True
            self.middleware.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.close()

    def close(self) -> None:
        self.store.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- controls -----------------------------------------------------------------------------
    def set_latency(self, ms: float) -> None:
        self.faults.latency_ms = ms

    def inject(
        self,
        status: int = 503,
        count: int = 1,
        *,
        retry_after: str | int | None = None,
        method: str | None = None,
        path_prefix: str | None = None,
        message: str | None = None,
    ) -> None:
        """The next `count` matching requests answer `status` with an AR error body."""
        after = None if retry_after is None else str(retry_after)
        self.faults.add(FaultRule("status", count, method, path_prefix, status, after, message))

    def inject_reset(
        self, count: int = 1, *, method: str | None = None, path_prefix: str | None = None
    ) -> None:
        """The next `count` matching requests lose their connection without an answer."""
        self.faults.add(FaultRule("reset", count, method, path_prefix))

    def inject_delay(
        self,
        seconds: float,
        count: int = 1,
        *,
        method: str | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """The next `count` matching requests are served at once and answered `seconds`
        later (a create is committed even when its client gave up waiting)."""
        self.faults.add(FaultRule("delay", count, method, path_prefix, seconds=seconds))

    def clear_faults(self) -> None:
        self.faults.clear()

    def expire_tokens(self, refresh_tokens: bool = False) -> int:
        """Expire every AR token and ServiceNow access token now (refresh tokens too, when
        asked); returns how many there were."""
        return self.tokens.expire_all() + self.servicenow.expire_tokens(refresh_tokens)

    def stats(self) -> dict[str, Any]:
        return self.faults.stats()

    def reset_stats(self) -> None:
        self.faults.reset_stats()

    def generate_incidents(
        self,
        count: int,
        *,
        days: float = 30,
        open_ratio: float = 0.3,
        seed: int = 0,
        measurements: bool = False,
        measurement_goal: int | None = None,
        platform: str = "remedy",
    ) -> tuple[str, str]:
        """Add `count` incidents in bulk; returns the first and last Incident Number.

        With `measurements`, the open ones get their SLM measurements as the workflow would
        (from the seeded targets, or one resolution target of `measurement_goal` seconds).
        `platform="servicenow"` fills the ServiceNow face's `incident` table instead (numbers
        `INC0010001`...), `measurements` giving the open ones their `task_sla` rows (from the
        seeded SLA definitions, or one resolution definition of `measurement_goal` seconds).
        """
        now = int(self.clock())
        if platform == "servicenow":
            sn = self.servicenow.sn
            first, last = generate_sn_incidents(
                sn, count, now=now, days=days, open_ratio=open_ratio, seed=seed
            )
            if measurements:
                attach_task_slas(sn, first, last, now, goal_seconds=measurement_goal)
            return first, last
        if platform != "remedy":
            raise ValueError(f"platform must be 'remedy' or 'servicenow', not {platform!r}")
        first, last = generate_incidents(
            self.store, count, now=now, days=days, open_ratio=open_ratio, seed=seed
        )
        if measurements:
            attach_measurements(self.store, first, last, now, goal_seconds=measurement_goal)
        return first, last


def serve(
    host: str = "127.0.0.1",
    port: int = 8008,
    seed: SeedSource = "demo",
    *,
    db_path: Path | str | None = None,
    latency_ms: float = 0,
    token_lifetime: float = DEFAULT_LIFETIME,
    users: Mapping[str, str] | None = None,
    ready: Callable[[Sandbox], None] | None = None,
    servicenow: ServiceNowSettings | Mapping[str, Any] | None = None,
    tls: tuple[Path | str, Path | str] | None = None,
) -> None:
    """Serve the sandbox in the foreground (for `smpm sandbox --port N`) until Ctrl+C."""
    sandbox = Sandbox(
        seed=seed,
        db_path=db_path,
        latency_ms=latency_ms,
        token_lifetime=token_lifetime,
        users=users,
        servicenow=servicenow,
        tls=tls,
    )
    sandbox.serve_forever(host, port, ready)


def _connection_closer(server: uvicorn.Server) -> Callable[[Scope], bool]:
    """Abort the TCP connection a request came in on, with RST (SO_LINGER 0), not FIN."""

    def close(scope: Scope) -> bool:
        client = tuple(scope.get("client") or ())
        for connection in list(server.server_state.connections):
            if tuple(getattr(connection, "client", None) or ()) != client:
                continue
            transport = connection.transport  # type: ignore[attr-defined]
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
            return True
        return False

    return close
