"""`[slm]` settings: one section per Service Level Management procedure smpm implements.

The SLAs themselves are `[[availability.slas]]` (procedures/availability/config.py says why they
are kept in the settings): each names its review term, the measurement titles that are its
service level targets (SLTs) and, optionally, its own attainment target.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator


class SlaReviewConfig(BaseModel):
    """`[slm.sla_review]`: when a response or resolution SLT counts as violated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    attainment_target: float = Field(
        default=95.0, gt=0, le=100, description="percent of requests that must meet the SLT"
    )
    response_pattern: str = Field(default=r"(?i)respon", description="matches response SLTs")
    resolution_pattern: str = Field(default=r"(?i)resol", description="matches resolution SLTs")

    @field_validator("response_pattern", "resolution_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"{value!r} is not a regular expression: {exc}") from None
        return value


class SlmConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sla_review: SlaReviewConfig = Field(default_factory=SlaReviewConfig)
