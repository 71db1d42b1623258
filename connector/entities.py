"""The SMPM entities: what procedures read and what the executor writes.

Each model holds the fields SMPM's procedures reason about, named in SMPM's words. A connector
builds them from platform records through `mappings/`; nothing here knows a form or table name.

Every record carries two identities: `id`, the number people use ("INC000000000430",
"PBI000000000402"), and `platform_id`, the key the platform needs to update the record (Remedy's
`Request ID` on the interface form, ServiceNow's `sys_id`). `correlation_id` holds the idempotency
key stamped on records smpm created, so a replayed write finds its earlier result.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from connector.enums import (
    ArticleStatus,
    ChangeStatus,
    ChangeTiming,
    EventSeverity,
    Impact,
    IncidentStatus,
    KnownErrorStatus,
    NoteType,
    Priority,
    ProblemStatus,
    RecordStatus,
    RelationType,
    ReportedSource,
    RiskLevel,
    ServiceType,
    TaskStatus,
    Urgency,
)


def _as_utc(value: datetime) -> datetime:
    """Platforms send naive UTC (ServiceNow) or offset times (Remedy); keep everything aware UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


class RecordKind(StrEnum):
    """The entity kinds a mapping can bind to forms or tables."""

    INCIDENT = "incident"
    PROBLEM = "problem"
    KNOWN_ERROR = "known_error"
    CHANGE = "change"
    TASK = "task"
    EVENT = "event"
    CI = "ci"
    SERVICE = "service"
    SUPPORT_GROUP = "support_group"
    PERSON = "person"
    SERVICE_TARGET = "service_target"
    RELEASE = "release"
    KNOWLEDGE_ARTICLE = "knowledge_article"
    WORK_NOTE = "work_note"
    RELATION = "relation"


class MeasurementStatus(StrEnum):
    """Where a service target stands (SLM measurement states)."""

    ATTACHED = "attached"
    IN_PROCESS = "in_process"
    PENDING = "pending"
    WARNING = "warning"
    MET = "met"
    MISSED = "missed"
    MISSED_GOAL = "missed_goal"
    DETACHED = "detached"


class TargetKind(StrEnum):
    """What a service level target measures."""

    RESPONSE = "response"
    RESOLUTION = "resolution"
    AVAILABILITY = "availability"


class Entity(BaseModel):
    """Fields every record has; subclasses name their kind."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_enum_values=False)
    kind: ClassVar[RecordKind]

    id: str | None = None
    platform_id: str | None = None
    correlation_id: str | None = None
    created_at: UtcDatetime | None = None
    modified_at: UtcDatetime | None = None

    def label(self) -> str:
        """How a person would refer to this record in a work note or a reason."""
        return f"{self.kind.value} {self.id or self.platform_id or '(new)'}"


class _Ticket(Entity):
    """Fields shared by incident requests, problems, known errors and changes."""

    instance_id: str | None = None
    summary: str | None = None
    details: str | None = None
    status_reason: str | None = None
    impact: Impact | None = None
    urgency: Urgency | None = None
    priority: Priority | None = None
    company: str | None = None
    service: str | None = None
    service_id: str | None = None
    ci: str | None = None
    ci_id: str | None = None
    assigned_company: str | None = None
    assigned_organization: str | None = None
    assigned_group: str | None = None
    assignee: str | None = None


class IncidentRequest(_Ticket):
    """SMPM's incident request: a user's request for restoration or for service, or an event's."""

    kind: ClassVar[RecordKind] = RecordKind.INCIDENT

    status: IncidentStatus | None = None
    service_type: ServiceType | None = None
    reported_source: ReportedSource | None = None
    customer: str | None = None
    operational_category_1: str | None = None
    operational_category_2: str | None = None
    operational_category_3: str | None = None
    product_category_1: str | None = None
    product_category_2: str | None = None
    product_category_3: str | None = None
    resolution: str | None = None
    resolution_category: str | None = None
    event_key: str | None = None
    reported_at: UtcDatetime | None = None
    responded_at: UtcDatetime | None = None
    resolved_at: UtcDatetime | None = None
    closed_at: UtcDatetime | None = None
    reopened_at: UtcDatetime | None = None
    target_resolution_at: UtcDatetime | None = None


class ProblemInvestigation(_Ticket):
    kind: ClassVar[RecordKind] = RecordKind.PROBLEM

    status: ProblemStatus | None = None
    investigation_driver: str | None = None
    # The symptom, as incident requests are categorised: what tells a like incident from another
    # (Problem Management P4's recurrence, Incident Management P4's related problem).
    operational_category_1: str | None = None
    operational_category_2: str | None = None
    operational_category_3: str | None = None
    problem_coordinator: str | None = None
    coordinator_group: str | None = None
    workaround: str | None = None
    resolution: str | None = None
    target_resolution_at: UtcDatetime | None = None
    completed_at: UtcDatetime | None = None


class KnownError(_Ticket):
    kind: ClassVar[RecordKind] = RecordKind.KNOWN_ERROR

    status: KnownErrorStatus | None = None
    problem_id: str | None = None
    workaround: str | None = None
    resolution: str | None = None
    target_resolution_at: UtcDatetime | None = None


