"""How the Remedy connector behaves when the server, the network or the credentials fail."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import requests
import responses
import urllib3
from pydantic import SecretStr

from connector.entities import IncidentRequest, SupportGroup
from connector.errors import (
    AuthenticationFailed,
    FormNotFound,
    InvalidResponse,
    NotFound,
    RateLimited,
    Rejected,
    Unavailable,
)
from connector.http import HttpOptions
from connector.remedy import RemedyConnector, RemedyOptions
from mappings.loader import PlatformMapping
from tests.conftest import recorded
from tests.connector.conftest import (
    PASSWORD,
    REMEDY_URL,
    TOKEN,
    FakeClock,
    Sleeps,
    fake_jwt,
    login_ok,
)

ENTRY = f"{REMEDY_URL}/api/arsys/v1/entry"
GROUPS = f"{ENTRY}/CTM:Support%20Group"
LOGIN = f"{REMEDY_URL}/api/jwt/login"


def ar_error(number: int, text: str, appended: str | None = None) -> list[dict]:
    return [
        {
            "messageType": "ERROR",
            "messageText": text,
            "messageAppendedText": appended,
            "messageNumber": number,
        }
    ]


def list_groups(remedy: RemedyConnector) -> list[SupportGroup]:
    return list(remedy.find(SupportGroup))


# -- authentication --------------------------------------------------------------------------------
def test_login_is_form_encoded_and_the_token_is_sent_as_ar_jwt(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """POST /api/jwt/login with username/password form fields; then `AR-JWT <token>` [1.1, 1.2]."""
    login_ok(mocked)
    mocked.get(GROUPS, json={"entries": []})
    list_groups(remedy)
    login = mocked.calls[0].request
    assert login.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert login.body == f"username=Allen&password={PASSWORD}"
    assert "Authorization" not in login.headers
    assert mocked.calls[1].request.headers["Authorization"] == f"AR-JWT {TOKEN}"


def test_bad_credentials_raise_authentication_failed_without_the_password(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """623 'Authentication failed' becomes AuthenticationFailed with an actionable message."""
    mocked.post(LOGIN, status=401, json=ar_error(623, "Authentication failed", "Allen"))
    with pytest.raises(AuthenticationFailed) as caught:
        list_groups(remedy)
    message = str(caught.value)
    assert "ERROR (623): Authentication failed; Allen" in message
    assert "user name and password" in message
    assert PASSWORD not in message
    assert len(mocked.calls) == 1


def test_an_expired_token_is_renewed_once_on_401(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """A 401 on a data call logs in again and repeats the call once [1.5]."""
    login_ok(mocked)
    mocked.get(GROUPS, status=401, json=ar_error(623, "Authentication failed"))
    mocked.get(GROUPS, json={"entries": []})
    assert list_groups(remedy) == []
    paths = [c.request.path_url.split("?")[0] for c in mocked.calls]
    assert paths == [
        "/api/jwt/login",
        "/api/arsys/v1/entry/CTM:Support%20Group",
        "/api/jwt/login",
        "/api/arsys/v1/entry/CTM:Support%20Group",
    ]


def test_a_second_401_is_not_retried_forever(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """When the fresh token is refused too, the connector gives up with AuthenticationFailed."""
    login_ok(mocked)
    mocked.get(GROUPS, status=401, json=ar_error(623, "Authentication failed"))
    with pytest.raises(AuthenticationFailed):
        list_groups(remedy)
    assert len(mocked.calls) == 4


def test_token_is_renewed_before_its_hour_is_up(
    mocked: responses.RequestsMock, remedy: RemedyConnector, clock: FakeClock
) -> None:
    """A token is reused within its lifetime and renewed proactively before it expires [1.3]."""
    login_ok(mocked)
    mocked.get(GROUPS, json={"entries": []})
    list_groups(remedy)
    clock.advance(3000)
    list_groups(remedy)
    assert remedy.auth.logins == 1
    clock.advance(400)  # 3400 s: within the 300 s margin of the hour
    list_groups(remedy)
    assert remedy.auth.logins == 2


def test_token_lifetime_is_read_from_the_jwt(
    mocked: responses.RequestsMock, remedy: RemedyConnector, clock: FakeClock
) -> None:
    """A server configured for 10-minute tokens is honoured via the JWT's iat/exp claims."""
    login_ok(mocked, fake_jwt(lifetime=600))
    mocked.get(GROUPS, json={"entries": []})
    list_groups(remedy)
    clock.advance(301)
    list_groups(remedy)
    assert remedy.auth.logins == 2


