"""Where Capacity Tracking reads its values: the capacity manager's CSV file, and Prometheus.

CSV mistakes name the file and the line; Prometheus answers we cannot use name the query and
what is wrong. Prometheus is never reached over the network: `responses` answers with bodies
shaped like the HTTP API's (https://prometheus.io/docs/prometheus/latest/querying/api/).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from connector.testing import at
from procedures.capacity.overview import OverviewRow
from procedures.capacity.sources import (
    CsvSource,
    PrometheusConfig,
    PrometheusSource,
    SourceError,
    parse_readings_csv,
)

SAN = OverviewRow(
    infrastructure="san-array-01", capacity_level="storage", metric="storage.used_percent",
    warning_threshold=80, critical_threshold=90,
)  # fmt: skip
CPU = OverviewRow(
    infrastructure="app-bank-02", capacity_level="cpu", metric="cpu.utilisation",
    critical_threshold=95,
)  # fmt: skip
WEEK = timedelta(days=7)
ENDS = [at("2026-11-09 00:00"), at("2026-11-16 00:00"), at("2026-11-23 00:00")]
PROM = "https://prom.example.com/prometheus"
SAN_QUERY = 'max(san_used_ratio{array="san-array-01"}) * 100'
END = 1795392000  # 2026-11-23 00:00 UTC


# -- CSV ------------------------------------------------------------------------------------------
READINGS = """infrastructure,capacity_level,measured_at,value
# weekly export of the storage team
san-array-01,storage,2026-11-08T23:00Z,70
san-array-01,storage,2026-11-09T00:00Z,71
san-array-01,storage,2026-11-12 06:00,74
san-array-01,storage,2026-11-22T09:30:00+01:00,78.5
SAN-ARRAY-01,Storage,2026-11-23T00:00Z,79
san-array-01,storage,2026-11-23T00:00:01Z,99
mail-01,queue,2026-11-20T00:00Z,12

"""


def csv_source(tmp_path: Path, text: str) -> CsvSource:
    path = tmp_path / "readings.csv"
    path.write_text(text, encoding="utf-8")
    return CsvSource(path)


def test_each_period_has_its_latest_reading(tmp_path: Path) -> None:
    """A period ending at E has the latest reading with E - period < measured_at <= E; case is
    ignored in names, a time without a zone is UTC, a reading after the last end waits."""
    readings = csv_source(tmp_path, READINGS).read([SAN, CPU], ENDS, WEEK)
    assert readings.values[SAN.label] == (71, 74, 79)
    assert readings.values[CPU.label] == (None, None, None)
    assert readings.missing == {
        CPU.label: f"{tmp_path / 'readings.csv'} has no reading in the period"
    }
    assert readings.ignored == ("mail-01 / queue",)


def test_a_byte_order_mark_from_a_spreadsheet_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "readings.csv"
    path.write_bytes(b"\xef\xbb\xbf" + READINGS.encode())
    assert CsvSource(path).read([SAN], ENDS, WEEK).values[SAN.label][-1] == 79


BAD_CSV = [
    ("empty", "", "line 1: empty; the header names infrastructure"),
    (
        "unknown-column",
        "infrastructure,level,measured_at,value\n",
        "line 1: unknown column 'level'",
    ),
    (
        "missing-column",
        "infrastructure,capacity_level,value\n",
        "line 1: missing column 'measured_at'",
    ),
    (
        "bad-time",
        "infrastructure,capacity_level,measured_at,value\nsan,storage,yesterday,80\n",
        "line 2: measured_at 'yesterday' is not a date and time (ISO 8601",
    ),
    (
        "bad-value",
        "infrastructure,capacity_level,measured_at,value\n\nsan,storage,2026-11-23,80%\n",
        "line 3: value '80%' is not a number",
    ),
    (
        "not-finite",
        "infrastructure,capacity_level,measured_at,value\nsan,storage,2026-11-23,inf\n",
        "line 2: value 'inf' is not a finite number",
    ),
    (
        "empty-cell",
        "infrastructure,capacity_level,measured_at,value\nsan,,2026-11-23,80\n",
        "line 2: capacity_level is empty",
    ),
    (
        "extra-cells",
        "infrastructure,capacity_level,measured_at,value\nsan,storage,2026-11-23,80,x\n",
        "line 2: more cells than columns",
    ),
]


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in BAD_CSV], ids=[c[0] for c in BAD_CSV])
def test_a_bad_csv_line_is_named_by_file_and_line(text: str, message: str) -> None:
    with pytest.raises(SourceError) as caught:
        parse_readings_csv(text, "readings.csv")
    assert str(caught.value).startswith(f"readings.csv, {message}")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"nope\.csv: cannot read the readings file"):
        CsvSource(tmp_path / "nope.csv").read([SAN], ENDS, WEEK)


# -- Prometheus -----------------------------------------------------------------------------------
@pytest.fixture
def prom() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mocked:
        yield mocked


def source(**queries: str) -> PrometheusSource:
    config = PrometheusConfig.model_validate(
        {
            "url": PROM,
            "queries": queries or {"san-array-01 / storage": SAN_QUERY},
            "token": "s3cret",
            "attempts": 1,
        }
    )
    return PrometheusSource(config)


def vector(*series: tuple[dict[str, str], str]) -> dict[str, Any]:
    return {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [{"metric": m, "value": [float(END), v]} for m, v in series],
        },
    }


def matrix(values: list[list[Any]]) -> dict[str, Any]:
    metric = {"array": "san-array-01"}
    return {
        "status": "success",
        "data": {"resultType": "matrix", "result": [{"metric": metric, "values": values}]},
    }


def test_one_period_is_an_instant_query_at_the_period_end(prom: responses.RequestsMock) -> None:
    """GET /api/v1/query with the row's expression at the period end; the token as bearer."""
    prom.get(
        f"{PROM}/api/v1/query",
        json=vector(({"array": "san-array-01"}, "87.5")),
        match=[
            matchers.query_param_matcher({"query": SAN_QUERY, "time": f"{END}.000"}),
            matchers.header_matcher({"Authorization": "Bearer s3cret"}),
        ],
    )
    readings = source().read([SAN], ENDS[-1:], WEEK)
    assert readings.values == {SAN.label: (87.5,)}
    assert readings.missing == {}


