"""Capacity Management: the capacity tracking overview, the table P1 sets up and P2 and P3 read.

SMPM P1: "the capacity manager decides which capacity levels are to be tracked, finds out how to
track them in an efficient fashion ... and sets reasonable capacity utilization thresholds. With
this, the capacity manager creates the new capacity tracking overview for the new service
infrastructure." P2 then "looks up the specific service infrastructure that would become
affected by the impending capacity shortage and determines if the utilization level exceeds one
of its capacity utilization thresholds".

One row per service infrastructure x capacity level. `infrastructure` names a CI or a service
(as the ITSM spells it); `metric` is the metric name the monitoring events carry, so a reading can
be matched to its row; thresholds are utilisation in the metric's `unit` (higher is fuller). The
rows come from `[[capacity.overview]]` in the settings or from a CSV file the capacity manager
keeps (`[capacity] overview_csv`), with these columns (a header line first; `#` starts a comment
line; empty cells are empty values):

    infrastructure,capacity_level,metric,warning_threshold,critical_threshold,unit,specialist_group,monitoring_job
    san-array-01,storage,storage.used_percent,80,90,%,Storage Management,zabbix san-usage

Invariants: (infrastructure, capacity level) and (infrastructure, metric) are unique, ignoring
case; a row has at least one threshold, and its warning threshold is not above its critical one.
This module reads no file: the runtime hands the CSV's text to `parse_csv`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

COLUMNS = (
    "infrastructure",
    "capacity_level",
    "metric",
    "warning_threshold",
    "critical_threshold",
    "unit",
    "specialist_group",
    "monitoring_job",
)
REQUIRED_COLUMNS = ("infrastructure", "capacity_level", "metric")
PROBLEM_TAG = "[capacity]"
# The problem summary's identifying prefix must survive the ITSM's 100-character summaries.
MAX_PREFIX = 90


class OverviewError(ValueError):
    """A row of the capacity tracking overview is wrong; names the file, the line, the problem."""

    def __init__(self, source: str, line: int, problem: str) -> None:
        super().__init__(f"{source}, line {line}: {problem}")
        self.source, self.line, self.problem = source, line, problem


class OverviewRow(BaseModel):
    """One service infrastructure x capacity level, with its thresholds."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    infrastructure: str = Field(min_length=1, max_length=200)
    capacity_level: str = Field(min_length=1, max_length=100)
    metric: str = Field(min_length=1, max_length=200)
    warning_threshold: float | None = None
    critical_threshold: float | None = None
    unit: str = Field(default="%", max_length=20)
    specialist_group: str | None = None
    monitoring_job: str | None = None

    @model_validator(mode="after")
    def _sane(self) -> OverviewRow:
        warning, critical = self.warning_threshold, self.critical_threshold
        if warning is None and critical is None:
            raise ValueError("a row needs a warning_threshold, a critical_threshold or both")
        if warning is not None and critical is not None and warning > critical:
            raise ValueError(
                f"warning_threshold {warning:g} is above critical_threshold {critical:g}"
            )
        for name in (self.infrastructure, self.capacity_level):
            if " / " in name or ":" in name:
                raise ValueError(f"{name!r}: ' / ' and ':' separate names in problem summaries")
        if len(problem_prefix(self)) > MAX_PREFIX:
            raise ValueError("infrastructure and capacity_level are too long for a summary")
        return self

    @property
    def label(self) -> str:
        """How reasons and summaries name the row: 'san-array-01 / storage'."""
        return f"{self.infrastructure} / {self.capacity_level}"

    def thresholds(self) -> list[tuple[str, float]]:
        """(name, value), the highest first."""
        named = [("critical", self.critical_threshold), ("warning", self.warning_threshold)]
        return [(name, value) for name, value in named if value is not None]

    def exceeded(self, value: float) -> tuple[str, float] | None:
        """The highest threshold `value` exceeds, or None when it is within all of them."""
        return next(((n, t) for n, t in self.thresholds() if value > t), None)

    def show(self, value: float) -> str:
        """A value in the row's unit: '93%', '512 GB'."""
        return f"{value:g}{self.unit}" if self.unit in ("%", "") else f"{value:g} {self.unit}"

    def describe_thresholds(self) -> str:
        return ", ".join(f"{name} {self.show(value)}" for name, value in self.thresholds())


