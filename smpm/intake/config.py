"""`[serve]`, `[intake]` and `[hooks.*]` settings of the webhook service."""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    PositiveInt,
    field_validator,
    model_validator,
)

from connector.http import HttpOptions
from smpm.intake.auth import HookAuth


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServeSection(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    max_body_bytes: PositiveInt = 1024 * 1024
    signature_tolerance_seconds: PositiveFloat = 300
    workers: int = Field(default=2, ge=0, le=32, description="event worker threads (0: none)")
    poll_seconds: PositiveFloat = 0.5
    # Connections and deadlines (smpm.intake.limits, smpm.intake.deadlines): a slow or idle
    # client holds a descriptor, and descriptors run out before anything else does.
    max_connections: PositiveInt | None = Field(
        default=None,
        description="connections open at once; default: the file descriptors left after "
        "reserved_descriptors, at most 4096; never more than those",
    )
    reserved_descriptors: int = Field(
        default=128, ge=0, description="descriptors kept for the database, ITSM calls and logs"
    )
    max_concurrent_requests: PositiveInt = Field(
        default=256, description="requests being read or handled at once; beyond: 503"
    )
    backlog: int = Field(default=2048, ge=1, le=65535, description="the kernel's listen queue")
    max_header_bytes: int = Field(default=16384, ge=1024, description="request line and headers")
    header_timeout_seconds: PositiveFloat = 10.0
    body_timeout_seconds: PositiveFloat = 30.0
    keep_alive_seconds: PositiveFloat = 5.0
    resource_log_seconds: PositiveFloat = Field(
        default=60.0, description="a recurring resource condition is logged once per this"
    )


class IntakeSection(_Section):
    """How events are worked.

    `lease_seconds` is how long a claimed event stays a worker's without word from it: the
    worker renews the lease every third of it while it works, so the lease bounds how long a
    crashed worker's events wait, not how long deciding one may take. It must outlast one
    ITSM request (`request_worst_case`), checked when the settings load.

    While the ITSM is unavailable the workers pause (the circuit breaker): they probe it after
    `breaker_probe_seconds`, doubling up to `breaker_max_probe_seconds`.
    """

    max_attempts: PositiveInt = 8
    backoff_seconds: PositiveFloat = 2.0
    max_backoff_seconds: PositiveFloat = 600.0
    lease_seconds: PositiveFloat = 900.0
    claim_batch: PositiveInt = 20
    breaker_probe_seconds: PositiveFloat = 1.0
    breaker_max_probe_seconds: PositiveFloat = 60.0

    @property
    def heartbeat_seconds(self) -> float:
        """How often a working worker renews its leases: three chances before one runs out."""
        return self.lease_seconds / 3


class HookEntry(HookAuth):
    """`[hooks.<endpoint>]` as the settings load it: HookAuth without the check that every
    method has its secret, which waits for `HooksSection.missing`, asked by the command that
    verifies webhooks (`smpm serve`). `smpm audit` or `smpm events` on a host that holds no
    webhook secret must still read the store."""

    @model_validator(mode="after")
    def _has_credentials(self) -> HookEntry:  # replaces HookAuth's check of the same name
        if "basic" in self.methods and not self.username:
            raise ValueError("method 'basic' needs a username")
        return self


SECRET_OF = {"hmac": "secret", "bearer": "token", "basic": "password"}


class HooksSection(_Section):
    """One entry per endpoint; an endpoint without an entry refuses every request (401)."""

    events: HookEntry | None = None
    alertmanager: HookEntry | None = None
    remedy: HookEntry | None = None
    servicenow: HookEntry | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _entry(cls, value: Any) -> Any:
        """A HookAuth built in code (the demo's) is taken as an entry, secrets and all."""
        if isinstance(value, HookAuth) and not isinstance(value, HookEntry):
            return dict(value)
        return value

    def missing(self) -> list[tuple[str, str, str]]:
        """(endpoint, method, secret key) for each configured method whose secret is unset."""
        return [
            (endpoint, method, SECRET_OF[method])
            for endpoint in type(self).model_fields
            if (entry := getattr(self, endpoint)) is not None
            for method in entry.methods
            if getattr(entry, SECRET_OF[method]) is None
        ]


def request_worst_case(http: HttpOptions) -> float:
    """The longest one ITSM request can take in `connector.http.send`: every attempt waits up
    to its connect and read timeouts, and between attempts the wait is the backoff (at most
    `max_backoff`) or the server's Retry-After (at most `max_retry_after`)."""
    attempts = max(1, http.attempts)
    waits = (attempts - 1) * max(http.max_backoff, http.max_retry_after)
    return attempts * (http.connect_timeout + http.read_timeout) + waits


def lease_problem(intake: IntakeSection, http: HttpOptions, section: str) -> str | None:
    """Why `[intake] lease_seconds` cannot hold an event through one request made with the
    `[<section>]` settings, or None when it can.

    A worker renews its lease between and during requests; a request that outlasts the lease
    would let another worker take the event while the first one's create may still land.
    """
    worst = request_worst_case(http)
    if intake.lease_seconds > worst:
        return None
    attempts = max(1, http.attempts)
    return (
        f"lease_seconds = {intake.lease_seconds:g} does not outlast one ITSM request made with "
        f"[{section}]: up to {worst:g} s (attempts {attempts} x (connect_timeout "
        f"{http.connect_timeout:g} + read_timeout {http.read_timeout:g}) + {attempts - 1} "
        f"wait(s) of up to max(max_backoff {http.max_backoff:g}, max_retry_after "
        f"{http.max_retry_after:g})); raise intake.lease_seconds above {worst:g}, or lower "
        f"{section}.read_timeout, {section}.attempts or {section}.max_retry_after"
    )
