"""Charts a review report carries beside its table: values against their targets, as data.

The Event Management reviews have one bar chart (`ReportTable.chart`). Availability Tracking and
the SLA Review show values against targets, per SLA: columns over time (availability per
tracking period, with the target marked) and bars per service level target (attainment, with
its target marked). The runtime draws them (`smpm.reports.charts`); procedures only say what.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from procedures.event.report import ReportTable


class Point(BaseModel):
    """One value: a period's availability, an SLT's attainment. `missed`: it missed its target."""

    model_config = ConfigDict(frozen=True)

    label: str
    value: float | None
    target: float | None = None
    missed: bool = False


class Panel(BaseModel):
    """One small chart, for one SLA."""

    model_config = ConfigDict(frozen=True)

    title: str
    points: tuple[Point, ...]


class Chart(BaseModel):
    """Panels side by side: `columns` for values over time, `bars` for named values."""

    model_config = ConfigDict(frozen=True)

    title: str
    kind: Literal["columns", "bars"]
    unit: str = "%"
    note: str = ""
    panels: tuple[Panel, ...] = ()


class ChartedReport(ReportTable):
    """A review report with charts of values against targets."""

    charts: tuple[Chart, ...] = ()
