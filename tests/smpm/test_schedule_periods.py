"""Scheduled periods: each fire time runs once, missed ones coalesce, every run is audited.

The clock is injected and `run_due` is called directly with fixed times: what runs depends on the
period records, never on when APScheduler happens to wake a job up.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from connector.entities import SupportGroup
from connector.enums import IncidentStatus
from connector.errors import ConnectorError
from connector.testing import FakeConnector, at, incident
from smpm.audit_log import audit_rows
from smpm.intake.models import GenericEvent, intake_item
from smpm.intake.store import accept, claim, finish
from smpm.schedule import periods
from smpm.schedule.cron import crontab_trigger
from smpm.schedule.periods import due_fire_times, schedule_periods
from smpm.schedule.runner import JobRunner, RunResult, ScheduledJob, execute
from smpm.settings import Settings, load_settings
from smpm.store import open_engine
from tests.clocks import TestClock
from tests.postgres import BACKENDS, database_url

FIRST_SEEN = at("2026-11-25 10:02")
EVERY_5 = crontab_trigger("*/5 * * * *", UTC)
Clock = TestClock  # the name test_schedule_service imports


@dataclass
class Recorder:
    """A stand-in for running the procedure: remembers which periods ran."""

    fails_with: Exception | None = None
    ran: list[tuple[str, datetime]] = field(default_factory=list)

    def __call__(
        self, settings: Settings, job: ScheduledJob, fire_time: datetime, now: datetime
    ) -> RunResult:
        self.ran.append((job.name, fire_time))
        if self.fails_with is not None:
            raise self.fails_with
        return RunResult(periods.DONE, "1 applied", counts={"applied": 1})


def settings_for(
    tmp_path: Path, *jobs: dict[str, Any], url: str | None = None, **extra: Any
) -> Settings:
    return load_settings(
        None,
        database={"url": url or f"sqlite:///{tmp_path / 'state.db'}"},
        reports={"folder": str(tmp_path / "reports")},
        schedule={
            "jobs": list(jobs) or [{"procedure": "incident.tracking", "cron": "*/5 * * * *"}]
        },
        **extra,
    )


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """A store on SQLite and on PostgreSQL: the period keys must hold on both."""
    return settings_for(tmp_path, url=database_url(request, tmp_path))


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = open_engine(settings.database.url)
    yield engine
    engine.dispose()


def runner_for(
    settings: Settings, engine: Engine, execute: Any, owner: str = "a", now: datetime = FIRST_SEEN
) -> JobRunner:
    runner = JobRunner(settings, engine, owner=owner, clock=TestClock(now), execute=execute)
    runner.activate(now)
    return runner


def rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        query = select(schedule_periods).order_by(schedule_periods.c.fire_time)
        return [dict(r) for r in conn.execute(query).mappings()]


# -- fire times -----------------------------------------------------------------------------------
def test_due_fire_times_are_those_after_the_last_settled_one_up_to_now() -> None:
    """The span is (after, now]: a settled fire time is not due again, `now` itself is."""
    assert due_fire_times(EVERY_5, at("2026-11-25 10:02"), at("2026-11-25 10:17")) == [
        at("2026-11-25 10:05"),
        at("2026-11-25 10:10"),
        at("2026-11-25 10:15"),
    ]
    assert due_fire_times(EVERY_5, at("2026-11-25 10:05"), at("2026-11-25 10:10")) == [
        at("2026-11-25 10:10")
    ]
    assert due_fire_times(EVERY_5, at("2026-11-25 10:05"), at("2026-11-25 10:09")) == []


def test_a_long_downtime_is_looked_at_from_now_backwards() -> None:
    """A year without a per-minute job: the latest fire time, and the count stops at the limit."""
    every_minute = crontab_trigger("* * * * *", UTC)
    now = at("2026-11-25 10:00") + timedelta(seconds=30)
    due = due_fire_times(every_minute, now - timedelta(days=365), now)
    assert len(due) == periods.COALESCE_COUNT_LIMIT
    assert due[-1] == at("2026-11-25 10:00")


# -- running periods ------------------------------------------------------------------------------
def test_a_new_job_owes_nothing_from_before_it_was_first_seen(
    settings: Settings, engine: Engine
) -> None:
    recorder = Recorder()
    runner = runner_for(settings, engine, recorder)
    job = runner.jobs["incident.tracking"]
    assert runner.run_due(job, at("2026-11-25 10:04")) is None
    ran = runner.run_due(job, at("2026-11-25 10:05"))
    assert ran is not None and ran.fire_time == at("2026-11-25 10:05")
    assert recorder.ran == [("incident.tracking", at("2026-11-25 10:05"))]


def test_a_period_runs_once_however_often_the_job_wakes_up(
    settings: Settings, engine: Engine
) -> None:
    recorder = Recorder()
    runner = runner_for(settings, engine, recorder)
    job = runner.jobs["incident.tracking"]
    for moment in ("10:05", "10:05:30", "10:09:59", "10:10:01", "10:10:02"):
        runner.run_due(job, at(f"2026-11-25 {moment}"))
    assert [t for _, t in recorder.ran] == [at("2026-11-25 10:05"), at("2026-11-25 10:10")]


def test_missed_periods_coalesce_into_one_run(settings: Settings, engine: Engine) -> None:
    """Back at 10:31 after missing 10:05 to 10:25: the 10:30 period runs once, covering them."""
    recorder = Recorder()
    runner = runner_for(settings, engine, recorder)
    ran = runner.run_due(runner.jobs["incident.tracking"], at("2026-11-25 10:31"))
    assert ran is not None and (ran.fire_time, ran.coalesced) == (at("2026-11-25 10:30"), 5)
    assert len(recorder.ran) == 1
    assert [(r["outcome"], r["coalesced"]) for r in rows(engine)] == [
        ("registered", 0),
        ("done", 5),
    ]


def test_each_run_is_in_the_audit_log_with_its_outcome(settings: Settings, engine: Engine) -> None:
    runner = runner_for(settings, engine, Recorder())
    runner.run_due(runner.jobs["incident.tracking"], at("2026-11-25 10:05"))
    [row] = audit_rows(engine, procedure="incident.tracking")
    assert (row["action"], row["target_kind"], row["target_id"]) == (
        "run",
        "schedule",
        "incident.tracking",
    )
    assert (row["outcome"], row["detail"]) == ("done", "1 applied")
    assert row["trigger"] == "schedule:incident.tracking:2026-11-25T10:05:00+00:00"
    assert row["fields"]["applied"] == 1 and row["fields"]["cron"] == "*/5 * * * *"


def test_a_failed_run_is_recorded_and_its_period_not_repeated(
    settings: Settings, engine: Engine
) -> None:
    """The error is the audit row's detail; the next period runs as usual."""
    recorder = Recorder(fails_with=ConnectorError("Remedy unavailable after 5 attempts"))
    runner = runner_for(settings, engine, recorder)
    job = runner.jobs["incident.tracking"]
    ran = runner.run_due(job, at("2026-11-25 10:05"))
    assert ran is not None and ran.result.outcome == "failed"
    assert runner.run_due(job, at("2026-11-25 10:06")) is None
    [row] = audit_rows(engine, procedure="incident.tracking")
    assert (row["outcome"], row["detail"]) == ("failed", "Remedy unavailable after 5 attempts")
    runner.run_due(job, at("2026-11-25 10:10"))
    assert [t for _, t in recorder.ran] == [at("2026-11-25 10:05"), at("2026-11-25 10:10")]


