"""Capacity Tracking's overview as files: CSV and a self-contained HTML page with trend charts,
written by `smpm review capacity` and by a run of the procedure, listed by `smpm reports`."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from connector.entities import ProblemInvestigation, SupportGroup
from connector.errors import ConfigurationError
from connector.testing import FakeConnector, at
from procedures.capacity.overview import OverviewRow
from procedures.capacity.trend import LevelTrend, Trend, TrendReport, tracking_report
from procedures.event.report import Period
from smpm.cli import main
from smpm.reports import list_reports, report_now
from smpm.reports.html import render_html
from smpm.runner import run_procedure
from smpm.settings import Settings, load_settings

NOW = at("2026-11-25 10:00")
HOSTILE = "<script>alert('x')</script>"
ROW = OverviewRow(
    infrastructure="san-array-01",
    capacity_level="storage",
    metric="storage.used_percent",
    warning_threshold=80,
    critical_threshold=90,
)
READINGS = """infrastructure,capacity_level,measured_at,value
san-array-01,storage,2026-11-08T00:00Z,70
san-array-01,storage,2026-11-15T00:00Z,78
san-array-01,storage,2026-11-22T00:00Z,86
"""


def report(label: str = ROW.infrastructure) -> TrendReport:
    row = ROW.model_copy(update={"infrastructure": label})
    ends = (at("2026-11-09 00:00"), at("2026-11-16 00:00"), at("2026-11-23 00:00"))
    trend = LevelTrend(row, ends, (70.0, None, 86.0))
    return tracking_report([trend], {row.label: "new"}, Period(start=ends[0], end=ends[-1]), 4)


def test_the_page_draws_each_level_against_its_thresholds() -> None:
    """One inline SVG per capacity level: the values as a line (broken where a period has no
    value), the warning and critical thresholds as dashed lines across."""
    page = render_html(report(), NOW)
    assert page.count("<svg") == 2  # the bar chart of the current values, and the trend
    trend = page[page.index("Utilisation per capacity level") :]
    assert 'stroke-dasharray="5 3"' in trend
    assert ">warning 80%</text>" in trend and ">critical 90%</text>" in trend
    assert trend.count("<circle") == 2 and "<polyline" not in trend  # a gap: no line to draw
    assert "<title>2026-11-23: 86%</title>" in trend


def test_the_page_is_self_contained_and_escapes_every_name() -> None:
    page = render_html(report(HOSTILE), NOW)
    assert "<script" not in page and "alert('x')" not in page
    assert "&lt;script&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", page)


def test_a_trend_has_one_value_per_period() -> None:
    with pytest.raises(ValueError, match="one value"):
        Trend(label="x", periods=("a", "b"), values=(1.0,))


# -- written by the command and by the run ---------------------------------------------------------
def settings(tmp_path: Path, **extra: Any) -> Settings:
    tmp_path.mkdir(parents=True, exist_ok=True)
    readings = tmp_path / "readings.csv"
    readings.write_text(READINGS, encoding="utf-8")
    return load_settings(
        None,
        database={"url": f"sqlite:///{tmp_path / 'state.db'}"},
        reports={"folder": str(tmp_path / "reports")},
        capacity={
            "overview": [ROW.model_dump(exclude_none=True)],
            "specialist_group": "Storage Management",
            "tracking": {"readings_csv": str(readings), "history_periods": 3},
        },
        **extra,
    )


def fake() -> FakeConnector:
    return FakeConnector().add(
        SupportGroup(name="Service Desk"), SupportGroup(name="Storage Management")
    )


def test_a_specialist_group_the_itsm_lacks_stops_the_run_before_anything(tmp_path: Path) -> None:
    """The group new capacity problems go to is checked at start, naming the key."""
    itsm = FakeConnector().add(SupportGroup(name="Service Desk"))
    with pytest.raises(ConfigurationError, match=r"capacity\.specialist_group: unknown support "
                       r"group 'Storage Management'; the ITSM has Service Desk"):  # fmt: skip
        run_procedure(settings(tmp_path), "capacity.tracking", now=NOW, connector=itsm)
    assert itsm.writes == [] and not (tmp_path / "reports").exists()


def test_the_review_writes_the_overview_and_registers_nothing(tmp_path: Path) -> None:
    itsm = fake()
    plan, paths = report_now(settings(tmp_path), "capacity.tracking", now=NOW, connector=itsm)
    assert [p.name for p in paths] == [
        "capacity-tracking_20261102T0000Z-20261123T0000Z_asof20261125T1000Z.csv",
        "capacity-tracking_20261102T0000Z-20261123T0000Z_asof20261125T1000Z.html",
    ]
    [row] = csv.DictReader(io.StringIO(paths[0].read_text(encoding="utf-8")))
    assert (row["2026-11-16"], row["2026-11-23"], row["state"]) == ("78.0", "86.0", "above warning")
    assert (row["slope_per_period"], row["periods_to_critical"], row["problem"]) == (
        "8.0",
        "0.5",
        "new",
    )
    assert [a.step for a in plan.actions] == ["register-problem"]
    assert itsm.writes == []
    [listed] = list_reports(tmp_path / "reports")
    assert listed.kind == "capacity-tracking"


def test_a_run_registers_the_problem_and_publishes_the_overview(tmp_path: Path) -> None:
    itsm = fake()
    report = run_procedure(settings(tmp_path), "capacity.tracking", now=NOW, connector=itsm)
    assert [o.outcome for o in report.outcomes] == ["applied"]
    [problem] = itsm.find(ProblemInvestigation)
    assert problem.assigned_group == "Storage Management"
    assert [r.kind for r in list_reports(tmp_path / "reports")] == ["capacity-tracking"]
    dry = run_procedure(settings(tmp_path / "dry"), "capacity.tracking", now=NOW, dry_run=True,
                        connector=fake())  # fmt: skip
    assert [o.outcome for o in dry.outcomes] == ["planned"]
    assert not (tmp_path / "dry" / "reports").exists()  # a dry run writes nothing at all


def test_the_command_writes_and_lists_the_overview(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`smpm review capacity` writes now; `smpm reports` lists it."""
    readings = tmp_path / "readings.csv"
    readings.write_text(READINGS, encoding="utf-8")
    config = tmp_path / "smpm.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "state.db"}"\n'
        f'[reports]\nfolder = "{tmp_path / "reports"}"\n'
        f'[capacity.tracking]\nreadings_csv = "{readings}"\n'
        '[[capacity.overview]]\ninfrastructure = "san-array-01"\ncapacity_level = "storage"\n'
        'metric = "storage.used_percent"\nwarning_threshold = 80\ncritical_threshold = 90\n'
    )

    @contextmanager
    def session(settings: Settings) -> Iterator[FakeConnector]:
        yield fake()

    monkeypatch.setattr("smpm.reports.reviews.session", session)
    runner = CliRunner()
    written = runner.invoke(main, ["--config", str(config), "review", "capacity"])
    assert written.exit_code == 0, written.output
    assert "san-array-01 / storage" in written.output
    assert "wrote " in written.output and ".html" in written.output
    listed = runner.invoke(main, ["--config", str(config), "reports"])
    assert listed.exit_code == 0 and "capacity-tracking" in listed.output


