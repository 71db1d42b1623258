"""HTTP plumbing shared by the platform connectors: session, timeouts, retries, redaction.

Every call has a timeout. Retries use tenacity: exponential backoff with full jitter on connection
errors, timeouts, 5xx and 429, honouring `Retry-After`; never on other 4xx. A POST (which may create
a record) is retried only when the server cannot have acted on it: connection refused, 429, 503.
Other failures of a POST surface at once; one without an answer (a read timeout, a connection
dropped once the request was sent) as `OutcomeUnknown`, since the server may have acted on it:
the executor looks the write up under its idempotency key before writing again.

Nothing here logs headers or bodies, so tokens and passwords cannot reach the logs; URLs are logged
without their query string values. `HttpOptions.on_call`, when given, hears every attempt (method,
URL without its query, status, seconds): the runtime's metrics plug in there, so this package
never imports them.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    retry_if_result,
    stop_after_attempt,
    wait_random_exponential,
)

from connector.errors import OutcomeUnknown, TLSError, Unavailable

log = logging.getLogger("smpm.http")

CallObserver = Callable[[str, str, str, float], None]
"""Told of each HTTP attempt: method, URL without query, status ('error' without an answer),
seconds it took."""

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
SAFE_POST_STATUS = frozenset({429, 503})


@dataclass(frozen=True)
class HttpOptions:
    """How to talk to a platform; built from settings, with test hooks for time."""

    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    attempts: int = 5
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 120.0
    verify_tls: bool = True
    ca_bundle: Path | None = None
    user_agent: str = "smpm/0.1"
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    on_call: CallObserver | None = field(default=None, repr=False, compare=False)

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)

    @property
    def verify(self) -> bool | str:
        if self.ca_bundle is not None:
            return str(self.ca_bundle)
        return self.verify_tls


def make_session(options: HttpOptions) -> requests.Session:
    session = requests.Session()
    session.verify = options.verify
    session.headers["User-Agent"] = options.user_agent
    session.headers["Accept"] = "application/json"
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=8, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def retry_after_seconds(response: requests.Response) -> float | None:
    """Retry-After as seconds: either a number or an HTTP date (RFC 9110 10.2.3).

    A 429 without Retry-After but with `X-RateLimit-Reset` (a UNIX time; ServiceNow's rate
    limiting) waits until that time.
    """
    raw = response.headers.get("Retry-After")
    if not raw:
        reset = response.headers.get("X-RateLimit-Reset", "").strip()
        if response.status_code == 429 and reset.isdigit():
            return max(0.0, int(reset) - time.time())
        return None
    raw = raw.strip()
    if raw.isdigit():
        return float(raw)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def safe_url(url: str) -> str:
    """A URL fit for logs and messages: scheme, host and path, without the query and without
    any `user:password@`."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


class _Wait:
    """Server-requested delay when there is one, else exponential backoff with jitter."""

    def __init__(self, options: HttpOptions) -> None:
        self.options = options
        self.jitter = wait_random_exponential(multiplier=options.backoff, max=options.max_backoff)

    def __call__(self, state: RetryCallState) -> float:
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            response: requests.Response = outcome.result()
            asked = retry_after_seconds(response)
            if asked is not None:
                return min(asked, self.options.max_retry_after)
        return float(self.jitter(state))


def _is_retryable_exception(method: str) -> Callable[[BaseException], bool]:
    def check(exc: BaseException) -> bool:
        if isinstance(exc, requests.exceptions.SSLError):
            return False
        if method == "POST":
            return _never_sent(exc)
        return isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout)

    return check


def _never_sent(exc: BaseException) -> bool:
    """Only a connection that was never made proves the server did not act on a POST."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(exc, requests.exceptions.ConnectionError):
        return False
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _is_retryable_status(method: str) -> Callable[[requests.Response], bool]:
    statuses = SAFE_POST_STATUS if method == "POST" else RETRYABLE_STATUS
    return lambda response: response.status_code in statuses


def send(
    session: requests.Session,
    options: HttpOptions,
    method: str,
    url: str,
    *,
    on_retry: Callable[[RetryCallState], None] | None = None,
    **kwargs: Any,
) -> requests.Response:
    """One logical request with retries; returns the last response (any status).

    Raises `Unavailable` when every attempt failed without a response (`OutcomeUnknown` for a
    POST that may have reached the server), `TLSError` when the certificate could not be
    verified.
    """
    method = method.upper()
    retrying = Retrying(
        stop=stop_after_attempt(max(1, options.attempts)),
        wait=_Wait(options),
        retry=retry_if_exception(_is_retryable_exception(method))
        | retry_if_result(_is_retryable_status(method)),
        sleep=options.sleep,
        before_sleep=on_retry or _log_retry,
        retry_error_callback=_give_up,
        reraise=False,
    )
    kwargs.setdefault("timeout", options.timeout)
    # Per request, not only on the session: requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE
    # from the environment override a session's `verify`, which would drop a configured
    # ca_bundle (or verify_tls = false) without a word on machines that set them.
    kwargs.setdefault("verify", options.verify)
    try:
        response: requests.Response = retrying(
            _request, session, method, url, options.on_call, **kwargs
        )
    except requests.exceptions.SSLError as exc:
        raise TLSError(
            f"TLS verification failed for {safe_url(url)}: {_short(exc)}; set ca_bundle to your "
            "organisation's CA file if the server uses a private CA",
            url=safe_url(url),
        ) from None
    except requests.exceptions.RequestException as exc:
        if method == "POST" and not _never_sent(exc):
            raise OutcomeUnknown(
                f"{method} {safe_url(url)} was sent but no answer came ({_short(exc)}); the "
                "server may have acted on it",
                url=safe_url(url),
            ) from None
        raise Unavailable(
            f"{method} {safe_url(url)} failed: {_short(exc)}", url=safe_url(url)
        ) from None
    return response


def _request(
    session: requests.Session,
    method: str,
    url: str,
    on_call: CallObserver | None,
    **kwargs: Any,
) -> requests.Response:
    started = time.perf_counter()
    try:
        response = session.request(method, url, **kwargs)
    except requests.exceptions.RequestException:
        if on_call is not None:
            on_call(method, safe_url(url), "error", time.perf_counter() - started)
        raise
    seconds = time.perf_counter() - started
    log.debug("%s %s -> %s in %.1f ms", method, safe_url(url), response.status_code, seconds * 1e3)
    if on_call is not None:
        on_call(method, safe_url(url), str(response.status_code), seconds)
    return response


def _give_up(state: RetryCallState) -> requests.Response:
    """After the last attempt: hand back the last response, or re-raise the last exception."""
    outcome = state.outcome
    assert outcome is not None
    if outcome.failed:
        exc = outcome.exception()
        assert exc is not None
        raise exc
    result: requests.Response = outcome.result()
    return result


def _log_retry(state: RetryCallState) -> None:
    outcome = state.outcome
    what = "error"
    if outcome is not None:
        what = (
            type(outcome.exception()).__name__
            if outcome.failed
            else f"HTTP {outcome.result().status_code}"
        )
    delay = state.next_action.sleep if state.next_action else 0.0
    log.warning("attempt %d failed (%s); retrying in %.2f s", state.attempt_number, what, delay)


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) < 300 else text[:297] + "..."
