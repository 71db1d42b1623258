"""`[serve]`, `[intake]` and `[hooks.*]` settings of the webhook service."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt

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


class IntakeSection(_Section):
    max_attempts: PositiveInt = 8
    backoff_seconds: PositiveFloat = 2.0
    max_backoff_seconds: PositiveFloat = 600.0
    lease_seconds: PositiveFloat = 120.0
    claim_batch: PositiveInt = 20


class HooksSection(_Section):
    """One entry per endpoint; an endpoint without an entry refuses every request (401)."""

    events: HookAuth | None = None
    alertmanager: HookAuth | None = None
    remedy: HookAuth | None = None
    servicenow: HookAuth | None = None
