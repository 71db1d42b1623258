"""Run a job's owed period exactly as `smpm run NAME` (or `smpm review`) would, and record it.

A wake-up (APScheduler firing, or the catch-up at start) calls `JobRunner.fire`; `run_due` asks
`periods` which fire time is owed, claims it, runs the procedure through `smpm.runner` (the
reviews through `smpm.reports.reviews.review`, which hands them the stored events), and records the
period's outcome with one audit row, whatever happened: applied / skipped / failed counts, or the
error. The run's trigger names the period (`schedule:<job>:<fire time>`), so re-running a period
a dead scheduler left unfinished writes nothing twice.

Procedures decide with the wall clock (an SLA is breached now, not at the fire time); the reviews
report on the period that ends at the fire time, so a late run writes the same report.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine

from connector.base import Connector
from connector.errors import SmpmError
from smpm.executor import (
    APPLIED,
    BLOCKED,
    FAILED,
    PLANNED,
    RECOVERED,
    SKIPPED,
    UNSUPPORTED,
)
from smpm.reports.reviews import review
from smpm.runner import run_procedure
from smpm.schedule import periods
from smpm.schedule.config import REVIEWS, JobSection, ScheduleSection
from smpm.schedule.cron import crontab_trigger
from smpm.settings import Settings
from smpm.store import utcnow

log = logging.getLogger("smpm.schedule")
COUNTED = (APPLIED, SKIPPED, RECOVERED, UNSUPPORTED, PLANNED, FAILED, BLOCKED)


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    procedure: str
    cron: str
    trigger: CronTrigger
    dry_run: bool = False

    @classmethod
    def from_config(cls, job: JobSection, zone: tzinfo) -> ScheduledJob:
        trigger = crontab_trigger(job.cron, zone)
        return cls(job.job_name, job.procedure, job.cron, trigger, job.dry_run)


def scheduled_jobs(section: ScheduleSection) -> list[ScheduledJob]:
    return [ScheduledJob.from_config(job, section.zone()) for job in section.jobs]


@dataclass(frozen=True)
class RunResult:
    """How one period's run ended: `done`, `planned` (dry run) or `failed`."""

    outcome: str
    detail: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RanPeriod:
    job: str
    fire_time: datetime
    coalesced: int
    result: RunResult


Execute = Callable[[Settings, ScheduledJob, datetime, datetime], RunResult]


def period_trigger(job: ScheduledJob, fire_time: datetime) -> str:
    return f"schedule:{job.name}:{fire_time.astimezone(UTC).isoformat()}"


def execute(
    settings: Settings,
    job: ScheduledJob,
    fire_time: datetime,
    now: datetime,
    *,
    connector: Connector | None = None,
) -> RunResult:
    """Run the job's procedure for its period; errors propagate (the runner records them)."""
    if job.procedure in REVIEWS:
        plan, paths = review(settings, job.procedure, now=fire_time, connector=connector)
        figures = plan.report.figures[:3] if plan.report else ()
        summary = ", ".join(f"{value} {name}" for name, value in figures)
        return RunResult(periods.DONE, f"{summary}; wrote {', '.join(p.name for p in paths)}")
    report = run_procedure(
        settings,
        job.procedure,
        dry_run=job.dry_run,
        now=now,
        trigger=period_trigger(job, fire_time),
        connector=connector,
    )
    counts = {name: n for name in COUNTED if (n := report.count(name))}
    detail = ", ".join(f"{n} {name}" for name, n in counts.items()) or "nothing to do"
    if report.failed:
        outcome = periods.FAILED
    else:
        outcome = periods.PLANNED if report.dry_run else periods.DONE
    return RunResult(outcome, detail, report.run_id, counts)


