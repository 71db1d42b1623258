"""What the Remedy and ServiceNow connectors share: one session with its auth plugin, calls
serialised per connector and logged in again once on a 401, codecs per entity kind.

The platforms differ in what comes before (their auth plugin, their paths) and after (their
error bodies, their paging); a subclass sets `format_date` and `translate_error` and builds the
session, the auth plugin and the lock in its own `__init__`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, ClassVar, Protocol, Self

import requests

from connector.codec import KindCodec
from connector.entities import RecordKind
from connector.errors import ConfigurationError, ConnectorError
from connector.http import HttpOptions, make_session, send
from mappings.loader import PlatformMapping


class _Auth(Protocol):
    def invalidate(self) -> bool:
        """After a 401: forget what was sent; True when asking again can help."""
        ...


class _Options(Protocol):
    base_url: str
    http: HttpOptions


class RestConnector:
    """The plumbing of a connector to one platform's REST API."""

    platform: ClassVar[str]
    format_date: ClassVar[Callable[[datetime], str]]
    translate_error: ClassVar[Callable[[requests.Response, str], ConnectorError]]
    auth: _Auth

    def __init__(self, options: _Options, mapping: PlatformMapping, page_thread: str) -> None:
        if mapping.platform != self.platform:
            raise ConfigurationError(
                f"{mapping.source}: platform: expected a {self.platform} mapping"
            )
        self.options = options
        self.mapping = mapping
        self.base_url = options.base_url.rstrip("/")
        self.session = make_session(options.http)
        self._lock = threading.RLock()
        self._prefetch = ThreadPoolExecutor(max_workers=1, thread_name_prefix=page_thread)
        self._codecs: dict[RecordKind, KindCodec] = {}
        self.calls = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._prefetch.shutdown(wait=True)
        with self._lock:
            self._end_session()
            self.session.close()

    def _end_session(self) -> None:
        """Log out, where the platform keeps a session to end."""

    def codec(self, kind: RecordKind) -> KindCodec:
        if kind not in self._codecs:
            self._codecs[kind] = KindCodec(self.mapping, kind, type(self).format_date)
        return self._codecs[kind]

    def maps(self, kind: RecordKind, field: str) -> bool:
        """Does this platform's mapping keep `field` for `kind`? (Optional extras use it.)"""
        spec = self.mapping.kind(kind.value)
        return spec is not None and field in spec.fields

    def call(self, method: str, url: str, doing: str, **kwargs: Any) -> requests.Response:
        """One API call: serialised, retried, authenticated again once on 401, errors
        translated."""
        with self._lock:
            response = self._send(method, url, **kwargs)
            if response.status_code == 401 and self.auth.invalidate():
                response = self._send(method, url, **kwargs)
        if response.status_code >= 400:
            raise type(self).translate_error(response, doing)
        return response

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        self.calls += 1
        return send(self.session, self.options.http, method, url, **kwargs)


def need_within(within: RecordKind | None, what: str) -> RecordKind:
    """Work notes and relations live per parent or source kind: `find` must be told which."""
    if within is None:
        raise ValueError(f"finding {what} needs within=<the kind of record they belong to>")
    return within
