"""The scheduler as one piece: the lock, APScheduler with its persistent job store, the runner.

While a scheduler holds the lock (`lock`) it is active and runs an APScheduler
BackgroundScheduler whose job store is an SQLAlchemyJobStore on `[database] url` (table
`apscheduler_jobs`): one cron job per configured job, `coalesce=True`, `max_instances=1`, and
`misfire_grace_seconds` as misfire grace time. The configuration is the truth: its jobs replace
the stored ones at each activation, and stored jobs no longer configured are removed.

Besides APScheduler's firings, each job is woken once at activation (the catch-up after
downtime) and whenever APScheduler reports a firing missed (started later than the grace time),
in a small pool of the scheduler's own: APScheduler removes a one-off job after running it, and
a removal racing its shutdown kills its thread. What a wake-up runs is decided by the runner
from the period records, so a restart, a late firing or a missed one runs each period once:
never skipped, never twice.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from connector.errors import ConfigurationError
from smpm.schedule import periods
from smpm.schedule.lock import SchedulerBusy, SchedulerLock, new_owner, scheduler_lock
from smpm.schedule.runner import Execute, JobRunner, attach, detach, execute, fire, scheduled_jobs
from smpm.settings import Settings
from smpm.store import open_engine, utcnow

log = logging.getLogger("smpm.schedule")
STANDBY_POLL_SECONDS = 10.0


class Scheduler:
    """One scheduler instance on the settings' store: active, or standing by (PostgreSQL)."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        execute: Execute = execute,
        lock: SchedulerLock | None = None,
        poll_seconds: float = STANDBY_POLL_SECONDS,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.owner = new_owner()
        self.engine = open_engine(settings.database.url)
        self.runner = JobRunner(
            settings, self.engine, owner=self.owner, clock=clock, execute=execute
        )
        self.lock = lock or scheduler_lock(self.engine, self.owner)
        self._aps: BackgroundScheduler | None = None
        self._job_store: Engine | None = None
        self._wakeups: futures.ThreadPoolExecutor | None = None
        self._stop = threading.Event()
        self._switch = threading.Lock()
        self._watcher: threading.Thread | None = None

    @property
    def active(self) -> bool:
        return self._aps is not None

    def start(self) -> bool:
        """Become the active scheduler, or stand by; True if active. SQLite: SchedulerBusy."""
        try:
            if not self.runner.jobs:
                raise ConfigurationError(
                    "schedule.jobs: no jobs to run; add [[schedule.jobs]] entries "
                    "(config/smpm.example.toml shows how)"
                )
            if self.lock.acquire():
                self._activate()
            elif not self.lock.waits:
                raise SchedulerBusy(
                    f"another smpm scheduler is active on this database ({self.lock.holder()});"
                    " stop it first (with PostgreSQL, a second scheduler stands by instead)"
                )
            else:
                log.info("standing by: %s", self.lock.holder())
        except BaseException:
            self.lock.release()
            self.engine.dispose()
            raise
        if self.lock.waits:
            self._watcher = threading.Thread(
                target=self._watch_lock, name="smpm-scheduler-lock", daemon=True
            )
            self._watcher.start()
        return self.active

    def stop(self) -> None:
        """Stop scheduling (waiting for running jobs), release the lock, close the store."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=self.poll_seconds + 30)
        self._deactivate(wait=True)
        self.lock.release()
        self.engine.dispose()

    def _watch_lock(self) -> None:
        """PostgreSQL: take over when the holder goes; stop scheduling if the lock is lost."""
        while not self._stop.wait(self.poll_seconds):
            try:
                self.check_lock()
            except Exception:  # the database is away: try again at the next poll
                log.exception("scheduler lock watch failed; trying again")

    def check_lock(self) -> None:
        """One look at the lock: take over if it is free, stand by if it was lost."""
        if self.active and not self.lock.held():
            log.error("lost the scheduler lock (database connection); standing by")
            self._deactivate(wait=False)
        elif not self.active and self.lock.acquire():
            log.info("took over as the active scheduler")
            self._activate()

    def _activate(self) -> None:
        with self._switch:
            if self._aps is not None or self._stop.is_set():
                return
            self.runner.activate(self.clock())
            attach(self.runner)
            aps = self._apscheduler()
            aps.start(paused=True)
            try:
                self._replace_jobs(aps)
            except BaseException:
                aps.shutdown(wait=False)
                self._close_job_store()
                detach(self.runner)
                raise
            wakeups = futures.ThreadPoolExecutor(_workers(self), "smpm-schedule-wake-up")
            self._aps, self._wakeups = aps, wakeups
            aps.resume()
            for name in self.runner.jobs:
                wakeups.submit(self._wake_up, name)
            log.info("scheduler active (%s): %s", self.owner, ", ".join(self.runner.jobs))

    def _replace_jobs(self, aps: BackgroundScheduler) -> None:
        """The configured jobs, and only they, in the persistent job store.

        Every stored job is removed and the configured ones added afresh, rather than replaced
        in place: APScheduler replaces by trying an insert first, and the unique violation it
        then handles is still an ERROR in PostgreSQL's server log at every start. Nothing is
        lost by it: which periods have run lives in `schedule_periods`, and each job is woken
        once at activation to catch up.
        """
        for stored in aps.get_jobs(jobstore="default"):
            aps.remove_job(stored.id, jobstore="default")
        for job in self.runner.jobs.values():
            aps.add_job(
                fire,
                trigger=job.trigger,
                args=(self.owner, job.name),
                id=job.name,
                name=f"{job.procedure} ({job.cron})",
                jobstore="default",
                replace_existing=True,
            )

    def _deactivate(self, *, wait: bool) -> None:
        with self._switch:
            if self._aps is not None:
                self._aps.shutdown(wait=wait)
                self._aps = None
                self._close_job_store()
            if self._wakeups is not None:
                self._wakeups.shutdown(wait=wait, cancel_futures=True)
                self._wakeups = None
            detach(self.runner)

    def _close_job_store(self) -> None:
        """Dispose of the job store's engine once APScheduler's thread has ended (its shutdown
        joins it). APScheduler disposes of it before that, and a last look at the due jobs
        checks a connection out again: on PostgreSQL a session left open until collected."""
        if self._job_store is not None:
            self._job_store.dispose()
            self._job_store = None

    def _apscheduler(self) -> BackgroundScheduler:
        section = self.settings.schedule
        self._job_store = open_engine(self.settings.database.url)  # its own: disposed with it
        aps = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self._job_store)},
            executors={"default": ThreadPoolExecutor(max_workers=_workers(self))},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": section.misfire_grace_seconds,
            },
            timezone=section.zone(),
        )
        aps.add_listener(self._missed, EVENT_JOB_MISSED)
        return aps

    def _missed(self, event: JobExecutionEvent) -> None:
        wakeups = self._wakeups
        if wakeups is None:
            return
        log.warning(
            "job %s: firing at %s started too late (misfire_grace_seconds); waking it up now",
            event.job_id,
            event.scheduled_run_time,
        )
        with contextlib.suppress(RuntimeError):  # shutting down: the next start catches up
            wakeups.submit(self._wake_up, event.job_id)

    def _wake_up(self, name: str) -> None:
        try:
            self.runner.fire(name)
        except Exception:  # a pool would keep the error to itself
            log.exception("job %s: wake-up failed", name)


def _workers(scheduler: Scheduler) -> int:
    return min(len(scheduler.runner.jobs), 8)


@contextmanager
def scheduling(settings: Settings) -> Iterator[Scheduler | None]:
    """For `smpm serve`: the scheduler, when `[schedule] enabled = true`, for the block."""
    if not settings.schedule.enabled:
        yield None
        return
    scheduler = Scheduler(settings)
    scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.stop()


def run_until(
    settings: Settings, stop: threading.Event, ready: Callable[[Scheduler], None] | None = None
) -> None:
    """`smpm schedule`: run the scheduler until `stop` is set."""
    scheduler = Scheduler(settings)
    scheduler.start()
    try:
        if ready is not None:
            ready(scheduler)
        stop.wait()
    finally:
        scheduler.stop()


@dataclass(frozen=True)
class JobListing:
    """One line of `smpm schedule --list`."""

    name: str
    procedure: str
    cron: str
    dry_run: bool
    next_run: datetime | None
    owed: datetime | None  # a missed period the next start (or wake-up) runs at once
    last: Mapping[str, Any] | None


def listing(settings: Settings, now: datetime | None = None) -> list[JobListing]:
    """The configured jobs with their next fire time and their last recorded run."""
    moment = now or utcnow()
    engine = open_engine(settings.database.url)
    try:
        found = []
        for job in scheduled_jobs(settings.schedule):
            due = periods.owed(engine, job.name, job.trigger, moment)
            found.append(
                JobListing(
                    name=job.name,
                    procedure=job.procedure,
                    cron=job.cron,
                    dry_run=job.dry_run,
                    next_run=job.trigger.get_next_fire_time(None, moment),
                    owed=due[-1] if due else None,
                    last=periods.latest_run(engine, job.name),
                )
            )
        return found
    finally:
        engine.dispose()
