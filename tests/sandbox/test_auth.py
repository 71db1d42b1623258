"""JWT login, logout and token expiry [reference 1]."""

from __future__ import annotations

import base64
import json

import requests

from sandbox import Sandbox
from tests.sandbox.support import AR, TIMEOUT, FakeClock

AUTH_FAILED = [
    {
        "messageType": "ERROR",
        "messageText": "Authentication failed",
        "messageAppendedText": None,
        "messageNumber": 623,
    }
]


def claims(token: str) -> dict[str, int | str]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def login(base_url: str, user: str, password: str) -> requests.Response:
    return requests.post(
        f"{base_url}/api/jwt/login",
        data={"username": user, "password": password, "authString": ""},
        timeout=TIMEOUT,
    )


def test_login_answers_a_raw_jwt_as_text(sandbox: Sandbox) -> None:
    """Good credentials get 200 text/plain: a three-part token with iat and exp an hour apart."""
    answer = login(sandbox.base_url, "Allen", "password")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.text.count(".") == 2
    found = claims(answer.text)
    assert found["sub"] == "Allen"
    assert int(found["exp"]) - int(found["iat"]) == 3600
    assert int(found["nbf"]) == int(found["iat"]) - 120


def test_demo_user_can_log_in(sandbox: Sandbox) -> None:
    """The documented demo users exist."""
    assert login(sandbox.base_url, "Demo", "demo").status_code == 200


def test_bad_credentials_are_623_naming_the_user(sandbox: Sandbox) -> None:
    """A wrong password is 401 with AR error 623 and the user name appended."""
    answer = login(sandbox.base_url, "Allen", "wrong")
    assert answer.status_code == 401
    assert answer.json() == [
        {
            "messageType": "ERROR",
            "messageText": "Authentication failed",
            "messageAppendedText": "Allen",
            "messageNumber": 623,
        }
    ]


def test_api_calls_need_a_token(sandbox: Sandbox) -> None:
    """Without `Authorization: AR-JWT`, or with a made-up token, every call is 401 + 623."""
    url = f"{sandbox.base_url}/api/arsys/v1/entry/HPD:IncidentInterface"
    for headers in ({}, {"Authorization": "AR-JWT nonsense"}, {"Authorization": "Bearer x"}):
        answer = requests.get(url, headers=headers, timeout=TIMEOUT)
        assert answer.status_code == 401
        assert answer.json() == AUTH_FAILED


def test_logout_invalidates_the_token(sandbox: Sandbox) -> None:
    """Logout answers 204 and the token stops working."""
    client = AR(sandbox.base_url)
    assert client.list("CTM:Support Group", limit=1).status_code == 200
    answer = client.http.post(f"{sandbox.base_url}/api/jwt/logout", timeout=TIMEOUT)
    assert answer.status_code == 204
    assert answer.content == b""
    assert client.list("CTM:Support Group", limit=1).status_code == 401


def test_token_expires_after_its_lifetime(clocked: Sandbox, clock: FakeClock) -> None:
    """A token is good for 3600 seconds, then answers 401 + 623."""
    client = AR(clocked.base_url)
    clock.advance(3599)
    assert client.list("CTM:People", limit=1).status_code == 200
    clock.advance(1)
    answer = client.list("CTM:People", limit=1)
    assert answer.status_code == 401
    assert answer.json() == AUTH_FAILED


def test_token_lifetime_is_configurable(clock: FakeClock) -> None:
    """`token_lifetime` sets both the exp claim and the server's own expiry."""
    with Sandbox.start(seed=None, token_lifetime=60, clock=clock) as short:
        client = AR(short.base_url)
        assert int(claims(client.token)["exp"]) - int(claims(client.token)["iat"]) == 60
        clock.advance(61)
        assert client.list("CTM:People").status_code == 401


def test_expire_tokens_now(faulty: Sandbox) -> None:
    """The control endpoint expires every issued token at once; logging in again works."""
    client = AR(faulty.base_url)
    answer = requests.post(f"{faulty.base_url}/__sandbox/tokens/expire", timeout=TIMEOUT)
    assert answer.json() == {"expired": 1}
    assert client.list("CTM:People").status_code == 401
    assert AR(faulty.base_url).list("CTM:People").status_code == 200
