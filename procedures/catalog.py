"""Every procedure smpm implements, by name, in process-model order."""

from __future__ import annotations

from procedures.availability import tracking as availability_tracking
from procedures.capacity import tracking as capacity_tracking
from procedures.capacity import warning_handling
from procedures.event import handling, review
from procedures.incident import assignment, closure, resolution, solution_approval, tracking
from procedures.problem import closure as problem_closure
from procedures.problem import incident_review
from procedures.registry import Procedure, UnknownProcedure
from procedures.slm import sla_review

PROCEDURES: dict[str, Procedure] = {
    spec.name: spec
    for spec in (
        availability_tracking.SPEC,
        warning_handling.SPEC,
        capacity_tracking.SPEC,
        handling.SPEC,
        review.EVENT_REVIEW_SPEC,
        review.OUTAGE_REVIEW_SPEC,
        assignment.SPEC,
        tracking.SPEC,
        resolution.SPEC,
        closure.SPEC,
        solution_approval.SPEC,
        incident_review.SPEC,
        problem_closure.SPEC,
        sla_review.SPEC,
    )
}


def procedure(name: str) -> Procedure:
    try:
        return PROCEDURES[name]
    except KeyError:
        raise UnknownProcedure(name) from None
