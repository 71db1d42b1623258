"""mappings/servicenow.toml: choice values both ways, aliases, references, and overrides."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connector.codec import KindCodec, load_platform_mapping
from connector.entities import ENTITY_TYPES, RecordKind
from connector.enums import (
    ChangeStatus,
    ChangeTiming,
    EventSeverity,
    Impact,
    IncidentStatus,
    KnownErrorStatus,
    ProblemStatus,
    ReportedSource,
    RiskLevel,
    ServiceType,
    TaskStatus,
    Urgency,
)
from connector.errors import ConfigurationError
from connector.servicenow.values import format_sn_date
from mappings.loader import PlatformMapping

WRITTEN_AS = [
    ("incident_state", IncidentStatus.NEW, "1", IncidentStatus.NEW),
    ("incident_state", IncidentStatus.ASSIGNED, "1", IncidentStatus.NEW),
    ("incident_state", IncidentStatus.PENDING, "3", IncidentStatus.PENDING),
    ("incident_state", IncidentStatus.RESOLVED, "6", IncidentStatus.RESOLVED),
    ("incident_state", IncidentStatus.CANCELLED, "8", IncidentStatus.CANCELLED),
    ("impact", Impact.EXTENSIVE, "1", Impact.EXTENSIVE),
    ("impact", Impact.SIGNIFICANT, "1", Impact.EXTENSIVE),
    ("impact", Impact.MODERATE, "2", Impact.MODERATE),
    ("impact", Impact.MINOR, "3", Impact.MINOR),
    ("urgency", Urgency.CRITICAL, "1", Urgency.CRITICAL),
    ("urgency", Urgency.HIGH, "1", Urgency.CRITICAL),
    ("urgency", Urgency.LOW, "3", Urgency.LOW),
    ("problem_state", ProblemStatus.UNDER_INVESTIGATION, "103", ProblemStatus.UNDER_INVESTIGATION),
    ("problem_state", ProblemStatus.CANCELLED, "107", ProblemStatus.CLOSED),
    ("known_error_state", KnownErrorStatus.CORRECTED, "106", KnownErrorStatus.CORRECTED),
    ("change_state", ChangeStatus.DRAFT, "-5", ChangeStatus.DRAFT),
    (
        "change_state",
        ChangeStatus.SCHEDULED_FOR_APPROVAL,
        "-3",
        ChangeStatus.SCHEDULED_FOR_APPROVAL,
    ),
    ("change_state", ChangeStatus.REJECTED, "4", ChangeStatus.CANCELLED),
    ("change_type", ChangeTiming.LATENT, "emergency", ChangeTiming.EMERGENCY),
    ("change_risk", RiskLevel.LEVEL_5, "1", RiskLevel.LEVEL_5),
    ("change_task_state", TaskStatus.BYPASSED, "4", TaskStatus.BYPASSED),
    ("contact_type", ReportedSource.SELF_SERVICE, "self-service", ReportedSource.SELF_SERVICE),
    ("contact_type", ReportedSource.WEB, "self-service", ReportedSource.SELF_SERVICE),
    ("event_severity", EventSeverity.CLEAR, "0", EventSeverity.CLEAR),
    ("event_severity", EventSeverity.INFO, "5", EventSeverity.INFO),
    (
        "service_type",
        ServiceType.SECURITY_INCIDENT,
        "security_incident",
        ServiceType.SECURITY_INCIDENT,
    ),
]


@pytest.mark.parametrize(
    ("table", "value", "written", "read_back"),
    WRITTEN_AS,
    ids=[f"{w[0]} {w[1].value}" for w in WRITTEN_AS],
)
def test_smpm_values_are_written_as_servicenow_choice_values(
    servicenow_mapping: PlatformMapping, table: str, value: object, written: str, read_back: object
) -> None:
    """Choice values, never labels [1.6]; SMPM values ServiceNow lacks use write_aliases."""
    assert servicenow_mapping.to_platform(table, str(getattr(value, "value", value))) == written
    assert servicenow_mapping.from_platform(table, written) == getattr(read_back, "value", None)


def test_further_servicenow_values_read_through_read_aliases(
    servicenow_mapping: PlatformMapping,
) -> None:
    """Priority 5 Planning is low; a virtual agent contact is self service."""
    assert servicenow_mapping.from_platform("priority", "5") == "low"
    assert servicenow_mapping.from_platform("contact_type", "virtual_agent") == "self_service"
    assert servicenow_mapping.from_platform("ci_relationship", "Runs on::Runs") == "depends_on"


def test_every_kind_is_mapped_to_a_table(servicenow_mapping: PlatformMapping) -> None:
    """Each SMPM entity kind has a table, and every write-capable ticket its correlation_id."""
    for kind in ENTITY_TYPES:
        spec = servicenow_mapping.kind(kind.value)
        assert spec is not None, kind
        if kind is not RecordKind.RELATION:
            assert spec.form, kind
    for kind in ("incident", "problem", "known_error", "change", "task", "release"):
        assert servicenow_mapping.kinds[kind].fields["correlation_id"] == "correlation_id"


def test_every_writable_dot_walk_names_its_table(servicenow_mapping: PlatformMapping) -> None:
    """A name read through a dot-walk can be written only with [references] naming the table."""
    for name, kind in servicenow_mapping.kinds.items():
        if name == "service_target":  # read only
            continue
        for field, column in kind.fields.items():
            if "." in column:
                assert field in kind.references, f"kinds.{name}.references.{field}"


def test_site_fields_are_the_agreed_names(servicenow_mapping: PlatformMapping) -> None:
    """The columns agreed with the sandbox, exactly."""
    incident = servicenow_mapping.kinds["incident"].fields
    service = servicenow_mapping.kinds["service"].fields
    assert (incident["service_type"], incident["event_key"]) == ("u_service_type", "u_event_key")
    assert service["change_coordinator"] == "u_change_coordinator.user_name"
    assert service["availability_manager"] == "u_availability_manager.user_name"
    assert service["owner"] == "owned_by.user_name"


def test_codec_encodes_for_the_table_api(servicenow_mapping: PlatformMapping) -> None:
    """Dates are UTC text; enum values are choice values; names stay dot-walks until resolved."""
    codec = KindCodec(servicenow_mapping, RecordKind.INCIDENT, format_sn_date)
    encoded = codec.encode(
        {
            "status": IncidentStatus.RESOLVED,
            "resolved_at": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
            "assigned_group": "Service Desk",
        }
    )
    assert encoded == {
        "state": "6",
        "resolved_at": "2024-01-02 03:04:05",
        "assignment_group.name": "Service Desk",
    }


def test_an_override_replaces_one_choice_value() -> None:
    """A site whose incident 'On Hold' is another value changes just that one."""
    mapping = load_platform_mapping("servicenow", {"enums": {"incident_state": {"pending": "4"}}})
    assert mapping.to_platform("incident_state", "pending") == "4"
    assert mapping.to_platform("incident_state", "resolved") == "6"


def test_a_bad_override_names_the_key() -> None:
    """A table named for a kind that has no such field is refused at start."""
    with pytest.raises(ConfigurationError, match=r"kinds\.incident\.references\.colour"):
        load_platform_mapping(
            "servicenow", {"kinds": {"incident": {"references": {"colour": "x"}}}}, "site.toml"
        )
    with pytest.raises(ConfigurationError, match="target_kind: unknown entity kind"):
        load_platform_mapping(
            "servicenow",
            {"kinds": {"relation": {"sources": {"incident": {"target_kind": "ticket"}}}}},
        )
