"""The scheduler as a whole: one active per store, restarts, the job store, serve and the CLI."""

from __future__ import annotations

import os
import queue
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from connector.testing import at
from smpm.cli import main
from smpm.schedule import periods, runner
from smpm.schedule.lock import SCHEDULER_LOCK, SchedulerBusy
from smpm.schedule.periods import schedule_periods
from smpm.schedule.runner import JobRunner, RunResult, ScheduledJob
from smpm.schedule.service import Scheduler, listing, run_until, scheduling
from smpm.settings import Settings, load_settings
from smpm.store import open_engine, utcnow
from tests.postgres import PostgresServer
from tests.smpm.test_schedule_periods import Clock

NEVER = "0 0 1 1 *"  # New Year's midnight: never fires while a test runs


class Queued:
    """Runs nothing; hands each period it was asked to run to the test, across threads."""

    def __init__(self) -> None:
        self.ran: queue.Queue[datetime] = queue.Queue()

    def __call__(
        self, settings: Settings, job: ScheduledJob, fire_time: datetime, now: datetime
    ) -> RunResult:
        self.ran.put(fire_time)
        return RunResult(periods.DONE, "ok")

    def taken(self) -> list[datetime]:
        found = []
        while not self.ran.empty():
            found.append(self.ran.get_nowait())
        return found


def settings_for(tmp_path: Path, *crons: str, url: str | None = None, **schedule: Any) -> Settings:
    jobs = [
        {"procedure": "incident.tracking", "cron": c, "name": f"job{i}"}
        for i, c in enumerate(crons)
    ]
    return load_settings(
        None,
        database={"url": url or f"sqlite:///{tmp_path / 'state.db'}"},
        schedule={"jobs": jobs, **schedule},
    )


@pytest.fixture
def stop_all() -> Any:
    """Every scheduler a test starts is stopped, even when the test fails."""
    started: list[Scheduler] = []
    yield started.append
    for scheduler in started:
        scheduler.stop()


def test_a_second_scheduler_on_one_sqlite_store_refuses_to_start(
    tmp_path: Path, stop_all: Any
) -> None:
    """It names the active one; once that stops, a new one starts."""
    settings = settings_for(tmp_path, NEVER)
    first = Scheduler(settings, execute=Queued())
    stop_all(first)
    assert first.start()
    second = Scheduler(settings, execute=Queued())
    with pytest.raises(SchedulerBusy, match=rf"another smpm scheduler is active .*:{os.getpid()}:"):
        second.start()
    assert not second.active
    first.stop()
    third = Scheduler(settings, execute=Queued())
    stop_all(third)
    assert third.start()


def test_two_schedulers_on_one_store_never_both_run_a_job(tmp_path: Path, stop_all: Any) -> None:
    """The refused one never takes a firing; were it woken anyway, the period is taken."""
    settings = settings_for(tmp_path, "*/5 * * * *")
    clock, first_work, second_work = Clock(at("2026-11-25 10:02")), Queued(), Queued()
    first = Scheduler(settings, clock=clock, execute=first_work)
    stop_all(first)
    first.start()
    second = Scheduler(settings, clock=clock, execute=second_work)
    with pytest.raises(SchedulerBusy):
        second.start()
    clock.now = at("2026-11-25 10:05:01")
    runner.fire(second.owner, "job0")  # a firing for the refused scheduler: not active here
    runner.fire(first.owner, "job0")
    second.runner.fire("job0")  # bypassing the lock: the period is already taken
    assert first_work.ran.get(timeout=30) == at("2026-11-25 10:05")
    first.stop()
    assert first_work.taken() == [] and second_work.taken() == []


class SessionLock:
    """Stands in for PostgreSQL's advisory lock: held by another session until `free`."""

    waits = True

    def __init__(self) -> None:
        self.free, self.connected, self.mine = False, True, False

    def acquire(self) -> bool:
        self.mine = self.mine or self.free
        return self.mine

    def held(self) -> bool:
        return self.mine and self.connected

    def holder(self) -> str:
        return "another session holds it"

    def release(self) -> None:
        self.mine = False