def test_a_period_left_running_by_a_dead_scheduler_is_run_again(
    settings: Settings, engine: Engine
) -> None:
    """Its trigger names the period, so the executor's keys skip what the first try applied."""
    recorder = Recorder()
    fire = at("2026-11-25 10:05")
    runner_for(settings, engine, recorder, owner="dead")
    assert periods.claim(engine, "incident.tracking", "incident.tracking", fire, "dead", fire, 0)
    runner = runner_for(settings, engine, recorder, owner="b")  # active after "dead" died
    runner.run_due(runner.jobs["incident.tracking"], at("2026-11-25 10:06"))
    assert recorder.ran == [("incident.tracking", fire)]
    assert [(r["outcome"], r["attempts"], r["owner"]) for r in rows(engine)][1:] == [
        ("done", 2, "b")
    ]


def test_an_older_unfinished_period_is_superseded_by_a_later_one(
    settings: Settings, engine: Engine
) -> None:
    fire = at("2026-11-25 10:05")
    runner_for(settings, engine, Recorder(), owner="dead")
    periods.claim(engine, "incident.tracking", "incident.tracking", fire, "dead", fire, 0)
    runner = runner_for(settings, engine, Recorder(), owner="b")
    runner.run_due(runner.jobs["incident.tracking"], at("2026-11-25 10:21"))
    assert [(r["fire_time"].minute, r["outcome"]) for r in rows(engine)][1:] == [
        (5, "interrupted"),
        (20, "done"),
    ]


