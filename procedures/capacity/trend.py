"""The capacity tracking overview as Capacity Tracking (P3) publishes it: values over periods.

SMPM P3: "The capacity manager then updates the capacity tracking overview(s) of these
service(s)." The machine's overview adds what a person would read off the spreadsheet's graph:
the trend per capacity level over the last `history_periods` periods (a least-squares slope per
period) and, for a level still below its critical threshold and rising, how many periods remain
until it reaches it at that pace. A level that will reach it within `horizon_periods` is flagged
like one already above a threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, model_validator

from procedures.capacity.overview import OverviewRow
from procedures.event.report import Cell, Period, ReportTable


class Trend(BaseModel):
    """One small line chart: a capacity level's values over the periods, thresholds across."""

    model_config = ConfigDict(frozen=True)

    label: str
    unit: str = ""
    periods: tuple[str, ...]
    values: tuple[float | None, ...]
    thresholds: tuple[tuple[str, float], ...] = ()

    @model_validator(mode="after")
    def _paired(self) -> Trend:
        if len(self.values) != len(self.periods):
            raise ValueError("a trend has one value (or None) per period")
        return self


class TrendReport(ReportTable):
    """A review report with a line chart per row (`smpm.reports.trends` draws them)."""

    trends_title: str = ""
    trends: tuple[Trend, ...] = ()


@dataclass(frozen=True)
class LevelTrend:
    """One capacity level's values at the period ends (oldest first); `missing` says why the
    current one is absent."""

    row: OverviewRow
    ends: tuple[datetime, ...]
    values: tuple[float | None, ...]
    missing: str | None = None

    @property
    def current(self) -> float | None:
        return self.values[-1] if self.values else None

    @property
    def slope(self) -> float | None:
        """Change per period (least squares over the known values); None with fewer than two."""
        points = [(n, v) for n, v in enumerate(self.values) if v is not None]
        if len(points) < 2:
            return None
        mean_x = sum(x for x, _ in points) / len(points)
        mean_y = sum(y for _, y in points) / len(points)
        spread = sum((x - mean_x) ** 2 for x, _ in points)
        return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread

    def periods_to_critical(self) -> float | None:
        """0 when above critical; else periods until it at the current slope; None if not rising."""
        critical, current, slope = self.row.critical_threshold, self.current, self.slope
        if critical is None or current is None:
            return None
        if current > critical:
            return 0.0
        if slope is None or slope <= 0:
            return None
        return (critical - current) / slope

    def state(self) -> str:
        if self.current is None:
            return "no value"
        exceeded = self.row.exceeded(self.current)
        return f"above {exceeded[0]}" if exceeded else "within thresholds"


def _round(value: float | None, digits: int = 2) -> Cell:
    return "" if value is None else round(value, digits)


def tracking_report(
    trends: Sequence[LevelTrend], problems: dict[str, str], period: Period, horizon: float
) -> TrendReport:
    """The overview as a report; `problems` maps a row label to its problem (id or 'new')."""
    ends = trends[0].ends if trends else ()
    flagged = [_flagged(t, horizon) for t in trends]
    return TrendReport(
        name="capacity-tracking",
        title="Capacity Tracking",
        period=period,
        intro=(
            "Capacity Management, Procedure 3: the capacity utilisation value of each tracked "
            "capacity level at the end of each capacity tracking period, against its thresholds, "
            "with the trend per period. Flagged levels exceed a threshold or, at their current "
            f"pace, reach the critical one within {horizon:g} periods. Problem 'new': no open "
            "problem investigation was registered for the violation, so Capacity Tracking "
            "registers one."
        ),
        columns=(
            *("infrastructure", "capacity_level", "metric", "unit", "warning", "critical"),
            *(f"{end:%Y-%m-%d}" for end in ends),
            *("state", "slope_per_period", "periods_to_critical", "problem", "note"),
        ),
        rows=tuple(_row(t, problems) for t in trends),
        flagged=tuple(flagged),
        figures=_figures(trends, problems, flagged),
        chart_title="Current utilisation, % of the critical threshold",
        chart=tuple(
            (t.row.label, round(100 * t.current / t.row.critical_threshold, 1))
            for t in trends
            if t.current is not None and t.row.critical_threshold
        ),
        trends_title="Utilisation per capacity level over the periods",
        trends=tuple(_trend(t) for t in trends),
    )


def _row(t: LevelTrend, problems: dict[str, str]) -> tuple[Cell, ...]:
    return (
        t.row.infrastructure,
        t.row.capacity_level,
        t.row.metric,
        t.row.unit,
        _round(t.row.warning_threshold),
        _round(t.row.critical_threshold),
        *(_round(v) for v in t.values),
        t.state(),
        _round(t.slope),
        _round(t.periods_to_critical(), 1),
        problems.get(t.row.label, ""),
        t.missing or "",
    )


def _flagged(t: LevelTrend, horizon: float) -> bool:
    """Above a threshold, or at this pace at the critical one within `horizon` periods."""
    ahead = t.periods_to_critical()
    return t.state().startswith("above") or (ahead is not None and ahead <= horizon)


def _figures(
    trends: Sequence[LevelTrend], problems: dict[str, str], flagged: list[bool]
) -> tuple[tuple[str, Cell], ...]:
    states = [t.state() for t in trends]
    return (
        ("capacity levels", len(trends)),
        ("above critical", states.count("above critical")),
        ("above warning", states.count("above warning")),
        ("without a value", states.count("no value")),
        ("flagged", sum(flagged)),
        ("new problem investigations", sum(1 for p in problems.values() if p == "new")),
    )


def _trend(t: LevelTrend) -> Trend:
    return Trend(
        label=t.row.label,
        unit=t.row.unit,
        periods=tuple(f"{end:%Y-%m-%d}" for end in t.ends),
        values=t.values,
        thresholds=tuple(reversed(t.row.thresholds())),
    )
