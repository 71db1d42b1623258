"""AR-JWT tokens [reference 1.1-1.5].

Login answers the raw token as text: a JWT with the documented claims (`sub`, `iss`, `iat`,
`nbf` two minutes before `iat`, `exp`, `_cacheId`) signed with a per-process key. The server
remembers the tokens it issued, so logout and "expire all tokens now" take effect at once.
Bad credentials, and a missing, unknown or expired token, are 401 with AR error 623 [1.5].
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import os
import threading
from collections.abc import Callable, Mapping

from sandbox.errors import auth_failed

DEFAULT_LIFETIME = 3600  # "A single JWT token is valid for one hour." [1.3]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Tokens:
    def __init__(
        self,
        users: Mapping[str, str],
        *,
        lifetime: float = DEFAULT_LIFETIME,
        clock: Callable[[], float],
        issuer: str = "smpm-sandbox",
    ) -> None:
        self.lifetime = lifetime
        self._users = dict(users)
        self._clock = clock
        self._issuer = issuer
        self._key = os.urandom(32)
        self._lock = threading.Lock()
        self._issued: dict[str, tuple[str, float]] = {}
        self._cache_ids = itertools.count(1)

    def add_users(self, users: Mapping[str, str]) -> None:
        with self._lock:
            self._users.update(users)

    def login(self, username: str, password: str) -> str:
        """A new token for good credentials; 623 naming the user otherwise."""
        known = self._users.get(username)
        if known is None or not hmac.compare_digest(known.encode(), password.encode()):
            raise auth_failed(username)
        now = self._clock()
        expires = now + self.lifetime
        claims = {
            "sub": username,
            "iss": self._issuer,
            "iat": int(now),
            "nbf": int(now) - 120,
            "exp": int(expires),
            "_cacheId": next(self._cache_ids),
        }
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        token = f"{header}.{payload}.{_b64(signature)}"
        with self._lock:
            self._issued[token] = (username, expires)
        return token

    def user(self, authorization: str | None) -> str:
        """The user behind an `Authorization: AR-JWT <token>` header; 623 when there is none."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.upper() != "AR-JWT" or not token.strip():
            raise auth_failed()
        with self._lock:
            issued = self._issued.get(token.strip())
            if issued is None or self._clock() >= issued[1]:
                self._issued.pop(token.strip(), None)
                raise auth_failed()
        return issued[0]

    def logout(self, authorization: str | None) -> None:
        _, _, token = (authorization or "").partition(" ")
        with self._lock:
            self._issued.pop(token.strip(), None)

    def expire_all(self) -> int:
        """Forget every issued token; returns how many there were."""
        with self._lock:
            count = len(self._issued)
            self._issued.clear()
        return count
