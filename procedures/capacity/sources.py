"""Where Capacity Tracking (P3) reads capacity utilisation values: a CSV file, or Prometheus.

SMPM P3: "At the end of a capacity tracking period, the capacity manager determines the
capacity utilization value for each capacity level that is to be tracked". Both sources answer
one question: for each row of the capacity tracking overview, its value at each period end
(oldest first; None where the source has none, with the reason).

CSV (`[capacity.tracking] readings_csv`), a file the capacity manager (or an export job) keeps;
a header line first, `#` starts a comment line:

    infrastructure,capacity_level,measured_at,value
    san-array-01,storage,2026-11-23T06:00Z,87.5

`measured_at` is ISO 8601; a time without a zone is UTC. A period ending at E has the latest
reading with E - period < measured_at <= E. A bad line stops the read naming file and line.

Prometheus (`[capacity.tracking.prometheus]`): one PromQL expression per row, keyed by the row's
label ('san-array-01 / storage'). One period asks `GET /api/v1/query?query=..&time=E` (an
instant vector); several ask `GET /api/v1/query_range?query=..&start=..&end=..&step=..` (a range
matrix), one call per row. The expression must yield exactly one series (aggregate with max()).
An answer we cannot use leaves that row without a value and says why (`BadAnswer`);
authentication failures and an unreachable server stop the run (`SourceError`; the next run
tries again).

Unlike the decision modules this one does I/O, as a connector does: P3's gathering step calls
it, and the decision gets plain values.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import requests
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr

from connector.errors import ConnectorError, SmpmError
from connector.http import HttpOptions, make_session, safe_url, send
from procedures.capacity.overview import OverviewRow

CSV_COLUMNS = ("infrastructure", "capacity_level", "measured_at", "value")


class SourceError(SmpmError):
    """A utilisation source cannot be read (a bad CSV line, Prometheus refusing the token or
    unreachable); names the file and line, or the server and what it answered."""


class BadAnswer(SourceError):
    """Prometheus answered one row's query with something we cannot use; names query and fault."""


class PrometheusConfig(BaseModel):
    """`[capacity.tracking.prometheus]`; a bearer token only from the environment
    (`SMPM_CAPACITY__TRACKING__PROMETHEUS__TOKEN`) or from `token_file`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: AnyHttpUrl
    queries: dict[str, str] = Field(
        default_factory=dict, description="'infrastructure / capacity_level' -> PromQL"
    )
    token: SecretStr | None = None
    token_file: Path | None = None
    timeout: float = Field(default=10.0, gt=0)
    attempts: int = Field(default=3, ge=1)
    verify_tls: bool = True
    ca_bundle: Path | None = None


@dataclass(frozen=True)
class Readings:
    """Per row label: one value per period end, oldest first; why a row has none; and the
    labels the source has that the overview does not track."""

    values: dict[str, tuple[float | None, ...]] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()


class UtilisationSource(Protocol):
    name: str

    def read(
        self, rows: Sequence[OverviewRow], ends: Sequence[datetime], period: timedelta
    ) -> Readings:
        """Values of `rows` at each of `ends` (periods of length `period`)."""
        ...


# -- CSV ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Measurement:
    infrastructure: str
    capacity_level: str
    measured_at: datetime
    value: float

    @property
    def key(self) -> tuple[str, str]:
        return (self.infrastructure.casefold(), self.capacity_level.casefold())


def _key(row: OverviewRow) -> tuple[str, str]:
    return (row.infrastructure.casefold(), row.capacity_level.casefold())


def parse_readings_csv(text: str, source: str) -> list[Measurement]:
    """The readings of a CSV file's text; SourceError names `source`, the line and the problem."""
    reader = csv.DictReader(io.StringIO(text))
    names = [n.strip() for n in reader.fieldnames or ()]
    if not names:
        raise SourceError(f"{source}, line 1: empty; the header names {', '.join(CSV_COLUMNS)}")
    unknown = [n for n in names if n not in CSV_COLUMNS]
    missing = [n for n in CSV_COLUMNS if n not in names]
    if unknown or missing:
        what = f"unknown column {unknown[0]!r}" if unknown else f"missing column {missing[0]!r}"
        raise SourceError(f"{source}, line 1: {what}; the columns are {', '.join(CSV_COLUMNS)}")
    found = []
    for cells in reader:
        values = {k.strip(): (v or "").strip() for k, v in cells.items() if k is not None}
        if not any(values.values()) or values["infrastructure"].startswith("#"):
            continue
        if None in cells:
            raise SourceError(f"{source}, line {reader.line_num}: more cells than columns")
        found.append(_measurement(values, f"{source}, line {reader.line_num}"))
    return found


