"""Who may post to a webhook endpoint: HMAC signatures, bearer tokens, or HTTP Basic.

HMAC-SHA256 over the raw body, sent as `X-Smpm-Signature: t=<unix seconds>,v1=<hex>` where the
MAC covers `"<t>.<body>"` (the scheme Stripe and others use). A timestamp further than
`tolerance` seconds from now is refused, so a captured request cannot be replayed later; within
the window, the intake's dedup answers a replay with the first delivery's id. `X-Smpm-Delivery`
is not covered by the MAC, so the dedup never trusts it alone (see `models`). Several `v1`
entries are accepted so senders can rotate secrets. A shared bearer token serves senders that
cannot sign, and HTTP Basic serves Remedy's webhook, which supports only that.

Credentials are checked from the headers before the body is read (`admit`): a bearer token or
basic credentials completely, a signature as far as its form and timestamp go; only a request
that passes that has its body read (at most `max_body_bytes`) and its MAC verified (`verify`).
A malformed header of any kind is a 401 naming what is wrong.

Every comparison is constant-time; secrets are SecretStr and never logged or echoed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
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


@dataclass(frozen=True)
class Signature:
    """A well-formed, fresh `X-Smpm-Signature`, still to be verified over the body."""

    stamp: int
    macs: tuple[bytes, ...]


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The header value a sender puts on `body` (also used by tests and by our own tools)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def admit(
    auth: HookAuth, headers: Mapping[str, str], now: Callable[[], float], tolerance: float
) -> Signature | None:
    """Decide what the headers alone can decide, before the body is read.

    None: a bearer token or basic credentials were accepted. A Signature: the HMAC header is
    well formed and fresh, and `verify` must check it over the body. Denied otherwise, so a
    request without credentials never has its body buffered. The methods that need no body are
    tried first, whatever their order in the settings.
    """
    denied: dict[str, Denied] = {}
    for method in sorted(auth.methods, key=lambda m: m == "hmac"):
        try:
            if method == "hmac":
                return _signature(headers, now, tolerance)
            _HEADER_CHECKS[method](auth, headers)
            return None
        except Denied as refusal:
            denied[method] = refusal
    reasons = [denied[m] for m in auth.methods]  # told in the order the settings list them
    present = [r for r in reasons if r.reason != "missing"]
    raise (present or reasons)[0]


def verify(auth: HookAuth, signature: Signature, body: bytes) -> None:
    """Raise Denied unless one of the endpoint's secrets signed `body` at the stamp."""
    secrets = [s for s in (auth.secret, auth.previous_secret) if s is not None]
    for secret in secrets:
        expected = sign(secret.get_secret_value(), signature.stamp, body).split("v1=", 1)[1]
        if any(hmac.compare_digest(expected.encode(), mac) for mac in signature.macs):
            return
    raise Denied("bad_signature", "signature does not match the body")


def check(
    auth: HookAuth,
    headers: Mapping[str, str],
    body: bytes,
    now: Callable[[], float],
    tolerance: float,
) -> None:
    """Raise Denied unless one of the endpoint's methods accepts the request (admit, then
    verify: for callers that hold the body already)."""
    signature = admit(auth, headers, now, tolerance)
    if signature is not None:
        verify(auth, signature, body)


# ASCII digits only (str.isdigit takes '²' and other scripts' digits, which int() refuses), and
# few enough that int() is cheap and never meets Python's limit on digits.
STAMP = re.compile(r"[0-9]{1,12}")
MAC = re.compile(r"[0-9a-fA-F]{64}")  # a SHA-256 in hex


def _signature(headers: Mapping[str, str], now: Callable[[], float], tol: float) -> Signature:
    header = headers.get(SIGNATURE_HEADER)
    if not header:
        raise Denied("missing", "no X-Smpm-Signature header")
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v.strip() for k, v in parts if k.strip() == "t"]
    macs = [v.strip() for k, v in parts if k.strip() == "v1"]
    if len(stamps) != 1 or not STAMP.fullmatch(stamps[0]) or not macs:
        raise Denied("malformed", "X-Smpm-Signature must read t=<unix seconds>,v1=<hex>")
    stamp = int(stamps[0])
    if abs(now() - stamp) > tol:
        raise Denied("stale", f"signature timestamp is more than {tol:g} s from now")
    if not all(MAC.fullmatch(mac) for mac in macs):
        raise Denied("malformed", "X-Smpm-Signature: each v1=<hex> is 64 hex digits (SHA-256)")
    return Signature(stamp, tuple(mac.lower().encode() for mac in macs))


def _bearer(auth: HookAuth, headers: Mapping[str, str]) -> None:
    value = headers.get("authorization", "")
    if not value.lower().startswith("bearer "):
        raise Denied("missing", "no bearer token")
    assert auth.token is not None
    if not hmac.compare_digest(value[7:].strip().encode(), auth.token.get_secret_value().encode()):
        raise Denied("bad_token", "bearer token is not valid")


def _basic(auth: HookAuth, headers: Mapping[str, str]) -> None:
    value = headers.get("authorization", "")
    if not value.lower().startswith("basic "):
        raise Denied("missing", "no basic credentials")
    try:  # ValueError: not base64 (binascii.Error), a non-ASCII header, or not UTF-8
        decoded = base64.b64decode(value[6:].strip(), validate=True).decode()
    except ValueError:
        raise Denied("malformed", "basic credentials are not base64 user:password") from None
    user, _, password = decoded.partition(":")
    assert auth.password is not None and auth.username is not None
    good_user = hmac.compare_digest(user.encode(), auth.username.encode())
    good_pass = hmac.compare_digest(password.encode(), auth.password.get_secret_value().encode())
    if not (good_user and good_pass):
        raise Denied("bad_credentials", "user name or password is not valid")


_HEADER_CHECKS = {"bearer": _bearer, "basic": _basic}
