"""`[capacity]` settings: the capacity tracking overview and how warnings are handled."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connector.enums import Impact, Urgency
from procedures.capacity.overview import CapacityOverview, OverviewRow


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

    @field_validator("overview")
    @classmethod
    def _unique(cls, rows: list[OverviewRow]) -> list[OverviewRow]:
        CapacityOverview.of(rows)
        return rows

    def table(self) -> CapacityOverview:
        return CapacityOverview.of(self.overview)