def test_the_command_names_a_bad_readings_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readings = tmp_path / "readings.csv"
    readings.write_text("infrastructure,capacity_level,measured_at,value\nx,y,soon,1\n")
    config = tmp_path / "smpm.toml"
    config.write_text(f'[capacity.tracking]\nreadings_csv = "{readings}"\n')

    @contextmanager
    def session(settings: Settings) -> Iterator[FakeConnector]:
        yield fake()

    monkeypatch.setattr("smpm.reports.reviews.session", session)
    result = CliRunner().invoke(main, ["--config", str(config), "review", "capacity"])
    assert result.exit_code == 1
    assert f"{readings}, line 2: measured_at 'soon' is not a date and time" in result.output


def test_a_level_that_sits_high_is_drawn_on_an_axis_that_starts_below_it() -> None:
    """A level climbing from 71% to 93% against 90/95 thresholds: the axis runs 50%-110%, so
    the climb shows; the two close thresholds keep their labels a line apart."""
    from procedures.capacity.trend import Trend
    from smpm.reports.trends import _svg

    trend = Trend(
        label="app-bank-02 / cpu",
        unit="%",
        periods=("w1", "w2", "w3", "w4", "w5"),
        values=(71.0, 76.5, 82.0, 88.5, 93.0),
        thresholds=(("warning", 90.0), ("critical", 95.0)),
    )
    svg = _svg(trend)
    assert ">50%</text>" in svg and ">110%</text>" in svg
    ys = [float(m) for m in re.findall(r'y="([\d.]+)"[^>]*>(?:warning|critical)', svg)]
    assert len(ys) == 2 and abs(ys[0] - ys[1]) >= 12
