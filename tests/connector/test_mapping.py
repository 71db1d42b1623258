"""Mapping files: loaded, overridden and rejected with the file, key and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.codec import KindCodec, entity_schema, load_platform_mapping
from connector.entities import IncidentRequest, RecordKind
from connector.enums import Impact, IncidentStatus, ServiceType
from connector.errors import ConfigurationError, InvalidResponse
from connector.remedy import format_ar_date
from mappings import loader
from mappings.loader import MappingError, PlatformMapping, builtin_path, load_mapping, read_toml


def test_builtin_remedy_mapping_speaks_remedy_labels(remedy_mapping: PlatformMapping) -> None:
    """Enum labels are Remedy's own strings, both ways (reference 4.3)."""
    assert remedy_mapping.to_platform("impact", "extensive") == "1-Extensive/Widespread"
    assert remedy_mapping.from_platform("service_type", "Infrastructure Event") == (
        ServiceType.INFRASTRUCTURE_EVENT.value
    )
    assert remedy_mapping.from_platform("record_status", "Obsolete") == "disabled"
    assert remedy_mapping.from_platform("incident_status", "Nonsense") is None


def test_every_smpm_incident_value_has_a_remedy_label(remedy_mapping: PlatformMapping) -> None:
    """A procedure can write any status or impact without a KeyError on Remedy."""
    for status in IncidentStatus:
        assert remedy_mapping.to_platform("incident_status", status.value)
    for impact in Impact:
        assert remedy_mapping.to_platform("impact", impact.value)


def test_override_replaces_one_entry_and_keeps_the_rest() -> None:
    """A site that stores the idempotency key elsewhere changes just that key."""
    mapping = load_platform_mapping(
        "remedy", {"kinds": {"incident": {"fields": {"correlation_id": "z1D Char01"}}}}
    )
    incident = mapping.kind("incident")
    assert incident is not None
    assert incident.fields["correlation_id"] == "z1D Char01"
    assert incident.fields["summary"] == "Description"


BAD_OVERRIDES = [
    (
        "unknown entity field",
        {"kinds": {"incident": {"fields": {"colour": "Colour"}}}},
        "kinds.incident.fields.colour",
        "has no field 'colour'",
    ),
    (
        "unknown key in a kind",
        {"kinds": {"incident": {"frm": "HPD:Help Desk"}}},
        "kinds.incident.frm",
        "Extra inputs are not permitted",
    ),
    (
        "enum value that SMPM does not have",
        {"enums": {"impact": {"gigantic": "0-Gigantic"}}},
        "enums.impact.gigantic",
        "not a value of this field",
    ),
    (
        "two values sharing one label",
        {"enums": {"urgency": {"low": "1-Critical"}}},
        "enums.urgency.low",
        "also used by 'critical'",
    ),
    (
        "enum table that does not exist",
        {"kinds": {"incident": {"enums": {"status": "statuses"}}}},
        "kinds.incident.enums.status",
        "not defined under [enums]",
    ),
    (
        "unknown entity kind",
        {"kinds": {"ticket": {"form": "X"}}},
        "kinds.ticket",
        "unknown entity kind",
    ),
    (
        "links to one target kind whose target_kind disagrees",
        {
            "kinds": {
                "relation": {
                    "sources": {
                        "incident.ci": {
                            "form": "X",
                            "source_field": "a",
                            "target_field": "b",
                            "target_kind": "problem",
                            "type_enum": "association_type",
                        }
                    }
                }
            }
        },
        "kinds.relation.sources.incident.ci.target_kind",
        "must be 'ci', as the key says",
    ),
    (
        "form name of the wrong type",
        {"kinds": {"incident": {"form": 7}}},
        "kinds.incident.form",
        "valid string",
    ),
]


@pytest.mark.parametrize(
    ("override", "key", "problem"),
    [c[1:] for c in BAD_OVERRIDES],
    ids=[c[0] for c in BAD_OVERRIDES],
)
def test_bad_override_is_rejected_naming_file_key_and_problem(
    override: dict, key: str, problem: str
) -> None:
    """The error names the override's source, the exact key and what is wrong with it."""
    with pytest.raises(ConfigurationError) as caught:
        load_platform_mapping("remedy", override, "site.toml [mapping]")
    message = str(caught.value)
    assert message.startswith("site.toml [mapping]: ")
    assert key in message
    assert problem in message


def test_missing_label_is_blamed_on_the_builtin_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """A table without a label for every SMPM value is refused at load, naming the table."""
    data = read_toml(builtin_path("remedy"))
    del data["enums"]["impact"]["minor"]
    monkeypatch.setattr(loader, "read_toml", lambda path: data)
    with pytest.raises(MappingError) as caught:
        load_mapping("remedy", entity_schema())
    assert str(caught.value) == f"{builtin_path('remedy')}: enums.impact: no label for minor"


def test_toml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    """A broken file is reported with its path and the parser's position."""
    broken = tmp_path / "broken.toml"
    broken.write_text("[kinds.incident\nform = 'x'\n")
    with pytest.raises(MappingError) as caught:
        read_toml(broken)
    assert str(broken) in str(caught.value)
    assert "line 1" in str(caught.value)


def test_unknown_label_in_a_response_is_a_clear_error(remedy_mapping: PlatformMapping) -> None:
    """A status label the mapping does not know names the field, the label and the fix."""
    codec = KindCodec(remedy_mapping, RecordKind.INCIDENT, format_ar_date)
    with pytest.raises(InvalidResponse) as caught:
        codec.decode({"Incident Number": "INC1", "Status": "Parked"}, "HPD:IncidentInterface INC1")
    assert "'Status' holds 'Parked'" in str(caught.value)
    assert "read_aliases" in str(caught.value)


def test_codec_validates_values_before_writing(remedy_mapping: PlatformMapping) -> None:
    """A wrong value for a field never reaches the wire."""
    codec = KindCodec(remedy_mapping, RecordKind.INCIDENT, format_ar_date)
    with pytest.raises(ValueError, match=r"incident\.impact"):
        codec.encode({"impact": "huge"})
    with pytest.raises(ValueError, match="no field 'colour'"):
        codec.encode({"colour": "red"})
    encoded = codec.encode({"impact": Impact.MINOR, "summary": "x"}, for_create=True)
    assert encoded == {"Impact": "4-Minor/Localized", "Description": "x"}
    assert IncidentRequest.kind is RecordKind.INCIDENT


def test_write_aliases_cover_values_the_platform_lacks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A value with no label of its own is written with another's label and read back as that."""
    data = read_toml(builtin_path("remedy"))
    del data["enums"]["incident_status"]["assigned"]
    data["enums"]["incident_status"]["write_aliases"] = {"assigned": "In Progress"}
    monkeypatch.setattr(loader, "read_toml", lambda path: data)
    mapping = load_mapping("remedy", entity_schema())
    assert mapping.to_platform("incident_status", "assigned") == "In Progress"
    assert mapping.from_platform("incident_status", "In Progress") == "in_progress"
    data["enums"]["incident_status"]["write_aliases"] = {"assigned": "Parked"}
    with pytest.raises(MappingError, match="'Parked' is not a label of this table"):
        load_mapping("remedy", entity_schema())