class JobRunner:
    """The configured jobs' periods, run for one scheduler instance (`owner`) on one store."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        owner: str,
        clock: Callable[[], datetime] = utcnow,
        execute: Execute = execute,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.owner = owner
        self.clock = clock
        self.execute = execute
        self.jobs = {job.name: job for job in scheduled_jobs(settings.schedule)}
        # A cron firing and a catch-up wake-up of one job take turns, never overlap.
        self._turns = {name: threading.Lock() for name in self.jobs}

    def activate(self, now: datetime) -> None:
        """On taking the lock: give new jobs their start (earlier fire times are not owed), and
        free the periods a previous scheduler left running, so they run again."""
        for job in self.jobs.values():
            if periods.register(self.engine, job.name, job.procedure, self.owner, now):
                log.info("job %s registered; first period after %s", job.name, now)
        released = periods.release_unfinished(self.engine, list(self.jobs), self.owner)
        if released:
            log.warning("%d period(s) left running by a stopped scheduler will run again", released)

    def fire(self, name: str) -> RanPeriod | None:
        """A wake-up: run the job's owed period, if there is one."""
        job = self.jobs.get(name)
        if job is None:
            log.warning("job %s is no longer configured; wake-up ignored", name)
            return None
        with self._turns[name]:
            return self.run_due(job, self.clock())

    def run_due(self, job: ScheduledJob, now: datetime) -> RanPeriod | None:
        """Run the latest owed fire time of `job` up to `now` once; missed ones coalesce into it."""
        due = periods.owed(self.engine, job.name, job.trigger, now)
        if not due:
            return None
        fire_time, coalesced = due[-1], len(due) - 1
        claimed = periods.claim(
            self.engine, job.name, job.procedure, fire_time, self.owner, now, coalesced
        )
        if not claimed:
            return None
        log.info("job %s: running its period at %s", job.name, fire_time)
        result = self._run(job, fire_time, now)
        finished = self.clock()
        periods.finish(
            self.engine,
            job.name,
            fire_time,
            finished,
            result.outcome,
            result.detail,
            result.run_id,
            self._audit_row(job, fire_time, coalesced, result, finished),
        )
        log.info("job %s: period at %s %s: %s", job.name, fire_time, result.outcome, result.detail)
        return RanPeriod(job.name, fire_time, coalesced, result)

    def _run(self, job: ScheduledJob, fire_time: datetime, now: datetime) -> RunResult:
        try:
            return self.execute(self.settings, job, fire_time, now)
        except SmpmError as exc:
            log.error("job %s: period at %s failed: %s", job.name, fire_time, exc)
            return RunResult(periods.FAILED, str(exc))
        except Exception as exc:  # a scheduled run records every failure rather than vanish
            log.exception("job %s: period at %s failed", job.name, fire_time)
            return RunResult(periods.FAILED, f"{type(exc).__name__}: {exc}")

    def _audit_row(
        self,
        job: ScheduledJob,
        fire_time: datetime,
        coalesced: int,
        result: RunResult,
        finished: datetime,
    ) -> dict[str, Any]:
        reason = f"schedule: job {job.name!r} ({job.cron}) for its period at {fire_time}"
        if coalesced:
            reason += f", with {coalesced} missed period(s) coalesced into it"
        fields = {"job": job.name, "cron": job.cron, "fire_time": fire_time.isoformat()}
        fields |= {"dry_run": job.dry_run, "coalesced": coalesced, **result.counts}
        return {
            "at": finished,
            "run_id": result.run_id,
            "procedure": job.procedure,
            "trigger": period_trigger(job, fire_time),
            "step": "scheduled-run",
            "action": "run",
            "target_kind": "schedule",
            "target_id": job.name,
            "fields": fields,
            "reason": reason,
            "outcome": result.outcome,
            "detail": result.detail,
            "idempotency_key": None,
        }


# The runner of each scheduler active in this process, by owner: APScheduler stores its jobs by
# reference (`fire` plus the owner and job name), never the settings they run with.
_ACTIVE: dict[str, JobRunner] = {}


def attach(runner: JobRunner) -> None:
    _ACTIVE[runner.owner] = runner


def detach(runner: JobRunner) -> None:
    _ACTIVE.pop(runner.owner, None)


def fire(owner: str, name: str) -> None:
    """APScheduler's job function: wake the job up in the scheduler that scheduled it."""
    runner = _ACTIVE.get(owner)
    if runner is None:
        log.warning("job %s woke up for scheduler %s, not active here; ignored", name, owner)
        return
    runner.fire(name)
