"""Settings of the ServiceNow face: OAuth client, token lifetimes, the restricted user, query
behaviour and rate-limit headers. `Sandbox.start(servicenow={...})` takes them as a mapping;
`sb.servicenow.settings` can be changed while the sandbox runs (and `PUT /__sandbox/servicenow`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

READONLY_USER, READONLY_PASSWORD = "itil.readonly", "readonly"


@dataclass
class ServiceNowSettings:
    # OAuth [1.7]: one registered client; the sample token response lives 1799 s
    client_id: str = "smpm-sandbox"
    client_secret: str = "smpm-sandbox-secret"
    token_lifetime: float = 1799
    refresh_lifetime: float = 100 * 86400  # the platform's default refresh token lifespan
    # the client-credentials grant is off by default on the platform; on here, acting as:
    client_credentials: bool = True
    client_credentials_user: str = "Allen"
    # a user who may read (except `denied_tables`, and sys_journal_field rows) but not write
    readonly_users: dict[str, str] = field(
        default_factory=lambda: {READONLY_USER: READONLY_PASSWORD}
    )
    denied_tables: list[str] = field(default_factory=lambda: ["kb_knowledge"])
    # glide.invalid_query.returns_no_rows [1.2]: invalid query parts empty the result
    invalid_query_returns_no_rows: bool = False
    # the X-RateLimit-Limit an injected 429 reports [1.5.1]
    rate_limit: int = 100

    @classmethod
    def from_options(
        cls, options: ServiceNowSettings | Mapping[str, Any] | None
    ) -> ServiceNowSettings:
        if isinstance(options, ServiceNowSettings):
            return options
        known = {f.name for f in fields(cls)}
        unknown = set(options or {}) - known
        if unknown:
            raise TypeError(f"unknown ServiceNow settings: {', '.join(sorted(unknown))}")
        return cls(**dict(options or {}))

    def update(self, changes: Mapping[str, Any]) -> None:
        for name, value in changes.items():
            setattr(self, name, value)

    def public(self) -> dict[str, Any]:
        """The settings without secrets, for the control endpoint."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out.pop("client_secret")
        out["readonly_users"] = sorted(self.readonly_users)
        return out
