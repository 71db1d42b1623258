"""The availability tracking overview and the SLA review as files: CSV, HTML with charts, CLI."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from connector.entities import RecordKind, Service, SupportGroup
from connector.enums import Impact, IncidentStatus, ServiceType
from connector.testing import FakeConnector, at, incident
from procedures.availability.tracking import NAME as TRACKING
from procedures.charts import Chart, Panel, Point
from procedures.slm.sla_review import NAME as SLA_REVIEW
from smpm.cli import main
from smpm.reports import list_reports, report_now
from smpm.reports import reviews as reports_module
from smpm.reports.charts import render_charts, scale
from smpm.reports.html import render_html
from smpm.runner import run_procedure
from smpm.settings import Settings, load_settings

NOW = at("2026-12-02 10:00")
HOSTILE = "<script>alert('x')</script> & co"
SLAS = [
    {"name": HOSTILE, "service": "Online Banking", "availability_target": 99.5, "max_outages": 1},
    {"name": "Silver", "service": "Payroll", "availability_target": 99.0},
]


def settings_for(tmp_path: Path) -> Settings:
    return load_settings(
        None,
        database={"url": f"sqlite:///{tmp_path / 'state.db'}"},
        reports={"folder": str(tmp_path / "reports")},
        availability={"slas": SLAS, "history_periods": 3},
    )


def itsm() -> FakeConnector:
    down = {
        "service": "Online Banking",
        "service_type": ServiceType.INFRASTRUCTURE_RESTORATION,
        "impact": Impact.EXTENSIVE,
        "status": IncidentStatus.CLOSED,
    }
    return FakeConnector().add(
        Service(name="Online Banking", owner="sam", support_group="Application Support"),
        Service(name="Payroll", owner="peter"),
        SupportGroup(name="Service Desk"),
        SupportGroup(name="Application Support"),
        incident(
            id="INC1",
            reported_at=at("2026-11-10 10:00"),
            resolved_at=at("2026-11-10 14:00"),
            **down,
        ),
        incident(
            id="INC2",
            reported_at=at("2026-11-12 10:00"),
            resolved_at=at("2026-11-12 10:30"),
            **down,
        ),
    )


def test_the_overview_is_written_as_csv_and_a_self_contained_page(tmp_path: Path) -> None:
    fake = itsm()
    plan, paths = report_now(settings_for(tmp_path), TRACKING, now=NOW, connector=fake)
    assert [p.name for p in paths] == [
        "availability-tracking_20261001T0000Z-20270101T0000Z_asof20261202T1000Z.csv",
        "availability-tracking_20261001T0000Z-20270101T0000Z_asof20261202T1000Z.html",
    ]  # figures counted up to NOW, within periods that run on: the name says how far
    rows = list(csv.DictReader(io.StringIO(paths[0].read_text(encoding="utf-8"))))
    november = [r for r in rows if r["period"] == "2026-11" and r["service"] == "Online Banking"]
    assert [(r["sla"], r["outage_hours"], r["outages"], r["verdict"]) for r in november] == [
        (HOSTILE, "4.5", "2", "violated")
    ]
    page = paths[1].read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert page.count("<svg") == 3  # availability of both SLAs; outages of the one with a maximum
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert plan.actions and fake.writes == []  # decided, but report_now applies nothing


def test_the_sla_review_is_written_and_both_are_listed(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    report_now(settings, TRACKING, now=NOW, connector=itsm())
    _, paths = report_now(settings, SLA_REVIEW, now=at("2027-01-05 09:00"), connector=itsm())
    assert paths[0].name == "sla-review_20261001T0000Z-20270101T0000Z_asof20270105T0900Z.csv"
    found = {r.kind: r for r in list_reports(settings.reports.folder)}
    assert set(found) == {"availability-tracking", "sla-review"}
    assert found["sla-review"].period == "2026-10-01 00:00 to 2027-01-01 00:00"


def test_a_run_applies_the_decisions_and_publishes_the_overview(tmp_path: Path) -> None:
    """`smpm run availability.tracking`: the problem is registered, the outages linked, and the
    overview written."""
    fake = itsm()
    report = run_procedure(settings_for(tmp_path), TRACKING, now=NOW, connector=fake)
    assert [o.outcome for o in report.outcomes] == ["applied"] * 3
    [problem] = fake.records[RecordKind.PROBLEM].values()
    assert (problem.assigned_group, problem.service) == ("Application Support", "Online Banking")
    assert {r.source_id for r in fake.relations} == {"INC1", "INC2"}
    assert [r.kind for r in list_reports(tmp_path / "reports")] == ["availability-tracking"]


def test_percent_columns_start_just_below_the_lowest_value() -> None:
    """Availability near 100% would look flat on an axis from 0."""
    panel = Panel(title="x", points=(Point(label="a", value=99.2, target=99.5),))
    assert scale(panel, "%") == (98.8, 100.0)
    low = Panel(title="x", points=(Point(label="a", value=40.0, target=99.0),))
    assert scale(low, "%") == (10.0, 100.0)
    count = Panel(title="x", points=(Point(label="a", value=2.0, target=4.0),))
    assert scale(count, "outages") == (0.0, 5)  # counts end on a whole number
    hours = Panel(title="x", points=(Point(label="a", value=2.5, target=4.0),))
    assert scale(hours, "h") == (0.0, pytest.approx(4.6))


def test_charts_escape_their_text_and_mark_missed_targets() -> None:
    chart = Chart(
        title=HOSTILE,
        kind="bars",
        panels=(
            Panel(
                title=HOSTILE,
                points=(
                    Point(label=HOSTILE, value=90.0, target=95.0, missed=True),
                    Point(label="ok", value=100.0, target=95.0),
                ),
            ),
        ),
    )
    report: Any = type("R", (), {"charts": (chart,)})()
    html = render_charts(report)
    assert "<script>" not in html and html.count("&lt;script&gt;") >= 3
    assert html.count("fill:#c0392b") == 1 and html.count("fill:#4a78b5") == 1
    assert html.count("stroke-dasharray") == 2


def test_an_overview_without_slas_is_still_a_page(tmp_path: Path) -> None:
    settings = load_settings(None, reports={"folder": str(tmp_path / "r")})
    plan, _ = report_now(settings, TRACKING, now=NOW, connector=FakeConnector())
    assert plan.report is not None and plan.report.rows == ()
    assert "Nothing to review in this period." in render_html(plan.report, NOW)


@pytest.fixture
def cli_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SMPM_REMEDY__PASSWORD", "unused")

    @contextmanager
    def fake_session(settings: Settings) -> Iterator[FakeConnector]:
        yield itsm()

    monkeypatch.setattr(reports_module, "session", fake_session)
    config = tmp_path / "smpm.toml"
    config.write_text(
        '[remedy]\nurl = "http://127.0.0.1:9"\nusername = "u"\n'
        f'[database]\nurl = "sqlite:///{tmp_path / "state.db"}"\n'
        f'[reports]\nfolder = "{tmp_path / "reports"}"\n'
        '[[availability.slas]]\nname = "Gold"\nservice = "Online Banking"\n'
        "availability_target = 99.5\n"
    )
    return config


def test_the_review_commands_write_the_reports(cli_config: Path) -> None:
    """`smpm review availability` and `smpm review sla` write now; `smpm reports` lists them."""
    runner = CliRunner()
    base = ["--config", str(cli_config), "review"]
    written = runner.invoke(main, [*base, "availability", "--at", "2026-12-02"])
    assert written.exit_code == 0, written.output
    assert "SLA Gold 2026-11" in written.output and "violated" in written.output
    assert "availability-tracking_" in written.output and ".html" in written.output
    sla = runner.invoke(main, [*base, "sla", "--at", "2027-01-05"])
    assert sla.exit_code == 0, sla.output
    assert "1 of 1 SLTs violated" in sla.output
    listed = runner.invoke(main, ["--config", str(cli_config), "reports"])
    assert "availability-tracking" in listed.output and "sla-review" in listed.output


EARLIER = at("2026-12-01 00:00")  # the same tracking periods as NOW, counted a day less far
WRITTEN = at("2027-03-04 05:06")  # when the files are really written


def test_a_report_as_of_another_moment_never_replaces_the_current_one(tmp_path: Path) -> None:
    """The files name the moment the figures are counted up to, so `--at` a past date writes
    beside the current report instead of over it."""
    settings = settings_for(tmp_path)
    _, current = report_now(settings, TRACKING, now=NOW, connector=itsm())
    kept = [p.read_text(encoding="utf-8") for p in current]
    _, earlier = report_now(settings, TRACKING, now=EARLIER, connector=itsm())
    assert [p.name for p in current] == [
        f"availability-tracking_20261001T0000Z-20270101T0000Z_asof20261202T1000Z{ext}"
        for ext in (".csv", ".html")
    ]
    assert [p.name for p in earlier] == [
        f"availability-tracking_20261001T0000Z-20270101T0000Z_asof20261201T0000Z{ext}"
        for ext in (".csv", ".html")
    ]
    assert [p.read_text(encoding="utf-8") for p in current] == kept
    listed = sorted((r.as_of, r.kind) for r in list_reports(settings.reports.folder))
    assert listed == [(EARLIER, "availability-tracking"), (NOW, "availability-tracking")]


def test_the_page_says_as_of_when_and_written_when_apart(tmp_path: Path) -> None:
    """'as of' is the moment the figures describe; 'written' is when smpm wrote them."""
    _, paths = report_now(
        settings_for(tmp_path), TRACKING, now=EARLIER, connector=itsm(), written_at=WRITTEN
    )
    page = paths[1].read_text(encoding="utf-8")
    footer = page[page.index("<footer>") :]
    assert "As of 2026-12-01 00:00 UTC" in footer
    assert "Written by smpm at 2027-03-04 05:06 UTC" in footer
    assert "as of 2026-12-01 00:00 UTC" in page[: page.index("<footer>")]


def test_the_command_prints_as_of_and_written_apart(
    cli_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`smpm review availability --at DATE` says what moment it describes and when it wrote."""
    monkeypatch.setattr("smpm.commands.reports.utcnow", lambda: WRITTEN)
    base = ["--config", str(cli_config), "review", "availability"]
    result = CliRunner().invoke(main, [*base, "--at", "2026-12-01"])
    assert result.exit_code == 0, result.output
    assert "as of 2026-12-01 00:00 UTC, written at 2027-03-04 05:06 UTC" in result.output
    listed = CliRunner().invoke(main, ["--config", str(cli_config), "reports"])
    assert "2026-12-01 00:00" in listed.output and "as of (UTC)" in listed.output
