"""`[incident]` settings: one section per Incident Management procedure."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from procedures.incident.assignment import AssignmentConfig
from procedures.incident.closure import ClosureConfig
from procedures.incident.resolution import ResolutionConfig
from procedures.incident.tracking import TrackingConfig


class IncidentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    assignment: AssignmentConfig = Field(default_factory=AssignmentConfig)
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)
    resolution: ResolutionConfig = Field(default_factory=ResolutionConfig)
    closure: ClosureConfig = Field(default_factory=ClosureConfig)
