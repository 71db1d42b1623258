"""Who may post to a webhook endpoint: HMAC signatures, bearer tokens, or HTTP Basic.

HMAC-SHA256 over the raw body, sent as `X-Smpm-Signature: t=<unix seconds>,v1=<hex>` where the
MAC covers `"<t>.<body>"` (the scheme Stripe and others use). A timestamp further than
`tolerance` seconds from now is refused, so a captured request cannot be replayed later; within
the window, the intake's dedup answers a replay with the first delivery's id. Several `v1`
entries are accepted so senders can rotate secrets. A shared bearer token serves senders that
cannot sign, and HTTP Basic serves Remedy's webhook, which supports only that.

Every comparison is constant-time; secrets are SecretStr and never logged or echoed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

Method = Literal["hmac", "bearer", "basic"]
SIGNATURE_HEADER = "x-smpm-signature"


class HookAuth(BaseModel):
    """`[hooks.<endpoint>]`: the accepted methods and their secrets (secrets from env or file)."""

    model_config = ConfigDict(extra="forbid")

    methods: list[Method] = Field(default_factory=lambda: ["hmac"], min_length=1)
    secret: SecretStr | None = None
    previous_secret: SecretStr | None = None
    token: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None

    @model_validator(mode="after")
    def _has_credentials(self) -> HookAuth:
        needs = {"hmac": self.secret, "bearer": self.token, "basic": self.password}
        for method in self.methods:
            if needs[method] is None:
                what = {"hmac": "secret", "bearer": "token", "basic": "password"}[method]
                raise ValueError(f"method {method!r} needs a {what} (from the environment)")
        if "basic" in self.methods and not self.username:
            raise ValueError("method 'basic' needs a username")
        return self


@dataclass(frozen=True)
class Denied(Exception):
    reason: str
    detail: str


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The header value a sender puts on `body` (also used by tests and by our own tools)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def check(
    auth: HookAuth,
    headers: Mapping[str, str],
    body: bytes,
    now: Callable[[], float],
    tolerance: float,
) -> None:
    """Raise Denied unless one of the endpoint's methods accepts the request."""
    reasons: list[Denied] = []
    for method in auth.methods:
        try:
            _CHECKS[method](auth, headers, body, now, tolerance)
            return
        except Denied as denied:
            reasons.append(denied)
    present = [r for r in reasons if r.reason != "missing"]
    raise (present or reasons)[0]


def _hmac(
    auth: HookAuth, headers: Mapping[str, str], body: bytes, now: Callable[[], float], tol: float
) -> None:
    header = headers.get(SIGNATURE_HEADER)
    if not header:
        raise Denied("missing", "no X-Smpm-Signature header")
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k.strip() == "t"]
    macs = [v.strip() for k, v in parts if k.strip() == "v1"]
    if len(stamps) != 1 or not stamps[0].strip().isdigit() or not macs:
        raise Denied("malformed", "X-Smpm-Signature must read t=<unix seconds>,v1=<hex>")
    stamp = int(stamps[0])
    if abs(now() - stamp) > tol:
        raise Denied("stale", f"signature timestamp is more than {tol:g} s from now")
    secrets = [s for s in (auth.secret, auth.previous_secret) if s is not None]
    for secret in secrets:
        expected = sign(secret.get_secret_value(), stamp, body).split("v1=", 1)[1]
        if any(hmac.compare_digest(expected, mac) for mac in macs):
            return
    raise Denied("bad_signature", "signature does not match the body")


def _bearer(
    auth: HookAuth, headers: Mapping[str, str], body: bytes, now: Callable[[], float], tol: float
) -> None:
    value = headers.get("authorization", "")
    if not value.lower().startswith("bearer "):
        raise Denied("missing", "no bearer token")
    assert auth.token is not None
    if not hmac.compare_digest(value[7:].strip().encode(), auth.token.get_secret_value().encode()):
        raise Denied("bad_token", "bearer token is not valid")


def _basic(
    auth: HookAuth, headers: Mapping[str, str], body: bytes, now: Callable[[], float], tol: float
) -> None:
    value = headers.get("authorization", "")
    if not value.lower().startswith("basic "):
        raise Denied("missing", "no basic credentials")
    try:
        user, _, password = (
            base64.b64decode(value[6:].strip(), validate=True).decode().partition(":")
        )
    except (binascii.Error, UnicodeDecodeError):
        raise Denied("malformed", "basic credentials are not base64 user:password") from None
    assert auth.password is not None and auth.username is not None
    good_user = hmac.compare_digest(user.encode(), auth.username.encode())
    good_pass = hmac.compare_digest(password.encode(), auth.password.get_secret_value().encode())
    if not (good_user and good_pass):
        raise Denied("bad_credentials", "user name or password is not valid")


_CHECKS = {"hmac": _hmac, "bearer": _bearer, "basic": _basic}
