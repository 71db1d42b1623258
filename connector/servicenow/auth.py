"""ServiceNow authentication as a requests auth plugin: basic, or OAuth 2 tokens.

Keeping the secrets and tokens here (and only here) means no other function ever holds them, so
they cannot leak into a log line, an exception or a repr [DESIGN: secrets stay secret].

- `basic`: `Authorization: Basic ...` on every request [reference 1.7].
- `oauth_password`: `POST /oauth_token.do`, form-encoded (a JSON body fails [1.7]), with
  grant_type=password; renewed with the refresh_token, falling back to the password grant when
  the refresh token is refused.
- `oauth_client_credentials`: the same endpoint with grant_type=client_credentials (disabled on
  instances by default; no refresh token is expected, UNCONFIRMED [1.7, 5]).
Tokens are renewed 60 s before `expires_in` runs out (as PySNC does), and once after a 401.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import requests
from pydantic import SecretStr

from connector.errors import AuthenticationFailed, ConfigurationError, InvalidResponse, Rejected
from connector.filters import Field
from connector.http import HttpOptions, safe_url, send
from connector.servicenow.encoded_query import encoded_query
from connector.servicenow.errors import translate_error

log = logging.getLogger("smpm.servicenow")

AuthMode = Literal["basic", "oauth_password", "oauth_client_credentials"]
TOKEN_PATH = "/oauth_token.do"
REFRESH_MARGIN = 60.0  # PySNC renews 60 s early [1.7]
DEFAULT_LIFETIME = 1799.0  # the documented sample's expires_in [1.7]


@dataclass(frozen=True)
class ServiceNowCredentials:
    """Who smpm is on the instance; the secrets never appear in repr."""

    mode: AuthMode = "basic"
    username: str | None = None
    password: SecretStr | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: SecretStr | None = field(default=None, repr=False)
    scope: str | None = None

    def __post_init__(self) -> None:
        needs = {
            "basic": ("username", "password"),
            "oauth_password": ("username", "password", "client_id", "client_secret"),
            "oauth_client_credentials": ("client_id", "client_secret"),
        }[self.mode]
        missing = [name for name in needs if not getattr(self, name)]
        if missing:
            raise ConfigurationError(f"servicenow: auth = {self.mode!r} needs {', '.join(missing)}")

    @property
    def who(self) -> str:
        """The account for messages: the user, or the OAuth client for client credentials."""
        return self.username or f"OAuth client {self.client_id}"


class ServiceNowAuth(requests.auth.AuthBase):
    """Adds the Authorization header; for OAuth, fetches and renews the bearer token."""

    def __init__(
        self,
        base_url: str,
        credentials: ServiceNowCredentials,
        session: requests.Session,
        http: HttpOptions,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base_url = base_url
        self._credentials = credentials
        self._session = session
        self._http = http
        self._clock = clock
        self._token: str | None = None
        self._refresh: str | None = None
        self._expires_at = 0.0
        self.logins = 0

    def __repr__(self) -> str:
        state = "token held" if self._token else "no token"
        return f"ServiceNowAuth({self._credentials.mode}, {self._credentials.who!r}, {state})"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._header()
        return request

    def _header(self) -> str:
        creds = self._credentials
        if creds.mode == "basic":
            assert creds.username is not None and creds.password is not None
            pair = f"{creds.username}:{creds.password.get_secret_value()}".encode()
            return "Basic " + base64.b64encode(pair).decode("ascii")
        if self._token is None or self._clock() >= self._expires_at - REFRESH_MARGIN:
            self._renew()
        return f"Bearer {self._token}"

    def invalidate(self) -> bool:
        """After a 401: forget the token; True when asking again can help (OAuth only)."""
        if self._credentials.mode == "basic":
            return False
        self._token = None
        return True

    def login(self) -> None:
        """Prove the credentials now (`smpm check`): a fresh token, or one small basic-auth read."""
        if self._credentials.mode != "basic":
            self._token, self._refresh = None, None
            self._renew()
            return
        query = encoded_query(Field("user_name") == str(self._credentials.username))
        params = {"sysparm_query": query, "sysparm_limit": "1", "sysparm_fields": "sys_id"}
        url = f"{self._base_url}/api/now/table/sys_user"
        response = send(self._session, self._http, "GET", url, params=params, auth=self)
        if response.status_code >= 400:
            raise translate_error(response, f"login as {self._credentials.who!r}")
        self.logins += 1

    # -- OAuth ------------------------------------------------------------------------------------
    def _renew(self) -> None:
        creds = self._credentials
        if self._refresh is not None:
            try:
                self._fetch({"grant_type": "refresh_token", "refresh_token": self._refresh})
                return
            except (AuthenticationFailed, Rejected) as exc:  # refused: use the full grant
                log.info("OAuth refresh refused (%s); asking for a new token", type(exc).__name__)
                self._refresh = None
        if creds.mode == "oauth_password":
            assert creds.password is not None
            form = {
                "grant_type": "password",
                "username": creds.username or "",
                "password": creds.password.get_secret_value(),
            }
        else:
            form = {"grant_type": "client_credentials"}
        self._fetch(form)

    def _fetch(self, grant: Mapping[str, str]) -> None:
        creds = self._credentials
        assert creds.client_secret is not None
        form = {
            **grant,
            "client_id": creds.client_id or "",
            "client_secret": creds.client_secret.get_secret_value(),
        }
        if creds.scope:
            form["scope"] = creds.scope
        url = self._base_url + TOKEN_PATH
        doing = f"OAuth token ({grant['grant_type']} grant) for {creds.who!r}"
        response = send(self._session, self._http, "POST", url, data=form, auth=_NoAuth())
        if response.status_code != 200:
            raise translate_error(response, doing)
        body = _token_body(response, url)
        self._token = str(body["access_token"])
        if body.get("refresh_token"):
            self._refresh = str(body["refresh_token"])
        lifetime = _lifetime(body.get("expires_in"))
        self._expires_at = self._clock() + lifetime
        self.logins += 1
        log.info("obtained a ServiceNow OAuth token for %s (%.0f s)", creds.who, lifetime)


def _token_body(response: requests.Response, url: str) -> dict[str, Any]:
    """The token answer; its body is never quoted, since it holds tokens."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not body.get("access_token"):
        keys = sorted(body) if isinstance(body, dict) else type(body).__name__
        raise InvalidResponse(
            f"ServiceNow OAuth at {safe_url(url)} answered without an access_token "
            f"(got {keys}); is the URL the instance root?"
        )
    return body


def _lifetime(raw: Any) -> float:
    try:
        return max(float(raw), REFRESH_MARGIN + 1.0)
    except (TypeError, ValueError):
        return DEFAULT_LIFETIME


class _NoAuth(requests.auth.AuthBase):
    """Keeps the session's auth plugin off the token request itself."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request
