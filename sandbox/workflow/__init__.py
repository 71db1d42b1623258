"""The ITSM workflow the sandbox emulates, one module per ITSM application."""

from __future__ import annotations

from sandbox.workflow import change, cmdb, incident, knowledge, problem, relations, slm
from sandbox.workflow.base import Hooks, Record, Workflow


def itsm_workflow() -> Workflow:
    """Every hook of the emulated ITSM applications."""
    return Workflow(
        [
            incident.HelpDesk(),
            incident.IncidentCreate(),
            problem.ProblemInvestigation(),
            problem.KnownError(),
            problem.ProblemCreate(),
            change.InfrastructureChange(),
            change.ChangeCreate(),
            change.Task(),
            change.Release(),
            relations.WorkLogs(),
            relations.Associations(),
            cmdb.ConfigurationItems(),
            cmdb.Relationships(),
            slm.Measurements(),
            knowledge.KnowledgeArticles(),
        ]
    )


__all__ = ["Hooks", "Record", "Workflow", "itsm_workflow"]
