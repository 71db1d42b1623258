"""URLs in messages and logs never carry `user:password@` (nor a query's values)."""

from __future__ import annotations

import logging
import socket

import pytest
import requests

from connector.errors import Unavailable
from connector.http import HttpOptions, safe_url, send

SAFE_URLS = [
    ("https://admin:hunter2@r.example.com/api/jwt/login", "https://r.example.com/api/jwt/login"),
    ("https://admin@r.example.com:8443/api", "https://r.example.com:8443/api"),
    ("http://a:b@[::1]:8008/x?q=secret", "http://[::1]:8008/x"),
    ("https://u:p%40ss@r.example.com/", "https://r.example.com/"),
    (
        "https://r.example.com/api/now/table/incident?sysparm_query=a",
        "https://r.example.com/api/now/table/incident",
    ),
]


@pytest.mark.parametrize(("url", "shown"), SAFE_URLS, ids=[s for s, _ in SAFE_URLS])
def test_safe_url_drops_userinfo_and_the_query(url: str, shown: str) -> None:
    assert safe_url(url) == shown


def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_connection_error_names_the_url_without_its_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """ "Messages never contain credentials": the error (and any log line) shows host and
    path only."""
    port = closed_port()
    url = f"http://admin:hunter2@127.0.0.1:{port}/api/jwt/login"
    options = HttpOptions(attempts=1, connect_timeout=2, read_timeout=2, sleep=lambda _: None)
    with (
        caplog.at_level(logging.DEBUG),
        requests.Session() as session,
        pytest.raises(Unavailable) as caught,
    ):
        send(session, options, "GET", url)
    told = f"{caught.value} {caught.value.url} {caplog.text}"
    assert "hunter2" not in told and "admin" not in told
    assert str(caught.value).startswith(f"GET http://127.0.0.1:{port}/api/jwt/login failed")