def _measurement(values: dict[str, str], where: str) -> Measurement:
    for name in CSV_COLUMNS:
        if not values[name]:
            raise SourceError(f"{where}: {name} is empty")
    try:
        when = datetime.fromisoformat(values["measured_at"])
    except ValueError:
        raise SourceError(
            f"{where}: measured_at {values['measured_at']!r} is not a date and time "
            "(ISO 8601, e.g. 2026-11-23T06:00Z)"
        ) from None
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return Measurement(
        values["infrastructure"], values["capacity_level"], when, _number(values["value"], where)
    )


def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise SourceError(f"{where}: value {text!r} is not a number") from None
    if not math.isfinite(value):
        raise SourceError(f"{where}: value {text!r} is not a finite number")
    return value


def per_period(
    measurements: Sequence[Measurement],
    rows: Sequence[OverviewRow],
    ends: Sequence[datetime],
    period: timedelta,
) -> Readings:
    """Each row's latest reading in each period; rows without any say so."""
    tracked = {_key(r): r for r in rows}
    latest: dict[tuple[tuple[str, str], int], Measurement] = {}
    for m in measurements:
        for n, end in enumerate(ends):
            if m.key in tracked and end - period < m.measured_at <= end:
                best = latest.get((m.key, n))
                if best is None or m.measured_at >= best.measured_at:
                    latest[(m.key, n)] = m
    values = {}
    for key, row in tracked.items():
        found = [latest.get((key, n)) for n in range(len(ends))]
        values[row.label] = tuple(m.value if m else None for m in found)
    ignored = {
        f"{m.infrastructure} / {m.capacity_level}" for m in measurements if m.key not in tracked
    }
    return Readings(values=values, ignored=tuple(sorted(ignored)))


@dataclass(frozen=True)
class CsvSource:
    """The capacity manager's readings file, read whole at each run."""

    path: Path

    @property
    def name(self) -> str:
        return str(self.path)

    def read(
        self, rows: Sequence[OverviewRow], ends: Sequence[datetime], period: timedelta
    ) -> Readings:
        try:
            text = self.path.read_text(encoding="utf-8-sig")  # spreadsheets save a BOM
        except OSError as exc:
            raise SourceError(
                f"{self.path}: cannot read the readings file: {exc.strerror}"
            ) from None
        readings = per_period(parse_readings_csv(text, str(self.path)), rows, ends, period)
        why = f"{self.path} has no reading in the period"
        missing = {label: why for label, v in readings.values.items() if v[-1] is None}
        return Readings(readings.values, missing, readings.ignored)


# -- Prometheus -----------------------------------------------------------------------------------
class PrometheusSource:
    """The Prometheus HTTP API, one query per overview row."""

    def __init__(self, config: PrometheusConfig, session: requests.Session | None = None) -> None:
        self.config = config
        self.base = str(config.url).rstrip("/")
        self.options = HttpOptions(
            connect_timeout=config.timeout,
            read_timeout=config.timeout,
            attempts=config.attempts,
            verify_tls=config.verify_tls,
            ca_bundle=config.ca_bundle,
        )
        self.session = session or make_session(self.options)
        token = self._token()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def _token(self) -> str | None:
        if self.config.token is not None:
            return self.config.token.get_secret_value()
        if self.config.token_file is None:
            return None
        try:
            return self.config.token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SourceError(
                f"capacity.tracking.prometheus.token_file: cannot read "
                f"{str(self.config.token_file)!r}: {exc.strerror}"
            ) from None

    @property
    def name(self) -> str:
        return f"Prometheus at {safe_url(self.base)}"

    def read(
        self, rows: Sequence[OverviewRow], ends: Sequence[datetime], period: timedelta
    ) -> Readings:
        labels = {r.label.casefold(): r.label for r in rows}
        queries = {labels.get(k.casefold(), k): q for k, q in self.config.queries.items()}
        values: dict[str, tuple[float | None, ...]] = {}
        missing: dict[str, str] = {}
        for row in rows:
            query = queries.get(row.label)
            values[row.label] = (None,) * len(ends)
            if query is None:
                missing[row.label] = (
                    f"no PromQL expression for '{row.label}' in "
                    "[capacity.tracking.prometheus.queries]"
                )
                continue
            try:
                values[row.label] = self.series(query, ends, period)
            except BadAnswer as exc:
                missing[row.label] = str(exc)
                continue
            if values[row.label][-1] is None:
                missing[row.label] = f"{self.name}: no value at the period end for {query!r}"
        ignored = tuple(sorted(k for k in queries if k not in values))
        return Readings(values, missing, ignored)

    def series(
        self, query: str, ends: Sequence[datetime], period: timedelta
    ) -> tuple[float | None, ...]:
        """The expression's value at each of `ends`."""
        if len(ends) == 1:
            params: dict[str, Any] = {"query": query, "time": _epoch(ends[0])}
            body = self._get("/api/v1/query", params, query)
            return (_one_value(body, query),)
        params = {
            "query": query,
            "start": _epoch(ends[0]),
            "end": _epoch(ends[-1]),
            "step": f"{period.total_seconds():g}s",
        }
        points = _one_series(self._get("/api/v1/query_range", params, query), query)
        return _align(points, ends, period)

    def _get(self, path: str, params: dict[str, Any], query: str) -> Any:
        url = self.base + path
        try:
            response = send(self.session, self.options, "GET", url, params=params)
        except ConnectorError as exc:
            raise SourceError(f"{self.name}: {exc}") from None
        if response.status_code in (401, 403):
            raise SourceError(
                f"{self.name} answered HTTP {response.status_code} to {path}: check the token "
                "(SMPM_CAPACITY__TRACKING__PROMETHEUS__TOKEN)"
            )
        if response.status_code >= 500:
            raise SourceError(f"{self.name} answered HTTP {response.status_code} to {path}")
        try:
            body = response.json()
        except ValueError:
            kind = response.headers.get("Content-Type", "no content type")
            raise BadAnswer(
                f"{self.name}: the answer to {query!r} is not JSON ({kind}, HTTP "
                f"{response.status_code}): {response.text[:80]!r}"
            ) from None
        return _data(body, query, response.status_code)


