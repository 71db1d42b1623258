"""The seed file's format: the entries a seed holds, in SMPM's own vocabulary.

Each entry is a pydantic model that validates its keys as the file is read: durations (`"4h"`)
and offsets from the moment the seed is loaded (`"-3h30m"`, `"now"`, `"+2d"`), SMPM values
(`impact = "significant"`), ticket refs. The cross-references between entries are checked by
`seed_refs`, and files are read by `seed.load_seed`; README.md documents the format.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

_SPAN = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def span_seconds(text: str) -> int:
    """`"2h30m"` -> 9000. Days, hours, minutes and seconds, in that order."""
    match = _SPAN.match(text)
    if not text or not match:
        raise ValueError(f"{text!r} is not a duration such as '15m', '4h' or '1d2h'")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def offset_seconds(text: str) -> int:
    """`"-3h"` -> -10800, `"now"` -> 0, `"+1d"` -> 86400."""
    if text == "now":
        return 0
    sign = -1 if text.startswith("-") else 1
    return sign * span_seconds(text.lstrip("+-"))


def _is_span(text: str) -> str:
    span_seconds(text)
    return text


def _is_offset(text: str) -> str:
    offset_seconds(text)
    return text


Duration = Annotated[str, AfterValidator(_is_span)]
When = Annotated[str, AfterValidator(_is_offset)]
Impact = Literal["extensive", "significant", "moderate", "minor"]
Urgency = Literal["critical", "high", "medium", "low"]
Priority = Literal["critical", "high", "medium", "low"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Company(_Model):
    name: str
    kind: Literal["customer", "operating", "vendor", "manufacturer", "supplier"] = "operating"
    abbreviation: str | None = None


class Person(_Model):
    login: str
    first_name: str
    last_name: str
    company: str
    email: str | None = None
    organization: str | None = None
    department: str | None = None
    job_title: str | None = None
    phone: str | None = None
    manager: str | None = None
    support_staff: bool = False
    vip: bool = False
    available: bool = True
    password: str | None = None  # set: the person may log in to the sandbox API


class SupportGroup(_Model):
    name: str
    company: str
    organization: str
    role: str = "Tier 2"
    coordinator: str | None = None
    email: str | None = None
    on_call: bool = False
    members: list[str] = []


class Service(_Model):
    name: str
    company: str
    description: str | None = None
    owner: str | None = None
    change_coordinator: str | None = None
    problem_coordinator: str | None = None
    capacity_manager: str | None = None
    availability_manager: str | None = None
    support_group: str | None = None
    depends_on: list[str] = []


class ConfigurationItem(_Model):
    name: str
    ci_class: Literal[
        "server",
        "virtual_machine",
        "load_balancer",
        "network_switch",
        "router",
        "firewall",
        "database",
        "application",
        "storage_array",
        "cluster",
        "mail_server",
        "web_server",
    ] = Field(alias="class")
    company: str
    description: str | None = None
    status: Literal["deployed", "in_repair", "down", "end_of_life", "ordered"] = "deployed"
    depends_on: list[str] = []


class Target(_Model):
    name: str
    measure: Literal["response", "resolution"]
    goal: Duration
    priorities: list[Priority] = []
    warning_percent: int = Field(50, ge=1, le=100)


class SLA(_Model):
    name: str
    services: list[str] = []
    targets: list[Target]


class Note(_Model):
    text: str
    author: str | None = None
    at: When | None = None
    kind: Literal["general", "working_log", "customer_communication"] = "working_log"
    public: bool = False


class Incident(_Model):
    summary: str
    ref: str | None = None
    details: str | None = None
    customer: str | None = None
    service: str | None = None
    ci: str | None = None
    impact: Impact = "moderate"
    urgency: Urgency = "medium"
    status: Literal[
        "new", "assigned", "in_progress", "pending", "resolved", "closed", "cancelled"
    ] = "new"
    status_reason: (
        Literal[
            "client_hold",
            "client_action_required",
            "supplier_delivery",
            "third_party_vendor",
            "monitoring",
            "no_further_action",
            "temporary_corrective_action",
            "automated_resolution",
        ]
        | None
    ) = None
    resolution: str | None = None
    service_type: Literal[
        "user_service_restoration",
        "user_service_request",
        "infrastructure_restoration",
        "infrastructure_event",
        "security_incident",
    ] = "user_service_restoration"
    source: Literal[
        "direct_input",
        "email",
        "external_escalation",
        "fax",
        "self_service",
        "systems_management",
        "phone",
        "voice_mail",
        "walk_in",
        "web",
        "event",
        "other",
    ] = "phone"
    assigned_group: str | None = None
    assignee: str | None = None
    opened: When = "now"
    responded: When | None = None
    event_key: str | None = None
    notes: list[Note] = []


class Problem(_Model):
    summary: str
    ref: str | None = None
    details: str | None = None
    impact: Impact = "moderate"
    urgency: Urgency = "medium"
    status: Literal[
        "draft",
        "under_review",
        "request_for_authorization",
        "assigned",
        "under_investigation",
        "pending",
        "completed",
        "rejected",
        "closed",
        "cancelled",
    ] = "under_investigation"
    service: str | None = None
    ci: str | None = None
    assigned_group: str | None = None
    assignee: str | None = None
    coordinator: str | None = None
    coordinator_group: str | None = None
    workaround: str | None = None
    opened: When = "now"


class Change(_Model):
    summary: str
    ref: str | None = None
    details: str | None = None
    reason: str | None = None
    impact: Impact = "moderate"
    urgency: Urgency = "medium"
    status: Literal[
        "draft",
        "request_for_authorization",
        "request_for_change",
        "planning_in_progress",
        "scheduled_for_review",
        "scheduled_for_approval",
        "scheduled",
        "implementation_in_progress",
        "pending",
        "rejected",
        "completed",
        "closed",
        "cancelled",
    ] = "draft"
    timing: Literal["emergency", "expedited", "latent", "normal", "no_impact", "standard"] = (
        "normal"
    )
    risk_level: int = Field(2, ge=1, le=5)
    service: str | None = None
    assigned_group: str | None = None
    coordinator: str | None = None
    scheduled_start: When | None = None
    scheduled_end: When | None = None
    opened: When = "now"


class KnowledgeArticle(_Model):
    title: str
    status: Literal["draft", "proposed", "published", "retired", "cancelled"] = "proposed"
    author: str | None = None
    proposing_group: str | None = None
    assigned_group: str | None = None
    assignee: str | None = None
    source: str | None = None  # the `ref` of the ticket the solution came from
    opened: When = "now"


class Relation(_Model):
    source: str = Field(alias="from")
    target: str = Field(alias="to")
    type: Literal["related_to", "caused_by", "causes", "duplicate_of"] = "related_to"


class Seed(_Model):
    companies: list[Company] = []
    people: list[Person] = []
    support_groups: list[SupportGroup] = []
    services: list[Service] = []
    cis: list[ConfigurationItem] = []
    slas: list[SLA] = []
    incidents: list[Incident] = []
    problems: list[Problem] = []
    changes: list[Change] = []
    relations: list[Relation] = []
    knowledge_articles: list[KnowledgeArticle] = []