def test_several_periods_are_one_range_query_per_row(prom: responses.RequestsMock) -> None:
    """GET /api/v1/query_range from the first to the last period end, one step per period;
    points land on their period ends, NaN (no data then) reads as no value."""
    start, end = END - 2 * 604800, END
    prom.get(
        f"{PROM}/api/v1/query_range",
        json=matrix([[start, "70"], [start + 604800, "NaN"], [end, "78.25"]]),
        match=[
            matchers.query_param_matcher(
                {
                    "query": SAN_QUERY,
                    "start": f"{start}.000",
                    "end": f"{end}.000",
                    "step": "604800s",
                }
            )
        ],
    )
    assert source().read([SAN], ENDS, WEEK).values == {SAN.label: (70.0, None, 78.25)}


def test_a_scalar_answer_is_a_value(prom: responses.RequestsMock) -> None:
    prom.get(
        f"{PROM}/api/v1/query",
        json={"status": "success", "data": {"resultType": "scalar", "result": [END, "42"]}},
    )
    assert source().read([SAN], ENDS[-1:], WEEK).values[SAN.label] == (42.0,)


BAD_ANSWERS = [
    (
        "refused",
        400,
        {
            "status": "error",
            "errorType": "bad_data",
            "error": 'invalid parameter "query": 1:17: parse error: unexpected ")"',
        },
        'refused (HTTP 400, bad_data): invalid parameter "query": 1:17: parse error',
    ),
    (
        "several-series",
        200,
        vector(({"array": "a"}, "1"), ({"array": "b"}, "2")),
        "2 series ({'array': 'a'}, {'array': 'b'}, ...); the expression must yield one: "
        "aggregate it, e.g. max(...)",
    ),
    ("no-status", 200, {"data": {}}, "not a Prometheus API answer (no 'status' field)"),
    ("odd-status", 200, {"status": "partial"}, "unknown status 'partial'"),
    ("no-result", 200, {"status": "success", "data": {}}, "'data.result' is missing"),
    (
        "string-result",
        200,
        {"status": "success", "data": {"resultType": "string", "result": [1, "x"]}},
        "a 'string' result where an instant vector was expected",
    ),
    (
        "bad-sample",
        200,
        {"status": "success", "data": {"resultType": "vector", "result": [{"value": ["x"]}]}},
        "sample ['x'] is not [time, \"value\"]",
    ),
    (
        "not-a-number",
        200,
        vector(({}, "lots")),
        "value 'lots' is not a number",
    ),
    ("infinite", 200, vector(({}, "+Inf")), "value '+Inf' is not a finite number"),
]


