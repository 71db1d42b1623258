"""The value sets SMPM speaks of, in SMPM's own words.

Platform labels ("1-Extensive/Widespread", ServiceNow's "1") live in `mappings/`; these enums are
what procedures compare against, so a rule written for Remedy reads the same on ServiceNow.
"""

from __future__ import annotations

from enum import StrEnum


class IncidentStatus(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        return self not in (
            IncidentStatus.RESOLVED,
            IncidentStatus.CLOSED,
            IncidentStatus.CANCELLED,
        )


class Impact(StrEnum):
    """How widely an incident request affects users, most severe first."""

    EXTENSIVE = "extensive"
    SIGNIFICANT = "significant"
    MODERATE = "moderate"
    MINOR = "minor"


class Urgency(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Priority(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class ServiceType(StrEnum):
    """SMPM's incident request types; events become the two infrastructure types."""

    USER_SERVICE_RESTORATION = "user_service_restoration"
    USER_SERVICE_REQUEST = "user_service_request"
    INFRASTRUCTURE_RESTORATION = "infrastructure_restoration"
    INFRASTRUCTURE_EVENT = "infrastructure_event"
    SECURITY_INCIDENT = "security_incident"


class ReportedSource(StrEnum):
    DIRECT_INPUT = "direct_input"
    EMAIL = "email"
    EXTERNAL_ESCALATION = "external_escalation"
    FAX = "fax"
    SELF_SERVICE = "self_service"
    SYSTEMS_MANAGEMENT = "systems_management"
    PHONE = "phone"
    VOICE_MAIL = "voice_mail"
    WALK_IN = "walk_in"
    WEB = "web"
    EVENT = "event"
    OTHER = "other"


class ProblemStatus(StrEnum):
    DRAFT = "draft"
    UNDER_REVIEW = "under_review"
    REQUEST_FOR_AUTHORIZATION = "request_for_authorization"
    ASSIGNED = "assigned"
    UNDER_INVESTIGATION = "under_investigation"
    PENDING = "pending"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        return self not in (
            ProblemStatus.COMPLETED,
            ProblemStatus.REJECTED,
            ProblemStatus.CLOSED,
            ProblemStatus.CANCELLED,
        )


class KnownErrorStatus(StrEnum):
    ASSIGNED = "assigned"
    SCHEDULED_FOR_CORRECTION = "scheduled_for_correction"
    ASSIGNED_TO_VENDOR = "assigned_to_vendor"
    NO_ACTION_PLANNED = "no_action_planned"
    CORRECTED = "corrected"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class ChangeStatus(StrEnum):
    DRAFT = "draft"
    REQUEST_FOR_AUTHORIZATION = "request_for_authorization"
    REQUEST_FOR_CHANGE = "request_for_change"
    PLANNING_IN_PROGRESS = "planning_in_progress"
    SCHEDULED_FOR_REVIEW = "scheduled_for_review"
    SCHEDULED_FOR_APPROVAL = "scheduled_for_approval"
    SCHEDULED = "scheduled"
    IMPLEMENTATION_IN_PROGRESS = "implementation_in_progress"
    PENDING = "pending"
    REJECTED = "rejected"
    COMPLETED = "completed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class ChangeTiming(StrEnum):
    """SMPM's change classes: emergency changes skip the CAB, standard ones need no approval."""

    EMERGENCY = "emergency"
    EXPEDITED = "expedited"
    LATENT = "latent"
    NORMAL = "normal"
    NO_IMPACT = "no_impact"
    STANDARD = "standard"


class RiskLevel(StrEnum):
    LEVEL_1 = "risk_level_1"
    LEVEL_2 = "risk_level_2"
    LEVEL_3 = "risk_level_3"
    LEVEL_4 = "risk_level_4"
    LEVEL_5 = "risk_level_5"


class TaskStatus(StrEnum):
    STAGED = "staged"
    ASSIGNED = "assigned"
    PENDING = "pending"
    WORK_IN_PROGRESS = "work_in_progress"
    WAITING = "waiting"
    CLOSED = "closed"
    BYPASSED = "bypassed"


class EventSeverity(StrEnum):
    """Monitoring severities, most severe first; CLEAR says the condition has ended."""

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"
    INFO = "info"
    CLEAR = "clear"


class RecordStatus(StrEnum):
    """Whether a foundation record (group, person, CI, service) is in use."""

    ENABLED = "enabled"
    DISABLED = "disabled"


class RelationType(StrEnum):
    """How two records are linked (SMPM: 'linked to', 'caused by', 'depends on'); OTHER is a
    link of a type the mapping does not know, read but never written."""

    RELATED_TO = "related_to"
    CAUSED_BY = "caused_by"
    CAUSES = "causes"
    DUPLICATE_OF = "duplicate_of"
    ORIGINAL_OF = "original_of"
    RESOLVED_BY = "resolved_by"
    RESOLVES = "resolves"
    IMPACTS = "impacts"
    DEPENDS_ON = "depends_on"
    OTHER = "other"

    @property
    def inverse(self) -> RelationType | None:
        """The same link seen from the other record (Remedy writes it there too), if SMPM
        has a name for it: 'caused by' seen from the cause is 'causes'."""
        return _INVERSE.get(self)


_PAIRS = (
    (RelationType.CAUSED_BY, RelationType.CAUSES),
    (RelationType.DUPLICATE_OF, RelationType.ORIGINAL_OF),
    (RelationType.RESOLVED_BY, RelationType.RESOLVES),
)
_INVERSE = {
    RelationType.RELATED_TO: RelationType.RELATED_TO,
    **dict(_PAIRS),
    **{b: a for a, b in _PAIRS},
}


class NoteType(StrEnum):
    """What a note is; OTHER is a note of a type the mapping does not know (read, never written)."""

    GENERAL = "general"
    WORKING_LOG = "working_log"
    CUSTOMER_COMMUNICATION = "customer_communication"
    OTHER = "other"


class ArticleStatus(StrEnum):
    """Life of a proposed solution (knowledge article): SMPM P7 approves or rejects it."""

    DRAFT = "draft"
    PROPOSED = "proposed"
    PUBLISHED = "published"
    RETIRED = "retired"
    CANCELLED = "cancelled"
