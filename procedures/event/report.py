"""What the Event Management reviews (P2, P3) read and what they hand back, as plain data.

The reviews decide from data the runtime gathers: the review period, the monitoring events the
webhook intake stored (with how Event Handling ended each), and incident requests read through
the connector. They return a `ReviewPlan`: findings for `smpm explain`-style output and one
`ReportTable` that the runtime writes as CSV and HTML. Nothing here reads a file or the clock.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, model_validator

from connector.errors import ConfigurationError
from procedures.event.handling import outcome_code
from procedures.plan import Plan
from procedures.registry import Context

Cell = str | int | float
_CODE = re.compile(r"^\[([a-z_]+)\]")


class Period(BaseModel):
    """[start, end): the review period, in UTC."""

    model_config = ConfigDict(frozen=True)

    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end <= self.start:
            raise ValueError("a review period ends after it starts")
        return self

    @classmethod
    def ending(cls, end: datetime, days: float) -> Period:
        return cls(start=end - timedelta(days=days), end=end)

    def contains(self, when: datetime | None) -> bool:
        return when is not None and self.start <= when < self.end

    @property
    def label(self) -> str:
        """For file names: '20261118T1000Z-20261125T1000Z'."""
        return f"{self.start:%Y%m%dT%H%MZ}-{self.end:%Y%m%dT%H%MZ}"

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC"


class StoredEvent(BaseModel):
    """One monitoring event as the intake kept it: its payload and how it was handled."""

    model_config = ConfigDict(frozen=True)

    id: str
    received_at: AwareDatetime
    payload: dict[str, Any]
    outcome: str | None = None

    @property
    def job(self) -> tuple[str, str, str]:
        """The monitoring job that generated it: (source, type, metric)."""
        p = self.payload
        return (str(p.get("source") or ""), str(p.get("type") or ""), str(p.get("metric") or ""))

    @property
    def code(self) -> str:
        """How Event Handling ended it: the stored '[code]' prefix, else read from the text."""
        text = self.outcome or ""
        found = _CODE.match(text)
        return found.group(1) if found else outcome_code(text)

    def mentions(self) -> set[str]:
        """Every word of the outcome (record ids among them: 'repeat of INC000000000007')."""
        return set(re.findall(r"[A-Za-z0-9_]+", self.outcome or ""))


class ReportTable(BaseModel):
    """A review as a table people read: rows, which of them need attention, and key figures."""

    model_config = ConfigDict(frozen=True)

    name: str
    title: str
    period: Period
    intro: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...] = ()
    flagged: tuple[bool, ...] = ()
    figures: tuple[tuple[str, Cell], ...] = ()
    chart_title: str = ""
    chart: tuple[tuple[str, float], ...] = ()

    @model_validator(mode="after")
    def _shaped(self) -> ReportTable:
        if any(len(row) != len(self.columns) for row in self.rows):
            raise ValueError("every row has one cell per column")
        if self.flagged and len(self.flagged) != len(self.rows):
            raise ValueError("flagged has one entry per row")
        return self

    @property
    def stem(self) -> str:
        """The report's file name without extension: kind and period."""
        return f"{self.name}_{self.period.label}"


class ReviewPlan(Plan):
    """A review's findings, plus the report they come from."""

    report: ReportTable | None = None


@dataclass
class ReviewContext(Context):
    """A Context plus what only the runtime can read: the period and the stored events."""

    period: Period | None = None
    events: Sequence[StoredEvent] = ()


def review_context(ctx: Context, name: str) -> ReviewContext:
    """The reviews read the intake store, which a plain Context does not carry."""
    if not isinstance(ctx, ReviewContext):
        raise ConfigurationError(
            f"{name} reviews the events the webhook intake stored: "
            "run it with `smpm review events` or `smpm review outages`"
        )
    return ctx