@pytest.mark.parametrize(
    ("status", "body", "message"), [c[1:] for c in BAD_ANSWERS], ids=[c[0] for c in BAD_ANSWERS]
)
def test_an_answer_we_cannot_use_leaves_the_row_without_a_value_and_says_why(
    prom: responses.RequestsMock, status: int, body: dict[str, Any], message: str
) -> None:
    prom.get(f"{PROM}/api/v1/query", json=body, status=status)
    readings = source().read([SAN], ENDS[-1:], WEEK)
    assert readings.values == {SAN.label: (None,)}
    assert readings.missing[SAN.label].startswith(f"Prometheus answer to {SAN_QUERY!r}: {message}")


def test_an_html_page_from_a_proxy_is_named(prom: responses.RequestsMock) -> None:
    prom.get(
        f"{PROM}/api/v1/query_range",
        body="<html><body>Sign in</body></html>",
        content_type="text/html",
    )
    readings = source().read([SAN], ENDS, WEEK)
    assert readings.missing[SAN.label] == (
        f"Prometheus at {PROM}: the answer to {SAN_QUERY!r} is not JSON (text/html, HTTP 200): "
        "'<html><body>Sign in</body></html>'"
    )


def test_a_range_answer_that_is_not_a_matrix_is_named(prom: responses.RequestsMock) -> None:
    prom.get(f"{PROM}/api/v1/query_range", json=vector(({}, "1")))
    readings = source().read([SAN], ENDS, WEEK)
    assert "a 'vector' result where a range matrix was expected" in readings.missing[SAN.label]


def test_no_series_or_no_expression_means_no_value(prom: responses.RequestsMock) -> None:
    """Source row missing: the query found nothing, or no expression is configured."""
    prom.get(f"{PROM}/api/v1/query", json=vector())
    readings = source().read([SAN, CPU], ENDS[-1:], WEEK)
    assert readings.values == {SAN.label: (None,), CPU.label: (None,)}
    assert readings.missing == {
        SAN.label: f"Prometheus at {PROM}: no value at the period end for {SAN_QUERY!r}",
        CPU.label: "no PromQL expression for 'app-bank-02 / cpu' in "
        "[capacity.tracking.prometheus.queries]",
    }


def test_expressions_for_levels_the_overview_does_not_track_are_named(
    prom: responses.RequestsMock,
) -> None:
    prom.get(f"{PROM}/api/v1/query", json=vector(({}, "50")))
    readings = source(
        **{"SAN-array-01 / Storage": SAN_QUERY, "mail-01 / queue": "mail_queue"}
    ).read([SAN], ENDS[-1:], WEEK)
    assert readings.values == {SAN.label: (50.0,)}  # labels match ignoring case
    assert readings.ignored == ("mail-01 / queue",)


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_stops_the_run_and_is_never_shown(
    prom: responses.RequestsMock, status: int
) -> None:
    prom.get(f"{PROM}/api/v1/query", json={"status": "error"}, status=status)
    with pytest.raises(SourceError, match=f"answered HTTP {status} to /api/v1/query: check") as e:
        source().read([SAN], ENDS[-1:], WEEK)
    assert "s3cret" not in str(e.value)


def test_an_unreachable_server_stops_the_run(prom: responses.RequestsMock) -> None:
    prom.get(f"{PROM}/api/v1/query", body=requests.ConnectionError("refused"))
    with pytest.raises(SourceError, match=r"Prometheus at https://prom\.example\.com/prometheus"):
        source().read([SAN], ENDS[-1:], WEEK)


def test_the_token_may_come_from_a_file(prom: responses.RequestsMock, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("from-file\n")
    prom.get(
        f"{PROM}/api/v1/query",
        json=vector(({}, "1")),
        match=[matchers.header_matcher({"Authorization": "Bearer from-file"})],
    )
    config = PrometheusConfig.model_validate(
        {"url": PROM, "queries": {SAN.label: SAN_QUERY}, "token_file": str(token)}
    )
    assert PrometheusSource(config).read([SAN], ENDS[-1:], WEEK).values[SAN.label] == (1.0,)
    missing = config.model_copy(update={"token_file": tmp_path / "nope"})
    with pytest.raises(SourceError, match=r"token_file: cannot read .*nope"):
        PrometheusSource(missing)
