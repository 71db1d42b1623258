"""`[incident]` settings: one section per Incident Management procedure."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from procedures.incident.assignment import AssignmentConfig
from procedures.incident.closure import ClosureConfig
from procedures.incident.resolution import ResolutionConfig
from procedures.incident.tracking import TrackingConfig


class TrackingSection(TrackingConfig):
    """`[incident.tracking]` as the settings load it: the resolution target pattern is
    compiled at load, so a bad one names its line instead of failing the first run that meets a
    service target without a kind (an `re.error` traceback, mid-run)."""

    @field_validator("resolution_target_pattern")
    @classmethod
    def _pattern_compiles(cls, value: str) -> str:
        try:
            pattern = re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc.msg} at position {exc.pos}") from None
        if pattern.search(""):
            raise ValueError(
                "matches the empty string, so every SLA title would count as a resolution "
                "target; make it name what resolution targets are called, e.g. '(?i)resol'"
            )
        return value


class IncidentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    assignment: AssignmentConfig = Field(default_factory=AssignmentConfig)
    tracking: TrackingSection = Field(default_factory=TrackingSection)
    resolution: ResolutionConfig = Field(default_factory=ResolutionConfig)
    closure: ClosureConfig = Field(default_factory=ClosureConfig)

    @field_validator("tracking", mode="before")
    @classmethod
    def _checked(cls, value: object) -> object:
        """A TrackingConfig built in code (a user's rule test) is checked as the file's is."""
        if isinstance(value, TrackingConfig) and not isinstance(value, TrackingSection):
            return value.model_dump()
        return value
