"""Every procedure smpm implements, by name, in process-model order."""

from __future__ import annotations

from procedures.capacity import warning_handling
from procedures.event import handling, review
from procedures.incident import assignment, closure, resolution, solution_approval, tracking
from procedures.registry import Procedure, UnknownProcedure

PROCEDURES: dict[str, Procedure] = {
    spec.name: spec
    for spec in (
        warning_handling.SPEC,
        handling.SPEC,
        review.EVENT_REVIEW_SPEC,
        review.OUTAGE_REVIEW_SPEC,
        assignment.SPEC,
        tracking.SPEC,
        resolution.SPEC,
        closure.SPEC,
        solution_approval.SPEC,
    )
}


def procedure(name: str) -> Procedure:
    try:
        return PROCEDURES[name]
    except KeyError:
        raise UnknownProcedure(name) from None
