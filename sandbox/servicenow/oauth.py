"""OAuth 2.0 tokens for the ServiceNow face: `POST /oauth_token.do` [1.7].

The body must be form-encoded (`application/x-www-form-urlencoded`); a JSON body fails, as the
platform's does. Grants: `password` (client id and secret, user name and password; answers an
access and a refresh token), `refresh_token` (a new access token for a refresh token) and
`client_credentials` (an access token for the configured OAuth application user, without a
refresh token [1.7, UNCONFIRMED]; refused when switched off). The answer is the documented
`{"scope", "token_type": "Bearer", "expires_in", "refresh_token", "access_token"}` with
`expires_in` an integer. "Access requests made within the expiration time of the access token
always return the current access token" [1.7]: a password or client-credentials grant for the
same client and user returns the token still valid (with the seconds it has left). Failures are
401 `{"error_description": "access_denied", "error": "server_error"}`, the widely reported body.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from sandbox.servicenow.settings import ServiceNowSettings

DENIED = {"error_description": "access_denied", "error": "server_error"}


@dataclass
class Grant:
    user: str
    client_id: str
    expires: float


class OAuthError(Exception):
    def __init__(self, status: int = 401, body: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body or DENIED


class OAuth:
    """Issued access and refresh tokens, in memory (a restart logs everyone out)."""

    def __init__(
        self,
        settings: ServiceNowSettings,
        check_password: Callable[[str, str], bool],
        clock: Callable[[], float],
    ) -> None:
        self.settings = settings
        self._check = check_password
        self._clock = clock
        self._lock = threading.Lock()
        self._access: dict[str, Grant] = {}
        self._refresh: dict[str, Grant] = {}

    def user(self, token: str) -> str | None:
        """The user an access token belongs to, or None when unknown or expired."""
        with self._lock:
            grant = self._access.get(token)
            if grant is None or self._clock() >= grant.expires:
                self._access.pop(token, None)
                return None
            return grant.user

    def expire_all(self, refresh: bool = False) -> int:
        """Forget every access token (and refresh token, when asked); returns how many."""
        with self._lock:
            count = len(self._access)
            self._access.clear()
            if refresh:
                count += len(self._refresh)
                self._refresh.clear()
        return count

    def token(self, content_type: str, body: bytes) -> dict[str, Any]:
        """The answer to one token request; OAuthError when refused."""
        if "application/x-www-form-urlencoded" not in content_type.lower():
            raise OAuthError()  # "a content-type of application/json results in an ... error"
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        if not (
            _same(form.get("client_id", ""), self.settings.client_id)
            and _same(form.get("client_secret", ""), self.settings.client_secret)
        ):
            raise OAuthError()
        grant = form.get("grant_type", "")
        if grant == "password":
            if not self._check(form.get("username", ""), form.get("password", "")):
                raise OAuthError()
            return self._issue(form["username"], form, refresh=True)
        if grant == "client_credentials":
            if not self.settings.client_credentials:
                raise OAuthError()
            return self._issue(self.settings.client_credentials_user, form, refresh=False)
        if grant == "refresh_token":
            return self._renew(form)
        raise OAuthError(
            400, {"error_description": "access_denied", "error": "unsupported_grant_type"}
        )

    def _issue(self, user: str, form: Mapping[str, str], *, refresh: bool) -> dict[str, Any]:
        now = self._clock()
        client = form["client_id"]
        with self._lock:
            current = next(
                (
                    (token, g)
                    for token, g in self._access.items()
                    if g.user == user and g.client_id == client and now < g.expires
                ),
                None,
            )
            if current is None:
                current = (_token(), Grant(user, client, now + self.settings.token_lifetime))
                self._access[current[0]] = current[1]
            answer = self._answer(form, current[0], current[1].expires - now)
            if refresh:
                refresh_token = _token()
                self._refresh[refresh_token] = Grant(
                    user, client, now + self.settings.refresh_lifetime
                )
                answer["refresh_token"] = refresh_token
        return answer

    def _renew(self, form: Mapping[str, str]) -> dict[str, Any]:
        now = self._clock()
        token = form.get("refresh_token", "")
        with self._lock:
            grant = self._refresh.get(token)
            if grant is None or now >= grant.expires or grant.client_id != form["client_id"]:
                raise OAuthError()
            access = _token()
            self._access[access] = Grant(
                grant.user, grant.client_id, now + self.settings.token_lifetime
            )
        return {**self._answer(form, access, self.settings.token_lifetime), "refresh_token": token}

    @staticmethod
    def _answer(form: Mapping[str, str], access: str, seconds: float) -> dict[str, Any]:
        return {
            "access_token": access,
            "scope": form.get("scope") or "useraccount",
            "token_type": "Bearer",
            "expires_in": max(0, int(seconds)),
        }


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _token() -> str:
    return secrets.token_urlsafe(64)[:86]
