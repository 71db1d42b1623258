"""How the ServiceNow connector behaves when credentials, the instance or the network fail."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
import requests
import responses
from pydantic import SecretStr

from connector.entities import IncidentRequest, SupportGroup
from connector.errors import (
    AuthenticationFailed,
    ConfigurationError,
    FormNotFound,
    InvalidResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    Rejected,
    Unavailable,
)
from connector.servicenow import ServiceNowConnector
from connector.servicenow.auth import ServiceNowCredentials
from mappings.loader import PlatformMapping
from tests.connector.conftest import (
    SN_CLIENT_SECRET,
    SN_PASSWORD,
    SN_URL,
    FakeClock,
    Sleeps,
    sn_options,
)
from tests.connector.test_servicenow_records import TABLE, listing

GROUPS = f"{TABLE}/sys_user_group"
TOKEN_URL = f"{SN_URL}/oauth_token.do"
ACCESS, REFRESH = "2wRlsRCT-access-token-1", "jZPdkEVr-refresh-token"


def sn_error(message: str, detail: str | None = None) -> dict:
    return {"error": {"message": message, "detail": detail}, "status": "failure"}


def groups(sn: ServiceNowConnector) -> list[SupportGroup]:
    return list(sn.find(SupportGroup))


def form(call: responses.Call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


def token(access: str = ACCESS, refresh: str | None = REFRESH, expires: int = 1799) -> dict:
    body = {"scope": "useraccount", "token_type": "Bearer", "expires_in": expires}
    body["access_token"] = access
    if refresh:
        body["refresh_token"] = refresh
    return body


@pytest.fixture
def oauth(
    mocked: responses.RequestsMock,
    servicenow_mapping: PlatformMapping,
    clock: FakeClock,
    sleeps: Sleeps,
) -> Iterator[ServiceNowConnector]:
    """A connector using the OAuth password grant."""
    credentials = ServiceNowCredentials(
        "oauth_password",
        "smpm.integration",
        SecretStr(SN_PASSWORD),
        "0123456789abcdef",
        SecretStr(SN_CLIENT_SECRET),
    )
    connector = ServiceNowConnector(sn_options(sleeps, clock, credentials), servicenow_mapping)
    yield connector
    connector.close()


# -- basic authentication --------------------------------------------------------------------------
def test_basic_auth_is_sent_on_every_call(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """Authorization: Basic base64(user:password) [1.7]; Accept is JSON."""
    listing(mocked, "sys_user_group", [])
    groups(sn)
    headers = mocked.calls[0].request.headers
    expected = base64.b64encode(f"smpm.integration:{SN_PASSWORD}".encode()).decode()
    assert headers["Authorization"] == f"Basic {expected}"
    assert headers["Accept"] == "application/json"


def test_refused_basic_credentials_are_not_retried(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """401 with basic auth: AuthenticationFailed at once (the same password will not help)."""
    mocked.get(
        GROUPS,
        status=401,
        json=sn_error("User Not Authenticated", "Required to provide Auth information"),
    )
    with pytest.raises(AuthenticationFailed) as caught:
        groups(sn)
    assert "User Not Authenticated; Required to provide Auth information" in str(caught.value)
    assert "user name and password" in str(caught.value)
    assert len(mocked.calls) == 1


def test_a_missing_mfa_token_is_named(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """Valid basic credentials on an MFA account: 401 with X-MFA_TOKEN: invalid [1.7]."""
    mocked.get(
        GROUPS,
        status=401,
        json=sn_error("User Not Authenticated"),
        headers={"X-MFA_TOKEN": "invalid"},
    )
    with pytest.raises(AuthenticationFailed, match="multi-factor"):
        groups(sn)


def test_login_checks_basic_credentials_with_one_small_read(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """`smpm check` logs in: one sys_user read of the integration user."""
    listing(mocked, "sys_user", [{"sys_id": "a" * 32}])
    sn.auth.login()
    params = parse_qs(mocked.calls[0].request.url.split("?", 1)[1])
    assert params["sysparm_query"] == ["user_name=smpm.integration^ORDERBYsys_id"]
    assert params["sysparm_limit"] == ["1"]


# -- OAuth -----------------------------------------------------------------------------------------
def test_oauth_password_grant_is_form_encoded_and_sent_as_bearer(
    mocked: responses.RequestsMock, oauth: ServiceNowConnector
) -> None:
    """POST /oauth_token.do with a form body (JSON fails [1.7]); then Bearer <access_token>."""
    mocked.post(TOKEN_URL, json=token())
    listing(mocked, "sys_user_group", [])
    groups(oauth)
    login = mocked.calls[0].request
    assert login.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "Authorization" not in login.headers
    assert form(mocked.calls[0]) == {
        "grant_type": "password",
        "username": "smpm.integration",
        "password": SN_PASSWORD,
        "client_id": "0123456789abcdef",
        "client_secret": SN_CLIENT_SECRET,
    }
    assert mocked.calls[1].request.headers["Authorization"] == f"Bearer {ACCESS}"


def test_the_token_is_renewed_60_seconds_early_with_the_refresh_token(
    mocked: responses.RequestsMock, oauth: ServiceNowConnector, clock: FakeClock
) -> None:
    """Within expires_in - 60 s the token is reused; after that the refresh grant renews it."""
    mocked.post(TOKEN_URL, json=token())
    mocked.post(TOKEN_URL, json=token("access-2"))
    listing(mocked, "sys_user_group", [])
    groups(oauth)
    clock.advance(1700)
    groups(oauth)
    assert oauth.auth.logins == 1
    clock.advance(50)  # 1750 s: inside the 60 s margin of 1799
    groups(oauth)
    assert oauth.auth.logins == 2
    assert form(mocked.calls[-2]) == {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH,
        "client_id": "0123456789abcdef",
        "client_secret": SN_CLIENT_SECRET,
    }
    assert mocked.calls[-1].request.headers["Authorization"] == "Bearer access-2"


def test_a_refused_refresh_falls_back_to_the_password_grant(
    mocked: responses.RequestsMock, oauth: ServiceNowConnector, clock: FakeClock
) -> None:
    """An expired refresh token (401 from the token endpoint) asks for a new token pair."""
    mocked.post(TOKEN_URL, json=token())
    mocked.post(TOKEN_URL, status=401, json={"error": "invalid_grant"})
    mocked.post(TOKEN_URL, json=token("access-3"))
    listing(mocked, "sys_user_group", [])
    groups(oauth)
    clock.advance(1799)
    groups(oauth)
    grants = [form(c)["grant_type"] for c in mocked.calls if c.request.url == TOKEN_URL]
    assert grants == ["password", "refresh_token", "password"]
    assert mocked.calls[-1].request.headers["Authorization"] == "Bearer access-3"


def test_an_expired_token_is_renewed_once_on_401(
    mocked: responses.RequestsMock, oauth: ServiceNowConnector
) -> None:
    """A 401 on a data call fetches a new token and repeats the call once."""
    mocked.post(TOKEN_URL, json=token())
    mocked.post(TOKEN_URL, json=token("access-2"))
    mocked.get(GROUPS, status=401, json=sn_error("User Not Authenticated"))
    listing(mocked, "sys_user_group", [])
    assert groups(oauth) == []
    assert [c.request.headers.get("Authorization") for c in mocked.calls[1::2]] == [
        f"Bearer {ACCESS}",
        "Bearer access-2",
    ]


def test_a_second_401_gives_up(mocked: responses.RequestsMock, oauth: ServiceNowConnector) -> None:
    """When the fresh token is refused too, AuthenticationFailed: no loop."""
    mocked.post(TOKEN_URL, json=token())
    mocked.get(GROUPS, status=401, json=sn_error("User Not Authenticated"))
    with pytest.raises(AuthenticationFailed):
        groups(oauth)
    assert len(mocked.calls) == 4


def test_client_credentials_fetch_a_new_token_when_it_ages(
    mocked: responses.RequestsMock,
    servicenow_mapping: PlatformMapping,
    clock: FakeClock,
    sleeps: Sleeps,
) -> None:
    """No user, no refresh token (UNCONFIRMED [1.7]): the same grant again near expiry."""
    credentials = ServiceNowCredentials(
        "oauth_client_credentials", client_id="cid", client_secret=SecretStr(SN_CLIENT_SECRET)
    )
    connector = ServiceNowConnector(sn_options(sleeps, clock, credentials), servicenow_mapping)
    mocked.post(TOKEN_URL, json=token(refresh=None, expires=3600))
    listing(mocked, "sys_user_group", [])
    groups(connector)
    clock.advance(3541)
    groups(connector)
    grants = [form(c) for c in mocked.calls if c.request.url == TOKEN_URL]
    assert [g["grant_type"] for g in grants] == ["client_credentials"] * 2
    assert "username" not in grants[0]
    assert (
        repr(connector) == "ServiceNowConnector('https://acme.service-now.com', 'OAuth client cid')"
    )


def test_an_oauth_refusal_names_the_likely_causes(
    mocked: responses.RequestsMock, oauth: ServiceNowConnector
) -> None:
    """The widely seen 401 {error: server_error, error_description: access_denied} [1.7]."""
    mocked.post(
        TOKEN_URL, status=401, json={"error_description": "access_denied", "error": "server_error"}
    )
    with pytest.raises(AuthenticationFailed) as caught:
        groups(oauth)
    message = str(caught.value)
    assert "server_error; access_denied" in message
    assert "glide.oauth.inbound.client.credential.grant_type.enabled" in message
    assert SN_CLIENT_SECRET not in message and SN_PASSWORD not in message


def test_a_token_answer_without_a_token_is_refused_without_quoting_it(
    mocked: responses.RequestsMock, oauth: ServiceNowConnector
) -> None:
    """A 200 that is not a token answer says what keys it had, never the body."""
    mocked.post(TOKEN_URL, json={"refresh_token": "secret-refresh-value", "scope": "x"})
    with pytest.raises(InvalidResponse) as caught:
        groups(oauth)
    assert "['refresh_token', 'scope']" in str(caught.value)
    assert "secret-refresh-value" not in str(caught.value)


def test_incomplete_credentials_are_a_configuration_error() -> None:
    """The OAuth password grant needs the user, the password, the client id and its secret."""
    with pytest.raises(ConfigurationError, match="needs client_id, client_secret"):
        ServiceNowCredentials("oauth_password", "u", SecretStr("p"))


# -- error answers ---------------------------------------------------------------------------------
ACL = sn_error(
    "Insufficient rights to query records",
    "Field(s) present in the query do not have permission to be read",
)
ERRORS = [
    ("ACL on read", 403, ACL, PermissionDenied, "Insufficient rights to query records"),
    (
        "ACL on write",
        403,
        sn_error("Operation Failed", "ACL Exception Update Failed due to security constraints"),
        PermissionDenied,
        "lacks a role, or an ACL denies this",
    ),
    (
        "no record",
        404,
        sn_error("No Record found", "Record doesn't exist or ACL restricts the record retrieval"),
        NotFound,
        "No Record found",
    ),
    (
        "unknown table",
        400,
        sn_error("Invalid table not_a_real_class"),
        FormNotFound,
        "Check the table name",
    ),
    (
        "bad request",
        400,
        sn_error(
            "Exception while reading request",
            "Verify Request body and Content-type headers. Not able to parse request",
        ),
        Rejected,
        "Exception while reading request",
    ),
    ("error inside a 200", 200, sn_error("Something odd"), Rejected, "HTTP 200: Something odd"),
]


@pytest.mark.parametrize(
    ("status", "answer", "error", "words"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_error_envelopes_become_typed_errors(
    mocked: responses.RequestsMock,
    sn: ServiceNowConnector,
    status: int,
    answer: dict,
    error: type[Exception],
    words: str,
) -> None:
    """{error: {message, detail}, status: failure} decides the exception; no retry for 4xx [1.5]."""
    mocked.get(GROUPS, status=status, json=answer)
    with pytest.raises(error) as caught:
        groups(sn)
    assert words in str(caught.value)
    assert len(mocked.calls) == 1


BAD_BODIES = [
    ("an HTML error page", 404, "<html><title>404 Not Found</title></html>", "proxy"),
    (
        "an SSO login page with 200",
        200,
        "<html><body>Log in with SSO</body></html>",
        "single sign-on",
    ),
    ("JSON without result", 200, '{"records": []}', "no 'result' array"),
    ("a result that is not records", 200, '{"result": ["x"]}', "expected a record object"),
    ("a value that is not a value", 200, '{"result": [{"sys_id": ["a"]}]}', "'sys_id' holds list"),
]


@pytest.mark.parametrize(
    ("status", "text", "words"), [b[1:] for b in BAD_BODIES], ids=[b[0] for b in BAD_BODIES]
)
def test_bodies_that_are_not_the_table_api_are_reported(
    mocked: responses.RequestsMock, sn: ServiceNowConnector, status: int, text: str, words: str
) -> None:
    """Proxies, portals and malformed bodies give InvalidResponse saying where to look."""
    mocked.get(GROUPS, status=status, body=text, content_type="text/html")
    with pytest.raises(InvalidResponse, match=words):
        groups(sn)


def test_an_unknown_choice_value_names_the_field_and_the_fix(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """A state the mapping lacks (a custom choice) is not guessed."""
    listing(mocked, "incident", [{"sys_id": "a" * 32, "number": "INC1", "state": "9"}])
    with pytest.raises(InvalidResponse) as caught:
        sn.get(IncidentRequest, "INC1")
    assert "incident record INC1: field 'state' holds '9'" in str(caught.value)
    assert "read_aliases" in str(caught.value)


# -- retries ---------------------------------------------------------------------------------------
def test_429_waits_as_long_as_retry_after_says(
    mocked: responses.RequestsMock, sn: ServiceNowConnector, sleeps: Sleeps
) -> None:
    """Retry-After in seconds is honoured exactly [1.5.1]."""
    limited = sn_error(
        "Rate limit exceeded", "Rate limit of 100 requests per hour for Table API exceeded"
    )
    mocked.get(GROUPS, status=429, headers={"Retry-After": "7"}, json=limited)
    listing(mocked, "sys_user_group", [])
    groups(sn)
    assert sleeps.calls == [7.0]


def test_429_without_retry_after_waits_for_the_rate_limit_reset(
    mocked: responses.RequestsMock, sn: ServiceNowConnector, sleeps: Sleeps
) -> None:
    """X-RateLimit-Reset (a UNIX time) says when the hour's budget returns."""
    reset = str(int(time.time()) + 30)
    mocked.get(
        GROUPS,
        status=429,
        headers={"X-RateLimit-Reset": reset},
        json=sn_error("Rate limit exceeded"),
    )
    listing(mocked, "sys_user_group", [])
    groups(sn)
    assert len(sleeps.calls) == 1 and 27 <= sleeps.calls[0] <= 30


