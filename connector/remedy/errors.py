"""Remedy's error answers, translated in this one place into smpm's exception tree.

AR answers errors with a JSON array of `{messageType, messageText, messageAppendedText,
messageNumber}` [reference 2.7]; `messageAppendedText` may be null or missing, and proxies in
front of AR answer with HTML pages, which must not be mistaken for AR's word.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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


def parse_messages(response: requests.Response) -> tuple[PlatformMessage, ...]:
    """Remedy's error array; tolerates one object, missing keys and non-JSON bodies [2.7]."""
    try:
        body = response.json()
    except ValueError:
        return ()
    items = body if isinstance(body, list) else [body]
    return tuple(
        _message(item) for item in items if isinstance(item, dict) and "messageText" in item
    )


def _message(item: Mapping[str, Any]) -> PlatformMessage:
    number = item.get("messageNumber")
    return PlatformMessage(
        number=int(number) if str(number).isdigit() else None,
        text=str(item.get("messageText") or ""),
        appended=item.get("messageAppendedText") or item.get("appendedText"),
        kind=item.get("messageType"),
    )


def body_excerpt(response: requests.Response) -> str:
    text = re.sub(r"<[^>]+>", " ", response.text or "")
    text = re.sub(r"\s+", " ", text).strip()
    return text[:200] or "(empty body)"


def translate_error(response: requests.Response, doing: str) -> ConnectorError:
    """The one place where Remedy's error answers become smpm exceptions."""
    messages = parse_messages(response)
    numbers = {m.number for m in messages}
    status = response.status_code
    detail = "; ".join(str(m) for m in messages) or body_excerpt(response)
    kw: dict[str, Any] = {
        "status": status,
        "messages": messages,
        "url": safe_url(response.url or ""),
    }
    text = f"Remedy {doing}: HTTP {status}: {detail}"
    if 623 in numbers or status == 401:
        return AuthenticationFailed(f"{text}. Check the Remedy user name and password", **kw)
    if 303 in numbers:
        return FormNotFound(f"{text}. Check the form name in the mapping", **kw)
    if 302 in numbers or (status == 404 and messages):
        return NotFound(text, **kw)
    if status == 403:
        return PermissionDenied(f"{text}. The AR user lacks a permission for this", **kw)
    if status == 429:
        return RateLimited(text, retry_after=retry_after_seconds(response), **kw)
    if status >= 500:
        return Unavailable(text, **kw)
    if not messages:
        return InvalidResponse(
            f"{text}. This is not an AR System answer; check the URL and any proxy in between",
            **kw,
        )
    return Rejected(text, **kw)
