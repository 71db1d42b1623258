"""`[incident]` settings: one section per Incident Management procedure.

Each procedure's settings class is defined here, and the procedure imports it from here: the
settings stand below the procedures, so `procedures.config` and the registry's `Context` can
name them without importing a procedure.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from connector.entities import IncidentRequest, ServiceTarget, TargetKind
from connector.enums import Impact, ServiceType
from procedures.incident.matching import Match
from procedures.incident.rejection import Vocabulary, normalise


# -- P2 Incident Request Assignment ---------------------------------------------------------------
class RoutingRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    priority: int
    group: str
    assignee: str | None = None
    match: Match


class AssignmentConfig(BaseModel):
    """`[incident.assignment]`: the ordered routing rule table and the Change Management test."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[RoutingRule] = Field(default_factory=list)
    default_group: str | None = None
    change_criteria: list[Match] = Field(default_factory=list)
    change_group: str = "Change Management"

    @field_validator("rules")
    @classmethod
    def _priorities_unique(cls, rules: list[RoutingRule]) -> list[RoutingRule]:
        seen: dict[int, str] = {}
        for rule in rules:
            if rule.priority in seen:
                raise ValueError(
                    f"rules {seen[rule.priority]!r} and {rule.name!r} share priority "
                    f"{rule.priority}; first match wins, so each rule needs its own priority"
                )
            seen[rule.priority] = rule.name
        return rules

    def ordered(self) -> list[RoutingRule]:
        return sorted(self.rules, key=lambda r: r.priority)

    def groups(self) -> set[str]:
        named = {r.group for r in self.rules} | {self.change_group}
        return named | ({self.default_group} if self.default_group else set())


# -- P3 Incident Request Tracking -----------------------------------------------------------------
IMPACT_ORDER = [Impact.EXTENSIVE, Impact.SIGNIFICANT, Impact.MODERATE, Impact.MINOR]


class TrackingConfig(BaseModel):
    """`[incident.tracking]`: what counts as a service outage and how targets are recognised."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    outage_service_types: list[ServiceType] = Field(
        default_factory=lambda: [
            ServiceType.USER_SERVICE_RESTORATION,
            ServiceType.INFRASTRUCTURE_RESTORATION,
        ]
    )
    outage_min_impact: Impact = Impact.SIGNIFICANT
    resolution_target_pattern: str = Field(default=r"(?i)resol", description="matches SLA titles")
    # Incident numbers per OR-query: ~60 URL characters each, so 100 stay under 8 KB (Jetty's
    # default request-line limit). Beyond `max_id_queries` such queries, one scan of the open
    # requests costs fewer calls than asking for them by number.
    ids_per_query: int = Field(default=100, ge=1, le=500)
    max_id_queries: int = Field(default=5, ge=0)
    # Whose coordinator hears of breaches on requests no group holds yet (the service desk).
    unassigned_group: str | None = "Service Desk"

    def is_outage(self, incident: IncidentRequest) -> bool:
        if incident.service_type not in self.outage_service_types or incident.impact is None:
            return False
        return IMPACT_ORDER.index(incident.impact) <= IMPACT_ORDER.index(self.outage_min_impact)

    def is_resolution_target(self, target: ServiceTarget) -> bool:
        if target.target_kind is not None:
            return target.target_kind is TargetKind.RESOLUTION
        return bool(re.search(self.resolution_target_pattern, target.title or ""))


# -- P4 Incident Request Resolution by Specialist -------------------------------------------------
class ResolutionConfig(BaseModel):
    """`[incident.resolution]`: what a workaround looks like and what counts as recurring."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workaround_reasons: list[str] = Field(default_factory=lambda: ["Temporary Corrective Action"])
    window_days: float = Field(default=30, gt=0)
    min_similar: int = Field(default=2, ge=1)
    same_category: bool = True
    lookback_hours: float = Field(default=24, gt=0, description="resolved requests considered")


# -- P6 Incident Request Closure ------------------------------------------------------------------
def _phrase(value: str) -> str:
    if not re.search(r"\w", normalise(value)):
        raise ValueError("an empty phrase would match every reply; remove it")
    return value.strip()


