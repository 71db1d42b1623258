"""Review reports as files: the period's stored events in, CSV and HTML out, listed by `smpm`."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from connector.enums import Impact, IncidentStatus, ServiceType
from connector.testing import FakeConnector, at, incident
from procedures.event.report import Period, ReportTable
from procedures.event.review import EVENT_REVIEW, OUTAGE_REVIEW
from smpm.cli import main
from smpm.intake.models import GenericEvent, RecordNotification, intake_item
from smpm.intake.store import accept, claim, finish
from smpm.reports import list_reports, render_csv, review, stored_events, write_report
from smpm.reports.html import render_html
from smpm.settings import Settings, load_settings
from smpm.store import open_engine

NOW = at("2026-11-25 10:00")
PERIOD = Period.ending(NOW, 7)


def table(*rows: tuple[str | int | float, ...]) -> ReportTable:
    return ReportTable(
        name="outage-review",
        title="Outage Review",
        period=PERIOD,
        intro="Event Management, Procedure 3 <b>test</b>",
        columns=("incident", "summary", "events", "ratio"),
        rows=rows,
        flagged=tuple(i == 0 for i in range(len(rows))),
        figures=(("outages", len(rows)),),
        chart_title="Per service",
        chart=(("Online <Banking>", 3.0), ("Email", 1.0)),
    )


HOSTILE = "<script>alert('x')</script> & co"


def test_a_report_is_written_as_csv_and_html(tmp_path: Path) -> None:
    """Both files carry the period in their name; the CSV reads back as the rows it came from."""
    report = table(("INC1", HOSTILE, 3, 1.5), ("INC2", "Disk full", 0, ""))
    folder = tmp_path / "var" / "reports"
    paths = write_report(report, folder, NOW)
    assert [p.name for p in paths] == [
        "outage-review_20261118T1000Z-20261125T1000Z.csv",
        "outage-review_20261118T1000Z-20261125T1000Z.html",
    ]
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in paths)
    rows = list(csv.DictReader(io.StringIO(paths[0].read_text(encoding="utf-8"))))
    assert rows == [
        {"incident": "INC1", "summary": HOSTILE, "events": "3", "ratio": "1.5"},
        {"incident": "INC2", "summary": "Disk full", "events": "0", "ratio": ""},
    ]


def test_the_html_page_is_self_contained_and_escapes_what_it_shows() -> None:
    page = render_html(table(("INC1", HOSTILE, 3, 1.5)), NOW)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in page
    assert "&lt;b&gt;test&lt;/b&gt;" in page and "Online &lt;Banking&gt;" in page
    assert '<tr class="flagged"><td>INC1</td>' in page
    assert "<svg" in page and page.count("<rect") == 2
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "2026-11-18 10:00 to 2026-11-25 10:00 UTC" in page


def test_csv_cells_that_spreadsheets_would_run_are_kept_as_text() -> None:
    text = render_csv(table(("INC1", '=HYPERLINK("http://x")', -1, 0.5)))
    row = list(csv.reader(io.StringIO(text)))[1]
    assert row[1] == '\'=HYPERLINK("http://x")' and row[2] == "-1"


def test_an_empty_period_still_makes_a_page() -> None:
    assert "Nothing to review in this period." in render_html(table(), NOW)


# -- from the intake store ------------------------------------------------------------------------
@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return open_engine(f"sqlite:///{tmp_path / 'state.db'}")


def monitoring(message: str, **fields: object) -> GenericEvent:
    body = {
        "source": "zabbix",
        "ci": "app-bank-02",
        "type": "cpu",
        "metric": "cpu.util",
        "severity": "warning",
        "message": message,
        "time": "2026-11-25T09:00:00Z",
        **fields,
    }
    return GenericEvent.model_validate(body)


def handle(engine: Engine, when: object, outcomes: list[str | None], **fields: object) -> None:
    """Store one event per outcome at `when`; finish those with an outcome (None: left pending)."""
    items = [
        intake_item("events", monitoring(f"m{i}-{when}", **fields), None)
        for i in range(len(outcomes))
    ]
    accepted = accept(engine, items, when)  # type: ignore[arg-type]
    claimed = {c.id: c for c in claim(engine, "w", when, timedelta(minutes=1), 100)}  # type: ignore[arg-type]
    for stored, outcome in zip(accepted, outcomes, strict=True):
        if outcome is not None and stored.id in claimed:
            finish(engine, stored.id, "w", when, outcome)  # type: ignore[arg-type]


def test_stored_events_are_the_period_s_done_monitoring_events(engine: Engine) -> None:
    handle(engine, NOW - timedelta(hours=2), ["[repeat] repeat of INC7 (...)", None])
    handle(engine, NOW - timedelta(days=8), ["[information] closed: information (...)"])
    note = RecordNotification.model_validate(
        {"kind": "incident", "record": "INC1", "operation": "update"}
    )
    accept(engine, [intake_item("remedy", note, "d1")], NOW - timedelta(hours=1))
    found = stored_events(engine, PERIOD)
    assert [(e.code, e.job) for e in found] == [("repeat", ("zabbix", "cpu", "cpu.util"))]


def settings_for(tmp_path: Path) -> Settings:
    return load_settings(
        None,
        database={"url": f"sqlite:///{tmp_path / 'state.db'}"},
        reports={"folder": str(tmp_path / "reports")},
        event={"review": {"min_events": 2, "max_events_per_incident": 1}},
    )


def test_event_review_writes_its_report(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    engine = open_engine(settings.database.url)
    handle(engine, NOW - timedelta(hours=3), ["[new_incident] new incident request (...)"])
    handle(engine, NOW - timedelta(hours=2), ["[repeat] repeat of INC7 (...)"] * 3)
    engine.dispose()
    plan, paths = review(settings, EVENT_REVIEW, days=1, now=NOW, connector=FakeConnector())
    assert paths[0].name == "event-review_20261124T1000Z-20261125T1000Z.csv"
    [row] = list(csv.DictReader(io.StringIO(paths[0].read_text())))
    assert (row["events"], row["new_incident"], row["repeat"], row["noisy"]) == (
        "4",
        "1",
        "3",
        "yes",
    )
    assert plan.findings[0].outcome == "noisy monitoring job"


def test_outage_review_writes_its_report(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    engine = open_engine(settings.database.url)
    handle(engine, NOW - timedelta(days=20), ["[attributed] linked to INC2 (...)"])
    engine.dispose()
    common = {
        "impact": Impact.EXTENSIVE,
        "service_type": ServiceType.INFRASTRUCTURE_RESTORATION,
        "status": IncidentStatus.RESOLVED,
        "resolved_at": NOW - timedelta(days=1),
        "service": "Email",
    }
    fake = FakeConnector().add(
        incident(id="INC1", summary=HOSTILE, **common), incident(id="INC2", **common)
    )
    plan, paths = review(settings, OUTAGE_REVIEW, now=NOW, connector=fake)
    rows = list(csv.DictReader(io.StringIO(paths[0].read_text())))
    assert [(r["incident"], r["needs_review"]) for r in rows] == [("INC1", "yes"), ("INC2", "")]
    assert rows[1]["event"].endswith("attributed to it")  # 20 days back: within the lookback
    page = paths[1].read_text()
    assert "INC1" in page and "<script>alert" not in page
    assert [f.record for f in plan.findings if f.outcome == "no event"] == ["INC1"]


def test_written_reports_are_listed_newest_first(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    write_report(table(("INC1", "x", 1, 1.0)), folder, NOW)
    (folder / "notes.txt").write_text("not a report")
    [found] = list_reports(folder)
    assert (found.kind, found.period) == ("outage-review", "2026-11-18 10:00 to 2026-11-25 10:00")
    assert len(found.files) == 2
    assert list_reports(tmp_path / "missing") == []


def test_the_commands_write_and_list_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`smpm review events` writes now; `smpm reports` lists what was written."""
    monkeypatch.setenv("SMPM_REMEDY__PASSWORD", "unused")
    config = tmp_path / "smpm.toml"
    config.write_text(
        '[remedy]\nurl = "http://127.0.0.1:9"\nusername = "u"\n'
        f'[database]\nurl = "sqlite:///{tmp_path / "state.db"}"\n'
        f'[reports]\nfolder = "{tmp_path / "reports"}"\n'
    )
    runner = CliRunner()
    empty = runner.invoke(main, ["--config", str(config), "reports"])
    assert empty.exit_code == 0 and "no reports in" in empty.output
    written = runner.invoke(main, ["--config", str(config), "review", "events", "--days", "2"])
    assert written.exit_code == 0, written.output
    assert "0 events from 0 monitoring jobs" in written.output
    assert "wrote " in written.output and ".html" in written.output
    listed = runner.invoke(main, ["--config", str(config), "reports"])
    assert listed.exit_code == 0 and "event-review" in listed.output