def test_close_logs_out(mocked: responses.RequestsMock, remedy: RemedyConnector) -> None:
    """close() releases the token with POST /api/jwt/logout [1.4]."""
    login_ok(mocked)
    mocked.get(GROUPS, json={"entries": []})
    mocked.post(f"{REMEDY_URL}/api/jwt/logout", status=204)
    list_groups(remedy)
    remedy.close()
    logout = mocked.calls[-1].request
    assert logout.path_url == "/api/jwt/logout"
    assert logout.headers["Authorization"] == f"AR-JWT {TOKEN}"


def test_login_answer_that_is_not_a_token_is_refused(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """An HTML page answering 200 (a portal, not the REST API) is not taken as a token."""
    mocked.post(LOGIN, body="<html><body>Welcome</body></html>", content_type="text/html")
    with pytest.raises(InvalidResponse, match="did not answer with a token"):
        list_groups(remedy)


# -- error arrays ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "body", "error", "words"),
    [
        (
            404,
            ar_error(303, "Form does not exist on server", "CTM:Support Group"),
            FormNotFound,
            "Check the form name",
        ),
        (404, ar_error(302, "Entry does not exist in database"), NotFound, "ERROR (302)"),
        (400, ar_error(1587, "Bad qualification"), Rejected, "ERROR (1587): Bad qualification"),
    ],
    ids=["form missing 303", "entry missing 302", "other AR error"],
)
def test_remedy_error_arrays_become_typed_errors(
    mocked: responses.RequestsMock,
    remedy: RemedyConnector,
    status: int,
    body: list,
    error: type[Exception],
    words: str,
) -> None:
    """messageNumber decides the exception; the message quotes the server's own text [2.7]."""
    login_ok(mocked)
    mocked.get(GROUPS, status=status, json=body)
    with pytest.raises(error) as caught:
        list_groups(remedy)
    assert words in str(caught.value)
    assert len(mocked.calls) == 2  # no retry for a 4xx


