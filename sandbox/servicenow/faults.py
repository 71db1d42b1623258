"""Injected faults on ServiceNow paths answer in ServiceNow's shape [1.5, 1.5.1].

A status fault's body is the error envelope; a 429 is the documented rate-limit answer
("Rate limit exceeded" / "Rate limit of N requests per hour for Table API exceeded") with
`Retry-After` (the fault's, else 1 second), `X-RateLimit-Limit`, `X-RateLimit-Remaining` (0),
`X-RateLimit-Reset` (UNIX time when it lifts) and `X-RateLimit-Rule` (a rule's sys_id).
A fault with the message "Transaction cancelled: maximum execution time exceeded" is the
instance's transaction quota stopping a query [1.5]: its detail is the platform's ("... Check
logs for error trace."), and with status 200 the envelope follows an empty `result`, as the
answers clients have met look (StackState's ServiceNow check keeps one as a test sample):
`sb.inject(200, message=CANCELLED, path_prefix="/api/now/table/incident")`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus

from sandbox.faults import FaultRule
from sandbox.servicenow.calls import JSON_TYPE
from sandbox.servicenow.errors import envelope
from sandbox.servicenow.settings import ServiceNowSettings

PREFIXES = ("/api/now", "/oauth_token.do")
RULE_SYS_ID = "a7a5c3f1db0310104f34e5f0ad96195c"  # the sandbox's one sys_rate_limit_rules row
CANCELLED = "Transaction cancelled: maximum execution time exceeded"
Headers = list[tuple[bytes, bytes]]


def fault_answer(
    settings: ServiceNowSettings, clock: Callable[[], float]
) -> Callable[[FaultRule], tuple[int, bytes, Headers]]:
    def answer(rule: FaultRule) -> tuple[int, bytes, Headers]:
        headers: dict[str, str] = {"content-type": JSON_TYPE}
        if rule.status == 429:
            wait = rule.retry_after or "1"
            seconds = int(float(wait)) if wait.replace(".", "", 1).isdigit() else 1
            headers |= {
                "retry-after": wait,
                "x-ratelimit-limit": str(settings.rate_limit),
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(int(clock()) + seconds),
                "x-ratelimit-rule": RULE_SYS_ID,
            }
            detail = f"Rate limit of {settings.rate_limit} requests per hour for Table API exceeded"
            body = envelope(rule.message or "Rate limit exceeded", detail)
        else:
            if rule.retry_after is not None:
                headers["retry-after"] = rule.retry_after
            known = rule.status in HTTPStatus._value2member_map_
            text = rule.message or (HTTPStatus(rule.status).phrase if known else "Injected fault")
            body = envelope(text, "injected by the smpm sandbox")
            if text.startswith(CANCELLED):
                body = envelope(CANCELLED, f"{CANCELLED}. Check logs for error trace.")
                body = {"result": [], **body} if rule.status < 300 else body
        content = json.dumps(body, separators=(",", ":")).encode()
        return rule.status, content, [(k.encode(), v.encode()) for k, v in headers.items()]

    return answer
