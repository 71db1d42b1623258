"""ServiceNow's error answers, translated in this one place into smpm's exception tree.

The Table API answers errors with `{"error": {"message", "detail"}, "status": "failure"}`, now and
then inside an HTTP 200 [reference 1.5; pysnow treats it as an error]; the OAuth endpoint with
`{"error", "error_description"}` [1.7]. A proxy, an SSO portal or a sleeping developer instance
answers with an HTML page instead, which must not be mistaken for ServiceNow's word. Status
decides the class: 401 authentication, 403 ACL, 404 no record, 400 "Invalid table" a table that
does not exist, other 400s rejected, 429 rate limited (with `Retry-After` and the
`X-RateLimit-*` headers), 5xx unavailable.

"Transaction cancelled: maximum execution time exceeded" is the instance's transaction quota
stopping a query that ran too long [1.5; PySNC lowers its batch size on it]. It comes with a
5xx, and also inside an HTTP 200, after a partial `result` and now and then as a body that is no
longer JSON (StackState's ServiceNow check works around both). Whatever the status, it is
`Unavailable`: the same query may succeed later, and a smaller page sooner (`is_cancelled`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import requests

from connector.errors import (
    AuthenticationFailed,
    ConnectorError,
    FormNotFound,
    InvalidResponse,
    NotFound,
    PermissionDenied,
    PlatformMessage,
    RateLimited,
    Rejected,
    Unavailable,
)
from connector.http import retry_after_seconds, safe_url


def parse_message(response: requests.Response) -> PlatformMessage | None:
    """The error envelope of a Table API or OAuth answer, or None when there is none."""
    try:
        body = response.json()
    except ValueError:
        return None
    return envelope_message(body)


def envelope_message(body: Any) -> PlatformMessage | None:
    if not isinstance(body, Mapping):
        return None
    error = body.get("error")
    if isinstance(error, Mapping):  # Table API [1.5]
        detail = error.get("detail")
        return PlatformMessage(
            number=None,
            text=str(error.get("message") or "(no message)"),
            appended=str(detail) if detail else None,
            kind="table",
        )
    if isinstance(error, str):  # OAuth token endpoint [1.7]
        described = body.get("error_description")
        return PlatformMessage(None, error, str(described) if described else None, "oauth")
    return None


def is_failure(body: Any) -> bool:
    """An error envelope in a body that came with a success status (pysnow checks this too)."""
    return (
        isinstance(body, Mapping)
        and isinstance(body.get("error"), Mapping)
        and (body.get("status") == "failure" or "result" not in body)
    )


def body_excerpt(response: requests.Response) -> str:
    text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.text or "", flags=re.S | re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text[:200] or "(empty body)"


def rate_limit_note(response: requests.Response) -> str:
    """What the X-RateLimit-* headers say, for the message [1.5.1]."""
    headers = response.headers
    parts = []
    if headers.get("X-RateLimit-Limit"):
        parts.append(f"limit {headers['X-RateLimit-Limit']} requests per hour")
    reset = headers.get("X-RateLimit-Reset", "")
    if reset.isdigit():
        parts.append(f"resets at {datetime.fromtimestamp(int(reset), UTC):%Y-%m-%d %H:%M:%S} UTC")
    if headers.get("X-RateLimit-Rule"):
        parts.append(f"rule {headers['X-RateLimit-Rule']}")
    return f" ({'; '.join(parts)})" if parts else ""


CANCELLED = "maximum execution time exceeded"
CANCELLED_HINT = "; the query ran too long on the instance: narrow it or lower page_size"


def is_cancelled(error: BaseException) -> bool:
    """Did the instance's transaction quota stop the query (see above)?"""
    return isinstance(error, Unavailable) and CANCELLED in str(error).lower()


def cancelled_answer(response: requests.Response, doing: str) -> Unavailable | None:
    """An answer that is not JSON but says the transaction was cancelled, as Unavailable."""
    if CANCELLED not in (response.text or "").lower():
        return None
    return Unavailable(
        f"ServiceNow {doing}: HTTP {response.status_code}: Transaction cancelled: "
        f"{CANCELLED} (the answer broke off){CANCELLED_HINT}",
        status=response.status_code,
        url=safe_url(response.url or ""),
    )


def translate_error(response: requests.Response, doing: str) -> ConnectorError:
    """The one place where ServiceNow's error answers become smpm exceptions."""
    message = parse_message(response)
    status = response.status_code
    detail = str(message) if message else body_excerpt(response)
    kw: dict[str, Any] = {
        "status": status,
        "messages": (message,) if message else (),
        "url": safe_url(response.url or ""),
    }
    text = f"ServiceNow {doing}: HTTP {status}: {detail}"
    if status == 401:
        return AuthenticationFailed(text + _auth_hint(response, message), **kw)
    if status == 429:
        retry = retry_after_seconds(response)
        return RateLimited(text + rate_limit_note(response), retry_after=retry, **kw)
    if status >= 500 or CANCELLED in detail.lower():  # a cancelled query, even with a 200
        hint = CANCELLED_HINT if CANCELLED in detail.lower() else ""
        return Unavailable(text + hint, **kw)
    if message is None:
        return InvalidResponse(
            f"{text}. This is not a ServiceNow API answer; check the URL and any proxy or "
            "single sign-on page in between",
            **kw,
        )
    if status == 403:
        return PermissionDenied(
            f"{text}. The ServiceNow user lacks a role, or an ACL denies this", **kw
        )
    if status == 404:
        return NotFound(text, **kw)
    if status == 400 and message.text.startswith("Invalid table"):
        return FormNotFound(f"{text}. Check the table name in the mapping", **kw)
    return Rejected(text, **kw)


def _auth_hint(response: requests.Response, message: PlatformMessage | None) -> str:
    if response.headers.get("X-MFA_TOKEN") == "invalid":
        return ". The account needs multi-factor authentication; use OAuth for smpm instead"
    if message is not None and message.kind == "oauth":
        return (
            ". Check the OAuth client id and secret (and the user, for the password grant); the "
            "client credentials grant works only where the instance enables it "
            "(glide.oauth.inbound.client.credential.grant_type.enabled)"
        )
    return ". Check the ServiceNow user name and password (or the OAuth client)"
