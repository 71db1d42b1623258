"""`[schedule]` and `[[schedule.jobs]]`: which procedures run when, checked as the settings load.

A job names a procedure of the catalogue that runs on demand (the ones `smpm run` takes, plus the
Event Management reviews) and a 5-field crontab expression read in `timezone`. A mistake stops
smpm at start naming the key and the job, never at 3 a.m. when the job would have fired.
"""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from procedures.catalog import PROCEDURES
from procedures.event.review import EVENT_REVIEW, OUTAGE_REVIEW
from procedures.time_zone import TimeZoneName
from smpm.schedule.cron import crontab_trigger

REVIEWS = frozenset({EVENT_REVIEW, OUTAGE_REVIEW})


class JobSection(BaseModel):
    """One `[[schedule.jobs]]` entry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # `name` comes first so the cron check below can name the job it rejects.
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,100}$")
    procedure: str
    cron: str
    dry_run: bool = False

    @property
    def job_name(self) -> str:
        return self.name or self.procedure

    @field_validator("procedure")
    @classmethod
    def _known_procedure(cls, value: str) -> str:
        spec = PROCEDURES.get(value)
        if spec is None:
            known = ", ".join(sorted(n for n, p in PROCEDURES.items() if p.run is not None))
            raise ValueError(f"unknown procedure {value!r}; known: {known}")
        if spec.run is None:
            raise ValueError(
                f"{value} runs on events ({'; '.join(spec.triggers)}), not on a schedule"
            )
        return value

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str, info: ValidationInfo) -> str:
        job = info.data.get("name") or info.data.get("procedure") or "(unnamed)"
        try:
            crontab_trigger(value, UTC)
        except ValueError as exc:
            raise ValueError(f"job {job!r}: cron {value!r}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _dry_run_means_something(self) -> JobSection:
        if self.dry_run and self.procedure in REVIEWS:
            raise ValueError(
                f"job {self.job_name!r}: {self.procedure} writes nothing to the ITSM, only its "
                "report, so a dry run would do nothing; drop dry_run"
            )
        return self


class ScheduleSection(BaseModel):
    """`[schedule]`: `smpm schedule` always runs these jobs; `smpm serve` only when enabled."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    timezone: TimeZoneName = "UTC"
    misfire_grace_seconds: PositiveInt = 300
    jobs: list[JobSection] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> ScheduleSection:
        seen: set[str] = set()
        for job in self.jobs:
            if job.job_name in seen:
                raise ValueError(
                    f"two jobs are named {job.job_name!r}; give one of them a distinct `name`"
                )
            seen.add(job.job_name)
        return self

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