def problem_prefix(row: OverviewRow) -> str:
    """How every problem investigation registered for this row's shortages starts its summary.

    '[capacity] san-array-01 / storage:' is the problem's identity: Capacity Warning Handling
    (and Capacity Tracking) look for an open problem by this prefix before registering one.
    """
    return f"{PROBLEM_TAG} {row.label}:"


def _key(*parts: str) -> tuple[str, ...]:
    return tuple(p.casefold() for p in parts)


@dataclass(frozen=True)
class CapacityOverview:
    """The rows, indexed for the two questions asked of them."""

    rows: tuple[OverviewRow, ...] = ()
    _by_metric: dict[tuple[str, ...], OverviewRow] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, rows: Iterable[OverviewRow]) -> CapacityOverview:
        """Index the rows; ValueError names the first duplicate."""
        rows = tuple(rows)
        levels: dict[tuple[str, ...], OverviewRow] = {}
        by_metric: dict[tuple[str, ...], OverviewRow] = {}
        for row in rows:
            duplicate = _duplicate(row, levels, by_metric)
            if duplicate:
                raise ValueError(duplicate)
            levels[_key(row.infrastructure, row.capacity_level)] = row
            by_metric[_key(row.infrastructure, row.metric)] = row
        return cls(rows, by_metric)

    def lookup(self, names: Sequence[str | None], metric: str | None) -> OverviewRow | None:
        """The row for the first of `names` (a CI, then the services it supports) that has one
        for `metric`."""
        if not metric:
            return None
        for name in names:
            if name and (row := self._by_metric.get(_key(name, metric))) is not None:
                return row
        return None

    def for_infrastructure(self, name: str) -> list[OverviewRow]:
        """Every capacity level tracked for one infrastructure (Capacity Tracking, P3)."""
        return [r for r in self.rows if r.infrastructure.casefold() == name.casefold()]


def _duplicate(
    row: OverviewRow,
    levels: dict[tuple[str, ...], OverviewRow],
    by_metric: dict[tuple[str, ...], OverviewRow],
) -> str | None:
    if _key(row.infrastructure, row.capacity_level) in levels:
        return f"'{row.label}' is in the capacity tracking overview twice"
    other = by_metric.get(_key(row.infrastructure, row.metric))
    if other is not None:
        return (
            f"metric {row.metric!r} of {row.infrastructure!r} is tracked by both "
            f"'{other.label}' and '{row.label}'; a reading must match one row"
        )
    return None


def parse_csv(text: str, source: str, existing: Iterable[OverviewRow] = ()) -> list[OverviewRow]:
    """The rows of a capacity tracking overview CSV; OverviewError names the line and problem.

    `existing` rows (from the settings) count for the duplicate check.
    """
    reader = csv.DictReader(io.StringIO(text))
    _check_header(reader.fieldnames, source)
    rows: list[OverviewRow] = []
    overview = CapacityOverview.of(existing)
    for cells in reader:
        line = reader.line_num
        values = {k: (v or "").strip() for k, v in cells.items() if k is not None}
        if not any(values.values()) or values.get("infrastructure", "").startswith("#"):
            continue
        if None in cells:
            header = len(reader.fieldnames or ())
            raise OverviewError(source, line, f"more cells than the header's {header} columns")
        row = _row(values, source, line)
        try:
            overview = CapacityOverview.of([*overview.rows, row])
        except ValueError as exc:
            raise OverviewError(source, line, str(exc)) from None
        rows.append(row)
    return rows


def _check_header(names: Sequence[str] | None, source: str) -> None:
    if not names:
        raise OverviewError(source, 1, f"empty; the header line names {', '.join(COLUMNS)}")
    cleaned = [n.strip() for n in names]
    unknown = [n for n in cleaned if n not in COLUMNS]
    if unknown:
        raise OverviewError(
            source, 1, f"unknown column {unknown[0]!r}; the columns are {', '.join(COLUMNS)}"
        )
    missing = [n for n in REQUIRED_COLUMNS if n not in cleaned]
    if missing:
        raise OverviewError(source, 1, f"missing column(s) {', '.join(missing)}")


def _row(values: dict[str, str], source: str, line: int) -> OverviewRow:
    given = {k.strip(): v for k, v in values.items() if v != ""}
    try:
        return OverviewRow.model_validate(given)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        raise OverviewError(source, line, f"{where}: {message}" if where else message) from None
