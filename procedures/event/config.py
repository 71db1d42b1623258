"""`[event]` settings: one section per Event Management procedure.

Each procedure's settings class is defined below the procedure that reads it (here, or in
`handling_config` for Event Handling's larger one), so that `procedures.config` and the
registry's `Context` can name them without importing a procedure.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from connector.enums import Impact, ServiceType
from procedures.event.handling_config import HandlingConfig


class EventReviewConfig(BaseModel):
    """`[event.review]`: the period and what makes a monitoring job noisy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    period_days: float = Field(default=7, gt=0)
    min_events: int = Field(default=5, ge=1, description="jobs with fewer are never flagged")
    max_events_per_incident: float = Field(default=10, gt=0)
    max_quiet_share: float = Field(default=0.8, gt=0, le=1)


class OutageReviewConfig(BaseModel):
    """`[event.outage_review]`: the period and what counts as a high-impact outage."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    period_days: float = Field(default=7, gt=0)
    min_impact: Impact = Impact.SIGNIFICANT
    service_types: list[ServiceType] = Field(
        default_factory=lambda: [
            ServiceType.USER_SERVICE_RESTORATION,
            ServiceType.INFRASTRUCTURE_RESTORATION,
        ]
    )
    event_lookback_days: float = Field(
        default=30, ge=0, description="events received this long before the period count too"
    )


class EventConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    handling: HandlingConfig = Field(default_factory=HandlingConfig)
    review: EventReviewConfig = Field(default_factory=EventReviewConfig)
    outage_review: OutageReviewConfig = Field(default_factory=OutageReviewConfig)