def test_with_a_waiting_lock_a_second_scheduler_stands_by_and_takes_over(
    tmp_path: Path, stop_all: Any
) -> None:
    """The PostgreSQL behaviour, with the lock faked: standby, takeover, and back on loss."""
    lock = SessionLock()
    settings = settings_for(tmp_path, NEVER)
    # A poll an hour apart: the test looks at the lock itself, with check_lock().
    standby = Scheduler(settings, execute=Queued(), lock=lock, poll_seconds=3600)
    stop_all(standby)
    assert standby.start() is False
    assert standby.owner not in runner._ACTIVE
    standby.check_lock()
    assert not standby.active
    lock.free = True  # the active scheduler's session ended
    standby.check_lock()
    assert standby.active and standby.owner in runner._ACTIVE
    lock.connected = False  # our own session is gone, and the lock with it
    standby.check_lock()
    assert not standby.active and standby.owner not in runner._ACTIVE


# -- on a PostgreSQL store: the advisory lock ---------------------------------------------------
@pytest.mark.postgresql
def test_on_postgresql_a_second_scheduler_stands_by_until_the_first_stops(
    tmp_path: Path, postgres_url: str, stop_all: Any
) -> None:
    """The lock: "a second scheduler stays on standby ...; the lock lives as long as the holder's
    session, so when the holder dies and its connection closes, a standby takes over"."""
    settings = settings_for(tmp_path, NEVER, url=postgres_url)
    # A poll an hour apart: the test looks at the lock itself, with check_lock().
    first = Scheduler(settings, execute=Queued(), poll_seconds=3600)
    stop_all(first)
    assert first.start() is True
    second = Scheduler(settings, execute=Queued(), poll_seconds=3600)
    stop_all(second)
    assert second.start() is False
    second.check_lock()
    assert not second.active and second.owner not in runner._ACTIVE
    first.stop()
    second.check_lock()
    assert second.active and second.owner in runner._ACTIVE


@pytest.mark.postgresql
def test_on_postgresql_a_holder_whose_session_is_killed_stands_by(
    tmp_path: Path, postgres_server: PostgresServer, postgres_url: str, stop_all: Any
) -> None:
    """The lock: "a holder that loses its connection has lost the lock and stops scheduling";
    the standby takes the lock over, and the old holder stays on standby behind it."""
    settings = settings_for(tmp_path, NEVER, url=postgres_url)
    holder = Scheduler(settings, execute=Queued(), poll_seconds=3600)
    stop_all(holder)
    assert holder.start()
    standby = Scheduler(settings, execute=Queued(), poll_seconds=3600)
    stop_all(standby)
    assert not standby.start()
    with postgres_server.admin(make_url(postgres_url).database) as admin:
        killed = admin.execute(  # whichever session holds the scheduler lock; waits for its end
            "SELECT pg_terminate_backend(pid, 10000) FROM pg_locks"
            " WHERE locktype = 'advisory' AND granted AND database ="
            " (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND (classid::bigint << 32 | objid::bigint) = %s",
            (SCHEDULER_LOCK,),
        ).fetchall()
    assert killed == [(True,)]
    assert holder.active  # nobody has looked yet
    holder.check_lock()
    assert not holder.active and not holder.lock.held()
    assert holder.owner not in runner._ACTIVE
    standby.check_lock()
    assert standby.active and standby.lock.held()
    holder.check_lock()  # connects again, and finds the lock taken
    assert not holder.active and not holder.lock.held()


