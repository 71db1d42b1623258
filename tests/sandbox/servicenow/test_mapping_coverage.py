"""Every table, field and choice value the ServiceNow mapping names exists in the sandbox.

The mapping is read as plain TOML data (the sandbox never imports it) and checked through the
sandbox's own `sys_db_object`, `sys_dictionary`, `sys_choice` and `cmdb_rel_type` tables, as a
client would read them at runtime. Dot-walked fields check the reference and the target field.
Skipped while `mappings/servicenow.toml` does not exist.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.servicenow.support import SN

PATH = Path(__file__).resolve().parents[3] / "mappings" / "servicenow.toml"
if not PATH.exists():
    pytest.skip("mappings/servicenow.toml does not exist yet", allow_module_level=True)
MAPPING: dict[str, Any] = tomllib.loads(PATH.read_text(encoding="utf-8"))
KINDS: dict[str, Any] = MAPPING.get("kinds", {})


class Dictionary:
    """The sandbox's data dictionary, read once through the Table API."""

    def __init__(self, sn: SN) -> None:
        tables = sn.rows("sys_db_object", sysparm_fields="name,super_class.name")
        self.parents = {t["name"]: t["super_class.name"] for t in tables}
        entries = sn.rows(
            "sys_dictionary",
            sysparm_query="elementISNOTEMPTY",
            sysparm_fields="name,element,internal_type,reference",
            sysparm_exclude_reference_link="true",
        )
        self.columns = {(e["name"], e["element"]): e for e in entries}
        choices = sn.rows("sys_choice", sysparm_fields="name,element,value")
        self.choices: dict[tuple[str, str], set[str]] = {}
        for c in choices:
            self.choices.setdefault((c["name"], c["element"]), set()).add(c["value"])
        self.relation_types = {r["name"] for r in sn.rows("cmdb_rel_type", sysparm_fields="name")}

    def column(self, table: str, element: str) -> dict[str, str] | None:
        """The dictionary entry for `element` on `table` or the ancestor defining it."""
        current: str | None = table
        while current:
            if (current, element) in self.columns:
                return self.columns[(current, element)]
            current = self.parents.get(current) or None
        return None

    def resolve(self, table: str, path: str) -> tuple[str, dict[str, str]]:
        """(table of the last hop, its entry) for a dot-walked path; AssertionError naming the
        hop that does not exist."""
        hops = path.split(".")
        for i, element in enumerate(hops):
            assert table in self.parents, f"{path}: no table {table}"
            entry = self.column(table, element)
            assert entry is not None, f"{path}: {table} has no field {element}"
            if i < len(hops) - 1:
                assert entry["internal_type"] == "reference", f"{path}: {element} is no reference"
                table = entry["reference"]
        return table, entry


@pytest.fixture(scope="module")
def dictionary(sn: SN) -> Dictionary:
    return Dictionary(sn)


def mapped_values(table: str) -> set[str]:
    """The choice values a mapping enum table reads and writes (read_aliases are not needed)."""
    spec = MAPPING["enums"][table]
    values = {str(v) for v in spec.values() if not isinstance(v, dict)}
    return values | {str(v) for v in spec.get("write_aliases", {}).values()}


def kinds_with_forms() -> list[Any]:
    return [pytest.param(kind, spec, id=kind) for kind, spec in KINDS.items() if "form" in spec]


@pytest.mark.parametrize(("kind", "spec"), kinds_with_forms())
def test_mapped_fields_and_choices_exist(
    dictionary: Dictionary, kind: str, spec: dict[str, Any]
) -> None:
    """The kind's table, every mapped field (each hop of a dot-walk), its `where` fields, the
    tables its references name, and every mapped choice value of its enums."""
    form = spec["form"]
    assert form in dictionary.parents, f"{kind}: no table {form}"
    for path in (*spec.get("fields", {}).values(), *spec.get("where", {})):
        dictionary.resolve(form, path)
    for table in spec.get("references", {}).values():
        assert table in dictionary.parents, f"{kind}: references name no table {table}"
    for field, enum in spec.get("enums", {}).items():
        owner, entry = dictionary.resolve(form, spec["fields"][field])
        values = mapped_values(enum)
        if entry["internal_type"] == "boolean":
            assert values <= {"true", "false"}, (kind, field, values)
        elif kind == "work_note":  # the element names a journal column of each parent
            for parent in spec["parents"].values():
                for value in values:
                    found = dictionary.column(parent["form"], value)
                    assert found and found["internal_type"] == "journal_input", (parent, value)
        else:
            offered = dictionary.choices.get(
                (owner if "." in spec["fields"][field] else form, entry["element"]), set()
            )
            assert values <= offered, (kind, field, sorted(values - offered))


def test_work_note_parents(dictionary: Dictionary) -> None:
    spec = KINDS.get("work_note", {})
    for parent in spec.get("parents", {}).values():
        assert parent["form"] in dictionary.parents
        dictionary.resolve(spec["form"], parent["parent_field"])


@pytest.mark.parametrize("source", sorted(KINDS.get("relation", {}).get("sources", {})))
def test_relation_sources(dictionary: Dictionary, source: str) -> None:
    """Relation tables and fields exist; CI relation types exist by name; an incident's relation
    types name its reference fields."""
    spec = KINDS["relation"]["sources"][source]
    for key in ("source_field", "target_field", "type_field"):
        if key in spec:
            dictionary.resolve(spec["form"], spec[key])
    values = mapped_values(spec["type_enum"])
    if "type_field" in spec:
        assert values <= dictionary.relation_types, sorted(values - dictionary.relation_types)
    else:
        for value in values:
            dictionary.resolve(spec["form"], value)
    for table in KINDS["relation"].get("references", {}).values():
        assert table in dictionary.parents