def _regex(value: str) -> str:
    try:
        pattern = re.compile(value, re.MULTILINE | re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc.msg} at position {exc.pos}") from None
    for sample in ("", "x", " x ", "still broken\nok"):
        if any(m.start() == m.end() for m in pattern.finditer(sample)):
            raise ValueError("matches the empty string: it would match every reply")
    return value


Phrase = Annotated[str, AfterValidator(_phrase)]
Regex = Annotated[str, AfterValidator(_regex)]

KEYWORDS = [
    "not fixed",
    "not resolved",
    "not solved",
    "is not working",
    "are not working",
    "does not work",
    "do not work",
    "did not work",
    "did not help",
    "does not help",
    "did not fix",
    "did not solve",
    "has not been fixed",
    "do not close",
    "reopen",
    "re-open",
    "reject",
]
PATTERNS = [
    r"\bstill\s+(?:not|can not|unable|broken|down|offline|slow|fail\w*|crash\w*|freez\w*"
    r"|hang\w*|getting|gets?|seeing|sees?|happen\w*|occur\w*|the same"
    r"|(?:have|has|had) the same|(?:does|do|is|are|will|has|have) not)\b",
    r"\b(?:fail\w*|broke\w*|break\w*|crash\w*|happen\w*|stopp?\w*|freez\w*|froze\w*|hang\w*"
    r"|down|not work\w*)\s+again\b",
    r"\bsame\s+(?:error|problem|issue|fault|message|behaviou?r)\b",
    r"\b(?:error|problem|issue|fault)s?\s+(?:is|are|came|comes?|has come)\s+back\b",
    r"^(?:(?:it|this|that) is\s+)?not working\b",
]
NEGATIONS = [
    "not",
    "never",
    "no",
    "no longer",
    "no need to",
    "no need for",
    "no reason to",
    "need not",
    "nothing",
    "nobody",
    "no one",
    "without",
]
NEGATIONS_AFTER = ["not needed", "not necessary", "not required", "unnecessary"]
HYPOTHETICALS = ["if", "unless", "in case", "should it", "should this", "should the"]
QUOTE_HEADERS = [
    r"^[ \t]*On\b[^\n]*(?:\n[^\n]*)?\bwrote:[ \t]*$",
    r"^[ \t]*-{2,}[ \t]*Original Message[ \t]*-{2,}",
    r"^[ \t]*From:[^\n]*\n[ \t]*(?:Sent|Date):",
    r"^[ \t]*_{10,}[ \t]*$",
]


class ClosureConfig(BaseModel):
    """`[incident.closure]`: how long a resolution waits for the requester, and what a 'no'
    says (phrases case-insensitive, patterns Python regular expressions; see
    `procedures.incident.rejection` for how a reply is read). Empty `rejection_keywords` and
    `rejection_patterns` turn the reading of replies off."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    close_after_days: float = Field(default=5, gt=0)
    rejection_keywords: list[Phrase] = Field(default_factory=lambda: list(KEYWORDS))
    rejection_patterns: list[Regex] = Field(default_factory=lambda: list(PATTERNS))
    negations: list[Phrase] = Field(default_factory=lambda: list(NEGATIONS))
    negations_after: list[Phrase] = Field(default_factory=lambda: list(NEGATIONS_AFTER))
    negation_window: int = Field(
        default=3, ge=0, le=10, description="words a negation may stand from the phrase"
    )
    hypotheticals: list[Phrase] = Field(default_factory=lambda: list(HYPOTHETICALS))
    quote_headers: list[Regex] = Field(default_factory=lambda: list(QUOTE_HEADERS))
    closure_reason: str | None = Field(default=None, description="status reason set on closing")

    def vocabulary(self) -> Vocabulary:
        return Vocabulary.of(
            keywords=self.rejection_keywords,
            patterns=self.rejection_patterns,
            negations=self.negations,
            negations_after=self.negations_after,
            hypotheticals=self.hypotheticals,
            quote_headers=self.quote_headers,
            window=self.negation_window,
        )


# -- the section ----------------------------------------------------------------------------------
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
