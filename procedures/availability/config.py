"""`[availability]` settings and `[[availability.slas]]`: the SLAs whose targets are tracked.

Where SLA targets come from: neither connector reads an SLA definition today. What the ITSMs
expose through their APIs is the per-request measurement (`ServiceTarget`: Remedy's
SLM:Measurement, ServiceNow's task_sla), which has a response or resolution goal but no
availability percentage, service hours or reliability targets. So the availability manager's
copy of each signed, active SLA lives here: its service, availability target, service hours per
weekday in a timezone, reliability targets (outages, MTBF, MTTR) and tracking period. Service
Level Management P5 (SLA Review) reviews the same SLAs, adding the measurements the ITSM keeps.

`[[availability.likeness]]` (LikenessRule) says which outage requests and problem investigations
share a root cause where no configuration item says so (tracking.py decides with it).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connector.enums import Impact, ServiceType, Urgency
from procedures.availability.timeline import ALWAYS, WEEKDAYS, WeeklyHours, parse_windows
from procedures.time_zone import TimeZoneName

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlaDefinition(_Strict):
    """One signed SLA: `[[availability.slas]]`."""

    name: str = Field(min_length=1)
    service: str = Field(min_length=1, description="the business service, as the ITSM names it")
    customer: str | None = Field(
        default=None, description="the customer organisation (company) whose requests count"
    )
    active: bool = True
    availability_target: float | None = Field(default=None, gt=0, le=100)
    max_outages: int | None = Field(default=None, ge=0)
    mtbf_hours: float | None = Field(default=None, gt=0)
    mttr_hours: float | None = Field(default=None, gt=0)
    period: Literal["week", "month"] = "month"
    timezone: TimeZoneName = "UTC"
    service_hours: dict[Weekday, str] | None = Field(
        default=None,
        description="'07:00-19:00' per weekday; days left out have none; 24x7 if unset",
    )
    specialist_group: str | None = Field(
        default=None, description="gets this SLA's new problem investigations"
    )
    review_term: Literal["month", "quarter", "year"] = "quarter"
    slt_titles: list[str] = Field(
        default_factory=list,
        description="regular expressions: the measurement titles that are this SLA's SLTs",
    )
    attainment_target: float | None = Field(default=None, gt=0, le=100)

    @field_validator("service_hours")
    @classmethod
    def _windows(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for day, text in (value or {}).items():
            try:
                parse_windows(text)
            except ValueError as exc:
                raise ValueError(f"{day}: {exc}") from None
        return value

    @field_validator("slt_titles")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _has_a_target(self) -> SlaDefinition:
        targets = (self.availability_target, self.max_outages, self.mtbf_hours, self.mttr_hours)
        if all(t is None for t in targets) and not self.slt_titles:
            raise ValueError(
                f"SLA {self.name!r} sets no availability_target, max_outages, mtbf_hours, "
                "mttr_hours or slt_titles"
            )
        return self

    @property
    def tracks_availability(self) -> bool:
        targets = (self.availability_target, self.max_outages, self.mtbf_hours, self.mttr_hours)
        return any(t is not None for t in targets)

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def hours(self) -> WeeklyHours:
        if self.service_hours is None:
            return ALWAYS
        days: dict[str, str] = dict(self.service_hours)
        return tuple(parse_windows(days.get(day, "")) for day in WEEKDAYS)


@lru_cache(maxsize=256)
def _keyword(keyword: str) -> re.Pattern[str]:
    """The whole words of `keyword`, in order, whatever the spacing between them, any case."""
    words = (re.escape(word) for word in keyword.split())
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


class LikenessRule(_Strict):
    """`[[availability.likeness]]`: one likeness of root cause that no configuration item shows.

    An outage request whose summary holds one of `keywords`, and an open problem investigation
    of the same service whose summary, or the summary of an outage request already linked to
    it, holds one of them too (the same or another: a rule names the words people use for one
    symptom), are taken to have the same root cause. A keyword matches as whole words, in any
    case: "login" matches "Login page", not "logins"; "sign in" matches "sign  in", not
    "signing". Rules are tried in the order given, after the CI and before a new problem
    investigation is registered. Example:

        [[availability.likeness]]
        name = "login"
        keywords = ["login", "log in", "sign-in", "sign in"]
    """

    name: str = Field(min_length=1)
    keywords: list[str] = Field(min_length=1)

    @field_validator("keywords")
    @classmethod
    def _words(cls, value: list[str]) -> list[str]:
        for keyword in value:
            if not re.search(r"\w", keyword):
                raise ValueError(f"keyword {keyword!r} holds no letter or digit")
        return [" ".join(keyword.split()) for keyword in value]

    def keyword_in(self, text: str | None) -> str | None:
        """The first of the rule's keywords that `text` holds, else None."""
        for keyword in self.keywords:
            if text and _keyword(keyword).search(text):
                return keyword
        return None


