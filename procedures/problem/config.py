"""`[problem]` settings: one section per Problem Management procedure smpm runs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