def test_a_restarted_scheduler_neither_skips_nor_doubles_a_period(
    tmp_path: Path, stop_all: Any
) -> None:
    """Up at 10:02, ran 10:05, down until 10:17: the start-up wake-up runs 10:15 once."""
    settings = settings_for(tmp_path, "*/5 * * * *")
    clock, work = Clock(at("2026-11-25 10:02")), Queued()
    first = Scheduler(settings, clock=clock, execute=work)
    stop_all(first)
    first.start()
    clock.now = at("2026-11-25 10:05:01")
    first.runner.fire("job0")  # what APScheduler does at 10:05
    first.stop()
    clock.now = at("2026-11-25 10:17")
    second = Scheduler(settings, clock=clock, execute=work)
    stop_all(second)
    second.start()
    assert work.ran.get(timeout=30) == at("2026-11-25 10:05")
    assert work.ran.get(timeout=30) == at("2026-11-25 10:15")  # the wake-up at start
    assert second.runner.fire("job0") is None  # a cron firing now finds nothing owed
    second.stop()
    third = Scheduler(settings, clock=clock, execute=work)
    stop_all(third)
    third.start()
    assert third.runner.fire("job0") is None
    third.stop()
    assert work.taken() == []
    engine = open_engine(settings.database.url)
    with engine.connect() as conn:
        done = conn.execute(
            select(schedule_periods.c.fire_time, schedule_periods.c.coalesced).where(
                schedule_periods.c.outcome == "done"
            )
        ).all()
    assert sorted(done) == [(at("2026-11-25 10:05"), 0), (at("2026-11-25 10:15"), 1)]


def test_the_job_store_holds_the_configured_jobs_only(tmp_path: Path, stop_all: Any) -> None:
    """Jobs persist in the database (APScheduler's table); a job dropped from the config goes."""
    first = Scheduler(settings_for(tmp_path, NEVER, "0 6 * * 1"), execute=Queued())
    first.start()
    first.stop()
    settings = settings_for(tmp_path, NEVER)
    second = Scheduler(settings, execute=Queued())
    stop_all(second)
    second.start()
    second.stop()
    engine = open_engine(settings.database.url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT id, next_run_time FROM apscheduler_jobs")).all()
    assert [row[0] for row in stored] == ["job0"]
    assert stored[0][1] is not None


def test_serve_runs_the_scheduler_only_when_enabled(tmp_path: Path) -> None:
    with scheduling(settings_for(tmp_path, NEVER)) as off:
        assert off is None
    with scheduling(settings_for(tmp_path, NEVER, enabled=True)) as on:
        assert on is not None and on.active
        with pytest.raises(SchedulerBusy), scheduling(settings_for(tmp_path, NEVER, enabled=True)):
            pass


def test_the_foreground_scheduler_runs_until_told_to_stop(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, NEVER)
    stop, seen = threading.Event(), []
    stop.set()
    run_until(settings, stop, lambda scheduler: seen.append(scheduler.active))
    assert seen == [True]
    again = Scheduler(settings, execute=Queued())  # the lock went with it
    assert again.start()
    again.stop()


# -- smpm schedule --list ------------------------------------------------------------------------
def test_listing_shows_next_run_and_last_run(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, "*/5 * * * *", NEVER)
    engine = open_engine(settings.database.url)
    jobs = JobRunner(settings, engine, owner="a", execute=Queued())
    jobs.activate(at("2026-11-25 10:02"))
    jobs.run_due(jobs.jobs["job0"], at("2026-11-25 10:05"))
    found = {j.name: j for j in listing(settings, now=at("2026-11-25 10:06"))}
    assert (found["job0"].next_run, found["job0"].owed) == (at("2026-11-25 10:10"), None)
    assert found["job0"].last is not None and found["job0"].last["outcome"] == "done"
    assert (found["job1"].next_run, found["job1"].last) == (at("2027-01-01 00:00"), None)
    later = {j.name: j for j in listing(settings, now=at("2026-11-25 10:21"))}
    assert later["job0"].owed == at("2026-11-25 10:20")  # missed: runs at the next start


def write_config(tmp_path: Path, jobs: str) -> Path:
    config = tmp_path / "smpm.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "state.db"}"\n'
        f'[schedule]\ntimezone = "Europe/Amsterdam"\n{jobs}'
    )
    return config


