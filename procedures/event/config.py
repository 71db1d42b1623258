"""`[event]` settings: one section per Event Management procedure."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from procedures.event.handling import HandlingConfig


class EventConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    handling: HandlingConfig = Field(default_factory=HandlingConfig)