def test_two_runners_on_one_store_never_both_run_a_period(
    settings: Settings, engine: Engine
) -> None:
    """Even without the scheduler lock, the period's unique key lets one claim it."""
    recorder = Recorder()
    runners = [runner_for(settings, engine, recorder, owner=o) for o in ("a", "b", "c", "d")]
    start = threading.Barrier(len(runners))
    moment = at("2026-11-25 10:05:01")

    def wake(runner: JobRunner) -> None:
        start.wait()
        runner.run_due(runner.jobs["incident.tracking"], moment)

    threads = [threading.Thread(target=wake, args=(r,)) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert recorder.ran == [("incident.tracking", at("2026-11-25 10:05"))]


def test_a_restart_neither_skips_nor_doubles_a_period(settings: Settings, engine: Engine) -> None:
    """Down from 10:06 to 10:21: the restarted runner runs 10:20 once (10:10, 10:15 with it)."""
    recorder = Recorder()
    first = runner_for(settings, engine, recorder, owner="first")
    first.run_due(first.jobs["incident.tracking"], at("2026-11-25 10:05"))
    for owner in ("second", "third"):  # a restart, then another one at the same moment
        again = runner_for(settings, engine, recorder, owner=owner, now=at("2026-11-25 10:21"))
        again.run_due(again.jobs["incident.tracking"], at("2026-11-25 10:21"))
        again.run_due(again.jobs["incident.tracking"], at("2026-11-25 10:21"))
    assert [t for _, t in recorder.ran] == [at("2026-11-25 10:05"), at("2026-11-25 10:20")]
    assert [r["coalesced"] for r in rows(engine)] == [0, 0, 2]


# -- through the real procedure paths -------------------------------------------------------------
def store_handled_event(engine: Engine, when: datetime) -> None:
    """A monitoring event the webhook intake accepted and Event Handling finished at `when`."""
    event = GenericEvent.model_validate(
        {"source": "zabbix", "ci": "app-bank-02", "type": "cpu", "metric": "cpu.util"}
        | {"severity": "warning", "message": f"cpu at {when}", "time": when.isoformat()}
    )
    [stored] = accept(engine, [intake_item("events", event, None)], when)
    claim(engine, "w", when, timedelta(minutes=1), 10)
    finish(engine, stored.id, "w", when, "[repeat] repeat of INC7 (...)")


def test_a_job_runs_its_procedure_as_smpm_run_would(tmp_path: Path) -> None:
    """Decided, applied once with idempotency keys, and audited with the run's own row."""
    job = {"procedure": "incident.assignment", "cron": "*/5 * * * *"}
    settings = settings_for(
        tmp_path, job, incident={"assignment": {"default_group": "Service Desk"}}
    )
    engine = open_engine(settings.database.url)
    fake = FakeConnector().add(
        SupportGroup(name="Service Desk", coordinator="sam"),
        incident(id="INC1", status=IncidentStatus.NEW),
    )
    runner = runner_for(settings, engine, functools.partial(execute, connector=fake))
    ran = runner.run_due(runner.jobs["incident.assignment"], at("2026-11-25 10:05"))
    assert ran is not None and ran.result.outcome == "done"
    assert ran.result.counts == {"applied": 1}
    assert [(w.operation, w.target) for w in fake.writes] == [("update", "INC1")]
    audit = list(audit_rows(engine, procedure="incident.assignment"))
    assert [r["action"] for r in audit] == ["run", "assign"]
    assert audit[0]["run_id"] == audit[1]["run_id"]


def test_a_dry_run_job_writes_nothing_and_says_what_it_planned(tmp_path: Path) -> None:
    job = {"procedure": "incident.assignment", "cron": "*/5 * * * *", "dry_run": True}
    settings = settings_for(
        tmp_path, job, incident={"assignment": {"default_group": "Service Desk"}}
    )
    engine = open_engine(settings.database.url)
    fake = FakeConnector().add(
        SupportGroup(name="Service Desk", coordinator="sam"),
        incident(id="INC1", status=IncidentStatus.NEW),
    )
    runner = runner_for(settings, engine, functools.partial(execute, connector=fake))
    ran = runner.run_due(runner.jobs["incident.assignment"], at("2026-11-25 10:05"))
    assert ran is not None and (ran.result.outcome, ran.result.detail) == ("planned", "1 planned")
    assert fake.writes == []


def test_a_review_job_gets_the_stored_events_and_writes_its_report(tmp_path: Path) -> None:
    """Event Review reads the intake store through `smpm review`'s path; its period ends at the
    fire time, so a late run writes the same report."""
    job = {"procedure": "event.review", "cron": "0 6 * * 1"}
    settings = settings_for(tmp_path, job)
    engine = open_engine(settings.database.url)
    store_handled_event(engine, at("2026-11-29 12:00"))
    store_handled_event(engine, at("2026-11-30 07:00"))  # after the period: not in its report
    runner = runner_for(settings, engine, functools.partial(execute, connector=FakeConnector()))
    ran = runner.run_due(runner.jobs["event.review"], at("2026-11-30 09:00"))
    assert ran is not None and ran.result.outcome == "done", ran
    stem = "event-review_20261123T0600Z-20261130T0600Z"
    assert ran.result.detail == (
        f"1 events, 1 monitoring jobs, 0 noisy jobs; wrote {stem}.csv, {stem}.html"
    )
    assert (tmp_path / "reports" / f"{stem}.csv").is_file()
