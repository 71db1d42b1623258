"""`[event.handling]`: the settings of Event Management P1, Event Handling.

Kept apart from the decisions (`procedures.event.handling`, which re-exports both names) so
that module stays about deciding.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from connector.enums import EventSeverity, Impact, Urgency


class Window(BaseModel):
    """A planned event: maintenance on a CI or a service, with its reason."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ci: str | None = None
    service: str | None = None
    start: AwareDatetime
    end: AwareDatetime
    reason: str

    @model_validator(mode="after")
    def _sane(self) -> Window:
        if not (self.ci or self.service):
            raise ValueError("a maintenance window names a ci or a service")
        if self.end <= self.start:
            raise ValueError("a maintenance window ends after it starts")
        return self

    def covers(self, ci: str | None, services: list[str], when: datetime) -> bool:
        names = {n.casefold() for n in [ci or "", *services] if n}
        target = (self.ci or self.service or "").casefold()
        return target in names and self.start <= when <= self.end


class HandlingConfig(BaseModel):
    """`[event.handling]`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    customer: str | None = Field(
        default=None, description="login event-raised requests are filed for (Remedy wants one)"
    )
    capacity_group: str = "Capacity Management"
    impact: dict[EventSeverity, Impact] = Field(
        default_factory=lambda: {
            EventSeverity.CRITICAL: Impact.EXTENSIVE,
            EventSeverity.MAJOR: Impact.SIGNIFICANT,
            EventSeverity.MINOR: Impact.MODERATE,
            EventSeverity.WARNING: Impact.MINOR,
        }
    )
    urgency: dict[EventSeverity, Urgency] = Field(
        default_factory=lambda: {
            EventSeverity.CRITICAL: Urgency.CRITICAL,
            EventSeverity.MAJOR: Urgency.HIGH,
            EventSeverity.MINOR: Urgency.MEDIUM,
            EventSeverity.WARNING: Urgency.LOW,
        }
    )
    repeat_notes: str = Field(default="doubling", pattern="^(every|doubling)$")
    resolve_on_clear: bool = False
    clear_status_reason: str = "Automated Resolution Reported"
    dependency_depth: int = Field(default=3, ge=0, le=10)
    # An upstream incident explains an event only if it is an outage: a restoration request at
    # least this severe, being worked on (not pending).
    cause_min_impact: Impact = Impact.SIGNIFICANT
    maintenance: list[Window] = Field(default_factory=list)
    # SMPM closes "a service degradation or outage that was planned"; a capacity warning is the
    # "first warning of an impending capacity shortage", which a change window does not end.
    close_planned_capacity_warnings: bool = Field(
        default=False,
        description="close capacity warnings inside a change or maintenance window as planned",
    )
