"""Who plays which SMPM role: read from the ITSM's services and groups, with config overrides.

SMPM routes to people by role: the service owner, the change coordinator and problem coordinator
of a service, the capacity and availability managers of its infrastructure, the group coordinator
of a support group, the on-duty manager. The ITSM knows most of them; `[contacts]` in the
settings fills gaps and overrides. `[roster]` says who is on duty and who is away.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from connector.base import Connector
from connector.entities import Service, SupportGroup

ServiceRole = Literal[
    "owner", "change_coordinator", "problem_coordinator", "capacity_manager", "availability_manager"
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServiceContacts(_Strict):
    owner: str | None = None
    change_coordinator: str | None = None
    problem_coordinator: str | None = None
    capacity_manager: str | None = None
    availability_manager: str | None = None
    support_group: str | None = None


class GroupContacts(_Strict):
    coordinator: str | None = None


class ContactsConfig(_Strict):
    """`[contacts.services."Online Banking"]` and `[contacts.groups."Service Desk"]` overrides."""

    services: dict[str, ServiceContacts] = Field(default_factory=dict)
    groups: dict[str, GroupContacts] = Field(default_factory=dict)


class Shift(_Strict):
    login: str
    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> Shift:
        if self.end <= self.start:
            raise ValueError(f"shift of {self.login!r} ends before it starts")
        return self

    def covers(self, when: datetime) -> bool:
        return self.start <= when < self.end


class RosterConfig(_Strict):
    """On-duty managers by shift, and absences (owners who cannot take an escalation)."""

    on_duty: list[Shift] = Field(default_factory=list)
    absences: list[Shift] = Field(default_factory=list)

    @field_validator("on_duty")
    @classmethod
    def _no_overlapping_duty(cls, on_duty: list[Shift]) -> list[Shift]:
        shifts = sorted(on_duty, key=lambda s: s.start)
        for before, after in itertools.pairwise(shifts):
            if after.start < before.end:
                raise ValueError(
                    f"on-duty shifts overlap: {before.login!r} until {before.end.isoformat()} "
                    f"and {after.login!r} from {after.start.isoformat()}"
                )
        return on_duty

    def on_duty_manager(self, when: datetime) -> str | None:
        return next((s.login for s in self.on_duty if s.covers(when)), None)

    def is_available(self, login: str, when: datetime) -> bool:
        return not any(a.login == login and a.covers(when) for a in self.absences)

    def logins(self) -> set[str]:
        return {s.login for s in [*self.on_duty, *self.absences]}


@dataclass
class Directory:
    """A snapshot of services and groups, read once per run."""

    services: dict[str, Service] = field(default_factory=dict)
    groups: dict[str, SupportGroup] = field(default_factory=dict)
    contacts: ContactsConfig = field(default_factory=ContactsConfig)

    @classmethod
    def load(cls, connector: Connector, contacts: ContactsConfig) -> Directory:
        return cls.of(connector.find(Service), connector.find(SupportGroup), contacts)

    @classmethod
    def of(
        cls,
        services: Iterable[Service],
        groups: Iterable[SupportGroup],
        contacts: ContactsConfig | None = None,
    ) -> Directory:
        return cls(
            services={s.name: s for s in services if s.name},
            groups={g.name: g for g in groups if g.name},
            contacts=contacts or ContactsConfig(),
        )

    def service_role(self, service: str | None, role: ServiceRole) -> str | None:
        """The person in `role` for `service`: config override first, then the ITSM."""
        if not service:
            return None
        override = self.contacts.services.get(service)
        if override is not None and getattr(override, role):
            return str(getattr(override, role))
        record = self.services.get(service)
        return getattr(record, role) if record is not None else None

    def service_group(self, service: str | None) -> str | None:
        if not service:
            return None
        override = self.contacts.services.get(service)
        if override is not None and override.support_group:
            return override.support_group
        record = self.services.get(service)
        return record.support_group if record is not None else None

    def group_coordinator(self, group: str | None) -> str | None:
        if not group:
            return None
        override = self.contacts.groups.get(group)
        if override is not None and override.coordinator:
            return override.coordinator
        record = self.groups.get(group)
        return record.coordinator if record is not None else None

    def group(self, name: str | None) -> SupportGroup | None:
        return self.groups.get(name) if name else None
