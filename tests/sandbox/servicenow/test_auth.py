"""Basic and OAuth authentication of the ServiceNow face [reference 1.7]."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from sandbox import Sandbox
from tests.sandbox.servicenow.support import SN, TIMEOUT
from tests.sandbox.support import FakeClock

UNAUTHENTICATED = {
    "error": {
        "message": "User Not Authenticated",
        "detail": "Required to provide Auth information",
    },
    "status": "failure",
}
CLIENT = {"client_id": "smpm-sandbox", "client_secret": "smpm-sandbox-secret"}


def token(base_url: str, **form: str) -> requests.Response:
    return requests.post(f"{base_url}/oauth_token.do", data={**CLIENT, **form}, timeout=TIMEOUT)


def bearer(base_url: str, access_token: str) -> requests.Response:
    return requests.get(
        f"{base_url}/api/now/table/sys_user",
        params={"sysparm_limit": 1},
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=TIMEOUT,
    )


@pytest.mark.parametrize(
    ("user", "password"), [("Allen", "password"), ("Demo", "demo"), ("itil.readonly", "readonly")]
)
def test_demo_users_log_in_with_basic_auth(sandbox: Sandbox, user: str, password: str) -> None:
    """The demo users (the same as the AR face's) and the restricted user may read."""
    assert SN(sandbox.base_url, user, password).list("incident", sysparm_limit=1).ok


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic bm9ib2R5Om5vdGhpbmc="},  # nobody:nothing
        {"Authorization": "Basic !!!"},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "AR-JWT whatever"},
    ],
    ids=["missing", "wrong", "malformed", "unknown-bearer", "other-scheme"],
)
def test_unauthenticated_answers_401(sandbox: Sandbox, headers: dict[str, str]) -> None:
    """Missing or bad credentials: 401 with the recorded body [1.5]."""
    answer = requests.get(
        f"{sandbox.base_url}/api/now/table/incident", headers=headers, timeout=TIMEOUT
    )
    assert answer.status_code == 401
    assert answer.json() == UNAUTHENTICATED


def test_password_grant_issues_a_bearer_token(sandbox: Sandbox) -> None:
    """The documented token answer; the access token then works as `Bearer` [1.7]."""
    answer = token(sandbox.base_url, grant_type="password", username="Demo", password="demo")
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "refresh_token", "scope", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 1799
    assert isinstance(body["expires_in"], int)
    assert bearer(sandbox.base_url, body["access_token"]).status_code == 200


@pytest.mark.parametrize(
    "form",
    [
        {"grant_type": "password", "username": "Demo", "password": "wrong"},
        {"grant_type": "password", "username": "Demo", "password": "demo", "client_secret": "x"},
        {"grant_type": "refresh_token", "refresh_token": "unknown"},
    ],
    ids=["bad-password", "bad-client-secret", "unknown-refresh-token"],
)
def test_refused_grants(sandbox: Sandbox, form: dict[str, str]) -> None:
    """Refused grants answer 401 access_denied [1.7]."""
    answer = token(sandbox.base_url, **form)
    assert answer.status_code == 401
    assert answer.json() == {"error_description": "access_denied", "error": "server_error"}


def test_token_request_must_be_form_encoded(sandbox: Sandbox) -> None:
    """A JSON body fails, as the platform's does [1.7]."""
    body: dict[str, Any] = {**CLIENT, "grant_type": "password", "username": "Demo"}
    answer = requests.post(
        f"{sandbox.base_url}/oauth_token.do", json={**body, "password": "demo"}, timeout=TIMEOUT
    )
    assert answer.status_code == 401


def test_client_credentials_grant(sandbox: Sandbox) -> None:
    """Client credentials give an access token for the OAuth application user and no refresh
    token [1.7, UNCONFIRMED]; switched off, the grant is refused."""
    answer = token(sandbox.base_url, grant_type="client_credentials")
    assert answer.status_code == 200 and "refresh_token" not in answer.json()
    assert bearer(sandbox.base_url, answer.json()["access_token"]).status_code == 200
    sandbox.servicenow.settings.client_credentials = False
    try:
        assert token(sandbox.base_url, grant_type="client_credentials").status_code == 401
    finally:
        sandbox.servicenow.settings.client_credentials = True


def test_tokens_expire_and_refresh(clock: FakeClock) -> None:
    """An access token lives `token_lifetime`; within it the same token is handed out again;
    after it a refresh token gets a new one."""
    with Sandbox.start(seed=None, clock=clock, servicenow={"token_lifetime": 600}) as sb:
        first = token(sb.base_url, grant_type="password", username="Allen", password="password")
        clock.advance(100)
        again = token(sb.base_url, grant_type="password", username="Allen", password="password")
        assert again.json()["access_token"] == first.json()["access_token"]
        assert again.json()["expires_in"] == 500
        clock.advance(500)
        assert bearer(sb.base_url, first.json()["access_token"]).status_code == 401
        renewed = token(
            sb.base_url, grant_type="refresh_token", refresh_token=first.json()["refresh_token"]
        )
        assert renewed.status_code == 200 and renewed.json()["expires_in"] == 600
        assert bearer(sb.base_url, renewed.json()["access_token"]).status_code == 200


def test_expire_tokens_now(faulty: Sandbox) -> None:
    """`expire_tokens()` ends every access token (refresh tokens still renew them), and with
    `refresh_tokens=True` the refresh tokens too; also over HTTP."""
    first = token(faulty.base_url, grant_type="password", username="Allen", password="password")
    access, refresh = first.json()["access_token"], first.json()["refresh_token"]
    assert faulty.expire_tokens() >= 1
    assert bearer(faulty.base_url, access).status_code == 401
    renewed = token(faulty.base_url, grant_type="refresh_token", refresh_token=refresh)
    assert bearer(faulty.base_url, renewed.json()["access_token"]).status_code == 200
    expired = requests.post(
        f"{faulty.base_url}/__sandbox/tokens/expire", json={"refresh": True}, timeout=TIMEOUT
    )
    assert expired.status_code == 200 and expired.json()["expired"] >= 2
    assert (
        token(faulty.base_url, grant_type="refresh_token", refresh_token=refresh).status_code == 401
    )
