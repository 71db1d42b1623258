"""AR-JWT authentication for the Remedy connector, as a requests auth plugin.

Keeping the token here (and only here) means no other function ever holds it, so it cannot leak
into a log line, an exception or a repr. Login is form-encoded `username`/`password`
[reference 1.1]; the 200 body is the raw JWT. Tokens live an hour unless the JWT says otherwise
[1.3], and are renewed `refresh_margin` seconds before they expire.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
from pydantic import SecretStr

from connector.errors import InvalidResponse
from connector.http import HttpOptions, safe_url, send
from connector.remedy.errors import translate_error

log = logging.getLogger("smpm.remedy")

TOKEN_LIFETIME = 3600.0  # "A single JWT token is valid for one hour." [1.3]


@dataclass(frozen=True)
class RemedyCredentials:
    username: str
    password: SecretStr = field(repr=False)
    auth_string: SecretStr | None = field(default=None, repr=False)


def jwt_lifetime(token: str) -> float | None:
    """Seconds between the token's `iat` and `exp` claims, when it is a readable JWT."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"]) - float(claims["iat"])
    except (IndexError, ValueError, KeyError, TypeError):
        return None


class RemedyAuth(requests.auth.AuthBase):
    """Adds `Authorization: AR-JWT <token>`, logging in when the token is missing or ageing."""

    def __init__(
        self,
        base_url: str,
        credentials: RemedyCredentials,
        session: requests.Session,
        http: HttpOptions,
        *,
        refresh_margin: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base_url = base_url
        self._credentials = credentials
        self._session = session
        self._http = http
        self._refresh_margin = refresh_margin
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self.logins = 0

    def __repr__(self) -> str:
        state = "token held" if self._token else "no token"
        return f"RemedyAuth(user={self._credentials.username!r}, {state})"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"AR-JWT {self._current_token()}"
        return request

    def _current_token(self) -> str:
        if self._token is None or self._clock() >= self._expires_at - self._refresh_margin:
            self.login()
        assert self._token is not None
        return self._token

    def invalidate(self) -> bool:
        """Forget the token (after a 401) so the next request logs in again: always worth it."""
        self._token = None
        return True

    def login(self) -> None:
        form = {
            "username": self._credentials.username,
            "password": self._credentials.password.get_secret_value(),
        }
        if self._credentials.auth_string is not None:
            form["authString"] = self._credentials.auth_string.get_secret_value()
        url = self._base_url + "/api/jwt/login"
        response = send(self._session, self._http, "POST", url, data=form, auth=_NoAuth())
        if response.status_code != 200:
            raise translate_error(response, f"login as {self._credentials.username!r}")
        token = response.text.strip()
        if not token or token.startswith(("<", "[", "{")) or " " in token:
            raise InvalidResponse(
                f"Remedy login at {safe_url(url)} did not answer with a token; is this the AR "
                "System REST API (usually port 8008 or 8443)?"
            )
        self._token = token
        self._expires_at = self._clock() + (jwt_lifetime(token) or TOKEN_LIFETIME)
        self.logins += 1
        log.info("logged in to Remedy as %s", self._credentials.username)

    def logout(self) -> None:
        """Release the token [1.4]; failures are logged, never raised, since we are closing."""
        if self._token is None:
            return
        headers = {"Authorization": f"AR-JWT {self._token}"}
        self._token = None
        try:
            response = self._session.post(
                self._base_url + "/api/jwt/logout",
                headers=headers,
                auth=_NoAuth(),
                timeout=self._http.timeout,
                verify=self._http.verify,
            )
            if response.status_code not in (200, 204):
                log.warning("Remedy logout answered HTTP %s", response.status_code)
        except requests.RequestException as exc:
            log.warning("Remedy logout failed: %s", type(exc).__name__)


class _NoAuth(requests.auth.AuthBase):
    """Keeps the session's AR-JWT plugin off the login and logout calls themselves."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request
