"""Random bodies and header strings over real HTTP never get a 500, and nothing is stored
unless the answer is 202 (on SQLite and on PostgreSQL, which refuses more than SQLite does).

README: "Nothing is stored unless the answer is 202."
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from smpm.intake.auth import sign
from tests.smpm.intake.conftest import NOW, ON_BOTH_STORES, SECRET, TOKEN, event_body, stored
from tests.smpm.intake.served import serving

pytestmark = [ON_BOTH_STORES, pytest.mark.timeless]
ANSWERS = {202, 400, 401, 413, 422}
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
tricky = st.sampled_from(
    [
        "NULL",
        "null",
        "javascript:x",
        " JavaScript:",
        "",
        "   ",
        "\x00",
        "a\x00",
        "db-node-01",
        "x" * 201,
    ]
)
names = tricky | st.text(max_size=40)
offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
times = (
    st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=offsets
    ).map(datetime.isoformat)
    | st.sampled_from(
        ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-11-25T10:00:00"]
    )
    | st.integers()
    | st.text(max_size=25)
)
numbers = (
    st.floats(allow_nan=True, allow_infinity=True) | st.integers() | st.text(max_size=6) | st.none()
)

events = st.fixed_dictionaries(
    {},
    optional={
        "source": names,
        "node": names,
        "ci": names,
        "type": names,
        "resource": names,
        "metric": names,
        "severity": st.sampled_from(["critical", "warning", "clear", "bogus"]) | json_values,
        "message_key": names,
        "message": names,
        "value": numbers,
        "threshold": numbers,
        "time": times,
        "extra": json_values,
    },
)
alerts = st.fixed_dictionaries(
    {
        "status": st.sampled_from(["firing", "resolved"]),
        "labels": st.dictionaries(names, names, max_size=5),
        "startsAt": times,
    },
    optional={
        "annotations": st.dictionaries(
            st.sampled_from(["summary", "value", "threshold", "x"]),
            names | numbers.map(str),
            max_size=4,
        ),
        "endsAt": times | st.none(),
        "fingerprint": names | st.none(),
    },
)
alert_groups = st.fixed_dictionaries(
    {
        "version": st.just("4"),
        "groupKey": names,
        "status": st.sampled_from(["firing", "resolved"]),
        "receiver": names,
        "alerts": st.lists(alerts, max_size=3),
    }
)
notes = st.fixed_dictionaries(
    {"record": names},
    optional={"kind": st.sampled_from(["incident", "problem", "x"]), "changed": json_values},
)
BODIES = {
    "events": events | json_values,
    "alertmanager": alert_groups | json_values,
    "remedy": notes,
}
BASIC = "Basic " + base64.b64encode(b"remedy-hook:pa55").decode()
CREDENTIALS = {"events": f"Bearer {TOKEN}", "alertmanager": f"Bearer {TOKEN}", "remedy": BASIC}

# What a client can put in a header: latin-1 without control characters (h11's rule).
header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=300
)


@pytest.fixture
def http(engine: Engine) -> Iterator[httpx.Client]:
    with serving(engine) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def _post(
    http: httpx.Client, endpoint: str, raw: bytes, headers: dict[str, bytes]
) -> httpx.Response:
    answer = http.post(f"/hooks/{endpoint}", content=raw, headers=headers)
    assert answer.status_code in ANSWERS, (answer.status_code, answer.text[:500])
    return answer


def _rows_follow(engine: Engine, before: int, answer: httpx.Response) -> None:
    """A 202 stores its new items; any other answer stores nothing."""
    if answer.status_code == 202:
        reply = answer.json()
        assert stored(engine) - before == (0 if reply["duplicate"] else len(set(reply["ids"])))
    else:
        assert "error" in answer.json()
        assert stored(engine) == before


@FUZZ
@given(data=st.data(), endpoint=st.sampled_from(sorted(BODIES)), signed=st.booleans())
def test_random_bodies_never_get_a_500(
    engine: Engine, http: httpx.Client, data: st.DataObject, endpoint: str, signed: bool
) -> None:
    body: Any = data.draw(BODIES[endpoint])
    raw = json.dumps(body, allow_nan=True).encode()
    if signed and endpoint == "events":
        headers = {"X-Smpm-Signature": sign(SECRET, NOW, raw).encode()}
    else:
        headers = {"Authorization": CREDENTIALS[endpoint].encode()}
    delivery = data.draw(
        st.none() | st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=210)
    )
    if delivery:
        headers["X-Smpm-Delivery"] = delivery.encode()
    before = stored(engine)
    _rows_follow(engine, before, _post(http, endpoint, raw, headers))


@FUZZ
@given(raw=st.binary(max_size=300))
def test_random_bytes_never_get_a_500(engine: Engine, http: httpx.Client, raw: bytes) -> None:
    before = stored(engine)
    answer = _post(http, "events", raw, {"Authorization": CREDENTIALS["events"].encode()})
    _rows_follow(engine, before, answer)


@FUZZ
@given(
    endpoint=st.sampled_from(sorted(BODIES)),
    name=st.sampled_from(["X-Smpm-Signature", "Authorization", "X-Smpm-Delivery", "Content-Type"]),
    value=header_text | st.builds(lambda t, v: f"t={t},v1={v}", header_text, header_text),
    prefix=st.sampled_from(["", "Bearer ", "Basic ", "bearer ", "t="]),
)
def test_random_header_strings_never_get_a_500(
    engine: Engine, http: httpx.Client, endpoint: str, name: str, value: str, prefix: str
) -> None:
    body = {"record": "INC1"} if endpoint == "remedy" else event_body()
    headers = {name: (prefix + value).strip().encode("latin-1")}
    if name != "Authorization":
        headers["Authorization"] = CREDENTIALS[endpoint].encode()
    before = stored(engine)
    _rows_follow(engine, before, _post(http, endpoint, json.dumps(body).encode(), headers))