def test_persistent_429_ends_as_rate_limited_with_the_rule(
    mocked: responses.RequestsMock, sn: ServiceNowConnector, sleeps: Sleeps
) -> None:
    """After the last attempt, RateLimited carries Retry-After and quotes the X-RateLimit-*."""
    headers = {
        "Retry-After": "3",
        "X-RateLimit-Limit": "100",
        "X-RateLimit-Reset": "1700003600",
        "X-RateLimit-Rule": "b2e1f4b9",
    }
    mocked.get(GROUPS, status=429, headers=headers, json=sn_error("Rate limit exceeded"))
    with pytest.raises(RateLimited) as caught:
        groups(sn)
    assert caught.value.retry_after == 3.0
    assert sleeps.calls == [3.0, 3.0, 3.0]
    assert "limit 100 requests per hour; resets at 2023-11-14 23:13:20 UTC" in str(caught.value)


def test_server_errors_are_retried_then_unavailable(
    mocked: responses.RequestsMock, sn: ServiceNowConnector, sleeps: Sleeps
) -> None:
    """502/503 are retried with jittered backoff; persistent failure ends as Unavailable."""
    mocked.get(GROUPS, status=503, body="busy")
    listing(mocked, "sys_user_group", [])
    assert groups(sn) == []
    assert len(sleeps.calls) == 1 and 0 <= sleeps.calls[0] <= 1.0
    mocked.replace(
        responses.GET,
        GROUPS,
        status=500,
        json=sn_error("Transaction cancelled: maximum execution time exceeded"),
    )
    with pytest.raises(Unavailable, match="narrow it"):
        groups(sn)


