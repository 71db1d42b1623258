"""`[event]` settings: one section per Event Management procedure."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from procedures.event.handling_config import HandlingConfig
from procedures.event.review import EventReviewConfig, OutageReviewConfig


class EventConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    handling: HandlingConfig = Field(default_factory=HandlingConfig)
    review: EventReviewConfig = Field(default_factory=EventReviewConfig)
    outage_review: OutageReviewConfig = Field(default_factory=OutageReviewConfig)