def _epoch(when: datetime) -> str:
    return f"{when.timestamp():.3f}"


def _data(body: Any, query: str, status: int) -> dict[str, Any]:
    """The `data` of a Prometheus answer; BadAnswer names what is wrong with it."""
    where = f"Prometheus answer to {query!r}"
    if not isinstance(body, dict) or "status" not in body:
        raise BadAnswer(f"{where}: not a Prometheus API answer (no 'status' field)")
    if body["status"] == "error":
        raise BadAnswer(
            f"{where}: refused (HTTP {status}, {body.get('errorType', 'error')}): "
            f"{body.get('error', '(no message)')}"
        )
    if body["status"] != "success":
        raise BadAnswer(f"{where}: unknown status {body['status']!r}")
    data = body.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("result"), list):
        raise BadAnswer(f"{where}: 'data.result' is missing or not a list")
    return data


def _one_value(data: dict[str, Any], query: str) -> float | None:
    """An instant query's one value: a scalar, or a vector of at most one series."""
    where = f"Prometheus answer to {query!r}"
    kind = data.get("resultType")
    if kind == "scalar":
        return _sample(data.get("result"), where)[1]
    if kind != "vector":
        raise BadAnswer(f"{where}: a {kind!r} result where an instant vector was expected")
    series = _single(data["result"], where)
    return None if series is None else _sample(series.get("value"), where)[1]


def _one_series(data: dict[str, Any], query: str) -> list[tuple[float, float | None]]:
    where = f"Prometheus answer to {query!r}"
    if data.get("resultType") != "matrix":
        raise BadAnswer(
            f"{where}: a {data.get('resultType')!r} result where a range matrix was expected"
        )
    series = _single(data["result"], where)
    if series is None:
        return []
    points = series.get("values")
    if not isinstance(points, list):
        raise BadAnswer(f"{where}: the series has no 'values' list")
    return [_sample(p, where) for p in points]


def _single(result: list[Any], where: str) -> dict[str, Any] | None:
    if not result:
        return None
    if len(result) > 1:
        labels = ", ".join(str(s.get("metric", {})) for s in result[:2] if isinstance(s, dict))
        raise BadAnswer(
            f"{where}: {len(result)} series ({labels}, ...); the expression must yield one: "
            "aggregate it, e.g. max(...)"
        )
    if not isinstance(result[0], dict):
        raise BadAnswer(f"{where}: a series is not an object")
    return result[0]


def _sample(sample: Any, where: str) -> tuple[float, float | None]:
    """[time, "value"]; NaN (no data at that time) reads as None."""
    if not (isinstance(sample, list | tuple) and len(sample) == 2):
        raise BadAnswer(f'{where}: sample {sample!r} is not [time, "value"]')
    when, text = sample
    if not isinstance(when, int | float) or not isinstance(text, str):
        raise BadAnswer(f'{where}: sample {sample!r} is not [time, "value"]')
    try:
        value = float(text)
    except ValueError:
        raise BadAnswer(f"{where}: value {text!r} is not a number") from None
    if math.isnan(value):
        return float(when), None
    if math.isinf(value):
        raise BadAnswer(f"{where}: value {text!r} is not a finite number")
    return float(when), value


def _align(
    points: list[tuple[float, float | None]], ends: Sequence[datetime], period: timedelta
) -> tuple[float | None, ...]:
    """Range points onto the period ends (Prometheus evaluates at start + k * step)."""
    start, step = ends[0].timestamp(), period.total_seconds()
    values: list[float | None] = [None] * len(ends)
    for when, value in points:
        n = round((when - start) / step)
        if 0 <= n < len(ends) and abs(when - (start + n * step)) < 1:
            values[n] = value
    return tuple(values)
