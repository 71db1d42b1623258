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
    max_attempts: PositiveInt = 8
    backoff_seconds: PositiveFloat = 2.0
    max_backoff_seconds: PositiveFloat = 600.0
    lease_seconds: PositiveFloat = 120.0
    claim_batch: PositiveInt = 20


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