class Change(_Ticket):
    """A request for change; `timing` is SMPM's change class (emergency, normal, standard...)."""

    kind: ClassVar[RecordKind] = RecordKind.CHANGE

    status: ChangeStatus | None = None
    timing: ChangeTiming | None = None
    risk_level: RiskLevel | None = None
    change_type: str | None = None
    reason: str | None = None
    change_coordinator: str | None = None
    scheduled_start: UtcDatetime | None = None
    scheduled_end: UtcDatetime | None = None
    actual_start: UtcDatetime | None = None
    actual_end: UtcDatetime | None = None
    completed_at: UtcDatetime | None = None


class Task(Entity):
    kind: ClassVar[RecordKind] = RecordKind.TASK

    summary: str | None = None
    details: str | None = None
    status: TaskStatus | None = None
    parent_id: str | None = None
    parent_form: str | None = None
    assigned_group: str | None = None
    assignee: str | None = None
    sequence: int | None = None
    scheduled_start: UtcDatetime | None = None
    scheduled_end: UtcDatetime | None = None


class Event(Entity):
    """A monitoring event: what failed or is about to, and how badly."""

    kind: ClassVar[RecordKind] = RecordKind.EVENT

    source: str | None = None
    node: str | None = None
    ci: str | None = None
    event_type: str | None = None
    resource: str | None = None
    metric: str | None = None
    severity: EventSeverity | None = None
    message_key: str | None = None
    message: str | None = None
    value: float | None = None
    threshold: float | None = None
    occurred_at: UtcDatetime | None = None
    closed: bool = False
    incident_id: str | None = None


class ConfigurationItem(Entity):
    kind: ClassVar[RecordKind] = RecordKind.CI

    name: str | None = None
    ci_class: str | None = None
    status: str | None = None
    company: str | None = None
    site: str | None = None
    service: str | None = None
    supported_by_group: str | None = None


class Service(Entity):
    """A business service and the people SMPM routes to for it."""

    kind: ClassVar[RecordKind] = RecordKind.SERVICE

    name: str | None = None
    status: str | None = None
    company: str | None = None
    owner: str | None = None
    change_coordinator: str | None = None
    problem_coordinator: str | None = None
    capacity_manager: str | None = None
    availability_manager: str | None = None
    support_group: str | None = None


class SupportGroup(Entity):
    kind: ClassVar[RecordKind] = RecordKind.SUPPORT_GROUP

    name: str | None = None
    company: str | None = None
    organization: str | None = None
    role: str | None = None
    status: RecordStatus | None = None
    coordinator: str | None = None
    email: str | None = None
    on_call: bool | None = None


class Person(Entity):
    kind: ClassVar[RecordKind] = RecordKind.PERSON

    login: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None
    email: str | None = None
    company: str | None = None
    organization: str | None = None
    department: str | None = None
    manager_login: str | None = None
    status: str | None = None
    available: bool | None = None


class ServiceTarget(Entity):
    """One SLA target attached to one request (a measurement): its goal and where it stands."""

    kind: ClassVar[RecordKind] = RecordKind.SERVICE_TARGET

    title: str | None = None
    sla: str | None = None
    target_kind: TargetKind | None = None
    request_id: str | None = None
    request_instance_id: str | None = None
    status: MeasurementStatus | None = None
    goal_seconds: int | None = None
    started_at: UtcDatetime | None = None
    due_at: UtcDatetime | None = None
    stopped_at: UtcDatetime | None = None
    elapsed_seconds: int | None = None


class Release(Entity):
    kind: ClassVar[RecordKind] = RecordKind.RELEASE

    summary: str | None = None
    status: str | None = None
    service: str | None = None
    release_coordinator: str | None = None
    scheduled_start: UtcDatetime | None = None
    scheduled_end: UtcDatetime | None = None


class KnowledgeArticle(Entity):
    """A solution proposed for general use (SMPM P7 Solution Approval)."""

    kind: ClassVar[RecordKind] = RecordKind.KNOWLEDGE_ARTICLE

    title: str | None = None
    status: ArticleStatus | None = None
    author: str | None = None
    proposing_group: str | None = None
    assigned_group: str | None = None
    assignee: str | None = None
    source_request: str | None = None


class WorkNote(Entity):
    """A note on a record; SMPM's 'informs X' steps become one of these."""

    kind: ClassVar[RecordKind] = RecordKind.WORK_NOTE

    parent_kind: RecordKind
    parent_id: str
    summary: str | None = Field(default=None, max_length=100)
    text: str = ""
    note_type: NoteType = NoteType.GENERAL
    public: bool = False
    author: str | None = None


class Relation(Entity):
    """A link between two records, read as 'source <relation_type> target'."""

    kind: ClassVar[RecordKind] = RecordKind.RELATION

    source_kind: RecordKind
    source_id: str
    target_kind: RecordKind
    target_id: str
    relation_type: RelationType = RelationType.RELATED_TO


ENTITY_TYPES: dict[RecordKind, type[Entity]] = {
    model.kind: model
    for model in (
        IncidentRequest,
        ProblemInvestigation,
        KnownError,
        Change,
        Task,
        Event,
        ConfigurationItem,
        Service,
        SupportGroup,
        Person,
        ServiceTarget,
        Release,
        KnowledgeArticle,
        WorkNote,
        Relation,
    )
}


def entity_fields(kind: RecordKind) -> dict[str, Any]:
    """Field name -> pydantic FieldInfo for a kind; mapping validation checks names against it."""
    return dict(ENTITY_TYPES[kind].model_fields)