def test_a_create_is_not_repeated_after_a_read_timeout(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """The instance may have created the record: no blind retry of the POST."""
    mocked.post(f"{TABLE}/incident", body=requests.exceptions.ReadTimeout())
    with pytest.raises(Unavailable):
        sn.create(IncidentRequest(summary="x"))
    assert len(mocked.calls) == 1


def test_a_patch_is_retried_after_a_dropped_connection(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """A PATCH sets absolute values, so repeating it is safe."""
    url = f"{TABLE}/incident/{'a' * 32}"
    mocked.patch(url, body=requests.exceptions.ConnectionError("reset by peer"))
    mocked.patch(url, json={"result": {}})
    sn.update(IncidentRequest, IncidentRequest(id="INC1", platform_id="a" * 32), {"summary": "x"})
    assert len(mocked.calls) == 2


# -- secrets ---------------------------------------------------------------------------------------
def test_secrets_never_reach_repr_logs_or_errors(
    mocked: responses.RequestsMock,
    oauth: ServiceNowConnector,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Password, client secret and tokens appear in no repr, log record or exception."""
    caplog.set_level(logging.DEBUG)
    mocked.post(TOKEN_URL, json=token())
    mocked.get(GROUPS, status=500, json=sn_error("failed"))
    with pytest.raises(Unavailable) as caught:
        groups(oauth)
    texts = [
        repr(oauth),
        repr(oauth.options),
        repr(oauth.options.credentials),
        repr(oauth.auth),
        str(caught.value),
        caplog.text,
    ]
    for text in texts:
        for secret in (SN_PASSWORD, SN_CLIENT_SECRET, ACCESS, REFRESH):
            assert secret not in text
    assert "token held" in repr(oauth.auth)