def test_html_error_page_from_a_proxy_is_reported_as_such(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """A proxy's HTML 404 is not mistaken for an AR answer; the message says where to look."""
    login_ok(mocked)
    mocked.get(
        GROUPS,
        status=404,
        body="<html><head><title>404 Not Found</title></head></html>",
        content_type="text/html",
    )
    with pytest.raises(InvalidResponse) as caught:
        list_groups(remedy)
    assert "404 Not Found" in str(caught.value)
    assert "proxy" in str(caught.value)


def test_missing_record_is_not_found(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """get() of an id no entry has raises NotFound naming the kind and form."""
    login_ok(mocked)
    mocked.get(f"{ENTRY}/HPD:IncidentInterface", json={"entries": []})
    with pytest.raises(NotFound, match="no incident 'INC404' on HPD:IncidentInterface"):
        remedy.get(IncidentRequest, "INC404")


# -- retries ---------------------------------------------------------------------------------------
def test_503s_are_retried_with_jittered_exponential_backoff(
    mocked: responses.RequestsMock, remedy: RemedyConnector, sleeps: Sleeps
) -> None:
    """Two 503s then success: two waits, each within the exponential envelope."""
    login_ok(mocked)
    mocked.get(GROUPS, status=503, body="busy")
    mocked.get(GROUPS, status=503, body="busy")
    mocked.get(GROUPS, json={"entries": []})
    assert list_groups(remedy) == []
    assert len(sleeps.calls) == 2
    assert 0 <= sleeps.calls[0] <= 1.0 and 0 <= sleeps.calls[1] <= 2.0


def test_429_waits_as_long_as_retry_after_says(
    mocked: responses.RequestsMock, remedy: RemedyConnector, sleeps: Sleeps
) -> None:
    """Retry-After in seconds is honoured exactly."""
    login_ok(mocked)
    mocked.get(GROUPS, status=429, headers={"Retry-After": "7"}, json=ar_error(9999, "slow down"))
    mocked.get(GROUPS, json={"entries": []})
    list_groups(remedy)
    assert sleeps.calls == [7.0]


def test_persistent_429_ends_as_rate_limited(
    mocked: responses.RequestsMock, remedy: RemedyConnector, sleeps: Sleeps
) -> None:
    """After the last attempt the 429 surfaces as RateLimited carrying Retry-After."""
    login_ok(mocked)
    mocked.get(GROUPS, status=429, headers={"Retry-After": "3"}, json=ar_error(9999, "slow"))
    with pytest.raises(RateLimited) as caught:
        list_groups(remedy)
    assert caught.value.retry_after == 3.0
    assert sleeps.calls == [3.0, 3.0, 3.0]


def test_persistent_server_errors_end_as_unavailable(
    mocked: responses.RequestsMock, remedy: RemedyConnector, sleeps: Sleeps
) -> None:
    """Every attempt used, then Unavailable with the server's text."""
    login_ok(mocked)
    mocked.get(GROUPS, status=500, json=ar_error(552, "The SQL database operation failed."))
    with pytest.raises(Unavailable, match="ERROR \\(552\\)"):
        list_groups(remedy)
    assert len(mocked.calls) == 1 + 4


def test_connection_errors_are_retried_for_reads(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """A dropped connection on a GET is retried."""
    login_ok(mocked)
    mocked.get(GROUPS, body=requests.exceptions.ConnectionError("reset by peer"))
    mocked.get(GROUPS, json={"entries": []})
    assert list_groups(remedy) == []


def test_a_create_is_not_repeated_after_a_read_timeout(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """The server may have created the record: no blind retry, the caller replays by key."""
    login_ok(mocked)
    mocked.post(f"{ENTRY}/HPD:IncidentInterface_Create", body=requests.exceptions.ReadTimeout())
    with pytest.raises(Unavailable):
        remedy.create(IncidentRequest(summary="x"))
    assert len(mocked.calls) == 2


def test_a_create_is_retried_when_the_connection_was_never_made(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """A refused connection proves the server never saw the POST, so it is safe to repeat."""
    login_ok(mocked)
    refused = requests.exceptions.ConnectionError(
        urllib3.exceptions.MaxRetryError(
            None,
            "/",
            urllib3.exceptions.NewConnectionError(None, "refused"),  # type: ignore[arg-type]
        )
    )
    create_url = f"{ENTRY}/HPD:IncidentInterface_Create"
    mocked.post(create_url, body=refused)
    mocked.post(create_url, status=201, json=recorded("remedy", "incident_create.json"))
    mocked.get(f"{ENTRY}/HPD:IncidentInterface", json=recorded("remedy", "get_incident.json"))
    assert remedy.create(IncidentRequest(summary="x")).id == "INC000000000430"


def test_unreachable_host_gives_a_clear_error(remedy_mapping: PlatformMapping) -> None:
    """Nothing listens on the port: Unavailable naming the URL, after the configured attempts."""
    sleeps = Sleeps()
    options = RemedyOptions(
        base_url="http://127.0.0.1:9",
        username="Allen",
        password=SecretStr(PASSWORD),
        http=HttpOptions(attempts=2, connect_timeout=0.5, sleep=sleeps),
    )
    with pytest.raises(Unavailable, match=r"http://127\.0\.0\.1:9/api/jwt/login"):
        list_groups(RemedyConnector(options, remedy_mapping))
    assert len(sleeps.calls) == 1


# -- TLS and secrets -------------------------------------------------------------------------------
def test_tls_is_verified_by_default_and_a_ca_bundle_can_be_given(
    remedy_mapping: PlatformMapping, tmp_path: Path
) -> None:
    """Certificates are checked unless the user supplies their own CA bundle."""
    default = RemedyConnector(
        RemedyOptions(base_url=REMEDY_URL, username="u", password=SecretStr("p")), remedy_mapping
    )
    assert default.session.verify is True
    bundle = tmp_path / "corp-ca.pem"
    custom = RemedyConnector(
        RemedyOptions(
            base_url=REMEDY_URL,
            username="u",
            password=SecretStr("p"),
            http=HttpOptions(ca_bundle=bundle),
        ),
        remedy_mapping,
    )
    assert custom.session.verify == str(bundle)


def test_secrets_never_reach_repr_logs_or_errors(
    mocked: responses.RequestsMock,
    remedy: RemedyConnector,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The password and the token appear in no repr, log record or exception message."""
    caplog.set_level(logging.DEBUG)
    login_ok(mocked)
    mocked.get(GROUPS, status=500, json=ar_error(552, "failed"))
    with pytest.raises(Unavailable) as caught:
        list_groups(remedy)
    texts = [
        repr(remedy),
        repr(remedy.options),
        repr(remedy.auth),
        str(caught.value),
        caplog.text,
    ]
    for text in texts:
        assert PASSWORD not in text
        assert TOKEN not in text