class AvailabilityConfig(_Strict):
    """`[availability]`: what an outage is, the danger rule, the root-cause evidence, and the
    new problems' fields.

    An outage request is linked to an open problem investigation of its service only on
    evidence of the same root cause, tried in this order: the same configuration item (the
    problem's own, or that of an outage request already linked to it); with `likeness_tiers`
    = N (1-3; 0, the default, leaves it out), the same operational categorisation in tiers 1
    to N, each set (the problem's, or that of an outage request already linked to it; Remedy
    keeps three tiers, ServiceNow two: category and subcategory); a `likeness` rule
    (LikenessRule: keywords in the summaries of the request and of the problem). Without
    evidence, a new problem investigation is registered (tracking.py says how outages are
    grouped into new ones). Example:

        [availability]
        likeness_tiers = 2               # "Failure / Database" requests: one root cause

        [[availability.likeness]]
        name = "login"
        keywords = ["login", "log in", "sign-in", "sign in"]
    """

    slas: list[SlaDefinition] = Field(default_factory=list)
    likeness_tiers: int = Field(default=0, ge=0, le=3)
    likeness: list[LikenessRule] = Field(default_factory=list)
    outage_service_types: list[ServiceType] = Field(
        default_factory=lambda: [
            ServiceType.USER_SERVICE_RESTORATION,
            ServiceType.INFRASTRUCTURE_RESTORATION,
        ]
    )
    outage_min_impact: Impact = Impact.SIGNIFICANT
    danger_share: float = Field(default=1.0, gt=0, le=1)
    min_elapsed_share: float = Field(default=0.2, ge=0, lt=1)
    history_periods: int = Field(default=6, ge=2, le=60)
    specialist_group: str | None = Field(
        default=None, description="new problems when the SLA names no group (else the service's)"
    )
    problem_impact: Impact = Impact.SIGNIFICANT
    problem_urgency: Urgency = Urgency.HIGH
    investigation_driver: str = "Re-Occurring Incidents"
    chart_slas: int = Field(default=12, ge=1, le=100)
    # Service names per OR-query; beyond `max_service_queries` such queries one listing of every
    # service's outages in the window costs fewer calls (the tracking of most services).
    services_per_query: int = Field(default=50, ge=1, le=200)
    max_service_queries: int = Field(default=4, ge=0)
    ids_per_query: int = Field(default=100, ge=1, le=500)
    # Problem links of many requests numbered close together are read as one range of numbers
    # when it spans at most this many requests per wanted one: a 1,000-row page then holds the
    # links of about as many wanted requests as a query of `ids_per_query` numbers would (with
    # two relations per request).
    range_span_factor: float = Field(default=5.0, ge=0)

    @field_validator("slas")
    @classmethod
    def _unique(cls, slas: list[SlaDefinition]) -> list[SlaDefinition]:
        seen: set[str] = set()
        for sla in slas:
            if sla.name in seen:
                raise ValueError(f"two SLAs are named {sla.name!r}")
            seen.add(sla.name)
        return slas

    @field_validator("likeness")
    @classmethod
    def _unique_rules(cls, rules: list[LikenessRule]) -> list[LikenessRule]:
        names = [rule.name for rule in rules]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"two likeness rules are named {twice[0]!r}")
        return rules

    def tracked(self) -> list[SlaDefinition]:
        """The active SLAs with availability or reliability targets, in the order given."""
        return [s for s in self.slas if s.active and s.tracks_availability]
