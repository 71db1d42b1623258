"""`[capacity]` settings: the capacity tracking overview, how warnings are handled (P2) and how
the overview is tracked period by period (P3, `[capacity.tracking]`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from connector.enums import Impact, Urgency
from procedures.capacity.overview import CapacityOverview, OverviewRow
from procedures.capacity.sources import PrometheusConfig


class TrackingConfig(BaseModel):
    """`[capacity.tracking]`: the capacity tracking period, the trend, and the source of values.

    Periods end at `period_anchor` + k * `period_days` (by default Mondays 00:00 UTC, weekly),
    so every run within one period judges the same period end and reruns change nothing.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    period_days: float = Field(default=7, gt=0)
    period_anchor: AwareDatetime = datetime(2024, 1, 1, tzinfo=UTC)
    history_periods: int = Field(default=6, ge=1, le=60, description="periods in the trend")
    horizon_periods: float = Field(
        default=4, gt=0, description="flag levels projected to reach critical within this"
    )
    readings_csv: Path | None = None
    prometheus: PrometheusConfig | None = None
    investigation_driver: str = "Other"

    @model_validator(mode="after")
    def _one_source(self) -> TrackingConfig:
        if self.readings_csv is not None and self.prometheus is not None:
            raise ValueError("set readings_csv or [capacity.tracking.prometheus], not both")
        return self

    @property
    def period(self) -> timedelta:
        return timedelta(days=self.period_days)

    def period_ends(self, now: datetime) -> list[datetime]:
        """The ends of the last `history_periods` whole periods up to `now`, oldest first."""
        last = self.period_anchor + ((now - self.period_anchor) // self.period) * self.period
        return [last - k * self.period for k in reversed(range(self.history_periods))]


class CapacityConfig(BaseModel):
    """`[capacity]`; `[[capacity.overview]]` rows and/or `overview_csv` hold the overview.

    The CSV file is read by the runtime when the settings load (procedures read no files); its
    rows then join `overview`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    overview: list[OverviewRow] = Field(default_factory=list)
    overview_csv: Path | None = None
    capacity_group: str = "Capacity Management"
    monitoring_group: str = "Monitoring"
    specialist_group: str | None = Field(
        default=None, description="gets new capacity problems when the row names no group"
    )
    requester: str | None = Field(
        default=None, description="files monitoring requests when no capacity manager is known"
    )
    request_impact: Impact = Impact.MINOR
    request_urgency: Urgency = Urgency.LOW
    problem_impact: Impact = Impact.MODERATE
    problem_urgency: Urgency = Urgency.MEDIUM
    investigation_driver: str = "Re-Occurring Incidents"
    close_status_reason: str = "No Further Action Required"
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)

    @field_validator("overview")
    @classmethod
    def _unique(cls, rows: list[OverviewRow]) -> list[OverviewRow]:
        CapacityOverview.of(rows)
        return rows

    def table(self) -> CapacityOverview:
        return CapacityOverview.of(self.overview)
