"""`[problem]` settings: one section per Problem Management procedure smpm runs.

Each procedure's settings class is defined here, and the procedure imports it from here: the
settings stand below the procedures, so `procedures.config` and the registry's `Context` can
name them without importing a procedure.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connector.entities import IncidentRequest
from connector.enums import ProblemStatus, ServiceType
from procedures.incident.matching import Match


class ReviewRule(BaseModel):
    """`[[problem.review.rules]]`: other settings for the incident requests that `match`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    match: Match
    min_incidents: int | None = Field(default=None, ge=2)
    category_tiers: int | None = Field(default=None, ge=0, le=3)
    group: str | None = None


class IncidentReviewConfig(BaseModel):
    """`[problem.review]`: which incident requests are reviewed and what makes a problem."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    window_days: float = Field(default=14, gt=0)
    min_incidents: int = Field(default=3, ge=2)
    category_tiers: int = Field(default=1, ge=0, le=3)
    service_types: list[ServiceType] = Field(
        default_factory=lambda: [
            ServiceType.USER_SERVICE_RESTORATION,
            ServiceType.INFRASTRUCTURE_RESTORATION,
        ]
    )
    specialist_group: str | None = Field(
        default=None, description="gets new problems when no rule names a group"
    )
    investigation_driver: str = "Re-Occurring Incidents"
    rules: list[ReviewRule] = Field(default_factory=list)

    def rule_for(self, incident: IncidentRequest) -> ReviewRule | None:
        return next((r for r in self.rules if r.match.test(incident) is not None), None)

    def tiers(self, rule: ReviewRule | None) -> int:
        """Categorisation tiers that must agree, for requests `rule` matched (None: no rule)."""
        if rule is not None and rule.category_tiers is not None:
            return rule.category_tiers
        return self.category_tiers

    def minimum(self, rule: ReviewRule | None) -> int:
        if rule is not None and rule.min_incidents is not None:
            return rule.min_incidents
        return self.min_incidents


class ProblemClosureConfig(BaseModel):
    """`[problem.closure]`: how a structural solution is verified, and what an impasse is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    verification_days: float = Field(
        default=14, gt=0, description="no alike incident this long after the change: closed"
    )
    lookback_days: float = Field(default=90, gt=0, description="changes ended within are read")
    category_tiers: int = Field(default=1, ge=0, le=3, description="as [problem.review]")
    # How a completed or closed change ended: Remedy's Status Reason, ServiceNow's close_code
    # (both read as the change's status_reason). Only a successful one is the structural solution;
    # an unsuccessful (or backed-out) one was not implemented; any other outcome is waited for.
    successful_reasons: list[str] = Field(
        default_factory=lambda: [
            "Successful",
            "Successful with Issues",
            "successful",
            "successful_issues",
        ],
        description="status reasons of a change implemented successfully",
    )
    unsuccessful_reasons: list[str] = Field(
        default_factory=lambda: ["Unsuccessful", "Backed Out", "unsuccessful"],
        description="status reasons of a change that failed or was backed out",
    )
    candidate_statuses: list[ProblemStatus] = Field(
        default_factory=lambda: [
            ProblemStatus.UNDER_REVIEW,
            ProblemStatus.ASSIGNED,
            ProblemStatus.UNDER_INVESTIGATION,
            ProblemStatus.PENDING,
            ProblemStatus.COMPLETED,
        ]
    )
    close_status_reason: str | None = Field(default=None, description="set on Completed")
    reopen_status: ProblemStatus = ProblemStatus.ASSIGNED
    impasse_statuses: list[ProblemStatus] = Field(default_factory=list)
    impasse_reasons: list[str] = Field(default_factory=list)
    stalled_days: float | None = Field(
        default=60, gt=0, description="an open problem unchanged this long is at an impasse"
    )
    reminder_days: float = Field(default=14, gt=0)

    @model_validator(mode="after")
    def _outcomes_apart(self) -> ProblemClosureConfig:
        both = set(self.successful_reasons) & set(self.unsuccessful_reasons)
        if both:
            raise ValueError(
                f"successful_reasons and unsuccessful_reasons both name {sorted(both)}: a change "
                "ends either way, not both"
            )
        return self

    @field_validator("reopen_status")
    @classmethod
    def _open(cls, status: ProblemStatus) -> ProblemStatus:
        if not status.is_open:
            raise ValueError(f"{status.value!r} is not an open status: a reopened problem is open")
        return status


class ProblemConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    review: IncidentReviewConfig = Field(default_factory=IncidentReviewConfig)
    closure: ProblemClosureConfig = Field(default_factory=ProblemClosureConfig)
