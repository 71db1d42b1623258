"""What Capacity Warning Handling (P2) registers, the monitoring adjustment request and the
problem, and the problem Capacity Tracking (P3) registers.

They are built here from the warning (or the period's value), its reading and its overview row,
so the decision modules read as the SMPM steps and this one as the records' fields.
"""

from __future__ import annotations

from connector.entities import IncidentRequest, ProblemInvestigation
from connector.enums import IncidentStatus, ProblemStatus, ReportedSource, ServiceType
from procedures.capacity.config import CapacityConfig
from procedures.capacity.overview import OverviewRow, problem_prefix
from procedures.capacity.reading import Reading

BY = "Capacity Management P2 Capacity Warning Handling"


def monitoring_request(
    incident: IncidentRequest,
    reading: Reading,
    row: OverviewRow,
    requester: str | None,
    config: CapacityConfig,
) -> IncidentRequest:
    """'requests an adjustment of the monitoring job that generated the event': a service
    request to the monitoring group, filed by the capacity manager, naming the job and why."""
    job = row.monitoring_job or reading.job
    return IncidentRequest(
        summary=f"Adjust monitoring job {job}"[:100],
        details=(
            f"{BY}: capacity warning {incident.id} ({incident.summary}) was raised by the "
            f"monitoring job {job} at {row.show(reading.value)}, below the capacity tracking "
            f"overview's thresholds for '{row.label}' ({row.describe_thresholds()}). Please "
            "adjust the job so that it does not generate such events."
        ),
        status=IncidentStatus.ASSIGNED,
        impact=config.request_impact,
        urgency=config.request_urgency,
        service_type=ServiceType.USER_SERVICE_REQUEST,
        reported_source=ReportedSource.DIRECT_INPUT,
        customer=requester,
        company=incident.company,
        service=incident.service,
        ci=incident.ci,
        assigned_group=config.monitoring_group,
    )


def capacity_problem(
    incident: IncidentRequest,
    reading: Reading,
    row: OverviewRow,
    fired: str,
    coordinator: str | None,
    config: CapacityConfig,
) -> ProblemInvestigation:
    """A problem investigation for the row's shortage, assigned to its specialist group (the
    problem coordinator assigns it when no group is known)."""
    group = row.specialist_group or config.specialist_group
    return ProblemInvestigation(
        summary=problem_summary(row),
        details=(
            f"Registered by {BY} for capacity warning {incident.id}: {fired} (monitoring job "
            f"{reading.job}). Find out how incidents are best avoided, e.g. by freeing up some "
            "of the utilised capacity or by adding capacity."
        ),
        status=ProblemStatus.ASSIGNED if group else ProblemStatus.UNDER_REVIEW,
        investigation_driver=config.investigation_driver,
        impact=config.problem_impact,
        urgency=config.problem_urgency,
        company=incident.company,
        service=incident.service,
        ci=incident.ci,
        assigned_group=group,
        problem_coordinator=coordinator,
    )


def tracking_problem(
    row: OverviewRow,
    fired: str,
    where: ProblemInvestigation,
    coordinator: str | None,
    config: CapacityConfig,
) -> ProblemInvestigation:
    """Capacity Tracking's problem for a threshold violation found at a period end; `where`
    carries the company, service and CI the infrastructure is known as in the ITSM."""
    group = row.specialist_group or config.specialist_group
    return where.model_copy(
        update={
            "summary": problem_summary(row),
            "details": (
                f"Registered by Capacity Management P3 Capacity Tracking: {fired}. Find out how "
                "incidents are best avoided, e.g. by freeing up some of the currently utilised "
                "capacity or by adding capacity to the service infrastructure."
            ),
            "status": ProblemStatus.ASSIGNED if group else ProblemStatus.UNDER_REVIEW,
            "investigation_driver": config.tracking.investigation_driver,
            "impact": config.problem_impact,
            "urgency": config.problem_urgency,
            "assigned_group": group,
            "problem_coordinator": coordinator,
        }
    )


def problem_summary(row: OverviewRow) -> str:
    """'[capacity] san-array-01 / storage: storage.used_percent above critical 90%, warning 80%'."""
    return f"{problem_prefix(row)} {row.metric} above {row.describe_thresholds()}"[:100]