def test_schedule_list_prints_each_job_its_cron_and_its_runs(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        '[[schedule.jobs]]\nprocedure = "incident.tracking"\ncron = "*/5 * * * *"\n'
        '[[schedule.jobs]]\nname = "preview"\nprocedure = "incident.assignment"\n'
        'cron = "0 8 * * 1-5"\ndry_run = true\n',
    )
    settings = load_settings(config)
    engine = open_engine(settings.database.url)
    jobs = JobRunner(settings, engine, owner="a", execute=Queued())
    an_hour_ago = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    jobs.activate(an_hour_ago - timedelta(minutes=2))
    jobs.run_due(jobs.jobs["incident.tracking"], an_hour_ago)
    result = CliRunner().invoke(main, ["--config", str(config), "schedule", "--list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("times in Europe/Amsterdam; `smpm serve` does not run these")
    assert lines[1].split() == ["job", "procedure", "cron", "next", "run", "last", "run"]
    tracking = next(line for line in lines if line.startswith("incident.tracking"))
    assert "*/5 * * * *" in tracking and "due now (period" in tracking
    assert f"{an_hour_ago.astimezone(settings.schedule.zone()):%Y-%m-%d %H:%M} CE" in tracking
    assert tracking.endswith("done: ok")
    preview = next(line for line in lines if line.startswith("preview"))
    assert "incident.assignment (dry run)" in preview and preview.endswith("never")


def test_schedule_list_without_jobs_says_how_to_add_them(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["--config", str(write_config(tmp_path, "")), "schedule", "--list"]
    )
    assert result.exit_code == 0
    assert "no jobs in [schedule]" in result.output


@pytest.mark.parametrize(
    ("jobs", "args", "code", "message"),
    [
        ("", [], 1, "schedule.jobs: no jobs to run"),
        (
            '[[schedule.jobs]]\nprocedure = "incident.tracking"\ncron = "*/5 * * *"\n',
            ["--list"],
            1,
            "schedule.jobs.0.cron: job 'incident.tracking'",
        ),
        ("", ["--lst"], 2, "Did you mean '--list'?"),
    ],
    ids=["no jobs", "bad cron", "bad option"],
)
def test_schedule_reports_problems_in_one_line(
    tmp_path: Path, jobs: str, args: list[str], code: int, message: str
) -> None:
    config = write_config(tmp_path, jobs)
    result = CliRunner().invoke(main, ["--config", str(config), "schedule", *args])
    assert result.exit_code == code
    assert message in result.output and "Traceback" not in result.output


def test_schedule_refuses_to_start_beside_an_active_scheduler(
    tmp_path: Path, stop_all: Any
) -> None:
    config = write_config(
        tmp_path, f'[[schedule.jobs]]\nprocedure = "incident.tracking"\ncron = "{NEVER}"\n'
    )
    active = Scheduler(load_settings(config), execute=Queued())
    stop_all(active)
    active.start()
    result = CliRunner().invoke(main, ["--config", str(config), "schedule"])
    assert result.exit_code == 1
    assert "Error: another smpm scheduler is active on this database" in result.output


@pytest.mark.postgresql
def test_on_postgresql_a_restart_leaves_no_error_in_the_server_log(
    tmp_path: Path, postgres_server: PostgresServer, postgres_url: str, stop_all: Any
) -> None:
    """Re-storing the jobs at each activation must not be a unique violation a DBA sees."""
    settings = settings_for(tmp_path, "*/5 * * * *", "0 6 * * 1", url=postgres_url)
    database = make_url(postgres_url).database
    before = postgres_server.log.read_text(encoding="utf-8").count("ERROR")
    for _ in range(2):
        scheduler = Scheduler(settings, execute=Queued())
        stop_all(scheduler)
        assert scheduler.start()
        scheduler.stop()
    log = postgres_server.log.read_text(encoding="utf-8")
    assert log.count("ERROR") == before, log[-2000:]
    with postgres_server.admin(database) as admin:
        stored = admin.execute("SELECT id FROM apscheduler_jobs ORDER BY id").fetchall()
    assert stored == [("job0",), ("job1",)]
