"""The procedures' settings, as one model the runtime embeds in its Settings.

Procedures never read files or the environment; the runtime validates these sections at start
and hands them in through `Context.config`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from procedures.availability.config import AvailabilityConfig
from procedures.capacity.config import CapacityConfig
from procedures.directory import ContactsConfig, RosterConfig
from procedures.event.config import EventConfig
from procedures.incident.config import IncidentConfig
from procedures.problem.config import ProblemConfig
from procedures.slm.config import SlmConfig


class ProceduresConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    contacts: ContactsConfig = Field(default_factory=ContactsConfig)
    roster: RosterConfig = Field(default_factory=RosterConfig)
    incident: IncidentConfig = Field(default_factory=IncidentConfig)
    event: EventConfig = Field(default_factory=EventConfig)
    capacity: CapacityConfig = Field(default_factory=CapacityConfig)
    availability: AvailabilityConfig = Field(default_factory=AvailabilityConfig)
    slm: SlmConfig = Field(default_factory=SlmConfig)
    problem: ProblemConfig = Field(default_factory=ProblemConfig)
