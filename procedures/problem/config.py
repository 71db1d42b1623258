"""`[problem]` settings: one section per Problem Management procedure smpm runs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connector.enums import ProblemStatus
from procedures.problem.incident_review import IncidentReviewConfig


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
