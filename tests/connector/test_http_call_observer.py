"""`HttpOptions.on_call`: the runtime hears every HTTP attempt without connector importing it."""

from __future__ import annotations

import pytest
import requests
import responses

from connector.errors import Unavailable
from connector.http import HttpOptions, make_session, send
from tests.connector.conftest import Sleeps

URL = "https://itsm.example.com/api/now/table/incident"


@responses.activate
def test_each_attempt_is_heard_with_its_status_and_without_the_query() -> None:
    """A retried 503 then a 200: two attempts, two observations, the query left out."""
    heard: list[tuple[str, str, str, float]] = []
    options = HttpOptions(sleep=Sleeps(), on_call=lambda *call: heard.append(call))
    responses.get(URL, status=503)
    responses.get(URL, json={"result": []})
    send(make_session(options), options, "get", URL + "?sysparm_query=number%3DINC1")
    assert [(m, u, s) for m, u, s, _ in heard] == [("GET", URL, "503"), ("GET", URL, "200")]
    assert all(seconds >= 0 for *_, seconds in heard)


@responses.activate
def test_an_attempt_without_an_answer_is_heard_as_an_error() -> None:
    heard: list[tuple[str, str, str, float]] = []
    options = HttpOptions(attempts=2, sleep=Sleeps(), on_call=lambda *call: heard.append(call))
    responses.get(URL, body=requests.exceptions.ConnectionError("refused"))
    with pytest.raises(Unavailable):
        send(make_session(options), options, "GET", URL)
    assert [s for _, _, s, _ in heard] == ["error", "error"]


def test_the_observer_does_not_show_in_repr() -> None:
    assert "on_call" not in repr(HttpOptions(on_call=lambda *call: None))
